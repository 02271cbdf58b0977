"""``dotsync serve`` (the web side under uvicorn) and ``dotsync createsuperuser`` (a first admin login)."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import click

from dotsync.cli.boot import setup_django

APP = "dotsync.wsgi:application"
"""WSGI on a2wsgi's reused threads, so each keeps its database connection (:mod:`dotsync.wsgi`)."""
"""The ASGI application ``dotsync serve`` runs (by import string, so each worker imports it)."""


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind. /metrics answers loopback clients, or holders of DOTSYNC_METRICS_TOKEN.",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="uvicorn's log level (access lines at info).",
)
def serve(host: str, port: int, workers: int, log_level: str) -> None:
    """Run the admin, /metrics and /healthz with uvicorn until SIGTERM or Ctrl-C.

    Uses the standalone settings (DATABASE_URL, SECRET_KEY, DOTSYNC_*); run `dotsync install` first
    and `dotsync createsuperuser` for a first login.
    """
    import uvicorn

    # the workers' request threads keep their database connections (settings.py; before Django's setup)
    os.environ.setdefault("DOTSYNC_CONN_MAX_AGE", "60")
    setup_django()  # a bad DATABASE_URL exits now with what to do, not in each worker
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "interface": "wsgi",  # uvicorn serves it through a2wsgi's thread pool
        "lifespan": "off",  # a WSGI application has no lifespan protocol
        "log_level": log_level,
        "server_header": False,
    }
    if workers == 1:
        uvicorn.run(APP, **options)
        return
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(APP, **options)  # configures uvicorn's logging
    try:
        sock = listener(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    log = logging.getLogger("uvicorn.error")
    log.info("dotsync serve on http://%s:%d with %d workers", host, port, workers)
    Multiprocess(config, sockets=[sock]).run()


def listener(host: str, port: int) -> socket.socket:
    """The listening socket the workers share, made as TCP so their connections get ``TCP_NODELAY``.

    uvicorn's own (``Config.bind_socket``) leaves ``proto`` at 0; accepted sockets inherit it, and
    asyncio sets ``TCP_NODELAY`` only on sockets whose ``proto`` is TCP. Without it every keep-alive
    request after the first waits about 40 ms for the client's delayed ACK (uvicorn issue #3149:
    ``/healthz`` took 48 ms a request with 2 workers against 7 ms with 1).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@click.command(
    "createsuperuser",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def createsuperuser(ctx: click.Context) -> None:
    """Create an admin login: Django's createsuperuser (its options pass through; see --help)."""
    from django.core.management import CommandError, call_command

    setup_django()
    try:  # call_command, not execute_from_command_line: that one closes every connection when done
        call_command("createsuperuser", *ctx.args)
    except CommandError as exc:
        raise click.ClickException(str(exc)) from exc


COMMANDS: list[click.Command] = [serve, createsuperuser]
"""The commands of this module."""

__all__ = ["COMMANDS"]

"""``dotsync serve`` (the web side under uvicorn) and ``dotsync createsuperuser`` (a first admin login)."""

from __future__ import annotations

import click

from dotsync.cli.boot import setup_django


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

    setup_django()  # a bad DATABASE_URL exits now with what to do, not in each worker
    uvicorn.run(
        "dotsync.asgi:application",
        host=host,
        port=port,
        workers=workers,
        lifespan="off",  # Django's ASGI handler has no lifespan protocol
        log_level=log_level,
        server_header=False,
    )


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

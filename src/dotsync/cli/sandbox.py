"""``dotsync sandbox``: run the local dotdigital sandbox (see docs/sandbox.md)."""

from __future__ import annotations

import os
from typing import Any, TextIO

import click

from dotsync.platform.sandbox.boot import parse_account, parse_accounts_env, parse_accounts_file
from dotsync.platform.sandbox.faults import IMPORT_OUTCOMES, Faults, updated


@click.command("sandbox")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind. Keep loopback: /sandbox/ answers loopback clients only, or holders of "
    "--control-token.",
)
@click.option("--port", default=8899, show_default=True, type=int, help="TCP port.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file holding the state (kept across restarts). Default: in memory.",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="USER:PASSWORD",
    help="Create this API user/account at start (and after /sandbox/reset). Repeatable. Visible in `ps`: "
    "prefer --accounts-file or DOTSYNC_SANDBOX_ACCOUNTS.",
)
@click.option(
    "--accounts-file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="File with one USER:PASSWORD a line (# comments allowed): accounts to create at start.",
)
@click.option(
    "--control-token",
    envvar="DOTSYNC_SANDBOX_CONTROL_TOKEN",
    default=None,
    metavar="TOKEN",
    help="Let non-loopback clients use /sandbox/ when they send this in X-Sandbox-Token. "
    "Prefer the DOTSYNC_SANDBOX_CONTROL_TOKEN variable (argv is visible in `ps`).",
)
@click.option(
    "--error-rate", type=click.FloatRange(0, 1), default=None, help="Share of API calls answered 5xx."
)
@click.option(
    "--rate-limit",
    "rate_limit_per_minute",
    type=click.IntRange(min=1),
    default=None,
    help="Calls per minute per account before 429 with x-ratelimit-* headers.",
)
@click.option("--latency-ms", type=click.IntRange(min=0), default=None, help="Added latency per API call.")
@click.option(
    "--timeout-rate",
    type=click.FloatRange(0, 1),
    default=None,
    help="Share of API calls that hang for --timeout-seconds, then answer 504.",
)
@click.option(
    "--timeout-seconds", type=click.FloatRange(min=0), default=None, help="How long a timed-out call hangs."
)
@click.option(
    "--import-delay",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds before imports, sends and enrolments are processed (default 0.2).",
)
@click.option(
    "--import-outcome",
    type=click.Choice(IMPORT_OUTCOMES),
    default=None,
    help="Final status of contact imports (inject import failures).",
)
@click.option("--seed", type=int, default=None, help="Seed of the fault dice, for repeatable runs.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def sandbox(
    host: str,
    port: int,
    db_path: str | None,
    accounts: tuple[str, ...],
    accounts_file: TextIO | None,
    control_token: str | None,
    log_level: str,
    **knobs: Any,
) -> None:
    """Run a local server that speaks the dotdigital API subset dotsync uses.

    Point dotsync (or any client) at http://HOST:PORT with one of the start-up accounts (--accounts-file,
    the DOTSYNC_SANDBOX_ACCOUNTS variable of USER:PASSWORD pairs separated by spaces, or --account). State
    lives in --db (or memory); inspect it at http://HOST:PORT/sandbox/ and change fault knobs at run time with
    POST /sandbox/faults. Stop with Ctrl+C.
    """
    from dotsync.platform.sandbox.server import serve

    faults = {k: v for k, v in knobs.items() if v is not None}
    try:
        pairs = parse_accounts_env(os.environ.get("DOTSYNC_SANDBOX_ACCOUNTS", ""))
        if accounts_file is not None:
            pairs += parse_accounts_file(accounts_file.read())
        pairs += [parse_account(a) for a in accounts]
        updated(Faults(), faults)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    if host not in ("127.0.0.1", "localhost", "::1") and not control_token:
        click.echo(
            f"note: binding {host}; /sandbox/ (reset, state, faults, accounts) answers loopback clients only "
            "(set DOTSYNC_SANDBOX_CONTROL_TOKEN to let others in).",
            err=True,
        )
    users = ", ".join(user for user, _ in pairs) or "none (create with POST /sandbox/accounts)"
    click.echo(
        f"dotdigital sandbox on http://{host}:{port}  state: {db_path or 'in memory'}  accounts: {users}"
    )
    click.echo(f"inspect: http://{host}:{port}/sandbox/")
    serve(
        db_path,
        host=host,
        port=port,
        accounts=pairs,
        faults=faults,
        log_level=log_level,
        control_token=control_token or None,
    )


COMMANDS = [sandbox]

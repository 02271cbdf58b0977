"""``dotsync sandbox``: run the local dotdigital sandbox (see docs/sandbox.md)."""

from __future__ import annotations

from typing import Any

import click

from dotsync.platform.sandbox.boot import parse_account
from dotsync.platform.sandbox.faults import IMPORT_OUTCOMES, Faults, updated


@click.command("sandbox")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind. Keep loopback: /sandbox/ has no auth.",
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
    help="Create this API user/account at start (and after /sandbox/reset). Repeatable.",
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
    log_level: str,
    **knobs: Any,
) -> None:
    """Run a local server that speaks the dotdigital API subset dotsync uses.

    Point dotsync (or any client) at http://HOST:PORT with one of the --account credentials. State lives
    in --db (or memory); inspect it at http://HOST:PORT/sandbox/ and change fault knobs at run time with
    POST /sandbox/faults. Stop with Ctrl+C.
    """
    from dotsync.platform.sandbox.server import serve

    faults = {k: v for k, v in knobs.items() if v is not None}
    try:
        pairs = [parse_account(a) for a in accounts]
        updated(Faults(), faults)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: binding {host}; /sandbox/ (reset, state, faults) has no authentication.", err=True
        )
    users = ", ".join(user for user, _ in pairs) or "none (create with POST /sandbox/accounts)"
    click.echo(
        f"dotdigital sandbox on http://{host}:{port}  state: {db_path or 'in memory'}  accounts: {users}"
    )
    click.echo(f"inspect: http://{host}:{port}/sandbox/")
    serve(db_path, host=host, port=port, accounts=pairs, faults=faults, log_level=log_level)


COMMANDS = [sandbox]

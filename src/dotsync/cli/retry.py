"""``dotsync retry``: resume deferred (and, with ``--failed``, failed) work now."""

from __future__ import annotations

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.output import console, emit_json


@click.command("retry")
@click.option("--website", "website_code", default=None, metavar="CODE", help="Only this website.")
@click.option(
    "--failed", "include_failed", is_flag=True, help="Also queue failed imports and failed records again."
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def retry_command(website_code: str | None, include_failed: bool, as_json: bool) -> None:
    """Make deferred rows due now (e.g. after fixing credentials or an outage); the next sync sends them.

    Rows wait after platform errors, refused credentials or an unreachable platform, and are tried
    again by themselves later (at most 15 minutes apart); this sends them with the next run instead.
    With --failed, rows that failed for good are queued again too.
    """
    setup_django()
    from dotsync.cli.sync import require_website
    from dotsync.jobs.resume import resume

    with friendly_database_errors():
        require_website(website_code)
        done = resume(website_code, failed=include_failed)
    if as_json:
        emit_json(done.as_dict())
        return
    console.print(f"{done.deferred} deferred import row(s) are due now.")
    if include_failed:
        console.print(
            f"{done.failed_imports} failed import row(s) and {done.failed_records} failed record(s) "
            "queued again."
        )
    console.print("Run `dotsync sync all` (or wait for the scheduler) to send them.")


COMMANDS = [retry_command]

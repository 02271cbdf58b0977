"""``dotsync erase EMAIL``: erase a person from dotsync and from dotdigital (see :mod:`dotsync.erasure`)."""

from __future__ import annotations

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.output import console, emit_json


@click.command("erase")
@click.argument("email")
@click.option("--website", "website_code", default=None, metavar="CODE", help="Only this website.")
@click.option("--json", "as_json", is_flag=True, help="Print what was erased as JSON.")
def erase_command(email: str, website_code: str | None, as_json: bool) -> None:
    """Erase a person: dotsync's rows about EMAIL, its queued work, and the contact in dotdigital.

    Leaves an audit row (email_erasure) with a keyed hash of the address, never the address itself.
    Exits with 1 when something could not be erased yet (an import in flight, the platform
    unreachable, a suppressed contact the platform keeps, or with --website a platform contact that
    another website of the same account still uses); run it again later, or without --website.
    """
    setup_django()
    from dotsync.cli.sync import require_website
    from dotsync.erasure import erase
    from dotsync.models.erasure import ErasureOutcome

    with friendly_database_errors():
        if website_code:
            require_website(website_code)
        try:
            report = erase(email, website_code)
        except ValueError as err:
            raise click.UsageError(str(err)) from None
    if as_json:
        emit_json(report.as_dict())
    else:
        removed = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()) if v)
        console.print(f"Erasure {report.erasure_id}: {report.outcome}; platform: {report.platform}.")
        console.print(f"Removed: {removed or 'nothing'}.")
        if report.outcome != ErasureOutcome.COMPLETE:
            console.print("Something is left (see above): run `dotsync erase` again later.")
    if report.outcome != ErasureOutcome.COMPLETE:
        raise SystemExit(1)


COMMANDS = [erase_command]

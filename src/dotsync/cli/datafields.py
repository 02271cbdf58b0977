"""``dotsync datafields automap``: create missing contact data fields and save the mapping."""

from __future__ import annotations

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.output import emit_json, table


@click.group("datafields")
def datafields_group() -> None:
    """Contact data fields in dotdigital."""


@datafields_group.command("automap")
@click.option("--website", "website_code", default=None, help="Only this website (its code).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def automap_command(website_code: str | None, as_json: bool) -> None:
    """Create the mapped data fields missing in each account and save the mapping."""
    setup_django()
    from dotsync.exceptions import DotsyncError
    from dotsync.jobs.automap import automap

    try:
        results = automap(website_code)
    except (DotsyncError, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json([r.as_dict() for r in results])
    else:
        rows = [
            (r.website, len(r.created), len(r.existing), "; ".join(f"{k}: {v}" for k, v in r.failed.items()))
            for r in results
        ]
        table("Data field automap", ("website", "created", "already there", "failed"), rows)
    if any(r.failed for r in results):
        raise SystemExit(1)


COMMANDS = [datafields_group]

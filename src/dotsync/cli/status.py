"""``dotsync status``: rows per sync table per website, split by state."""

from __future__ import annotations

import click

from dotsync.cli import setup_django
from dotsync.cli.dberrors import database_label, friendly_database_errors
from dotsync.cli.output import emit_json, table


def print_summary(summary: dict[str, object], *, title: str) -> None:
    """Print a :func:`dotsync.reporting.sync_summary` as a table."""
    from dotsync.reporting import summary_rows

    columns, rows = summary_rows(summary)
    table(title, columns, rows)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def status_command(as_json: bool) -> None:
    """Rows per sync table per website, split by state (email_importer by import status)."""
    setup_django()
    from dotsync.reporting import sync_summary

    with friendly_database_errors():
        summary = sync_summary()
    summary["database"] = database_label()
    if as_json:
        emit_json(summary)
    else:
        print_summary(summary, title=f"dotsync status ({database_label()})")


COMMANDS = [status_command]

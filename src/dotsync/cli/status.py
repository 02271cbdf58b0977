"""``dotsync status``: rows per sync table per website, split by state."""

from __future__ import annotations

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.output import console, emit_json
from dotsync.dberrors import database_label


def print_summary(summary: dict[str, object], *, title: str) -> None:
    """Print a :func:`dotsync.reporting.sync_summary` as a table (states that are zero everywhere omitted)."""
    from rich.table import Table

    from dotsync.reporting import summary_rows

    columns, rows = summary_rows(summary)
    states = columns[2:-1]
    used = [i for i, _ in enumerate(states) if any(isinstance(r[2 + i], int) and r[2 + i] for r in rows)]
    t = Table(title=title, title_justify="left")
    t.add_column("table", no_wrap=True)
    t.add_column("website", no_wrap=True)
    for i in used:
        t.add_column(states[i], justify="right")
    t.add_column("total", justify="right")
    for r in rows:
        t.add_row(str(r[0]), str(r[1]), *(str(r[2 + i]) for i in used), str(r[-1]))
    console.print(t)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def status_command(as_json: bool) -> None:
    """Rows per sync table per website, split by state (email_importer by import status)."""
    setup_django()
    from dotsync.config_report import configuration_warnings
    from dotsync.reporting import sync_summary

    with friendly_database_errors():
        summary = sync_summary()
        warnings = configuration_warnings()
    summary["database"] = database_label()
    summary["warnings"] = warnings
    if as_json:
        emit_json(summary)
    else:
        print_summary(summary, title="dotsync status: rows per sync table, website and state")
        console.print(f"Database: {database_label()}")
        variants = summary["emails"]["case_variants"]  # type: ignore[index]
        if variants:
            console.print(
                f"[yellow]Emails:[/yellow] {variants} contact rows keep an email in another case than "
                "lower case; run `dotsync install` to merge case variants into "
                "one contact per website",
                highlight=False,
                soft_wrap=True,
            )
        for warning in warnings:
            console.print(f"[yellow]Warning:[/yellow] {warning}", highlight=False, soft_wrap=True)


COMMANDS = [status_command]

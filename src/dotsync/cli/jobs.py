"""``dotsync jobs``: each job per website or account: frequency, last run and outcome, next run."""

from __future__ import annotations

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.output import emit_json, table


@click.command("jobs")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def jobs_command(as_json: bool) -> None:
    """List each job: id, specification name, scope, frequency per website, last run, next run."""
    setup_django()
    from dotsync.runtime import scheduler

    with friendly_database_errors():
        rows = scheduler.job_rows()
    if as_json:
        emit_json({"jobs": rows})
        return
    table(
        "dotsync jobs",
        ["job", "spec name", "scope", "unit", "every (min)", "last run", "outcome", "next run"],
        [
            [
                r["id"],
                r["spec_name"],
                r["scope"],
                r["unit"],
                r["frequency"] or "disabled",
                r["last_run"] or "never",
                r["outcome"] or "",
                r["next_run"] or "",
            ]
            for r in rows
        ],
    )


COMMANDS = [jobs_command]

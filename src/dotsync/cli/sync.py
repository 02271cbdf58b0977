"""``dotsync sync JOB`` runs one job now; ``dotsync sync all`` runs the batchers, then drains the importer."""

from __future__ import annotations

from typing import Any

import click

from dotsync.cli import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.output import console, emit_json, err_console, table


def _job_ids() -> list[str]:
    setup_django()
    from dotsync.jobs.registry import JOBS

    return [*JOBS, "all"]


def _print_counts(title: str, counts: dict[str, dict[str, int]]) -> None:
    keys = sorted({k for c in counts.values() for k in c})
    table(title, ["website", *keys], [[code, *(c.get(k, 0) for k in keys)] for code, c in counts.items()])


def _print_errors(errors: list[str]) -> None:
    for error in errors:
        err_console.print(f"[red]error:[/red] {error}")


@click.command("sync")
@click.argument("job", metavar="JOB")
@click.option("--website", "website_code", default=None, metavar="CODE", help="Only this website.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--max-rounds", type=click.IntRange(min=1), default=None, help="`all`: at most N importer rounds."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0), default=None, help="`all`: stop after about S seconds."
)
def sync_command(
    job: str, website_code: str | None, as_json: bool, max_rounds: int | None, timeout: float | None
) -> None:
    """Run JOB now: one of contacts, orders, reviews_and_wishlists, catalog, importer, or `all`.

    `all` runs every batching job, then the importer until its queue drains (or --max-rounds /
    --timeout is reached), with progress on stderr.
    """
    known = _job_ids()
    if job not in known:
        raise click.BadParameter(f"unknown job {job!r}; choose one of {', '.join(known)}", param_hint="JOB")
    from dotsync.models import Website

    with friendly_database_errors():
        if website_code and not Website.objects.filter(code=website_code).exists():
            codes = ", ".join(Website.objects.order_by("id").values_list("code", flat=True)) or "none yet"
            raise click.BadParameter(
                f"no website {website_code!r} (websites: {codes})", param_hint="--website"
            )
        if job == "all":
            _sync_all(website_code, as_json=as_json, max_rounds=max_rounds, timeout=timeout)
        else:
            _sync_one(job, website_code, as_json=as_json)


def _sync_one(job: str, website_code: str | None, *, as_json: bool) -> None:
    from dotsync.jobs.registry import JOBS

    result = JOBS[job].run(website_code)
    if as_json:
        emit_json(result.as_dict())
    else:
        _print_counts(f"dotsync sync {job}", result.counts)
        _print_errors(result.errors)
    if result.errors and not result.counts:
        raise SystemExit(1)


def _sync_all(
    website_code: str | None, *, as_json: bool, max_rounds: int | None, timeout: float | None
) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from dotsync.jobs.runner import sync_all

    display = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json or not err_console.is_terminal,
    )
    task = display.add_task("batching", total=None)

    def progress(snapshot: dict[str, Any]) -> None:
        if snapshot["phase"] == "batch":
            display.update(task, description=f"batching: {snapshot['job']}")
            return
        done = snapshot["imported"] + snapshot["failed"]
        display.update(
            task,
            description=(
                f"importing (round {snapshot['round']}): {snapshot['pending']} pending, "
                f"{snapshot['importing']} importing, {snapshot['failed']} failed"
            ),
            completed=done,
            total=done + snapshot["pending"] + snapshot["importing"],
        )

    with display:
        summary = sync_all(website_code, max_rounds=max_rounds, timeout=timeout, progress=progress)
    if as_json:
        emit_json(summary)
        return
    for job, result in summary["jobs"].items():
        _print_counts(f"{job}", result["counts"])
    _print_counts("importer", summary["importer"])
    _print_errors(summary["errors"])
    remaining = summary["remaining"]
    state = "drained" if summary["drained"] else f"stopped ({summary['stopped']})"
    console.print(
        f"Queue {state} after {summary['rounds']} rounds in {summary['elapsed_seconds']:.1f}s, "
        f"{summary['api_calls']} API calls; {remaining.get('pending', 0)} pending, "
        f"{remaining.get('importing', 0)} importing."
    )
    if not summary["drained"]:
        console.print(NEXT_STEP.get(summary["stopped"], NEXT_STEP["timeout"]))


NEXT_STEP = {
    "deferred": "Some rows wait for a later retry; the next `dotsync sync all` or scheduled run sends them.",
    "stalled": "Some rows cannot be sent: fix the errors above, then run `dotsync sync all` again.",
    "timeout": "Run `dotsync sync all` again to continue; `dotsync status` shows what is left.",
}
"""What to do next, by the reason the loop stopped."""


COMMANDS = [sync_command]

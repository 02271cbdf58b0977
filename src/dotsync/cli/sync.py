"""``dotsync sync JOB`` runs one job now; ``dotsync sync all`` runs every registered job in dependency order.

Both exit with a code a cron job or a monitor can act on (:class:`~dotsync.cli.exitcodes.ExitCode`,
README "Exit codes"): 0 drained, then configuration problem, nothing configured, credentials refused,
platform unreachable, rows failed, not drained.
"""

from __future__ import annotations

from typing import Any

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.exitcodes import ExitCode
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
@click.option(
    "--stall-limit",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="`all`: stop after this long without any platform answer or progress (default 120; 0: never).",
)
def sync_command(
    job: str,
    website_code: str | None,
    as_json: bool,
    max_rounds: int | None,
    timeout: float | None,
    stall_limit: float | None,
) -> None:
    """Run JOB now: any registered job (contacts, orders, importer, abandoned_carts, campaigns, ...) or `all`.

    `all` runs every registered job in dependency order (each job's declared `after`: the platform
    feeds, the batching jobs, the importer until its queue drains or --max-rounds / --timeout /
    --stall-limit is reached, then campaign sends and enrolments, the cleaner and the monitor), with
    progress on stderr. Run again right after, it writes nothing: only the feeds read (`api_reads`).
    The exit code says how it went (README, "Exit codes").
    """
    known = _job_ids()
    if job not in known:
        raise click.BadParameter(f"unknown job {job!r}; choose one of {', '.join(known)}", param_hint="JOB")

    with friendly_database_errors():
        require_website(website_code)
        if not _anything_enabled(website_code, as_json=as_json):
            raise SystemExit(ExitCode.NOTHING_CONFIGURED)
        if job == "all":
            limit = None if stall_limit == 0 else stall_limit
            code = _sync_all(
                website_code, as_json=as_json, max_rounds=max_rounds, timeout=timeout, stall_limit=limit
            )
        else:
            code = _sync_one(job, website_code, as_json=as_json)
    raise SystemExit(code)


def require_website(website_code: str | None) -> None:
    """Refuse a ``--website`` code that names no website (the message lists the codes)."""
    from dotsync.models import Website

    if website_code and not Website.objects.filter(code=website_code).exists():
        codes = ", ".join(Website.objects.order_by("id").values_list("code", flat=True)) or "none yet"
        raise click.BadParameter(f"no website {website_code!r} (websites: {codes})", param_hint="--website")


NOTHING_CONFIGURED = (
    "nothing to sync: no website is enabled{scope}. What to do: configure a website's API user and "
    "password and enable it (`dotsync install`, the admin, or DOTSYNC_* settings), then run again"
)


def _anything_enabled(website_code: str | None, *, as_json: bool) -> bool:
    """False (after saying so) when no website in scope is enabled."""
    from dotsync.jobs.base import websites_for

    if next(iter(websites_for(None, website_code)), None) is not None:
        return True
    message = NOTHING_CONFIGURED.format(scope=f" among {website_code!r}" if website_code else "")
    if as_json:
        emit_json({"errors": [message], "websites": 0, "exit_code": int(ExitCode.NOTHING_CONFIGURED)})
    else:
        _print_errors([message])
    return False


def exit_code(summary: dict[str, Any]) -> ExitCode:
    """The exit code of a sync, from its summary (``health`` fields, ``failed``, ``drained``).

    Args:
        summary: :meth:`~dotsync.jobs.runner.SyncSummary.as_dict`, or a one-job result with the health
            fields added.
    """
    if not summary.get("websites"):
        return ExitCode.NOTHING_CONFIGURED
    if summary.get("config_problems"):
        return ExitCode.CONFIG
    states = {a["state"] for a in summary.get("accounts", [])}
    if "credentials" in states:
        return ExitCode.CREDENTIALS
    if "unreachable" in states:
        return ExitCode.UNREACHABLE
    if summary.get("failed"):
        return ExitCode.ROWS_FAILED
    if not summary.get("drained", True):
        return ExitCode.NOT_DRAINED
    return ExitCode.OK


def _sync_one(job: str, website_code: str | None, *, as_json: bool) -> ExitCode:
    from dotsync.accounts import RunContext
    from dotsync.jobs import health
    from dotsync.jobs.registry import JOBS

    ctx = RunContext.resolve(website_code)  # the job and the health check share one read of the settings
    result = JOBS[job].run(ctx)
    report = {**result.as_dict(), **health.check(ctx=ctx).as_dict(), "failed": result.total("failed")}
    code = exit_code(report)
    if as_json:
        emit_json({**report, "exit_code": int(code)})
    else:
        _print_counts(f"dotsync sync {job}", result.counts)
        _print_errors(result.errors)
    return code


def _sync_all(
    website_code: str | None,
    *,
    as_json: bool,
    max_rounds: int | None,
    timeout: float | None,
    stall_limit: float | None,
) -> ExitCode:
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

    limits: dict[str, Any] = {} if stall_limit is None else {"stall_limit": stall_limit or None}
    with display:
        summary = sync_all(website_code, max_rounds=max_rounds, timeout=timeout, progress=progress, **limits)
    code = exit_code(summary)
    if as_json:
        emit_json({**summary, "exit_code": int(code)})
        return code
    for job, result in summary["jobs"].items():
        _print_counts(f"{job}", result["counts"])
    _print_counts("importer", summary["importer"])
    _print_errors(summary["errors"])
    remaining = summary["remaining"]
    state = "drained" if summary["drained"] else f"stopped ({summary['stopped']})"
    console.print(
        f"Queue {state} after {summary['rounds']} rounds in {summary['elapsed_seconds']:.1f}s, "
        f"{summary['api_calls']} API calls ({summary.get('api_reads', 0)} only read); "
        f"{remaining.get('pending', 0)} pending, "
        f"{remaining.get('importing', 0)} importing."
    )
    if not summary["drained"]:
        console.print(NEXT_STEP.get(summary["stopped"], NEXT_STEP["timeout"]))
    return code


NEXT_STEP = {
    "deferred": (
        "Some rows wait for a later retry; the next `dotsync sync all` or scheduled run sends them "
        "(`dotsync retry` makes them due now)."
    ),
    "stalled": (
        "Some rows cannot be sent now: fix the errors above, then run `dotsync retry` and "
        "`dotsync sync all`; nothing is lost, the rows stay queued."
    ),
    "timeout": "Run `dotsync sync all` again to continue; `dotsync status` shows what is left.",
}
"""What to do next, by the reason the loop stopped."""


COMMANDS = [sync_command]

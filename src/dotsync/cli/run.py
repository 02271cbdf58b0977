"""``dotsync run``: the embedded scheduler, until SIGTERM or Ctrl-C (``--once``: every due job, then exit)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.output import console, emit_json


@click.command("run")
@click.option("--once", is_flag=True, help="Run every due job once and exit (for cron).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the runs as JSON.")
def run_command(once: bool, as_json: bool) -> None:
    """Run every registered job at its frequency per website, until SIGTERM or Ctrl-C.

    Each job runs at most once at a time per website or account, across processes: an overlapping
    run is skipped and recorded as "locked". On SIGTERM or Ctrl-C the running step finishes, its lock
    is released and the command exits 0. Runs are recorded in email_job_run (`dotsync jobs`).
    """
    setup_django()
    from dotsync.runtime import scheduler

    if once:
        with friendly_database_errors():
            runs = scheduler.run_once()
        rows = [
            {"job": r.job_id, "scope": r.scope, "outcome": r.outcome, "counts": r.counts, "error": r.error}
            for r in runs
        ]
        if as_json:
            emit_json({"runs": rows})
        else:
            for row in rows:
                console.print(f"{row['job']} [{row['scope']}]: {row['outcome']}", highlight=False)
            if not rows:
                console.print("Nothing due.")
        return
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        console.print(f"{signal.Signals(signum).name}: finishing the running step, then stopping")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    console.print("dotsync run: scheduler started (SIGTERM or Ctrl-C to stop)")
    with friendly_database_errors():
        scheduler.serve(stop)
    console.print("dotsync run: stopped")


COMMANDS = [run_command]

"""A separate process for the runtime tests: ``python tests/runtime/child.py MODE DATABASE_URL``.

* ``build``: create the tables (migrations disabled, as in the test suite) and one enabled website
  ``main`` (its API settings left empty: the job itself is replaced, see below);
* ``race``: ``run_job`` of the ``orders`` job for ``main``; the job's work is replaced by a step that
  prints ``running`` and waits for a line on stdin, so the test decides when it ends (the platform
  is not needed to test a lock); prints the recorded run as JSON;
* ``serve``: ``dotsync run`` (the real command, SIGTERM handling included) with one unit due at once
  and the same waiting step.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def setup(url: str, var_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    from dotsync.testing.standalone import configure_without_migrations

    configure_without_migrations(url, var_dir=Path(var_dir))


def build() -> None:
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    make_website()


def make_website() -> None:
    """One enabled website, ``main`` (shared with the PostgreSQL test, which has its tables already)."""
    from dotsync.models import Website, WebsiteConfig

    website, _ = Website.objects.get_or_create(code="main", defaults={"name": "Main"})
    WebsiteConfig.objects.update_or_create(website=website, defaults={"enabled": True})


def waiting_step(unit: Any) -> Any:
    """The job's work in these tests: say it runs, then wait for the test's go-ahead on stdin."""
    from dotsync.jobs.base import JobResult

    print("running", flush=True)
    sys.stdin.readline()
    result = JobResult(unit.job.id)
    result.add(unit.label, "done")
    return result


def race() -> None:
    from dotsync.accounts import RunContext
    from dotsync.jobs.registry import JOBS
    from dotsync.runtime.runs import run_job, units

    unit = next(u for u in units(JOBS["orders"], RunContext.resolve()) if u.label == "main")
    run = run_job(unit, execute=waiting_step)
    print(json.dumps({"outcome": run.outcome, "counts": run.counts, "id": run.pk}), flush=True)


def serve() -> None:
    from dotsync.cli.main import main
    from dotsync.runtime import runs, scheduler

    planned = scheduler.plan

    def one_unit_due_now(*args: Any, **kwargs: Any) -> list[Any]:
        return [dataclasses.replace(e, offset=0.0) for e in planned(*args, **kwargs) if e.job_id == "orders"]

    scheduler.plan = one_unit_due_now  # type: ignore[assignment]
    runs._execute = waiting_step  # type: ignore[assignment]
    main(["run"])


if __name__ == "__main__":
    mode, url, var = sys.argv[1], sys.argv[2], sys.argv[3]
    setup(url, var)
    {"build": build, "race": race, "serve": serve, "website": make_website}[mode]()

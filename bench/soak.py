"""Soak: random store changes, a ``sync all`` SIGKILLed at a random moment, a faulty platform, a drain.

    .venv/bin/python bench/soak.py                 # 100 trials
    .venv/bin/python bench/soak.py --trials 10 --seed 7 --no-write

Every trial, from a copy of one small shop (SQLite file, tables from the models):

1. **configure and change** (a child process): both websites pointed at a fresh account of the sandbox,
   data fields and history installed, then a few seeded random store changes through Oscar's flows,
   observers on (subscribe, unsubscribe, delete a subscription, place, advance, cancel, rename);
2. **faults**: random sandbox knobs (import delay and polls, 5xx rate) for the rest of the trial;
3. **killed sync**: ``sync all`` in a child process, ``SIGKILL``\\ ed a random 0-3 s into the sync
   (unless it ended first);
4. **more changes** (a child): another seeded batch, while the killed run's imports are in flight;
   unsubscribes and cancellations of records whose first import is on its way are the issue-8 race;
5. **drain** (a child): faults off, ``dotsync retry``'s resume (deferred rows due now) and ``sync all``
   until the queue drains; then the store's truth for the trial's records.

The sandbox runs in its own process for all trials (reset before each). The parent compares, on the
``main`` account, the trial's subscribers, customers and orders with the store:

* **lost**: a subscriber not in the subscribers book, a customer not a contact, a synced order missing;
* **duplicated**: a contact stored twice (case-insensitive), an insight key stored twice;
* **stale**: an unsubscribed or deleted subscriber still subscribed, a customer with an old last name,
  an order present though its status is not synced, or with another status than the store's.

All three must be 0. The parent prints a table and JSON, writes ``bench/results/soak.json`` and the
"Soak trials" section of docs/reliability.md (unless ``--no-write``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from sync import start_sandbox  # noqa: E402

DOC = ROOT / "docs" / "reliability.md"
SECTION = "## Soak trials"
RESULTS = ROOT / "bench" / "results" / "soak.json"

CUSTOMERS = [f"soak{i}@example.com" for i in range(4)]
SUBSCRIBERS = [f"soaksub{i}@example.com" for i in range(5)]
SYNCED = ("pending", "processing", "complete")
NEXT_STATUS = {"pending": "processing", "processing": "complete"}


# --- child --------------------------------------------------------------------------------------------


def setup(db: str) -> None:
    from dotsync.testing.standalone import configure_without_migrations

    configure_without_migrations(f"sqlite:///{db}", var_dir=Path(db).parent / "var")


def build() -> None:
    """The small e2e shop plus the trial's customers (one processing order each), observers muted."""
    from django.core.management import call_command

    from dotsync.store.oscar.observers import muted
    from dotsync.testing.scope import make_scope
    from dotsync.testing.shop import build_shop, make_customer, place_order

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    with muted():
        scope = make_scope()
        shop = build_shop(scope)
        for i, email in enumerate(CUSTOMERS):
            customer = make_customer(email, "Soak", f"Original{i}")
            place_order(customer, [shop.products["shirt"]], scope.main_en, status="processing")


def configure(url: str) -> dict[str, Any]:
    """Both websites on fresh sandbox accounts (small batches), data fields, history installed."""
    from dotsync.install.backfill import backfill
    from dotsync.jobs.automap import automap
    from dotsync.models import Website
    from dotsync.platform.sandbox.control import SandboxControl
    from dotsync.testing.platform_setup import configure_websites

    sizes = {"page": 10, "contacts": 5, "insight": 5, "catalog": 5}
    with SandboxControl(url) as sandbox:
        accounts = configure_websites(
            sandbox, Website.objects.order_by("pk"), batch_sizes=sizes, max_active_imports=2
        )
    automap()
    backfill()
    return {code: a.__dict__ for code, a in accounts.items()}


def mutate(seed: int, count: int) -> list[str]:
    """``count`` seeded random store changes in the main_en store, observers on; returns what was done."""
    from django.contrib.auth import get_user_model
    from oscar.core.loading import get_model

    from dotsync.models import NewsletterSubscriber, Store
    from dotsync.models.newsletter import SubscriberStatus
    from dotsync.testing.shop import place_order, set_order_status, subscribe

    rng = random.Random(seed)
    store = Store.objects.get(code="main_en")
    users = get_user_model()._default_manager
    orders = get_model("order", "Order")._default_manager.filter(user__email__in=CUSTOMERS)
    products = get_model("catalogue", "Product")._default_manager.filter(stockrecords__isnull=False)
    product = products.filter(is_public=True).distinct().order_by("pk")  # priced: not a parent
    done = []
    for _ in range(count):
        kind = rng.choice(["subscribe", "subscribe", "unsubscribe", "unsubscribe", "delete_subscription",
                           "place", "advance", "cancel", "cancel", "rename"])  # fmt: skip
        email = rng.choice(SUBSCRIBERS)
        subs = NewsletterSubscriber.objects.filter(subscriber_email=email, store=store)
        open_ = list(orders.filter(status__in=["pending", "processing"]).order_by("pk"))
        if kind == "subscribe":
            subscribe(email, store)
        elif kind == "unsubscribe" and subs.exists():
            subscribe(email, store, SubscriberStatus.UNSUBSCRIBED)
        elif kind == "delete_subscription" and subs.exists():
            subs.get().delete()
        elif kind == "place":
            user = users.get(email=rng.choice(CUSTOMERS))
            place_order(user, [rng.choice(list(product[:3]))], store)
        elif kind == "advance" and open_:
            order = rng.choice(open_)
            set_order_status(order, NEXT_STATUS[order.status])
        elif kind == "cancel" and open_:
            set_order_status(rng.choice(open_), "cancelled")
        elif kind == "rename":
            user = users.get(email=rng.choice(CUSTOMERS))
            user.last_name = f"Renamed{rng.randrange(1000)}"
            user.save()
        else:
            continue
        done.append(kind)
    return done


def drain() -> dict[str, Any]:
    """Resume deferred rows and ``sync all`` until drained; then the store's truth for the trial."""
    from django.contrib.auth import get_user_model
    from oscar.core.loading import get_model

    from dotsync.jobs.resume import resume
    from dotsync.jobs.runner import sync_all
    from dotsync.models import NewsletterSubscriber

    started = time.monotonic()
    summary: dict[str, Any] = {}
    for _ in range(5):
        resume()
        summary = sync_all(timeout=90)
        if summary["drained"]:
            break
    subs = NewsletterSubscriber.objects.filter(subscriber_email__in=SUBSCRIBERS, store__code="main_en")
    orders = get_model("order", "Order")._default_manager.filter(user__email__in=CUSTOMERS)
    return {
        "drained": summary.get("drained", False),
        "drain_seconds": round(time.monotonic() - started, 2),
        "subscribers": {s.subscriber_email: s.subscriber_status == 1 for s in subs},
        "customers": dict(
            get_user_model()._default_manager.filter(email__in=CUSTOMERS).values_list("email", "last_name")
        ),
        "orders": {str(o.number): o.status for o in orders},
    }


def child(argv: list[str]) -> None:
    db, mode, *rest = argv
    setup(db)
    if mode == "build":
        build()
        out: Any = {}
    elif mode == "configure":
        out = {"accounts": configure(rest[0]), "changes": mutate(int(rest[1]), int(rest[2]))}
    elif mode == "mutate":
        out = {"changes": mutate(int(rest[0]), int(rest[1]))}
    elif mode == "sync":
        from dotsync.jobs.runner import sync_all

        print("ready", flush=True)  # Django is up: the kill clock starts now
        out = {"drained": sync_all(timeout=60)["drained"]}
    elif mode == "drain":
        out = drain()
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out), flush=True)


# --- parent -------------------------------------------------------------------------------------------


def run_child(db: Path, *args: str, timeout: float = 600) -> Any:
    """Run a child mode to completion and return its JSON line."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(db), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DOTSYNC_TEST_CRASH_AT"}
    env.setdefault("DOTSYNC_RATE_LIMIT", "off")
    env.setdefault("DOTSYNC_ENCRYPTION_KEY", "soak-bench-key-not-a-secret-" + "x" * 40)
    return env


def killed_sync(db: Path, after: float) -> bool:
    """``sync all`` SIGKILLed ``after`` seconds after it starts (True: killed; False: it ended first).

    The clock starts when the child says Django is set up, so the kill lands in the sync itself.
    """
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(db), "sync"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=child_env(),
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # "ready" (or EOF if the child died)
    try:
        proc.wait(timeout=after)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def compare(state: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """Lost, duplicated and stale records of the trial on the ``main`` account (see the docstring)."""
    emails = [c["email"].lower() for c in state["contacts"]]
    contacts = {c["email"].lower(): c for c in state["contacts"]}
    orders = state["insight"].get("Orders", {"records": []})["records"]
    by_key: dict[str, dict[str, Any]] = {}
    duplicated = len(emails) - len(set(emails))
    for data in state["insight"].values():
        keys = [r["key"] for r in data["records"]]
        duplicated += len(keys) - len(set(keys))
    for record in orders:
        by_key[record["key"]] = record
    lost: list[str] = []
    stale: list[str] = []
    subscribers_book = truth["subscribers_book"]
    for email in SUBSCRIBERS:
        contact = contacts.get(email)
        in_book = contact is not None and subscribers_book in contact["address_books"]
        subscribed = truth["subscribers"].get(email)
        if subscribed and not in_book:
            lost.append(f"subscriber {email}")
        elif subscribed is None and contact is not None:
            stale.append(f"deleted subscriber {email} on the platform")
        elif subscribed is False and in_book:
            stale.append(f"unsubscribed {email} in the subscribers book")
    for email, last_name in truth["customers"].items():
        contact = contacts.get(email)
        if contact is None:
            lost.append(f"customer {email}")
        elif contact["data_fields"].get("LASTNAME") != last_name:
            stale.append(f"customer {email} last name {contact['data_fields'].get('LASTNAME')!r}")
    for number, status in truth["orders"].items():
        record = by_key.get(number)
        if status in SYNCED and record is None:
            lost.append(f"order {number} ({status})")
        elif status not in SYNCED and record is not None:
            stale.append(f"order {number} is {status} but on the platform")
        elif record is not None and record["json"].get("orderStatus") != status:
            stale.append(f"order {number} is {status}, platform says {record['json'].get('orderStatus')}")
    return {"lost": lost, "duplicated": duplicated, "stale": stale}


def trial(i: int, seed: int, template: Path, tmp: Path, sandbox: Any, url: str) -> dict[str, Any]:
    rng = random.Random(seed)
    work = tmp / f"trial{i}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    db = work / "shop.sqlite3"
    shutil.copy(template, db)
    started = time.monotonic()
    sandbox.reset()
    sandbox.set_faults(reset=True, import_delay=0.05)
    first = run_child(db, "configure", url, str(seed), str(rng.randint(3, 8)))
    faults = {
        "import_delay": round(rng.uniform(0.0, 2.0), 2),
        "import_polls": rng.randint(0, 3),
        "error_rate": rng.choice([0.0, 0.0, 0.1, 0.2]),
        "seed": seed,
    }
    sandbox.set_faults(**faults)
    kill_after = round(rng.uniform(0.0, 3.0), 2)
    killed = killed_sync(db, kill_after)
    second = run_child(db, "mutate", str(seed + 1), str(rng.randint(3, 8)))
    sandbox.set_faults(reset=True, import_delay=0.05)
    truth = run_child(db, "drain")
    main = first["accounts"]["main"]
    truth["subscribers_book"] = next(
        b["name"]
        for b in sandbox.account(main["username"])["address_books"]
        if b["id"] == main["address_books"]["subscribers"]
    )
    found = compare(sandbox.account(main["username"]), truth)
    return {
        "trial": i,
        "seed": seed,
        "faults": faults,
        "kill_after_s": kill_after,
        "killed": killed,
        "changes": first["changes"] + second["changes"],
        "drained": truth["drained"],
        "drain_s": truth["drain_seconds"],
        "seconds": round(time.monotonic() - started, 2),
        "lost": len(found["lost"]),
        "duplicated": found["duplicated"],
        "stale": len(found["stale"]),
        "problems": found["lost"] + found["stale"],
    }


def write_doc(summary: dict[str, Any]) -> None:
    """Replace the "Soak trials" section of docs/reliability.md with the figures."""
    text = DOC.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    paragraphs = [
        "Changes made while a record's first import is in flight (issue 8, defect 1): a row whose "
        "import has not settled is held by the batchers (it stays pending, its importer column names "
        'the live import, its message says so), and a row an import carried is "maybe sent", so its '
        "retire step (unsubscribe, delete) is queued after the import settles, never skipped. Deletes "
        "the observers queue for an in-flight record carry `after` and wait for that import. "
        "Reproduced per retire kind by `tests/e2e/test_inflight.py`; interleavings generated by "
        "`tests/e2e/test_model_based.py` (hypothesis state machine: store changes, partial runs, runs "
        "abandoned at crash points, import delays, 5xx storms; 10 examples of up to 15 steps in CI, "
        "`DOTSYNC_SOAK_EXAMPLES=N` or `make soak` for more).",
        "`bench/soak.py` (`make soak` runs 100 trials after the long model-based run). Each trial: a copy "
        "of the small shop, seeded random store changes in `main_en` (subscribe, unsubscribe, delete a "
        "subscription, place, advance, cancel, rename), `sync all` in a child process SIGKILLed at a "
        "random moment (0-3 s into `sync all`), random sandbox faults (import delay 0-2 s, 0-3 polls, "
        "0-20 % 5xx), more changes while the killed run's imports are in flight, then a drain (faults "
        "off, deferred rows resumed). The trial's subscribers, customers and orders are compared with "
        "the `main` account: lost (missing), duplicated (stored twice), stale (another state than the "
        "store's).",
        f"Measured {summary['date']} on this machine (2 cores, SQLite): **{summary['trials']} trials** "
        f"(seed {summary['seed']}), {summary['killed']} of them killed mid-run, {summary['changes']} "
        f"store changes in all; {summary['seconds_per_trial']:.1f} s per trial.",
    ]
    table = (
        "| trials | killed | lost | duplicated | stale | not drained |\n|---|---|---|---|---|---|\n"
        f"| {summary['trials']} | {summary['killed']} | {summary['lost']} | {summary['duplicated']} | "
        f"{summary['stale']} | {summary['not_drained']} |"
    )
    tail = f"Per-trial results: `bench/results/soak.json`. {summary['note']}".strip()
    wrapped = [textwrap.fill(p, 104, break_on_hyphens=False) for p in (*paragraphs, tail)]
    body = "\n\n".join([SECTION, *wrapped[:-1], table, wrapped[-1]]) + "\n"
    DOC.write_text(text[:start] + body + (text[end:] if end >= 0 else ""))


def parent(args: argparse.Namespace) -> int:
    from dotsync.platform.sandbox.control import SandboxControl

    tmp = Path(tempfile.mkdtemp(prefix="dotsync-soak-"))
    template = tmp / "template.sqlite3"
    run_child(template, "build")
    proc, url, _ = start_sandbox(str(tmp), 0.05)
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        with SandboxControl(url) as sandbox:
            for i in range(args.trials):
                result = trial(i, args.seed + i * 1000, template, tmp, sandbox, url)
                results.append(result)
                print(
                    f"trial {i:3d}  killed {result['killed']!s:5}  changes {len(result['changes']):2d}  "
                    f"lost {result['lost']}  dup {result['duplicated']}  stale {result['stale']}  "
                    f"drained {result['drained']}  {result['seconds']:.1f}s"
                    + (f"  {result['problems']}" if result["problems"] else ""),
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "trials": len(results),
        "seed": args.seed,
        "killed": sum(r["killed"] for r in results),
        "changes": sum(len(r["changes"]) for r in results),
        "lost": sum(r["lost"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
        "stale": sum(r["stale"] for r in results),
        "not_drained": sum(not r["drained"] for r in results),
        "seconds_per_trial": (time.monotonic() - started) / max(1, len(results)),
        "note": args.note,
    }
    print()
    print("| trials | killed | lost | duplicated | stale | not drained | s/trial |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {summary['trials']} | {summary['killed']} | {summary['lost']} | {summary['duplicated']} | "
        f"{summary['stale']} | {summary['not_drained']} | {summary['seconds_per_trial']:.1f} |"
    )
    print(json.dumps(summary))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"summary": summary, "trials": results}, indent=2) + "\n")
        write_doc(summary)
    bad = summary["lost"] + summary["duplicated"] + summary["stale"] + summary["not_drained"]
    return 1 if bad else 0


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=100, help="number of trials (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="base seed (trial i uses seed + 1000 i)")
    parser.add_argument("--no-write", action="store_true", help="do not write results or docs")
    parser.add_argument("--note", default="", help="a sentence added to the docs section")
    raise SystemExit(parent(parser.parse_args()))


if __name__ == "__main__":
    main()

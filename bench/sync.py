"""Benchmark of a full first sync (``dotsync sync all``) into the sandbox, against its serialization floor.

    .venv/bin/python bench/sync.py                       # 10k, 100k and 300k orders, SQLite
    .venv/bin/python bench/sync.py --customers 10000 --orders 30000 --single --no-write
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dotsync_bench .venv/bin/python bench/sync.py

Each size runs in its own subprocess (so memory is per size). In it:

1. a fresh database, the standard websites/stores and the shop seeded with ``bench/install.py``'s
   set-based SQL, plus order lines (so order records carry lines); then the install backfill;
2. the sandbox in **its own process** (``dotsync sandbox --db <temp file>``, so its import
   processing neither shares this process's interpreter nor its memory), ``import_delay`` small;
   both websites configured with one account each (``platform_setup.configure_websites``); the
   client-side hourly call budget off (``DOTSYNC_RATE_LIMIT=off``);
3. **sync**: :func:`dotsync.jobs.runner.sync_all` until the queue drains; wall time, per-job
   batching time, importer time, API calls (the runner's count and the sandbox's request log),
   peak RSS of this process during the sync (Linux ``VmHWM`` reset just before it);
   CPU seconds of this process (``getrusage`` user+system) and of the sandbox process
   (``/proc/<pid>/stat``) over the sync; ``--profile-sync`` runs it under cProfile instead (the
   top functions by cumulative time go to the JSON; the timings are then the profiled ones);
4. **raw floor** (:mod:`raw_floor`): the same records with the same fields, read with plain SQL
   (``sqlite3``/``psycopg``, no Django, no dotsync code) in keyset pages and encoded as the same
   CSV/JSON text; run ``--floors`` times after the sync (so it covers the contact rows the sync
   itself created for orders), best kept; wall and CPU seconds; its record counts give the minimum
   calls. One more (untimed) run keeps a sample of records, compared with the bodies the sandbox
   received (``equivalence``: the mismatch count must be 0);
5. **re-sync**: ``sync_all`` again with nothing changed: API calls (must be 0 writes; the platform
   feeds' reads are counted apart);
6. **incremental** (``--incremental 0.01``): that fraction of the orders changed with set-based SQL
   (the Oscar order touched, its ``email_order`` row marked modified as the observers do), then
   ``sync_all`` timed again.
``--adapter-floors N`` also runs the old floor (:mod:`sync_floor`: dotsync's own adapter reads and
payload builders) N times, for comparison.

The parent prints the results and rewrites the "Sync" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from install import ROOT, fresh_database, save_results, seed

DOC = ROOT / "docs" / "performance.md"
SECTION = "## Sync"


# --- child ----------------------------------------------------------------------------------------------


def seed_extras(orders: int, customers: int) -> int:
    """What a sync needs beyond the install seed: a product class, and two lines per order (set-based).

    Oscar's pricing strategy needs every product's class; order lines make order records carry
    products, quantities and prices as real ones do. Returns the number of order lines.
    """
    from django.db import connection, transaction

    from install import series

    products = max(500, customers // 50)
    f = "FALSE" if connection.vendor == "postgresql" else "0"
    sql = (
        "INSERT INTO order_line (order_id, partner_id, partner_name, partner_sku, partner_line_reference, "
        "partner_line_notes, stockrecord_id, product_id, title, upc, quantity, line_price_incl_tax, "
        "line_price_excl_tax, line_price_before_discounts_incl_tax, line_price_before_discounts_excl_tax, "
        "unit_price_incl_tax, unit_price_excl_tax, tax_code, status, num_allocated, allocation_cancelled) "
        f"SELECT ((n - 1) / 2) + 1, 1, 'Bench', 'SKU' || {_txt('p')}, '', '', p, p, "
        f"'Product ' || {_txt('p')}, '', 1 + n % 3, 12.5, 10, 12.5, 10, 12.5, 10, '', '', 0, {f} "
        f"FROM (SELECT n, ((n * 13) % {products}) + 1 AS p FROM {series(orders * 2)} seq) s"
    )
    t = "TRUE" if connection.vendor == "postgresql" else "1"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalogue_productclass (id, name, slug, requires_shipping, track_stock) "
            f"VALUES (1, 'Bench', 'bench', {t}, {t})"
        )
        cursor.execute("UPDATE catalogue_product SET product_class_id = 1")
        cursor.execute(sql.replace("%", "%%"), [])
        cursor.execute("SELECT COUNT(*) FROM order_line")
        return int(cursor.fetchone()[0])


def _txt(expr: str) -> str:
    from install import txt

    return txt(expr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sandbox(tmp: str, import_delay: float) -> tuple[subprocess.Popen[bytes], str, str]:
    """``dotsync sandbox`` in its own process; returns the process, its URL and its SQLite file."""
    port = free_port()
    db = os.path.join(tmp, "sandbox.sqlite3")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/sandbox-cli.sqlite3")
    cmd = [str(Path(sys.executable).parent / "dotsync"), "sandbox", "--port", str(port), "--db", db]
    cmd += ["--import-delay", str(import_delay), "--log-level", "warning"]
    with open(os.path.join(tmp, "sandbox.log"), "wb") as errors:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the sandbox exited: {Path(tmp, 'sandbox.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url, db
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the sandbox did not start within 30 s")


def create_data_fields(url: str, accounts: dict[str, Any]) -> None:
    """Create every mapped data field, with its type, in each sandbox account (before the timing).

    A real account holds the fields its mapping names; the sandbox stores only the values of fields
    that exist, so without them the contacts' stored state could not be checked field by field.
    """
    import base64
    import urllib.error
    import urllib.request

    from dotsync.jobs.base import websites_for
    from dotsync.jobs.payloads import datafields

    for website, cfg in websites_for(None):
        account = accounts[website.code]
        auth = base64.b64encode(f"{account.username}:{account.password}".encode()).decode()
        keys = (*datafields.CUSTOMER_KEYS, *datafields.GUEST_KEYS, *datafields.SUBSCRIBER_KEYS)
        for key, name in datafields.columns(keys, cfg.data_field_mapping):
            body = json.dumps({"name": name, "type": datafields.datafield_type(key)}).encode()
            request = urllib.request.Request(
                f"{url}/v2/data-fields",
                data=body,
                method="POST",
                headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
            )
            try:
                urllib.request.urlopen(request, timeout=30).close()
            except urllib.error.HTTPError as exc:  # the sandbox's default fields (FIRSTNAME...) exist
                if exc.code != 400:
                    raise


def request_counts(db: str) -> dict[str, int]:
    """Calls per endpoint from the sandbox's request log (read straight from its database)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        out: dict[str, int] = {}
        for endpoint, count in con.execute(
            "SELECT endpoint, SUM(count) FROM request_counts GROUP BY endpoint"
        ):
            out[endpoint] = int(count)
        return out
    finally:
        con.close()


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs`` 5); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def timed_jobs() -> tuple[dict[str, float], dict[str, int]]:
    """Wrap every batching job and the importer to sum their wall time and keep their peak RSS.

    Returns:
        Seconds per job id, and the highest peak RSS (KiB) seen during any run of each job. The
        kernel's mark is reset before each run, so each peak is that job's own; the sync's peak is
        the highest of them and of the mark after the last run.
    """
    import tracemalloc

    from dotsync.jobs import importer, registry

    spent: dict[str, float] = {}
    peaks: dict[str, int] = {}

    def wrap(job_id: str, fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            resettable = reset_peak_rss()
            if tracemalloc.is_tracing():
                tracemalloc.reset_peak()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[job_id] = spent.get(job_id, 0.0) + time.perf_counter() - started
                if resettable:
                    peaks[job_id] = max(peaks.get(job_id, 0), peak_rss_kb())
                if tracemalloc.is_tracing():  # --trace-python: the Python heap's own peak, KiB
                    heap = f"{job_id}:python_heap"
                    peaks[heap] = max(peaks.get(heap, 0), tracemalloc.get_traced_memory()[1] // 1024)

        return run

    for job in registry.batching_jobs():
        # Job objects are frozen declarations: the timed run shadows the method on the instance
        object.__setattr__(job, "run", wrap(job.id, job.run))
    importer.run = wrap("importer", importer.run)  # type: ignore[method-assign]
    return spent, peaks


def cpu_seconds() -> float:
    """This process's user + system CPU seconds so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """Another process's user + system CPU seconds (and its waited-for children's), from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # after the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


def profile_top(profiler: Any, n: int = 15) -> list[dict[str, Any]]:
    """The ``n`` functions with the most cumulative time: where, calls, own and cumulative seconds."""
    import pstats

    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = path
        for marker in ("/site-packages/", "/src/", "/bench/", "/lib/python3.11/"):
            if marker in path:
                where = path.split(marker, 1)[1]
                break
        rows.append(
            {
                "function": f"{where}:{line}({name})",
                "calls": calls,
                "own_seconds": round(own, 3),
                "cumulative_seconds": round(cumulative, 3),
            }
        )
    rows.sort(key=lambda r: -r["cumulative_seconds"])
    return rows[:n]


def timed_sync(args: argparse.Namespace, sandbox_pid: int, sandbox_db: str) -> dict[str, Any]:
    """One ``sync_all`` until drained: wall and CPU seconds (this process, the sandbox), calls, summary."""
    from dotsync.jobs.runner import sync_all

    before = request_counts(sandbox_db)
    sandbox_cpu = process_cpu_seconds(sandbox_pid)
    cpu = cpu_seconds()
    started = time.perf_counter()
    summary = sync_all(timeout=args.timeout)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    sandbox_cpu = process_cpu_seconds(sandbox_pid) - sandbox_cpu
    after = request_counts(sandbox_db)
    calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) - before.get(k, 0)}
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "sandbox_cpu_seconds": round(sandbox_cpu, 2),
        "api_calls": sum(calls.values()),
        "api_writes": sum(v for k, v in calls.items() if not k.startswith("GET ")),
        "api_calls_by_endpoint": calls,
        "stopped": summary["stopped"],
        "jobs": {k: v["counts"] for k, v in summary["jobs"].items()},
    }


def change_orders(fraction: float) -> int:
    """Change ``fraction`` of the orders with set-based SQL, as a shop's edits and the observers would.

    Every ``1/fraction``-th ``email_order`` row: its Oscar order's shipping method changes (so the
    record's payload, hence its hash, changes) and the row is marked modified the way the store-event
    sink marks it (``NEW`` stays ``NEW``, anything else becomes ``MODIFIED``; ``updated_at`` and
    ``order_updated_at`` now). Returns the number of rows changed.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from dotsync.models import SyncStatus

    step = max(1, round(1 / fraction))
    new, modified = int(SyncStatus.NEW), int(SyncStatus.MODIFIED)
    picked = f"email_order_id %% {step} = 0"  # both statements take parameters: the modulo is doubled
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE order_order SET shipping_method = 'Changed by bench' "
            f"WHERE id IN (SELECT order_id FROM email_order WHERE {picked})",
            [],
        )
        now = timezone.now()
        cursor.execute(
            "UPDATE email_order SET "
            f"sync_status = CASE WHEN sync_status = {new} THEN {new} ELSE {modified} END, "
            f"updated_at = %s, order_updated_at = %s WHERE {picked}",
            [now, now],
        )
        return int(cursor.rowcount)


def minimum_from(floor: Any) -> dict[str, int]:
    """The fewest API calls for the raw floor's records (:func:`sync_floor.minimum_calls`' rule).

    Per account: 1 account-info call. Per import (the fewest the record and byte limits allow, per
    stream): 1 call to start it and 1 status poll; a contact (CSV) import also 1 fault-report call.
    """
    import math

    imports = contact_imports = 0
    for s in floor.streams.values():
        if not s.records:
            continue
        base = len(s.head) + len(s.tail)
        fewest = max(math.ceil(s.records / s.max_records), math.ceil(s.bytes / (s.max_bytes - base)))
        imports += fewest
        contact_imports += fewest if s.contact else 0
    accounts = len({s.api_user for s in floor.streams.values()})
    return {
        "accounts": accounts,
        "imports": imports,
        "contact_imports": contact_imports,
        "calls": accounts + 2 * imports + contact_imports,
    }


def sync_state() -> dict[str, dict[str, int]]:
    """Rows per status in each sync table, and importer rows per status."""
    from django.db import connection

    from dotsync.store.protocol import HISTORY_TABLES

    out: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        for table in (*HISTORY_TABLES, "email_importer"):
            column = "import_status" if table == "email_importer" else "sync_status"
            cursor.execute(f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column}")
            out[table] = {str(k): int(v) for k, v in cursor.fetchall()}
    return out


class SqlProfile:
    """Wall seconds per SQL statement shape over the sync (``--sql-profile FILE``): where the database waits.

    Statements are grouped by their text with parameter lists collapsed (``IN (%s, ...)``,
    ``VALUES (...), ...``), so one shape covers every page of it.
    """

    _LISTS = re.compile(r"\((?:%s|\?)(?:, ?(?:%s|\?))*\)")
    _VALUES = re.compile(r"VALUES (?:\([^()]*\)(?:, )?)+")

    def __init__(self) -> None:
        self.shapes: dict[str, list[float]] = {}

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = self._VALUES.sub("VALUES (…)", self._LISTS.sub("(…)", sql))
            entry = self.shapes.setdefault(shape, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    def __enter__(self) -> SqlProfile:
        from django.db import connection

        self._cm = connection.execute_wrapper(self)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)

    def dump(self, path: str) -> None:
        """Write the shapes, slowest first, as JSON."""
        top = sorted(self.shapes.items(), key=lambda kv: -kv[1][1])
        rows = [{"sql": sql[:600], "calls": n, "seconds": round(t, 3)} for sql, (n, t) in top]
        with open(path, "w") as f:
            json.dump(rows, f, indent=1)


def child(args: argparse.Namespace) -> None:
    os.environ["DOTSYNC_RATE_LIMIT"] = "off"
    tmp = tempfile.mkdtemp(prefix="dotsync-bench-sync-")
    database_url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DOTSYNC_VAR_DIR"] = os.path.join(tmp, "var")
    fresh_database(database_url)
    from django.db import connection

    started = time.perf_counter()
    seeded = seed(args.customers, args.orders)
    seeded["order_line"] = seed_extras(args.orders, args.customers)
    seed_seconds = time.perf_counter() - started
    from dotsync.install import backfill

    started = time.perf_counter()
    backfill()
    install_seconds = time.perf_counter() - started

    import raw_floor

    from dotsync.models import Website
    from dotsync.platform.sandbox.control import SandboxControl
    from dotsync.testing.platform_setup import configure_websites

    proc, url, sandbox_db = start_sandbox(tmp, args.import_delay)
    profile: list[dict[str, Any]] = []
    try:
        with SandboxControl(url) as control:
            accounts = configure_websites(control, Website.objects.order_by("id"))
        create_data_fields(url, accounts)
        before = request_counts(sandbox_db)
        spent, job_peaks = timed_jobs()
        if args.trace_python:
            import tracemalloc

            tracemalloc.start()
        from dotsync.jobs.runner import sync_all

        rss_reset = reset_peak_rss()
        rss_before = peak_rss_kb()
        sandbox_cpu = process_cpu_seconds(proc.pid)
        cpu = cpu_seconds()
        started = time.perf_counter()
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            summary = profiler.runcall(sync_all, timeout=args.timeout)
            profiler.dump_stats(args.profile)
            profile = profile_top(profiler)
        elif args.sql_profile:
            with SqlProfile() as sql:
                summary = sync_all(timeout=args.timeout)
            sql.dump(args.sql_profile)
        else:
            summary = sync_all(timeout=args.timeout)
        sync_seconds = time.perf_counter() - started
        sync_cpu = cpu_seconds() - cpu
        sandbox_cpu = process_cpu_seconds(proc.pid) - sandbox_cpu
        if args.trace_python:
            tracemalloc.stop()
        rss_peak = max([peak_rss_kb(), *(v for k, v in job_peaks.items() if ":" not in k)])
        # the wrappers stay on for the re-sync and the incremental sync: keep the first sync's own figures
        sync_job_seconds, sync_job_peaks = dict(spent), dict(job_peaks)
        log(
            f"sync {sync_seconds:.1f}s ({sync_cpu:.1f} CPU s), {summary['api_calls']} calls, "
            f"stopped {summary['stopped']}"
        )
        after = request_counts(sandbox_db)
        plan = raw_floor.plan_from_dotsync()
        shop_url = (
            database_url
            if connection.vendor == "postgresql"
            else f"sqlite:///{connection.settings_dict['NAME']}"
        )
        floors = [raw_floor.run(shop_url, plan) for _ in range(max(1, args.floors))]
        floor = min(floors, key=lambda f: f.seconds)
        log(
            f"raw floor {[round(f.seconds, 2) for f in floors]}s, "
            f"CPU {[round(f.cpu_seconds, 2) for f in floors]}s, "
            f"{floor.records:,} records"
        )
        sampled = raw_floor.run(shop_url, plan, sample=raw_floor.sample_every(args.sample_every))
        equivalence = raw_floor.equivalence(sandbox_db, sampled)
        log(f"equivalence: {equivalence['compared']:,} compared, {equivalence['mismatched']} mismatched")
        adapter_floors = []
        if args.adapter_floors:
            from sync_floor import run_floor

            adapter_floors = [run_floor() for _ in range(args.adapter_floors)]
        resync = timed_sync(args, proc.pid, sandbox_db)
        log(f"re-sync {resync['seconds']:.1f}s, {resync['api_calls']} calls ({resync['api_writes']} writes)")
        incremental: dict[str, Any] | None = None
        if args.incremental:
            changed = change_orders(args.incremental)
            incremental = {
                "fraction": args.incremental,
                "changed_rows": changed,
                **timed_sync(args, proc.pid, sandbox_db),
            }
            incremental["seconds_per_changed_row"] = round(incremental["seconds"] / max(1, changed), 5)
            log(
                f"incremental: {changed:,} orders changed, {incremental['seconds']:.1f}s, "
                f"{incremental['api_calls']} calls"
            )
    finally:
        proc.terminate()
        proc.wait(10)
    minimum = minimum_from(floor)
    calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) - before.get(k, 0)}
    sends = sum(v for k, v in calls.items() if not _feed_read(k))
    state = sync_state()
    sent = floor.records
    print(
        json.dumps(
            {
                "backend": connection.vendor,
                "database_version": _db_version(),
                "customers": args.customers,
                "orders": args.orders,
                "seeded": seeded,
                "seed_seconds": round(seed_seconds, 2),
                "install_seconds": round(install_seconds, 2),
                "import_delay": args.import_delay,
                "sync_seconds": round(sync_seconds, 2),
                "floor_kind": "raw",
                "floor_seconds": [round(f.seconds, 3) for f in floors],
                "floor_cpu_seconds": [round(f.cpu_seconds, 3) for f in floors],
                "ratio": round(sync_seconds / floor.seconds, 3),
                "sync_cpu_seconds": round(sync_cpu, 2),
                "cpu_ratio": round(sync_cpu / min(f.cpu_seconds for f in floors), 2),
                "sandbox_cpu_seconds": round(sandbox_cpu, 2),
                "profiled": bool(args.profile),
                "profile_top": profile,
                "adapter_floor_seconds": [round(f.seconds, 2) for f in adapter_floors],
                "equivalence": equivalence,
                "records": sent,
                "records_per_second": round(sent / sync_seconds),
                "streams": {
                    k: {
                        "records": s.records,
                        "bytes": s.bytes,
                        "batches": s.bodies,
                        "fewest": minimum_from(_Only(s))["imports"],
                    }
                    for k, s in floor.streams.items()
                    if s.records
                },
                "job_seconds": {k: round(v, 2) for k, v in sync_job_seconds.items()},
                "job_peak_rss_kb": sync_job_peaks,
                "api_calls_runner": summary["api_calls"],
                "api_calls_sandbox": sum(calls.values()),
                "api_calls_by_endpoint": calls,
                "api_calls_sends": sends,
                "minimum": minimum,
                "calls_ratio": round(sum(calls.values()) / minimum["calls"], 4),
                "sends_ratio": round(sends / minimum["calls"], 4),
                "resync": resync,
                "incremental": incremental,
                "summary": {k: summary[k] for k in ("rounds", "drained", "stopped", "remaining", "errors")},
                "jobs": {k: v["counts"] for k, v in summary["jobs"].items()},
                "importer": summary["importer"],
                "state": state,
                "rss_before_sync_kb": rss_before if rss_reset else None,
                "rss_peak_sync_kb": rss_peak,
                "rss_peak_is_sync_only": rss_reset,
                "load_average": os.getloadavg()[0],
            }
        )
    )
    connection.close()
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def _feed_read(endpoint: str) -> bool:
    """True for the platform feeds' reads (``GET …-since/{date}``: unsubscriber, resubscriber).

    The minimum counts what a first sync must send; the feeds read what the platform changed.
    """
    return endpoint.startswith("GET ") and "-since/" in endpoint


class _Only:
    """One raw-floor stream seen as a floor (for :func:`minimum_from` per stream)."""

    def __init__(self, stream: Any) -> None:
        self.streams = {stream.key: stream}


def _db_version() -> str:
    from install import _db_version as version

    return version()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- parent ------------------------------------------------------------------------------------------


def parent(args: argparse.Namespace) -> None:
    sizes = [
        (args.customers * 10 // 300, args.orders // 30),
        (args.customers // 3, args.orders // 3),
        (args.customers, args.orders),
    ]
    if args.single:
        sizes = [(args.customers, args.orders)]
    results = []
    for customers, orders in sizes:
        cmd = [sys.executable, __file__, "--child", "--customers", str(customers), "--orders", str(orders)]
        cmd += ["--import-delay", str(args.import_delay), "--timeout", str(args.timeout)]
        cmd += ["--floors", str(args.floors), "--adapter-floors", str(args.adapter_floors)]
        cmd += ["--sample-every", str(args.sample_every)]
        if args.incremental:
            cmd += ["--incremental", str(args.incremental)]
        if args.profile_sync:
            cmd += ["--profile", os.path.join(tempfile.gettempdir(), f"dotsync-bench-sync-{orders}.prof")]
        if args.sql_profile:
            cmd += ["--sql-profile", f"{args.sql_profile}.{orders}.json"]
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        if args.keep:
            cmd.append("--keep")
        log(f"running {customers:,} customers / {orders:,} orders …")
        out = subprocess.run(cmd, check=False, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        if out.returncode:
            sys.exit(f"the {customers:,}-customer run failed (exit {out.returncode})")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        log(
            f"  sync {result['sync_seconds']:.1f}s  raw floor {min(result['floor_seconds']):.2f}s  "
            f"CPU {result['sync_cpu_seconds']:.1f}s vs {min(result['floor_cpu_seconds']):.2f}s "
            f"({result['cpu_ratio']:.1f}x)  sandbox CPU {result['sandbox_cpu_seconds']:.1f}s  "
            f"calls {result['api_calls_sandbox']} / min {result['minimum']['calls']}  "
            f"re-sync writes {result['resync']['api_writes']}  "
            f"mismatches {result['equivalence']['mismatched']}  "
            f"rss {result['rss_peak_sync_kb'] / 1024:.0f} MiB"
        )
        results.append(result)
    print(json.dumps(results, indent=2))
    if args.no_write:
        return
    save_results("sync", results)
    from sync_report import write_section

    write_section()
    log(f"wrote {DOC.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--import-delay", type=float, default=0.05, help="Sandbox seconds per import.")
    parser.add_argument("--timeout", type=float, default=3600.0, help="sync_all timeout (seconds).")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--single", action="store_true", help="Only the given size (not 1/30 and 1/3 of it).")
    parser.add_argument("--no-write", action="store_true", help="Print results; do not touch docs/.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary databases.")
    parser.add_argument("--floors", type=int, default=2, help="Raw-floor runs after the sync (best kept).")
    parser.add_argument(
        "--adapter-floors", type=int, default=0, help="Also run the old adapter floor (sync_floor) N times."
    )
    parser.add_argument(
        "--sample-every", type=int, default=20, help="Equivalence: compare about one record in N (1: all)."
    )
    parser.add_argument(
        "--incremental",
        type=float,
        default=0.0,
        help="After the full sync, change this fraction of the orders (e.g. 0.01) and time that sync.",
    )
    parser.add_argument(
        "--sql-profile",
        metavar="FILE",
        help="Time every SQL statement shape over the sync; slowest first to FILE.<orders>.json.",
    )
    parser.add_argument(
        "--profile-sync",
        action="store_true",
        help="Run each size's sync under cProfile (top 15 functions to the JSON; timings are then profiled).",
    )
    parser.add_argument(
        "--profile",
        default="",
        help="Child only: write a cProfile of the sync here (and of the last floor run to <path>.floor).",
    )
    parser.add_argument(
        "--trace-python",
        action="store_true",
        help="Child only: also record each job's Python heap peak (tracemalloc; slows the sync).",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--render", action="store_true", help="Only rewrite docs/ from bench/results/.")
    args = parser.parse_args()
    if args.render:
        from sync_report import write_section

        write_section()
    elif args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()

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
4. **floor** (:mod:`sync_floor`): the same pages, adapter reads and payload builders, each batch
   body encoded, no platform and no writes; run twice after the sync (so it covers the contact
   rows the sync itself created for orders), best kept; its record counts give the minimum calls.

The parent prints the results and rewrites the "Sync" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
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

    from sync_floor import minimum_calls, run_floor

    from dotsync.models import Website
    from dotsync.platform.sandbox.control import SandboxControl
    from dotsync.testing.platform_setup import configure_websites

    proc, url, sandbox_db = start_sandbox(tmp, args.import_delay)
    try:
        with SandboxControl(url) as control:
            configure_websites(control, Website.objects.order_by("id"))
        before = request_counts(sandbox_db)
        spent, job_peaks = timed_jobs()
        if args.trace_python:
            import tracemalloc

            tracemalloc.start()
        from dotsync.jobs.runner import sync_all

        rss_reset = reset_peak_rss()
        rss_before = peak_rss_kb()
        started = time.perf_counter()
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            summary = profiler.runcall(sync_all, timeout=args.timeout)
            profiler.dump_stats(args.profile)
        else:
            summary = sync_all(timeout=args.timeout)
        sync_seconds = time.perf_counter() - started
        if args.trace_python:
            tracemalloc.stop()
        rss_peak = max([peak_rss_kb(), *(v for k, v in job_peaks.items() if ":" not in k)])
        log(f"sync {sync_seconds:.1f}s, {summary['api_calls']} calls, stopped {summary['stopped']}")
        after = request_counts(sandbox_db)
        floors = [run_floor() for _ in range(max(1, args.floors) - bool(args.profile))]
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            floors.append(profiler.runcall(run_floor))
            profiler.dump_stats(args.profile + ".floor")
        log(f"floor {[round(f.seconds, 1) for f in floors]}s, {floors[0].records:,} records")
    finally:
        proc.terminate()
        proc.wait(10)
    floor = min(floors, key=lambda f: f.seconds)
    minimum = minimum_calls(floor)
    calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) - before.get(k, 0)}
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
                "floor_seconds": [round(f.seconds, 2) for f in floors],
                "ratio": round(sync_seconds / floor.seconds, 3),
                "records": sent,
                "records_per_second": round(sent / sync_seconds),
                "streams": {
                    k: {
                        "records": s.records,
                        "bytes": s.bytes,
                        "batches": s.batches,
                        "fewest": s.fewest_imports,
                    }
                    for k, s in floor.streams.items()
                    if s.records
                },
                "job_seconds": {k: round(v, 2) for k, v in spent.items()},
                "job_peak_rss_kb": job_peaks,
                "api_calls_runner": summary["api_calls"],
                "api_calls_sandbox": sum(calls.values()),
                "api_calls_by_endpoint": calls,
                "minimum": minimum,
                "calls_ratio": round(sum(calls.values()) / minimum["calls"], 4),
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
        cmd += ["--floors", str(args.floors)]
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
            f"  sync {result['sync_seconds']:.1f}s  floor {min(result['floor_seconds']):.1f}s  "
            f"ratio {result['ratio']:.2f}x  calls {result['api_calls_sandbox']} / "
            f"min {result['minimum']['calls']}  "
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
    parser.add_argument("--floors", type=int, default=2, help="Floor runs after the sync (best kept).")
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

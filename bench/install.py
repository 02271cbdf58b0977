"""Benchmark of ``dotsync install``'s backfill against a raw ``INSERT … SELECT`` floor.

    .venv/bin/python bench/install.py                    # 100k customers / 300k orders, SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dotsync_bench .venv/bin/python bench/install.py
    .venv/bin/python bench/install.py --customers 10000 --orders 30000 --no-write

Each size runs in its own subprocess (so peak RSS is per size). In it:

1. a fresh database gets every table (Django ``migrate --run-syncdb`` with migrations disabled,
   like the test suite), the standard websites/stores, and a shop seeded **straight into Oscar's
   tables with set-based SQL** (users, orders incl. 10 % guests, status changes, products, stock
   records, baskets and lines, wishlists and lines, reviews, newsletter subscribers);
2. **floor**: the very same ``INSERT … SELECT`` statements install runs, but each source as ONE
   statement over its whole id range, in one transaction, with no resume pointers, no progress
   hooks and no Python loop: the least any SQL backfill producing these rows can do;
3. **install**: :func:`dotsync.install.backfill` exactly as ``dotsync install --json`` runs it
   (chunks of 50k ids, each committed with its resume pointer, progress hooks);

floor and install each run ``--repeat`` times (tables emptied before each run, best time kept),
alternating. Python heap peak (tracemalloc) is measured around install, and the process's peak
RSS is reported. The parent prints a table and rewrites the "Install" section of
docs/performance.md (one subsection per database backend).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"


# --- child: seed and measure ------------------------------------------------------------------------


def setup_django(database_url: str) -> None:
    from dotsync.testing.standalone import configure_without_migrations

    os.environ.setdefault("DOTSYNC_VAR_DIR", tempfile.mkdtemp(prefix="dotsync-bench-var-"))
    configure_without_migrations(database_url)


def empty_schema() -> None:
    """On PostgreSQL, drop and recreate the public schema: a run starts from no tables."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


def fresh_database(database_url: str) -> None:
    """Configure Django on ``database_url``, empty its schema and create every table from the models."""
    from django.core.management import call_command

    setup_django(database_url)
    empty_schema()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


def series(n: int) -> str:
    """A subquery yielding n = 1..N, portable between SQLite and PostgreSQL."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"(SELECT CAST(generate_series(1, {n}) AS BIGINT) AS n)"
    return f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) SELECT n FROM s)"


def concat(*parts: str) -> str:
    return " || ".join(parts)


def txt(expr: str) -> str:
    from django.db import connection

    return f"CAST({expr} AS TEXT)" if connection.vendor == "postgresql" else f"({expr})"


def seed(customers: int, orders: int) -> dict[str, int]:
    """Fill Oscar's tables with set-based SQL; returns row counts."""
    from django.db import connection, transaction
    from django.utils import timezone

    from dotsync.testing.scope import make_scope

    scope = make_scope()
    sites = [s.site_id for s in scope.stores]
    now = timezone.now()
    products = max(500, customers // 50)
    baskets = customers // 2
    wishlists = customers // 5
    reviews = customers // 4
    subscribers = customers * 2 // 5
    t = "TRUE" if connection.vendor == "postgresql" else "1"
    f = "FALSE" if connection.vendor == "postgresql" else "0"
    site_expr = (
        f"CASE WHEN n % 10 < 6 THEN {sites[0]} WHEN n % 10 < 8 THEN {sites[1]} "
        f"WHEN n % 10 < 9 THEN {sites[2]} ELSE NULL END"
    )
    statuses = "CASE n % 4 WHEN 0 THEN 'pending' WHEN 1 THEN 'processing' "
    statuses += "WHEN 2 THEN 'complete' ELSE 'cancelled' END"
    p = [now]
    username = concat("'user'", txt("n"))
    user_email = concat("'user'", txt("n"), "'@example.com'")
    product_title = concat("'Product '", txt("n"))
    product_slug = concat("'product-'", txt("n"))
    sku = concat("'SKU'", txt("n"))
    guest_email = concat("'guest'", txt(f"n % {max(1, orders // 20)}"), "'@example.com'")
    line_ref = concat("'ref'", txt("n"))
    wishlist_key = concat("'k'", txt("n"))
    sub_email = concat("'sub'", txt("n"), "'@example.com'")
    order_number = txt("100000 + n")
    stmts = [
        (
            "auth_user",
            "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, "
            "is_staff, is_active, date_joined) "
            f"SELECT n, '', {f}, {username}, 'First', 'Last', "
            f"{user_email}, {f}, {t}, %s FROM {series(customers)} seq",
            p,
        ),
        (
            "catalogue_product",
            "INSERT INTO catalogue_product (id, structure, is_public, title, slug, description, priority, "
            "date_created, date_updated, is_discountable) "
            f"SELECT n, 'standalone', {t}, {product_title}, "
            f"{product_slug}, '', 0, %s, %s, {t} FROM {series(products)} seq",
            [now, now],
        ),
        ("partner_partner", "INSERT INTO partner_partner (id, code, name) VALUES (1, 'bench', 'Bench')", []),
        (
            "partner_stockrecord",
            "INSERT INTO partner_stockrecord (id, product_id, partner_id, partner_sku, price_currency, "
            "price, num_in_stock, date_created, date_updated) "
            f"SELECT n, n, 1, {sku}, 'GBP', 10, 100, %s, %s FROM {series(products)} seq",
            [now, now],
        ),
        (
            "order_order",
            "INSERT INTO order_order (id, number, site_id, user_id, currency, total_incl_tax, "
            "total_excl_tax, shipping_incl_tax, shipping_excl_tax, shipping_method, shipping_code, status, "
            "guest_email, date_placed, analytics_tracked) "
            f"SELECT n, {order_number}, {site_expr}, "
            f"CASE WHEN n % 10 = 3 THEN NULL ELSE ((n * 7919) % {customers}) + 1 END, "
            f"'GBP', 25, 20, 0, 0, 'Free', 'free', {statuses}, "
            f"CASE WHEN n % 10 = 3 THEN {guest_email} "
            f"ELSE '' END, %s, {f} FROM {series(orders)} seq",
            p,
        ),
        (
            "order_orderstatuschange",
            "INSERT INTO order_orderstatuschange (order_id, old_status, new_status, date_created) "
            f"SELECT n * 3, 'pending', 'processing', %s FROM {series(orders // 3)} seq",
            p,
        ),
        (
            "basket_basket",
            "INSERT INTO basket_basket (id, owner_id, status, date_created) "
            f"SELECT n, ((n * 31) % {customers}) + 1, "
            "CASE WHEN n % 3 = 0 THEN 'Submitted' ELSE 'Open' END, %s "
            f"FROM {series(baskets)} seq",
            p,
        ),
        (
            "basket_line",
            "INSERT INTO basket_line (basket_id, line_reference, product_id, stockrecord_id, quantity, "
            "price_currency, date_created, date_updated) "
            f"SELECT ((n - 1) % {baskets}) + 1, {line_ref}, ((n * 13) % {products}) + 1, "
            f"((n * 13) % {products}) + 1, 1, 'GBP', %s, %s FROM {series(baskets * 2)} seq",
            [now, now],
        ),
        (
            "wishlists_wishlist",
            "INSERT INTO wishlists_wishlist (id, owner_id, name, key, visibility, date_created) "
            f"SELECT n, ((n * 17) % {customers}) + 1, 'Default', {wishlist_key}, 'Private', %s "
            f"FROM {series(wishlists)} seq",
            p,
        ),
        (
            "wishlists_line",
            "INSERT INTO wishlists_line (wishlist_id, product_id, quantity, title) "
            f"SELECT ((n - 1) % {wishlists}) + 1, "
            f"((n + ((n - 1) / {wishlists}) * 101) % {products}) + 1, 1, 'Item' "
            f"FROM {series(wishlists * 2)} seq",
            [],
        ),
        (
            "reviews_productreview",
            "INSERT INTO reviews_productreview (product_id, user_id, score, title, body, name, email, "
            "homepage, status, total_votes, delta_votes, date_created) "
            f"SELECT (n % {products}) + 1, n, (n % 5) + 1, 'Title', 'Body', '', '', '', "
            f"CASE WHEN n % 10 = 0 THEN 0 ELSE 1 END, 0, 0, %s FROM {series(reviews)} seq",
            p,
        ),
        (
            "newsletter_subscriber",
            "INSERT INTO newsletter_subscriber (store_id, customer_id, subscriber_email, subscriber_status, "
            "change_status_at, subscriber_confirm_code) "
            f"SELECT {scope.main_en.pk} + (n % 3), CASE WHEN n % 2 = 0 THEN n ELSE NULL END, "
            f"CASE WHEN n % 2 = 0 THEN {user_email} "
            f"ELSE {sub_email} END, "
            f"CASE WHEN n % 5 = 0 THEN 3 ELSE 1 END, %s, '' FROM {series(subscribers)} seq",
            p,
        ),
    ]
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for table, sql, params in stmts:
            # the modulo operator must be doubled for the drivers' placeholder syntax
            cursor.execute(sql.replace("%s", "\0").replace("%", "%%").replace("\0", "%s"), params)
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            explicit_ids = ("auth_user", "catalogue_product", "partner_partner", "partner_stockrecord")
            explicit_ids += ("order_order", "basket_basket", "wishlists_wishlist")  # type: ignore[assignment]
            for table in explicit_ids:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM " + table + "))",
                    [table],
                )
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts


def clear_sync_tables() -> None:
    """Empty the sync tables and install's resume pointers before a run.

    On PostgreSQL with ``TRUNCATE``, so every run starts from an empty heap and empty indexes: after a
    ``DELETE`` the unique indexes keep the previous run's dead entries until a vacuum, and the next
    run's ``ON CONFLICT`` probes and index inserts walk them (the first run of the process saw a clean
    table, so the floor's best run was the one run without them).
    """
    from django.db import connection, transaction

    from dotsync.store.protocol import HISTORY_TABLES

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(HISTORY_TABLES)}, dotsync_install_progress CASCADE")
        else:
            for table in HISTORY_TABLES:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute("DELETE FROM dotsync_install_progress")
    checkpoint()


def checkpoint() -> None:
    """SQLite: fold the WAL back into the database, so neither run leaves its write-back to the other."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run_floor() -> tuple[float, dict[str, float]]:
    """The same INSERT … SELECT statements, one per source over the whole range, one transaction."""
    from django.db import connection, transaction

    from dotsync.install.backfill import id_bounds, validate_tables
    from dotsync.store.registry import get_adapter

    adapter = get_adapter()
    per_source: dict[str, float] = {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in validate_tables(None):
            for source in adapter.history(table):
                bounds = id_bounds(source)
                if bounds is None:
                    continue
                one = time.perf_counter()
                cursor.execute(source.insert_sql(), source.bind(bounds[0], bounds[1] + 1))
                per_source[f"{table}:{source.name}"] = time.perf_counter() - one
    checkpoint()
    return time.perf_counter() - started, per_source


CHUNK: dict[str, int] = {}


def run_install() -> tuple[float, dict[str, float], int]:
    """``backfill()`` as ``dotsync install --json`` runs it; returns seconds, rows, tracemalloc peak."""
    import tracemalloc

    from dotsync.cli.install import progress_bar
    from dotsync.install import backfill

    tracemalloc.start()
    started = time.perf_counter()
    with progress_bar(False) as bars:
        results = backfill(on_start=bars.on_start, on_chunk=bars.on_chunk, **CHUNK)  # type: ignore[arg-type]
    checkpoint()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, {f"{r.table}:{r.source}": r.seconds for r in results}, peak


def table_counts() -> dict[str, int]:
    from django.db import connection

    from dotsync.store.protocol import HISTORY_TABLES

    out = {}
    with connection.cursor() as cursor:
        for table in HISTORY_TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            out[table] = cursor.fetchone()[0]
    return out


def child(args: argparse.Namespace) -> None:
    import resource

    database_url = args.database_url
    tmp = None
    if not database_url:
        tmp = tempfile.mkdtemp(prefix="dotsync-bench-")
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
    setup_django(database_url)
    if args.chunk_size:
        CHUNK["chunk_size"] = args.chunk_size
    from django.core.management import call_command
    from django.db import connection

    empty_schema()
    started = time.perf_counter()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    schema_seconds = time.perf_counter() - started
    started = time.perf_counter()
    seeded = seed(args.customers, args.orders)
    seed_seconds = time.perf_counter() - started
    floors: list[float] = []
    installs: list[float] = []
    peaks: list[int] = []
    floor_counts = install_counts = {}
    floor_sources: dict[str, float] = {}
    install_sources: dict[str, float] = {}
    for _ in range(args.repeat):
        clear_sync_tables()
        seconds, per_source = run_floor()
        if not floors or seconds < min(floors):
            floor_sources = per_source
        floors.append(seconds)
        floor_counts = table_counts()
        clear_sync_tables()
        seconds, per_source, peak = run_install()
        if not installs or seconds < min(installs):
            install_sources = per_source
        installs.append(seconds)
        peaks.append(peak)
        install_counts = table_counts()
    assert floor_counts == install_counts, (floor_counts, install_counts)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "backend": connection.vendor,
                "customers": args.customers,
                "orders": args.orders,
                "seeded": seeded,
                "schema_seconds": round(schema_seconds, 2),
                "seed_seconds": round(seed_seconds, 2),
                "floor_seconds": [round(s, 3) for s in floors],
                "install_seconds": [round(s, 3) for s in installs],
                "ratio": round(min(installs) / min(floors), 3),
                "floor_sources": {k: round(v, 3) for k, v in floor_sources.items()},
                "install_sources": {k: round(v, 3) for k, v in install_sources.items()},
                "load_average": os.getloadavg()[0],
                "rows": install_counts,
                "tracemalloc_peak_bytes": max(peaks),
                "max_rss_kb": rss_kb,
                "database_version": _db_version(),
            }
        )
    )
    if tmp:
        connection.close()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def _db_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        return str(cursor.fetchone()[0])


# --- parent: run sizes, report ------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    import django

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "django": django.get_version(),
        "os": platform.platform(),
    }


def render(results: list[dict], info: dict[str, str], backend: str) -> str:
    lines = [
        f"### {backend} ({results[0]['database_version']})",
        "",
        "| customers | orders | sync rows written | floor (s) | install (s) | install / floor | "
        "Python heap peak during install | process peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['customers']:,} | {r['orders']:,} | {sum(r['rows'].values()):,} "
            f"| {min(r['floor_seconds']):.2f} | {min(r['install_seconds']):.2f} | **{r['ratio']:.2f}x** | "
            f"{r['tracemalloc_peak_bytes'] / 1024:.0f} KiB | {r['max_rss_kb'] / 1024:.0f} MiB |"
        )
    big = results[-1]
    lines += [
        "",
        f"Per source at {big['customers']:,} customers (best runs, seconds):",
        "",
        "| source | floor | install |",
        "|---|---:|---:|",
        *(
            f"| `{k}` | {big['floor_sources'].get(k, 0):.2f} | {v:.2f} |"
            for k, v in big["install_sources"].items()
        ),
    ]
    lines += [
        "",
        "Rows per sync table at the largest size: "
        + ", ".join(f"`{t}` {n:,}" for t, n in big["rows"].items())
        + ".",
        f"Runs per size: {len(big['install_seconds'])} (best kept); all install times: "
        + "; ".join(f"{r['customers']:,}: {r['install_seconds']}" for r in results)
        + "; all floor times: "
        + "; ".join(f"{r['customers']:,}: {r['floor_seconds']}" for r in results)
        + ".",
        f"Seeding the largest shop with set-based SQL took {big['seed_seconds']} s "
        "(not part of either timing). 1-minute load average when each size finished: "
        + ", ".join(f"{r['load_average']:.1f}" for r in results)
        + " (floor and install alternate, so both see the same load).",
        "",
    ]
    return "\n".join(lines)


def write_doc(section_body: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    start = text.find("\n## Install\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section_body
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section_body + (text[end:] if end != -1 else "")
    DOC.write_text(text.rstrip("\n") + "\n")


def install_section() -> str:
    info = None
    parts = []
    for path in sorted(RESULTS.glob("install-*.json")):
        data = json.loads(path.read_text())
        info = data["machine"]
        parts.append(render(data["results"], info, data["backend"]))
    assert info is not None
    head = [
        "## Install",
        "",
        "`bench/install.py` seeds an Oscar shop straight into Oscar's tables with set-based SQL, then",
        "times the install backfill (`dotsync.install.backfill`, exactly what `dotsync install` runs after",
        "migrating) against a **floor**: the same `INSERT … SELECT` statements, but each source as one",
        "statement over its whole id range in one transaction, with no chunking, no resume pointers and no",
        "progress hooks. Both run on the same database in the same process, alternating, tables emptied",
        "before each run; the best of the runs is kept. Both produce identical row counts (asserted).",
        "On SQLite both timings end with a WAL checkpoint, so the one-transaction floor cannot leave its",
        "write-back outside its timing window. (Install raises SQLite's `wal_autocheckpoint` to 64 MiB",
        "while it runs: with one commit per chunk, the default 4 MiB interval rewrote the same index pages",
        "over and over.) Install's chunk size is 50,000 store ids; the resume pointer is committed with",
        "each chunk.",
        "Goal: install at most 1.5x the floor.",
        "",
        "Memory: the Python heap peak is measured with `tracemalloc` around the install only; the process",
        "peak RSS (`ru_maxrss`) covers the whole child process, including seeding and the floor. Each size",
        "runs in its own process, so the two sizes show whether memory grows with the store (it should",
        "not: rows never pass through Python).",
        "",
        f"Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}, {info['ram']} RAM; {info['os']}; "
        f"Python {info['python']}, Django {info['django']}.",
        "Reproduce: `.venv/bin/python bench/install.py` (SQLite temp file); "
        "`DATABASE_URL=postgres://… .venv/bin/python bench/install.py` (PostgreSQL; the database's",
        "public schema is dropped and recreated).",
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(parts) + "\n" + ORDERS_ON_POSTGRESQL


ORDERS_ON_POSTGRESQL = """### Why the PostgreSQL orders source looked 2x slower chunked (2026-11-30)

The tables above show `email_order:orders` at 4.18 s as one statement and 8.41 s in chunks on
PostgreSQL (300k orders). Measured again on a 100k-customer / 300k-order PostgreSQL 15 shop, the
orders source alone (`INSERT … SELECT … ON CONFLICT DO NOTHING`), **under heavy load (load average
15-17 on 2 CPUs), so only the comparison within the run counts**:

| email_order before the run | one statement | chunks of 50,000 ids, one commit each |
|---|---:|---:|
| emptied with `TRUNCATE` | 75.6 s, 74.6 s | 86.3 s, 71.8 s |
| emptied with `DELETE` (as the bench did) | 86.1 s | 85.1 s |

* **Chunking itself costs little.** On an empty table the two spellings are within the noise
  (mean 75 s against 79 s). `EXPLAIN (ANALYZE, BUFFERS)` shows the same plan per chunk as for the
  whole range: an index range scan of `order_order` (seq scan for the whole range), a merge or hash
  join with the status changes' grouped range, and a hash join with **all of `auth_user`** (100k
  rows hashed per chunk, about 0.35 s of a chunk's 2 s of reading under that load: 6 chunks hash it 6
  times). The reading is 9 s of the whole statement's 57 s; the rest is the insert itself: about
  20 buffer hits per row for `email_order`'s 7 indexes (`pkey`, `order_id_key`, `website_id`,
  `store_id`, `sel`, `email`, `importer`).
* **The bench was unfair to install.** Floor and install alternate, and the sync tables were
  emptied with `DELETE` before each run. After a `DELETE` the unique indexes keep every previous
  row's dead entry until a vacuum, so each `ON CONFLICT` probe and index insert walks them (+14 % on
  the whole statement above). The process's first run, always a floor run, found a pristine table,
  and the floor's best run was kept. `bench/install.py` now empties them with `TRUNCATE` on
  PostgreSQL, so every run starts from empty tables and indexes.
* **What would cut the chunked cost further** (store code, not changed here): join `auth_user`
  only for the chunk's users (for example a subquery over the chunk's `user_id`s), so a chunk does not
  hash the whole user table.

The PostgreSQL rows of the table above are the re-run with `TRUNCATE` (2026-11-30, quiet machine):
install is 1.13x its floor at both sizes, within the 1.15x goal. Chunked, the orders source still
takes 1.65x its one-statement time (6.7 s against 4.1 s) and the customers source 1.52x; the per-chunk
hash of `auth_user` above is the known part of that.
"""


def parent(args: argparse.Namespace) -> None:
    sizes = [(args.customers // 10, args.orders // 10), (args.customers, args.orders)]
    if args.single:
        sizes = [(args.customers, args.orders)]
    results = []
    for customers, orders in sizes:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--customers",
            str(customers),
            "--orders",
            str(orders),
            "--repeat",
            str(args.repeat),
            "--chunk-size",
            str(args.chunk_size),
        ]
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        print(f"running {customers:,} customers / {orders:,} orders …", file=sys.stderr, flush=True)
        out = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            sys.exit(f"the {customers:,}-customer run failed:\n{out.stderr[-4000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"  floor {min(result['floor_seconds']):.2f}s  install {min(result['install_seconds']):.2f}s  "
            f"ratio {result['ratio']:.2f}x  heap peak {result['tracemalloc_peak_bytes'] / 1024:.0f} KiB  "
            f"rss {result['max_rss_kb'] / 1024:.0f} MiB",
            file=sys.stderr,
            flush=True,
        )
        results.append(result)
    print(json.dumps(results, indent=2))
    if args.no_write:
        return
    save_results("install", results)
    write_doc(install_section())
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


def save_results(kind: str, results: list[dict]) -> None:
    """Write ``bench/results/<kind>-<backend>.json`` with the machine the results came from."""
    backend = results[0]["backend"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{kind}-{backend}.json").write_text(
        json.dumps({"backend": backend, "machine": machine(), "results": results}, indent=2) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=0, help="Install chunk size (default: install's).")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--single", action="store_true", help="Only the given size (no 1/10 size for memory)."
    )
    parser.add_argument("--no-write", action="store_true", help="Print results; do not touch docs/.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--render", action="store_true", help="Only rewrite docs/ from bench/results/.")
    args = parser.parse_args()
    if args.render:
        write_doc(install_section())
    elif args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()

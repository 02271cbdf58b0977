"""Render the "Sync" section of docs/performance.md from bench/results/sync-*.json (see bench/sync.py)."""

from __future__ import annotations

import json
from typing import Any

from install import RESULTS, ROOT

DOC = ROOT / "docs" / "performance.md"
SECTION = "## Sync"

HEAD = """## Sync

`bench/sync.py` seeds the same set-based Oscar shop as `bench/install.py` (plus a product class and
two lines per order, so order records carry lines), runs the install backfill, then times a **full
first sync**: `dotsync.jobs.runner.sync_all()` (what `dotsync sync all` runs) from a fresh queue
until it drains, every record confirmed by the platform. The platform is the dotdigital sandbox
running in **its own process** (`dotsync sandbox --db <temp file> --import-delay 0.05`), over HTTP
on loopback, so its import processing shares neither this process's interpreter nor its memory
(it does share the 2 CPUs). Both websites are configured with one account each
(`dotsync.testing.platform_setup.configure_websites`, before the timing); the client-side hourly
call budget is off (`DOTSYNC_RATE_LIMIT=off`); batch sizes are the defaults (contacts: 2,000 rows
or 9 MiB per CSV import; insight: 4,000 records or 45 MiB per import; catalog: 5,000).

**Floor** (`bench/sync_floor.py`), measured in the same process on the same database: the same
sync-table rows read in the same keyset pages, the same adapter reads per page, every record built
by the same payload builders (`contact_csv`/`datafields` for contacts, `order`/`quote`/`review`/
`wishlist`/`product` for insight), and every batch body encoded as it is sent (CSV text to UTF-8,
insight body to JSON), with no platform, no database writes, no change hashing, no queue. It runs
twice after the sync (so it covers the contact rows the sync itself created for customers' orders
in another website); the faster run is kept. Goal: sync at most 2x the floor.

**Minimum API calls**, computed from the data: per account, 1 `GET /v2/account-info` (region
discovery); per import, 1 call to start it and 1 status poll that finds it finished, plus 1
`report-faults` call per contact (CSV) import. The number of imports is the fewest the batch limits
allow per import stream (website x import type): `max(ceil(records / max_records),
ceil(bytes / (max_bytes - fixed body bytes)))`, with the records and byte sizes counted by the floor.
Actual calls are the sandbox's request log over the sync (they equal the runner's own count).
Goal: at most 1.02x the minimum.

**Memory**: peak RSS of the benchmark process during the sync alone. Linux's `VmHWM` mark is
reset through `/proc/self/clear_refs` just before `sync_all` and again before each job run; the
sync's peak is the highest of the per-job peaks and the mark at the end. RSS before the sync is
shown for reference. Each size runs in its own process. Goal: flat from 10k to 300k orders.
`--trace-python` also records each job's Python heap peak (tracemalloc, which slows the sync).
"""


NOTES = """### Findings (SQLite run of 12:06-12:32, 2026-11-27)

* **API calls: at the minimum at every size (1.000x; goal 1.02x).** One account-info call per
  account, one start and one status poll per import, one fault report per contact import.
* **Time: 1.71x, 1.65x and 1.87x the floor at 10k, 100k and 300k orders (goal 2x: met at every
  size).** Since the previous run (2.09x, 1.44x, 1.44x), four changes cut the sync's own costs.
  `sync all` starts each job's imports before the next job batches (c3d7b86). Insight records are
  encoded once and spliced into the envelope and the request, never parsed again (2157a21,
  8ba33d3). Contact rows for waiting records are written once per page (ddb4539). The Oscar
  adapter reads order lines' products as two value queries (c79e63a). That last change speeds up
  the floor as much as the sync: at 300k the floor went from 305 s to 249 s, which is why the 300k
  ratio rose while both got faster.
* **Where the time goes at 300k:** the `orders` job, then the importer (which includes its waits
  for the platform), then contacts and reviews/wishlists. The sandbox now processes imports while
  the next job batches, on the same 2 CPUs, so the per-job times include that competition. The
  machine was about 25 % slower than in the previous run: the 10k floor took 8.6 s against 6.9 s.
* **Memory: 146 -> 157 -> 159 MiB peak RSS from 10k to 100k to 300k orders** (106 MiB before the
  sync at every size). From 100k to 300k, three times the data, it grows by 2 MiB. Every buffer a
  job holds is bounded by a page (1,000 rows) or a batch (4,000 records or 2,000 CSV rows):
  * **Fixed in this session.** Each of these grew with the shop. The importer kept every payload
    it read on its page of rows (faaec23). The batching jobs held the previous page's store
    entities while they read the next page (14ec60a). Insight batches held record object trees
    (2157a21). The importer parsed every batch it sent or settled (8ba33d3).
  * **Why 10k is lower.** At 10k orders several streams do not fill a page or a batch: `main:Quote`
    has 1,496 records (batch: 4,000), `main:Reviews` 675 and `main:Wishlist` 600 (page: 1,000). So
    the 10k run never reaches the bounded maximum. The per-job table above shows the step in the
    jobs that handle those streams: `orders` (quotes are part of it), `reviews_and_wishlists`, and
    `importer` (fuller batches to send). After 100k no job grows by more than 3 MiB.
  * **Not proven.** No run shows that the whole 11 MiB step is this fill effect and none of it is
    allocator high-water. With glibc's mmap threshold fixed (`MALLOC_MMAP_THRESHOLD_=131072`) the
    step was the same size.
* **Load**: each size had the machine to itself (1-minute load average about 1 when each finished).
* **PostgreSQL** (15, run 12:35-13:01 with `--floors 1`; a full CI run shared the 2 CPUs from
  12:37 to 12:52, during the 10k and 100k sizes): 1.88x, 1.83x and 1.65x the floor; API calls
  1.000x the minimum at every size; peak RSS 139, 153 and 157 MiB. That is the same shape as on
  SQLite.
"""
"""Hand-written observations about the recorded run (kept with the renderer; edit after a re-run)."""


def render(data: dict[str, Any]) -> str:
    results = data["results"]
    first = results[0]
    lines = [
        f"### {data['backend']} ({first['database_version']})",
        "",
        "| customers | orders | records sent | sync (s) | floor (s) | sync / floor | records/s | "
        "API calls | minimum | calls / min | RSS before sync | peak RSS during sync |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['customers']:,} | {r['orders']:,} | {r['records']:,} | {r['sync_seconds']:.1f} "
            f"| {min(r['floor_seconds']):.1f} | **{r['ratio']:.2f}x** | {r['records_per_second']:,} "
            f"| {r['api_calls_sandbox']:,} | {r['minimum']['calls']:,} | **{r['calls_ratio']:.3f}x** "
            f"| {(r['rss_before_sync_kb'] or 0) / 1024:.0f} MiB | {r['rss_peak_sync_kb'] / 1024:.0f} MiB |"
        )
    lines += _job_memory(results)
    big = results[-1]
    lines += [
        "",
        f"At {big['customers']:,} customers / {big['orders']:,} orders:",
        "",
        "Wall time per job (summed over the runner's passes and rounds; the importer includes its "
        "waits for the platform, not the runner's sleeps between rounds):",
        "",
        "| job | seconds |",
        "|---|---:|",
        *(f"| `{k}` | {v:.1f} |" for k, v in big["job_seconds"].items()),
        f"| runner total (wall) | {big['sync_seconds']:.1f} |",
        "",
        "API calls by endpoint:",
        "",
        "| endpoint | calls |",
        "|---|---:|",
        *(f"| `{k}` | {v:,} |" for k, v in sorted(big["api_calls_by_endpoint"].items())),
        "",
        f"Minimum: {big['minimum']['accounts']} accounts, {big['minimum']['imports']} imports "
        f"({big['minimum']['contact_imports']} contact imports) -> {big['minimum']['calls']} calls.",
        "",
        "Records and imports per stream (imports: fewest the limits allow / batches the floor encoded):",
        "",
        "| stream | records | payload MiB | fewest imports |",
        "|---|---:|---:|---:|",
        *(
            f"| `{k}` | {s['records']:,} | {s['bytes'] / 1048576:.1f} | {s['fewest']} |"
            for k, s in big["streams"].items()
        ),
        "",
        f"The sync drained in {big['summary']['rounds']} importer rounds "
        f"(stopped: {big['summary']['stopped']}; errors: {len(big['summary']['errors'])}). "
        "Sync rows per status afterwards (3 imported, 5 skipped; orders in a status not synced and "
        "contacts with nothing to send in a stream are skipped): "
        + "; ".join(f"`{t}` {c}" for t, c in big["state"].items())
        + ".",
        "Floor runs (s): "
        + "; ".join(f"{r['orders']:,} orders: {r['floor_seconds']}" for r in results)
        + f". Seeding the largest shop took {big['seed_seconds']} s and its install "
        f"{big['install_seconds']} s "
        "(not timed as sync). 1-minute load average when each size finished: "
        + ", ".join(f"{r['load_average']:.1f}" for r in results)
        + " (other work shared the machine).",
        "",
    ]
    return "\n".join(lines)


def _job_memory(results: list[dict[str, Any]]) -> list[str]:
    """Peak RSS during each job's runs, per shop size (MiB; the kernel's mark is reset per run)."""
    jobs = [k for k in results[-1].get("job_peak_rss_kb", {}) if ":" not in k]
    if not jobs:
        return []
    return [
        "",
        "Peak RSS during each job's runs (MiB):",
        "",
        "| job | " + " | ".join(f"{r['orders']:,} orders" for r in results) + " |",
        "|---|" + "---:|" * len(results),
        *(
            f"| `{job}` | "
            + " | ".join(f"{r.get('job_peak_rss_kb', {}).get(job, 0) / 1024:.0f}" for r in results)
            + " |"
            for job in jobs
        ),
    ]


def section() -> str:
    parts = []
    info = None
    for path in sorted(RESULTS.glob("sync-*.json")):
        data = json.loads(path.read_text())
        info = data["machine"]
        parts.append(render(data))
    assert info is not None, "no bench/results/sync-*.json: run bench/sync.py first"
    machine = (
        f"Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}, {info['ram']} RAM; {info['os']}; "
        f"Python {info['python']}, Django {info['django']}.\n"
        "Reproduce: `.venv/bin/python bench/sync.py` (SQLite temp file; 10,000, 100,000 and 300,000 "
        "orders); `DATABASE_URL=postgres://… .venv/bin/python bench/sync.py` (PostgreSQL; the "
        "database's public schema is dropped and recreated).\n"
    )
    return HEAD + "\n" + machine + "\n" + "\n".join(parts) + "\n" + NOTES


def write_section() -> None:
    """Replace (or append) the "Sync" section of docs/performance.md; other sections are kept."""
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    body = section()
    start = text.find(f"\n{SECTION}\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + body + ("\n" + text[end + 1 :] if end != -1 else "")
    DOC.write_text(text.rstrip("\n") + "\n")

"""``dotsync demo``: a fresh database, a seeded Oscar shop, install, a sync into a sandbox, a summary.

:func:`run_demo` is the orchestration; each step is its own function. The database is the one the
settings name (``DATABASE_URL``, else ``$DOTSYNC_VAR_DIR/dotsync.sqlite3``, ``./var`` by default).
A SQLite file is recreated from scratch; any other database must not hold a shop already. The
platform side (sandbox, accounts, suppressions, what reached it) is :mod:`dotsync.demo.platform`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SEED = 42
DEFAULT_CUSTOMERS = 2_000
DEFAULT_ORDERS = 6_000
"""Demo sizes: the whole demo finishes in about a minute on a laptop (migrations take half of it)."""
SYNC_TIMEOUT = 600.0
"""``sync all`` gives up after this many seconds (the defaults drain in well under a minute)."""

SYNC_KEYS = ("drained", "stopped", "rounds", "api_calls", "elapsed_seconds", "errors")
"""The parts of the ``sync all`` summary the demo reports (``importer`` totals go per website)."""

Step = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo did: the database, the seed and sizes, timings per step, and the summary."""

    database: str
    seed: int
    customers: int
    orders: int
    timings: dict[str, float] = field(default_factory=dict)
    migrations: str = ""
    """``"migrated"``, or ``"cached"`` when a migrated empty database was reused."""
    seeded: dict[str, Any] = field(default_factory=dict)
    install: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    """Rows per sync table, website and state, at the end (after the sync)."""
    sandbox: dict[str, Any] = field(default_factory=dict)
    """:meth:`dotsync.demo.platform.DemoSandbox.as_dict`."""
    suppressed: dict[str, int] = field(default_factory=dict)
    """Website code -> addresses suppressed in the sandbox before the sync."""
    sync: dict[str, Any] = field(default_factory=dict)
    """The ``sync all`` outcome: ``drained``, ``stopped``, ``rounds``, ``api_calls``, ``elapsed_seconds``,
    ``errors``."""
    websites: dict[str, Any] = field(default_factory=dict)
    """Website code -> :func:`dotsync.demo.platform.platform_summary`, read at the end (after the
    automation), with the importer totals of every ``sync all`` the demo ran."""
    automation: dict[str, Any] = field(default_factory=dict)
    """:func:`dotsync.demo.automation.run_automation`: per website, abandoned-cart sends per step,
    review requests, enrolments, suppressions both ways, and the pass run again right after."""
    storefront: dict[str, Any] = field(default_factory=dict)
    """:func:`dotsync.demo.storefront.demo_links`: per website, dynamic-content, cart-restore and
    subscribe URLs for one demo customer, to open under ``dotsync serve``."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "database": self.database,
            "seed": self.seed,
            "customers": self.customers,
            "orders": self.orders,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "migrations": self.migrations,
            "seeded": self.seeded,
            "install": self.install,
            "summary": self.summary,
            "sandbox": self.sandbox,
            "suppressed": self.suppressed,
            "sync": self.sync,
            "websites": self.websites,
            "automation": self.automation,
            "storefront": self.storefront,
        }


class DemoError(Exception):
    """The demo cannot run here; the message says what to do."""


def fresh_database() -> str:
    """Recreate the SQLite database file (or check another database is empty); returns its label."""
    from django.conf import settings
    from django.db import connection

    from dotsync.dberrors import database_label

    db = settings.DATABASES["default"]
    if "sqlite" in db["ENGINE"]:
        connection.close()
        path = Path(db["NAME"])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            raise DemoError(
                f"Cannot create the demo database at {path}: {exc}. "
                "Set DOTSYNC_VAR_DIR to a writable directory."
            ) from exc
        return str(path)
    tables = connection.introspection.table_names()
    if "order_order" in tables:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM order_order")
            (orders,) = cursor.fetchone()
        if orders:
            raise DemoError(
                f"The database {database_label()} already holds a shop ({orders} orders). "
                "Point DATABASE_URL at an empty database, or unset it to use a fresh SQLite file."
            )
    return database_label()


def _sqlite_path() -> Path | None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return Path(db["NAME"]) if "sqlite" in db["ENGINE"] else None


def migrations_fingerprint() -> str:
    """A hash of every migration file on disk (and Django's version): the schema a migrate produces."""
    import hashlib
    import importlib

    import django
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256(django.get_version().encode())
    for app_label, name in sorted(MigrationLoader(connection, ignore_no_migrations=True).disk_migrations):
        module = importlib.import_module(f"{MigrationLoader.migrations_module(app_label)[0]}.{name}")
        digest.update(f"{app_label}.{name}".encode())
        if module.__file__:
            digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def migrate_database() -> str:
    """Migrate the demo database; returns ``"migrated"`` or ``"cached"``.

    On SQLite the freshly migrated, still empty database is kept under ``<var>/cache/`` keyed by a
    fingerprint of every migration file; the next demo with the same migrations copies it instead of
    running Oscar's ~150 migrations again. Any other database is simply migrated.
    """
    import shutil

    from django.db import connection

    from dotsync.install import migrate

    path = _sqlite_path()
    if path is None:
        migrate()
        return "migrated"
    template = path.parent / "cache" / f"migrated-{migrations_fingerprint()}.sqlite3"
    if template.exists():
        connection.close()
        shutil.copyfile(template, path)
        return "cached"
    migrate()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    template.parent.mkdir(parents=True, exist_ok=True)
    for old in template.parent.glob("migrated-*.sqlite3"):
        old.unlink(missing_ok=True)
    shutil.copyfile(path, template)
    return "migrated"


def run_demo(
    *,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    orders: int = DEFAULT_ORDERS,
    step: Step | None = None,
    seed_progress: Callable[..., None] | None = None,
    install_hooks: tuple[Any, Any] | None = None,
    sandbox_url: str | None = None,
    sync_progress: Callable[[dict[str, Any]], None] | None = None,
    serve_url: str = "http://127.0.0.1:8000",
) -> DemoResult:
    """Create and migrate a fresh database, seed a shop, install, sync into a sandbox, summarise.

    Args:
        seed: the seed; the same seed gives the same shop, emails included.
        customers: customers to create.
        orders: orders to place.
        step: called with a short message as each step starts (for the console).
        seed_progress: passed to the seeder as its ``progress`` callback.
        install_hooks: ``(on_start, on_chunk)`` for the install progress bar.
        sandbox_url: use the sandbox running there; None starts one in-process on
            ``<var>/sandbox.sqlite3``.
        sync_progress: passed to ``sync_all`` as its ``progress`` callback.
        serve_url: where ``dotsync serve`` will answer: the base of the printed storefront links.

    Raises:
        DemoError: a step cannot run here (the message says what to do).
    """
    from dotsync.install import backfill
    from dotsync.reporting import sync_summary
    from dotsync.store.oscar.observers import muted

    say = step or (lambda _msg: None)
    timings: dict[str, float] = {}

    def timed(name: str, message: str, func: Callable[[], Any]) -> Any:
        say(message)
        started = time.perf_counter()
        value = func()
        timings[name] = time.perf_counter() - started
        return value

    if sandbox_url:
        check_sandbox(sandbox_url)  # before the database is wiped
    database = timed("database", "Creating a fresh database", fresh_database)
    result = DemoResult(database=database, seed=seed, customers=customers, orders=orders, timings=timings)
    result.migrations = timed("migrate", "Migrating (Oscar and dotsync)", migrate_database)

    def seed_shop() -> Any:
        from dotsync.demo.seed import seed_shop as seeder

        with muted():  # the install backfills everything the seeder creates
            return seeder(seed, customers, orders, progress=seed_progress)

    seeded = timed(
        "seed", f"Seeding an Oscar shop (seed {seed}, {customers} customers, {orders} orders)", seed_shop
    )
    result.seeded = _plain(seeded)
    on_start, on_chunk = install_hooks or (None, None)
    results = timed(
        "install",
        "Installing: backfilling the sync tables",
        lambda: backfill(on_start=on_start, on_chunk=on_chunk),
    )
    result.install = [r.as_dict() for r in results]
    sync_into_sandbox(result, timed, sandbox_url, sync_progress, say)
    result.summary = sync_summary()
    from dotsync.demo.storefront import demo_links

    result.storefront = timed(
        "storefront",
        "Storefront links: dynamic content, cart restore, subscribe",
        lambda: demo_links(serve_url),
    )
    return result


def check_sandbox(url: str) -> None:
    """Fail early, with what to do, when no sandbox answers at ``url``."""
    from dotsync.demo import platform

    try:
        platform.reach_sandbox(url).close()
    except platform.PlatformError as exc:
        raise DemoError(str(exc)) from exc


def sync_into_sandbox(
    result: DemoResult,
    timed: Callable[[str, str, Callable[[], Any]], Any],
    sandbox_url: str | None,
    progress: Callable[[dict[str, Any]], None] | None,
    say: Step = lambda _msg: None,
) -> None:
    """Connect the shop to a sandbox, ``sync all``, and read back what reached the platform.

    Starts (or reaches) the sandbox, configures the websites, suppresses a few addresses, syncs, and
    fills ``result.sandbox``, ``.suppressed``, ``.sync`` and ``.websites``; then runs the automation
    (:mod:`dotsync.demo.automation`) and fills ``result.automation``.
    """
    from django.conf import settings

    from dotsync.demo import automation, platform
    from dotsync.jobs.runner import sync_all

    where = sandbox_url or "in-process"
    try:
        with platform.open_sandbox(Path(settings.VAR_DIR), sandbox_url) as sandbox:
            result.sandbox = sandbox.as_dict()
            accounts = timed(
                "connect",
                f"Connecting the websites to the sandbox ({where}: {sandbox.url})",
                lambda: platform.connect_websites(sandbox),
            )
            result.suppressed = platform.suppress_demo_emails(sandbox)
            summary = timed(
                "sync",
                "Syncing: `sync all` until the importer queue drains",
                lambda: sync_all(timeout=SYNC_TIMEOUT, progress=progress),
            )
            result.sync = {k: summary[k] for k in SYNC_KEYS}
            later: list[dict[str, Any]] = []

            def again() -> dict[str, Any]:
                later.append(sync_all(timeout=SYNC_TIMEOUT, progress=progress))
                return later[-1]

            result.automation = timed(
                "automation",
                "Automation: campaigns and programmes per store, baskets and orders, time let pass",
                lambda: automation.run_automation(sandbox, accounts, platform.demo_password, again, say),
            )
            result.websites = timed(
                "report",
                "Reading back what reached the platform",
                lambda: platform.platform_summary(sandbox, accounts, _importer_totals([summary, *later])),
            )
    except platform.PlatformError as exc:
        raise DemoError(str(exc)) from exc


def _importer_totals(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The importer totals per website over several ``sync all`` summaries (as one summary's ``importer``)."""
    totals: dict[str, dict[str, int]] = {}
    for summary in summaries:
        for code, counts in summary.get("importer", {}).items():
            bucket = totals.setdefault(code, {})
            for key, n in counts.items():
                bucket[key] = bucket.get(key, 0) + n
    return {"importer": totals}


def _plain(value: Any) -> dict[str, Any]:
    """A JSON-friendly view of whatever the seeder returned (a dataclass, a mapping, or nothing)."""
    import dataclasses

    if value is None:
        return {}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if isinstance(v, (int, float, str, bool))}
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if isinstance(v, (int, float, str, bool))}
    return {"result": str(value)}

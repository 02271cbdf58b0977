"""A separate process for the crash tests: ``python tests/e2e/crash_child.py DB MODE [ARG]``.

It runs on a file SQLite database whose tables are created from the models (migrations disabled, as
in the test suite), so a real ``SIGKILL`` can hit ``sync all`` mid-way. Modes:

* ``build``: the small Oscar shop plus 24 customers with an order and a wishlist each, across the
  three stores;
* ``configure URL``: point both websites at the sandbox at URL (one account each, small batches,
  few imports at a time), create their data fields and install the history; prints the accounts;
* ``sync``: ``sync all`` (``DOTSYNC_TEST_CRASH_AT`` may kill it); prints the summary;
* ``expect``: what the platform must hold, read from the Oscar shop: per website, the emails of each
  address book and the keys of each collection.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def setup(db_path: str) -> None:
    sys.path.insert(0, str(ROOT))
    from dotsync.testing.standalone import configure_without_migrations

    configure_without_migrations(f"sqlite:///{db_path}", var_dir=Path(db_path).parent / "var")


def build() -> None:
    from django.core.management import call_command

    from dotsync.store.oscar.observers import muted
    from dotsync.testing.scope import make_scope
    from dotsync.testing.shop import build_shop, make_customer, make_wishlist, place_order

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    with muted():
        scope = make_scope()
        shop = build_shop(scope)
        products = [shop.products["shirt"], shop.products["mug"], shop.products["hoodie_m"]]
        for i in range(24):
            customer = make_customer(f"crash{i:02d}@example.com", "Crash", f"Test{i:02d}")
            place_order(customer, [products[i % 3]], scope.stores[i % 3], status="processing")
            make_wishlist(customer, [products[(i + 1) % 3]])


def configure(url: str) -> None:
    from dotsync.install.backfill import backfill
    from dotsync.jobs.automap import automap
    from dotsync.models import Website
    from dotsync.platform.sandbox.control import SandboxControl
    from dotsync.testing.platform_setup import configure_websites

    sizes = {"page": 10, "contacts": 6, "insight": 6, "catalog": 6}
    with SandboxControl(url) as sandbox:
        accounts = configure_websites(
            sandbox, Website.objects.order_by("pk"), batch_sizes=sizes, max_active_imports=2
        )
    automap()
    backfill()
    print(json.dumps({code: a.__dict__ for code, a in accounts.items()}))


def sync() -> None:
    from dotsync.jobs.runner import sync_all

    print(json.dumps(sync_all(timeout=90)), flush=True)


def expect() -> None:
    """The platform's expected contents, from the Oscar shop (not from the sync tables)."""
    from django.contrib.auth import get_user_model
    from oscar.core.loading import get_model

    from dotsync.models import NewsletterSubscriber, Store, Website

    Order = get_model("order", "Order")

    default = Website.objects.order_by("pk").first()
    site_website = {s.site_id: s.website.code for s in Store.objects.select_related("website")}
    out: dict[str, dict[str, set[str]]] = {
        w.code: {"customers": set(), "guests": set(), "subscribers": set(), "Orders": set()}
        for w in Website.objects.all()
    }
    last_order_site: dict[int, int] = {}
    for order in Order._default_manager.order_by("date_placed", "pk"):
        code = site_website.get(order.site_id, default.code)
        if order.user_id:
            last_order_site[order.user_id] = order.site_id
        else:
            out[code]["guests"].add(order.guest_email.lower())
        if order.status in ("pending", "processing", "complete"):
            out[code]["Orders"].add(str(order.number))
    for user in get_user_model()._default_manager.exclude(email=""):
        code = site_website.get(last_order_site.get(user.pk, -1), default.code)
        out[code]["customers"].add(user.email.lower())
    for books in out.values():
        books["guests"] -= books["customers"]  # a customer's row is sent to the customers book
    for sub in NewsletterSubscriber.objects.filter(subscriber_status=1).select_related("store__website"):
        out[sub.store.website.code]["subscribers"].add(sub.subscriber_email.lower())
    print(json.dumps({code: {k: sorted(v) for k, v in d.items()} for code, d in out.items()}))


# --- shared by the automation crash children (crash_campaigns_child.py, crash_enrolments_child.py) -------


def sandbox_websites(
    url: str, ids_of: Callable[[Any], list[int]]
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Point both websites at the sandbox at ``url`` (one account each).

    Returns, per website code, its account and the ids ``ids_of`` reads with the account's client
    (e.g. its campaigns or programmes).
    """
    from dotsync.models import Website
    from dotsync.platform.dotdigital import DotdigitalClient
    from dotsync.platform.sandbox.control import SandboxControl
    from dotsync.testing.platform_setup import configure_websites

    with SandboxControl(url) as sandbox:
        accounts = configure_websites(sandbox, Website.objects.order_by("pk"))
    ids: dict[str, list[int]] = {}
    for code, account in accounts.items():
        with DotdigitalClient(account.username, account.password, base_url=url) as client:
            ids[code] = ids_of(client)
    return accounts, ids


def order_store() -> Callable[[Any], Any]:
    """The store of an order: its site's store, else the default website's default store.

    As :func:`expect` places orders.
    """
    from dotsync.models import Store, Website

    stores = {s.site_id: s for s in Store.objects.select_related("website")}
    default = Website.objects.order_by("pk").first()
    assert default is not None and default.default_store is not None
    fallback = default.default_store
    return lambda order: stores.get(order.site_id) or fallback


def add_counts(counts: dict[str, int], result: Any) -> None:
    """Add a job result's counters, summed over its websites, to ``counts``."""
    for website in result.counts.values():
        for key, n in website.items():
            counts[key] = counts.get(key, 0) + n


def queued(model: Any, target: Callable[[Any], object]) -> dict[str, list[list[object]]]:
    """Per website code, the (target, email) pairs of ``model``'s rows, in id order."""
    out: dict[str, list[list[object]]] = {}
    for row in model.objects.select_related("website").order_by("id"):
        out.setdefault(row.website.code, []).append([target(row), row.email.lower()])
    return out


if __name__ == "__main__":
    setup(sys.argv[1])
    mode = sys.argv[2]
    if mode == "build":
        build()
    elif mode == "configure":
        configure(sys.argv[3])
    elif mode == "sync":
        sync()
    elif mode == "expect":
        expect()
    else:
        raise SystemExit(f"unknown mode {mode!r}")

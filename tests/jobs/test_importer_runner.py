"""`sync all` end to end: a real Oscar shop, the batching jobs, the importer, the sandbox over HTTP."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dotsync.cli import main
from dotsync.install.backfill import backfill
from dotsync.jobs.registry import sync_order
from dotsync.jobs.runner import sync_all
from dotsync.models import Catalog, Contact, Importer, Order, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites

pytestmark = pytest.mark.django_db(transaction=False)

SETTLED = {SyncStatus.IMPORTED, SyncStatus.FAILED, SyncStatus.SKIPPED}


FEEDS = ("GET /v2/contacts/suppressed-since/{date}", "GET /v2/contacts/modified-since/{date}")
"""The platform feeds' reads (`unsubscriber`, `resubscriber`): `sync all` runs them in its first pass."""


def _minimum_calls(accounts, sandbox) -> int:
    """One start and one status poll per import, one fault report per contact import, one call per
    single-record row, one account-info per account (region discovery), and the feeds' pages as read.

    Each feed reads at least one page per account; whether the modified-contacts feed finds contacts
    (and so reads a second, empty page) depends on whether the first pass's contact imports finished
    before it ran, so its pages are counted from the sandbox's log, never above two per feed.
    """
    n_accounts = len({a.username for a in accounts.values()})
    by_endpoint = sandbox.requests()["by_endpoint"]
    feed_reads = sum(by_endpoint.get(feed, 0) for feed in FEEDS)
    assert 2 * n_accounts <= feed_reads <= 4 * n_accounts, by_endpoint
    n = n_accounts + feed_reads
    for row in Importer.objects.all():
        if row.import_mode == "Bulk":
            n += 3
        elif row.import_mode == "Bulk_JSON":
            n += 2
        else:
            n += 1
    return n


def test_sync_all_drains_the_shop_into_the_platform_near_the_minimum_calls(shop, sandbox):
    accounts = configure_websites(sandbox, shop.scope.websites)
    backfill()
    summary = sync_all(timeout=60)

    assert summary["drained"], summary
    assert not Importer.objects.exclude(import_status=ImportStatus.IMPORTED).exists()
    for model in (Contact, Order, Catalog):
        assert set(model.objects.values_list("sync_status", flat=True)) <= SETTLED, model
    main = sandbox.account(accounts["main"].username)
    assert "alice@example.com" in {c["email"] for c in main["contacts"]}
    orders = {r["key"] for r in main["insight"].get("Orders", {}).get("records", [])}
    imported_orders = Order.objects.filter(website=shop.scope.main, sync_status=SyncStatus.IMPORTED)
    assert orders and len(orders) == imported_orders.count()

    minimum = _minimum_calls(accounts, sandbox)
    assert summary["api_calls"] >= minimum
    assert summary["api_calls"] <= minimum * 1.25 + 2, (summary["api_calls"], minimum)
    setup_calls = 4 * len(accounts)  # configure_websites: account-info and three address books per account
    assert sandbox.requests()["total"] == summary["api_calls"] + setup_calls
    print(f"api calls {summary['api_calls']} (minimum {minimum}) in {summary['rounds']} rounds")

    again = sync_all(timeout=30)  # nothing changed: nothing is sent
    assert again["drained"] and again["api_writes"] == 0  # the feeds only read
    assert again["api_calls"] == again["api_reads"] >= 2 * len(accounts)  # each feed's first page
    assert Importer.objects.count() == Importer.objects.filter(import_status=ImportStatus.IMPORTED).count()


def test_sync_all_starts_a_jobs_imports_before_the_next_job_batches(shop, sandbox):
    """The platform works on one job's imports while dotsync batches the next job's records."""
    configure_websites(sandbox, shop.scope.websites)
    backfill()
    seen: dict[str, list[str]] = {}

    def progress(snapshot):
        if snapshot["phase"] == "batch":  # before each batching job runs
            started = Importer.objects.filter(import_status=ImportStatus.IMPORTING).exclude(import_id="")
            seen.setdefault(snapshot["job"], list(started.values_list("import_type", flat=True)))

    summary = sync_all(timeout=60, progress=progress)
    assert summary["drained"], summary
    # catalog imports (first pass) are on the platform before the contacts job (last) batches
    assert "Catalog_Default" in seen["contacts"], seen
    # every registered job ran, in the declared order (the importer is the drain between them)
    assert list(seen) == [job.id for job in sync_order() if job.id != "importer"]
    assert set(summary["jobs"]) == set(seen)


def test_cli_sync_runs_each_registered_job_alone(shop, sandbox):
    """`dotsync sync JOB` works for every job of the registry, the automation jobs included."""
    configure_websites(sandbox, shop.scope.websites)
    backfill()
    runner = CliRunner()
    for job in sync_order():
        result = runner.invoke(main, ["sync", job.id, "--json"])
        out = json.loads(result.output)
        assert result.exit_code == 0 and out["job"] == job.id and not out["errors"], (job.id, result.output)


def test_cli_sync_job_and_all_json(shop, sandbox):
    configure_websites(sandbox, shop.scope.websites)
    backfill()
    runner = CliRunner()
    result = runner.invoke(main, ["sync", "contacts", "--website", "main", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["main"]["batches"] >= 1
    result = runner.invoke(main, ["sync", "all", "--json", "--timeout", "60"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["drained"] and out["importer"]["main"]["imported"] >= 1
    result = runner.invoke(main, ["sync", "nope"])
    assert result.exit_code == 2 and "unknown job" in result.output
    result = runner.invoke(main, ["sync", "importer", "--website", "nowhere"])
    assert result.exit_code == 2 and "no website 'nowhere'" in result.output


def test_runner_stops_instead_of_spinning(scope, sandbox):
    from datetime import timedelta

    from django.utils import timezone

    from dotsync.models import WebsiteConfig
    from tests.jobs.importer_helpers import contact_batch, contacts

    accounts = configure_websites(sandbox, scope.websites)
    # outlet: broken credentials -> its row waits for a fix, the runner does not hammer the platform
    cfg = WebsiteConfig.objects.get(website=scope.outlet)
    cfg.set_api_password("wrong-password")
    cfg.save()
    contact_batch(scope.outlet, contacts(scope.outlet, ["b@example.com"]))
    contact_batch(scope.main, contacts(scope.main, ["a@example.com"]))
    summary = sync_all(batch=False, timeout=20)
    assert summary["stopped"] == "deferred" and not summary["drained"]
    assert summary["remaining"] == {"pending": 1, "importing": 0}
    assert any("refused the API credentials" in e for e in summary["errors"])
    assert set(sandbox.contacts(accounts["main"].username)) == {"a@example.com"}
    assert (
        sandbox.requests(accounts["outlet"].username)["by_status"]["401"] == 1
    )  # one refused call, not a loop

    # main: enabled without a password -> invalid configuration, its rows cannot move
    Importer.objects.filter(website=scope.outlet).update(next_attempt_at=timezone.now() + timedelta(days=1))
    WebsiteConfig.objects.filter(website=scope.main).update(api_password_encrypted="")
    contact_batch(scope.main, contacts(scope.main, ["c@example.com"]))
    summary = sync_all(batch=False, timeout=20)
    assert summary["stopped"] == "stalled" and summary["rounds"] == 1
    assert any("API password is empty" in e for e in summary["errors"])

"""``unsubscriber`` and ``resubscriber`` end to end: the sandbox over HTTP, the store's newsletter table.

The suppression round trip: a contact suppressed on the platform ends unsubscribed in the store (in
the account's websites only), one resubscribed on the platform ends subscribed again. A fresh store
subscription is never overwritten and a suppression is never resurrected. The clock is moved with
time-machine (the sandbox runs in this process, so its dates move too).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from dotsync.accounts import RunContext
from dotsync.jobs.automation import feed, resubscriber, unsubscriber
from dotsync.models import Contact, JobRun, NewsletterSubscriber, RunOutcome, SyncStatus
from dotsync.models.newsletter import SubscriberStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.runtime import runs
from dotsync.testing.platform_setup import configure_websites

pytestmark = pytest.mark.django_db

SUBSCRIBED = SubscriberStatus.SUBSCRIBED
UNSUBSCRIBED = SubscriberStatus.UNSUBSCRIBED
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LONG_AGO = T0 - timedelta(days=30)


def _subscribe(email, stores, at=LONG_AGO):
    for store in stores:
        NewsletterSubscriber.objects.update_or_create(
            store=store,
            subscriber_email=email,
            defaults={"subscriber_status": SUBSCRIBED, "change_status_at": at},
        )


def _contact(website, email, at=LONG_AGO):
    return Contact.objects.create(
        website=website,
        store=website.default_store,
        email=email,
        is_subscriber=True,
        subscriber_status=SUBSCRIBED,
        last_subscribed_at=at,
        sync_status=SyncStatus.IMPORTED,
        subscriber_sync_status=SyncStatus.IMPORTED,
        created_at=at,
    )


def _statuses(email):
    return {
        s.store.code: s.subscriber_status
        for s in NewsletterSubscriber.objects.filter(subscriber_email=email).select_related("store")
    }


def _client(sandbox, account):
    return DotdigitalClient(account.username, account.password, base_url=sandbox.url, max_retries=0)


def test_suppression_round_trip(scope, sandbox):
    accounts = configure_websites(sandbox, [scope.main, scope.outlet])
    main_user = accounts["main"].username
    people = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
    for email in people:
        _subscribe(email, scope.stores)  # main_en, main_fr (website main) and outlet_en
        _contact(scope.main, email)
        _contact(scope.outlet, email)
    with time_machine.travel(T0, tick=True) as clock:
        with _client(sandbox, accounts["main"]) as client:
            for email in people:
                client.upsert_contact(email)
        for email in people:
            sandbox.suppress(email, account=main_user)  # unsubscribed on the platform at T0

        clock.move_to(T0 + timedelta(hours=1))  # bob subscribes again in the store after that
        now = timezone.now()
        NewsletterSubscriber.objects.filter(subscriber_email="bob@example.com").update(change_status_at=now)
        Contact.objects.filter(email="bob@example.com").update(last_subscribed_at=now)

        clock.move_to(T0 + timedelta(hours=2))
        result = unsubscriber.run()
        assert not result.errors
        assert result.counts["main"]["unsubscribed"] == 3 and result.counts["main"]["kept_resubscribed"] == 1
        assert "outlet" not in result.counts  # the outlet's account suppressed nobody

        alice = Contact.objects.get(website=scope.main, email="alice@example.com")
        assert alice.suppressed and not alice.is_subscriber and alice.subscriber_status == UNSUBSCRIBED
        assert T0 <= alice.suppressed_at < T0 + timedelta(minutes=5)  # the platform's dateRemoved
        assert _statuses("alice@example.com") == {
            "main_en": UNSUBSCRIBED,
            "main_fr": UNSUBSCRIBED,
            "outlet_en": SUBSCRIBED,  # another account's website: untouched
        }
        assert not Contact.objects.get(website=scope.outlet, email="alice@example.com").suppressed
        bob = Contact.objects.get(website=scope.main, email="bob@example.com")  # fresh store subscription
        assert bob.is_subscriber and not bob.suppressed
        assert set(_statuses("bob@example.com").values()) == {SUBSCRIBED}

        clock.move_to(T0 + timedelta(hours=3))  # back on the platform: alice, carol, dave
        for email in ("alice@example.com", "carol@example.com", "dave@example.com"):
            answer = sandbox.resubscribe(email, main_user)
            assert answer["status"] == "Subscribed" and answer["last_subscribed"]
        clock.move_to(T0 + timedelta(hours=3, minutes=30))
        sandbox.suppress("dave@example.com", account=main_user)  # and dave leaves again
        clock.move_to(T0 + timedelta(hours=4))  # carol unsubscribes in the store after her resubscription
        NewsletterSubscriber.objects.filter(subscriber_email="carol@example.com", store=scope.main_en).update(
            change_status_at=timezone.now()
        )

        clock.move_to(T0 + timedelta(hours=5))
        result = resubscriber.run()
        assert not result.errors
        alice = Contact.objects.get(website=scope.main, email="alice@example.com")
        assert alice.is_subscriber and not alice.suppressed and alice.subscriber_status == SUBSCRIBED
        assert alice.subscriber_sync_status == SyncStatus.MODIFIED  # the subscribers book gets her back
        assert T0 + timedelta(hours=3) <= alice.last_subscribed_at < T0 + timedelta(hours=3, minutes=5)
        assert set(_statuses("alice@example.com").values()) == {SUBSCRIBED}
        carol = _statuses("carol@example.com")
        assert (
            carol["main_en"] == UNSUBSCRIBED and carol["main_fr"] == SUBSCRIBED
        )  # store's newer choice kept
        dave = Contact.objects.get(website=scope.main, email="dave@example.com")
        assert dave.suppressed and not dave.is_subscriber  # suppressed again: never resurrected
        assert _statuses("dave@example.com")["main_en"] == UNSUBSCRIBED

        clock.move_to(T0 + timedelta(hours=6))  # both again over the same window: nothing changes back
        assert unsubscriber.run().counts["main"].get("unsubscribed", 0) == 0
        assert resubscriber.run().counts["main"].get("subscriptions_restored", 0) == 0
        assert set(_statuses("alice@example.com").values()) == {SUBSCRIBED}
        assert Contact.objects.get(website=scope.main, email="alice@example.com").is_subscriber


def test_the_window_starts_at_the_last_successful_start_less_the_overlap(scope, sandbox):
    accounts = configure_websites(sandbox, [scope.main])
    main_user = accounts["main"].username
    for email in ("old@example.com", "new@example.com"):
        _subscribe(email, [scope.main_en])
        _contact(scope.main, email)
    with time_machine.travel(T0, tick=True) as clock:
        sandbox.suppress("old@example.com", account=main_user)
        clock.move_to(T0 + timedelta(days=2))  # older than the 24-hour fallback
        ctx = RunContext.resolve()
        (account,) = ctx.accounts
        assert feed.account_scope(account) == runs.account_label(account)  # the runtime's unit name
        fallback = timezone.now() - feed.FALLBACK
        assert abs(feed.from_time("unsubscriber", account) - fallback) < timedelta(minutes=1)
        sandbox.suppress("new@example.com", account=main_user)
        clock.move_to(T0 + timedelta(days=2, minutes=1))
        (unit,) = runs.units(unsubscriber.JOB, ctx)
        run = runs.run_job(unit)
        assert run.outcome == RunOutcome.SUCCESS and run.counts["main"]["unsubscribed"] == 1
        assert _statuses("old@example.com") == {"main_en": SUBSCRIBED}  # before the window
        assert _statuses("new@example.com") == {"main_en": UNSUBSCRIBED}
        # the last success's start (not its finish: a change made while it read is not skipped)
        assert feed.from_time("unsubscriber", account) == run.started_at - feed.OVERLAP
        assert JobRun.objects.filter(job_id="unsubscriber", scope=feed.account_scope(account)).count() == 1

        clock.move_to(T0 + timedelta(days=2, minutes=15))
        NewsletterSubscriber.objects.filter(subscriber_email="new@example.com").update(
            subscriber_status=SUBSCRIBED, change_status_at=timezone.now()
        )
        Contact.objects.filter(email="new@example.com").update(
            suppressed=False, is_subscriber=True, last_subscribed_at=timezone.now()
        )
        again = runs.run_job(unit)  # the suppression is read again (overlap); the newer subscription wins
        assert again.outcome == RunOutcome.SUCCESS
        assert again.counts.get("main", {}).get("unsubscribed", 0) == 0
        assert _statuses("new@example.com") == {"main_en": SUBSCRIBED}


def test_feeds_are_conformant(sandbox, sandbox_client, sandbox_account):
    user, _ = sandbox_account
    since = "2020-01-01T00:00:00Z"
    assert sandbox_client.post("/v2/contacts", json={"email": "x@example.com"}).status_code == 201
    sandbox.suppress("x@example.com", account=user)
    (item,) = sandbox_client.get(f"/v2/contacts/suppressed-since/{since}", params={"select": 10}).json()
    assert item["suppressedContact"]["email"] == "x@example.com" and item["reason"] == "Unsubscribed"
    sandbox.resubscribe("x@example.com", user)
    assert sandbox_client.get(f"/v2/contacts/suppressed-since/{since}").json() == []
    (contact,) = sandbox_client.get(
        f"/v2/contacts/modified-since/{since}", params={"withFullData": "true", "select": 10}
    ).json()
    assert contact["status"] == "Subscribed"
    fields = {f["key"]: f["value"] for f in contact["dataFields"]}
    assert feed.parse_time(fields["LASTSUBSCRIBED"]) is not None
    no_data = sandbox_client.get(f"/v2/contacts/modified-since/{since}").json()
    assert no_data[0]["dataFields"] is None

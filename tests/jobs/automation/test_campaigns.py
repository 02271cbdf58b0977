"""The ``campaigns`` job end to end: queued ``email_campaign`` rows, the sandbox over real HTTP.

The sandbox records every send per contact (``SandboxControl.deliveries``), so each test counts what
each contact received. The clock is moved with time-machine (the sandbox runs in this process, so its
send progress moves too). Interrupted runs are set up as the database state a killed run leaves (the
claim committed, the call made or not); the SIGKILL version is tests/e2e/test_crash_campaigns.py.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from dotsync.accounts import RunContext
from dotsync.jobs.automation import campaigns, contact_ids
from dotsync.jobs.automation.campaigns import JOB, LOST_BASKET, ORDER_REVIEW
from dotsync.models import Contact, SyncStatus
from dotsync.models.automation import Campaign, CampaignFailReason, CampaignSendStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.testing.platform_setup import configure_websites

pytestmark = pytest.mark.django_db

S = CampaignSendStatus
R = CampaignFailReason


@pytest.fixture
def platform(scope, sandbox):
    """The main website on a fresh sandbox account; sends finish as soon as they are accepted."""
    sandbox.set_faults(import_delay=0)
    account = configure_websites(sandbox, [scope.main])["main"]
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        ids = [int(c["id"]) for c in client.list_campaigns()]
    return account, ids


_keys = itertools.count(1000)


def queue(scope, campaign_id, email, event=ORDER_REVIEW, **fields):
    """A queued row; review rows get their own order number, basket rows their own basket and step."""
    if event == ORDER_REVIEW:
        fields.setdefault("order_increment_id", str(next(_keys)))
    else:
        fields.setdefault("quote_id", next(_keys))
        fields.setdefault("step", 1)
    return Campaign.objects.create(
        website=scope.main,
        store=scope.main_en,
        campaign_id=campaign_id,
        email=email,
        event_name=event,
        **fields,
    )


def run(limit=campaigns.SEND_LIMIT):
    return JOB.run(RunContext.resolve(), limit=limit)


def statuses():
    return {c.email: (c.send_status, c.fail_reason) for c in Campaign.objects.order_by("id")}


def test_queued_rows_are_sent_once_per_campaign_and_marked_sent(scope, sandbox, platform):
    account, (first, second, *_) = platform
    Contact.objects.create(
        website=scope.main, store=scope.main_en, email="ann@example.com", sync_status=SyncStatus.IMPORTED
    )
    for email in ("ann@example.com", "bob@example.com", "cat@example.com"):
        queue(scope, first, email)
    queue(scope, second, "dan@example.com", event=LOST_BASKET, quote_id=7)
    queue(scope, second, "", event=LOST_BASKET)

    result = run()

    assert not result.errors
    rows = list(Campaign.objects.order_by("id"))
    assert [r.send_status for r in rows] == [S.SENT] * 4 + [S.FAILED]
    assert rows[-1].fail_reason == R.MISSING_DATA
    assert len({r.send_id for r in rows[:3]}) == 1 and rows[3].send_id != rows[0].send_id  # one per campaign
    assert all(r.sent_at and r.claimed_at and r.platform_contact_id for r in rows[:4])
    sends = sandbox.account(account.username)["campaign_sends"]
    assert sorted(len(s["recipients"]) for s in sends) == [1, 3]
    assert sandbox.deliveries(account.username) == {
        (first, "ann@example.com"): 1,
        (first, "bob@example.com"): 1,
        (first, "cat@example.com"): 1,
        (second, "dan@example.com"): 1,
    }
    # the contact id is cached on the email_contact row
    assert Contact.objects.get(email="ann@example.com").contact_id == str(rows[0].platform_contact_id)
    assert result.counts["main"]["sent"] == 4 and result.counts["main"]["failed"] == 1

    again = run()  # nothing new: nothing sent twice
    assert "sending" not in again.counts.get("main", {})
    assert len(sandbox.account(account.username)["campaign_sends"]) == 2


def test_at_most_the_batch_limit_per_run(scope, sandbox, platform):
    account, (first, *_) = platform
    for i in range(5):
        queue(scope, first, f"c{i}@example.com")
    run(limit=3)
    assert [r.send_status for r in Campaign.objects.order_by("id")] == [S.SENT] * 3 + [S.PENDING] * 2
    run(limit=3)
    assert set(Campaign.objects.values_list("send_status", flat=True)) == {S.SENT}
    assert set(sandbox.deliveries(account.username).values()) == {1}


def test_a_suppressed_contact_fails_the_send_with_that_reason_and_is_marked(scope, sandbox, platform):
    account, (first, *_) = platform
    Contact.objects.create(website=scope.main, store=scope.main_en, email="gone@example.com")
    sandbox.suppress("gone@example.com", account=account.username)
    queue(scope, first, "gone@example.com")
    queue(scope, first, "here@example.com")

    run()

    gone = Campaign.objects.get(email="gone@example.com")
    assert (gone.send_status, gone.fail_reason) == (S.FAILED, R.SUPPRESSED)
    assert gone.message == contact_ids.SUPPRESSED_MESSAGE and gone.sent_at
    assert Contact.objects.get(email="gone@example.com").suppressed
    assert sandbox.deliveries(account.username) == {(first, "here@example.com"): 1}


def test_contact_ids_one_call_then_cached(scope, sandbox, platform):
    account, _ = platform
    Contact.objects.create(website=scope.main, store=scope.main_en, email="eve@example.com")
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        first = contact_ids.get_or_create(client, scope.main.pk, "Eve@Example.com")
        calls = client.stats.calls
        again = contact_ids.get_or_create(client, scope.main.pk, "eve@example.com")
        assert client.stats.calls == calls  # the cached id: no call
        # a data field the account lacks never blocks the id
        missing = contact_ids.resolve(
            client, scope.main.pk, ["fay@example.com"], data_fields={"fay@example.com": {"NO_SUCH_FIELD": 1}}
        )
    assert first.ok and not first.cached and again.cached and again.contact_id == first.contact_id
    assert missing["fay@example.com"].ok
    assert sandbox.contacts(account.username)["eve@example.com"]["id"] == first.contact_id


def test_a_lost_basket_waits_while_another_for_the_email_is_processing(scope, sandbox, platform):
    account, (first, second, *_) = platform
    sandbox.set_faults(import_delay=60)  # the first send stays Sending for a minute
    with time_machine.travel(timezone.now(), tick=True) as clock:
        queue(scope, first, "gus@example.com", event=LOST_BASKET, quote_id=1, step=1)
        run()
        queue(scope, second, "gus@example.com", event=LOST_BASKET, quote_id=1, step=2)
        skipped = run()
        assert skipped.counts["main"]["skipped"] == 1
        assert statuses()["gus@example.com"] == (S.PENDING, R.NONE)  # the second row, still queued
        clock.shift(timedelta(minutes=2))
        sandbox.set_faults(import_delay=0)
        run()  # polls the first send (Sent), then sends the second
    assert set(Campaign.objects.values_list("send_status", flat=True)) == {S.SENT}
    assert sandbox.deliveries(account.username) == {
        (first, "gus@example.com"): 1,
        (second, "gus@example.com"): 1,
    }


def test_a_send_still_processing_after_two_hours_is_taken_as_sent(scope, platform):
    _, (first, *_) = platform
    old = timezone.now() - timedelta(hours=3)
    row = queue(scope, first, "hal@example.com", send_status=S.PROCESSING, send_id="f0e1d2c3", updated_at=old)
    run()
    row.refresh_from_db()
    assert (row.send_status, row.fail_reason) == (S.SENT, R.STALE)
    assert row.message == campaigns.STALE_MESSAGE


def _claim(row, contact_id):
    Campaign.objects.filter(pk=row.pk).update(
        send_status=S.PROCESSING, claimed_at=timezone.now(), platform_contact_id=contact_id
    )


def test_after_a_crash_between_the_call_and_the_record_the_send_is_looked_up_not_repeated(
    scope, sandbox, platform
):
    account, (first, *_) = platform
    row = queue(scope, first, "ida@example.com")
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        contact = contact_ids.get_or_create(client, scope.main.pk, "ida@example.com")
        _claim(row, contact.contact_id)
        client.send_campaign(first, [contact.contact_id])  # the killed run's call; its answer was lost

    result = run()

    row.refresh_from_db()
    assert (row.send_status, row.fail_reason, row.send_id) == (S.SENT, R.NONE, "")
    assert row.sent_at and result.counts["main"]["recovered"] == 1
    assert sandbox.deliveries(account.username) == {(first, "ida@example.com"): 1}


def test_after_a_crash_before_the_call_the_row_is_sent_once_the_report_says_it_never_went(
    scope, sandbox, platform
):
    account, (first, *_) = platform
    row = queue(scope, first, "jo@example.com")
    with time_machine.travel(timezone.now(), tick=True) as clock:
        with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
            _claim(row, contact_ids.get_or_create(client, scope.main.pk, "jo@example.com").contact_id)
        waiting = run()  # the send might still be in progress on the platform: never sent blind
        assert waiting.counts["main"]["awaiting_report"] == 1
        assert sandbox.deliveries(account.username) == {}
        clock.shift(campaigns.LOOKUP_GRACE + timedelta(minutes=1))
        run()
    row.refresh_from_db()
    assert row.send_status == S.SENT and row.send_id
    assert sandbox.deliveries(account.username) == {(first, "jo@example.com"): 1}


def test_when_the_report_cannot_tell_the_row_goes_to_review(scope, sandbox, platform):
    account, (first, *_) = platform
    row = queue(scope, first, "kim@example.com")
    _claim(row, 987654)  # a contact the platform no longer has
    run()
    row.refresh_from_db()
    assert (row.send_status, row.fail_reason) == (S.REVIEW, R.UNCONFIRMED)
    assert "ERROR_CONTACT_NOT_FOUND" in row.message
    assert sandbox.deliveries(account.username) == {}
    run()  # review rows are never picked up again
    assert Campaign.objects.get(pk=row.pk).send_status == S.REVIEW


def test_dotsync_status_counts_campaign_rows_by_send_status(scope):
    from dotsync.reporting import sync_summary

    queue(scope, 1, "a@example.com")
    queue(scope, 1, "b@example.com", send_status=S.REVIEW, fail_reason=R.UNCONFIRMED)
    line = sync_summary(emails=False)["tables"]["email_campaign"]
    assert line["main"] == {"pending": 1, "processing": 0, "sent": 0, "failed": 0, "review": 1, "total": 2}
    assert line["outlet"]["total"] == 0


def test_admin_grid_filters_shows_the_platform_message_and_retries_or_cancels(scope, staff, admin_act):
    from django.urls import reverse

    failed = queue(
        scope, 1, "f@example.com", send_status=S.FAILED, fail_reason=R.SEND_REFUSED, message="Nope."
    )
    review = queue(scope, 1, "r@example.com", send_status=S.REVIEW, fail_reason=R.UNCONFIRMED)
    pending = queue(scope, 1, "p@example.com")
    sent = queue(scope, 1, "s@example.com", send_status=S.SENT, send_id="abc")
    url = reverse("admin:dotsync_campaign_changelist")

    page = staff.get(url, {"send_status__exact": S.FAILED})
    assert page.status_code == 200
    assert (
        b"f@example.com" in page.content and b"Nope." in page.content and b"p@example.com" not in page.content
    )

    assert admin_act(url, "retry_campaigns", failed, review, sent).status_code == 200
    assert statuses() == {
        "f@example.com": (S.PENDING, R.NONE),
        "r@example.com": (S.PENDING, R.NONE),
        "p@example.com": (S.PENDING, R.NONE),
        "s@example.com": (S.SENT, R.NONE),  # a sent row is never sent again
    }
    admin_act(url, "cancel_campaigns", pending, sent)
    assert Campaign.objects.get(pk=pending.pk).fail_reason == R.CANCELLED
    assert Campaign.objects.get(pk=sent.pk).send_status == S.SENT


def test_campaign_actions_need_the_change_permission(scope, client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    user = get_user_model().objects.create_user("viewer", "v@example.com", "pw-123456", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(user)
    row = queue(scope, 1, "v@example.com", send_status=S.FAILED)
    url = reverse("admin:dotsync_campaign_changelist")
    client.post(url, {"action": "retry_campaigns", "_selected_action": [str(row.pk)]}, follow=True)
    assert Campaign.objects.get(pk=row.pk).send_status == S.FAILED


def test_a_send_call_without_an_answer_is_not_repeated_until_the_report_says_it_never_went(scope, sandbox):
    sandbox.set_faults(import_delay=0)
    account = configure_websites(sandbox, [scope.main], timeout=1)["main"]
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        first = int(client.list_campaigns()[0]["id"])
    row = queue(scope, first, "lea@example.com")
    # the send call hangs past the client's timeout: it may have reached the platform, so it is not retried
    sandbox.set_faults(timeout_next=1, timeout_seconds=1.5, paths=["/v2/campaigns/send"])
    with time_machine.travel(timezone.now(), tick=True) as clock:
        failed = run()
        assert failed.errors and failed.counts["main"]["interrupted"] == 1
        row.refresh_from_db()
        assert row.send_status == S.PROCESSING and row.send_id == ""  # still claimed
        again = run()
        assert again.counts["main"]["awaiting_report"] == 1
        clock.shift(campaigns.LOOKUP_GRACE + timedelta(minutes=1))
        run()
    row.refresh_from_db()
    assert row.send_status == S.SENT
    assert sandbox.deliveries(account.username) == {(first, "lea@example.com"): 1}


def test_a_send_the_platform_cancels_fails_its_rows_with_that_reason(scope, sandbox, platform):
    account, (first, *_) = platform
    sandbox.set_faults(campaign_send_outcome="Cancelled")
    queue(scope, first, "max@example.com")
    queue(scope, first, "ned@example.com")
    result = run()
    assert statuses() == {
        "max@example.com": (S.FAILED, R.SEND_CANCELLED),
        "ned@example.com": (S.FAILED, R.SEND_CANCELLED),
    }
    assert result.counts["main"]["failed"] == 2 and sandbox.deliveries(account.username) == {}


def test_the_basket_and_order_data_fields_go_in_the_contact_call(scope, sandbox, platform):
    account, (first, second, *_) = platform
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        for name in ("LAST_QUOTE_ID", "LAST_INCREMENT_ID"):
            if name not in {f["name"] for f in client.list_data_fields()}:
                client.create_data_field(name)
    queue(scope, first, "ola@example.com", event=LOST_BASKET, quote_id=42)
    queue(scope, second, "pat@example.com", order_increment_id="100042")
    run()
    contacts = sandbox.contacts(account.username)
    assert str(contacts["ola@example.com"]["data_fields"]["LAST_QUOTE_ID"]) == "42"
    assert str(contacts["pat@example.com"]["data_fields"]["LAST_INCREMENT_ID"]) == "100042"

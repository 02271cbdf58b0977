"""The ``automation`` job (programme enrolment) and ``pending_contacts`` end to end.

The real Oscar shop fires its signals (observers run on commit), the sandbox answers over real HTTP
in this process (its programmes: two active, one draft), and the clock is moved with time-machine.
The sandbox lists each enrolment with the emails it enrolled, so each test counts who got which
programme. Interrupted runs are set up as the database state a killed run leaves (the claim committed,
the call made or not); the SIGKILL version is tests/e2e/test_crash_enrolments.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dotsync.accounts import RunContext
from dotsync.jobs.automation import enrolment, pending_contacts
from dotsync.jobs.runner import sync_all
from dotsync.models import Contact, Order, Quote
from dotsync.models.automation import Automation, AutomationFailReason, AutomationStatus, AutomationType
from dotsync.models.newsletter import SubscriberStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.shop import (
    make_customer,
    make_product,
    make_review,
    make_wishlist,
    place_order,
    set_order_status,
    store_request,
    subscribe,
)
from tests.jobs.batch_helpers import store_settings

pytestmark = pytest.mark.django_db

S = AutomationStatus
R = AutomationFailReason
T = AutomationType
T0 = datetime.fromisoformat("2026-03-02 09:00:00+00:00")


@pytest.fixture
def platform(scope: Any, sandbox: Any, clock: Any) -> Any:
    """The main website on a fresh sandbox account: (account, active programme ids, draft programme id)."""
    sandbox.set_faults(import_delay=0)
    account = configure_websites(sandbox, [scope.main])["main"]
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        programs = client.list_programs()
        have = {f["name"] for f in client.list_data_fields()}
        names = ("WEBSITE_NAME", "STORE_NAME", "LAST_ORDER_ID", "LAST_INCREMENT_ID", "LAST_ORDER_DATE")
        for name in (*names, "CUSTOMER_ID", "LAST_QUOTE_ID"):
            if name not in have:
                client.create_data_field(name)
    active = [int(p["id"]) for p in programs if p["status"] == "Active"]
    draft = next(int(p["id"]) for p in programs if p["status"] != "Active")
    return account, active, draft


def run() -> Any:
    result = enrolment.JOB.run(RunContext.resolve())
    assert not result.errors, result.errors
    return result


def enrolled(sandbox: Any, account: Any) -> Counter[tuple[int, str]]:
    """(programme id, email) -> how many enrolments enrolled the contact (the sandbox's record)."""
    out: Counter[tuple[int, str]] = Counter()
    for e in sandbox.account(account.username)["enrolments"]:
        for email in e["enrolled"]:
            out[(int(e["programId"]), email)] += 1
    return out


def rows() -> dict[tuple[str, str], Automation]:
    return {(a.automation_type, a.email): a for a in Automation.objects.all()}


def sync_orders(clock: Any) -> None:
    """Send the store (contacts, then the orders' insight records) as ``dotsync sync all`` does.

    The importer's waits between polls move the clock instead of sleeping.
    """
    summary = sync_all(sleep=lambda s: clock.shift(timedelta(seconds=max(s, 1))), max_rounds=20)
    assert not Order.objects.filter(last_imported_at=None).exists(), (
        {k: v for k, v in summary.items() if k not in ("jobs", "websites", "accounts")},
        list(Order.objects.values("sync_status", "sync_message", "hold_reason", "importer_id")),
    )


def test_each_programme_type_enrols_the_right_contact_once(
    scope, sandbox, platform, clock, django_capture_on_commit_callbacks
):
    from oscar.apps.customer.signals import user_registered

    account, (first, second), _ = platform
    store_settings(
        scope.main_en,
        programme_customer_id=first,
        programme_subscriber_id=first,
        programme_order_id=first,
        programme_guest_order_id=first,
        programme_first_order_id=second,
        programme_review_id=first,
        programme_wishlist_id=first,
    )
    shirt = make_product("Shirt", "19.99")
    with django_capture_on_commit_callbacks(execute=True):
        ann = make_customer("ann@example.com", "Ann", "Ash")
    with django_capture_on_commit_callbacks(execute=True):
        user_registered.send(sender=None, request=store_request(scope.main_en, ann), user=ann)
    with django_capture_on_commit_callbacks(execute=True):
        subscribe("bob@example.com", scope.main_en)
    with django_capture_on_commit_callbacks(execute=True):
        carl = make_customer("carl@example.com", "Carl", "Cole")
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(carl, [(shirt, 1)], scope.main_en)
    with django_capture_on_commit_callbacks(execute=True):
        guest = place_order("gus@example.com", [(shirt, 2)], scope.main_en)
    with django_capture_on_commit_callbacks(execute=True):
        dan = make_customer("dan@example.com", "Dan", "Dee")
    with django_capture_on_commit_callbacks(execute=True):
        make_review(shirt, dan, 4, store=scope.main_en)
    with django_capture_on_commit_callbacks(execute=True):
        eve = make_customer("eve@example.com", "Eve", "Eck")
    with django_capture_on_commit_callbacks(execute=True):
        wishlist = make_wishlist(eve, [shirt, make_product("Mug", "5.00")])
    with django_capture_on_commit_callbacks(execute=True):
        order.save()  # saved again: no second row
    queued = rows()
    assert {(t, e): (a.type_id, a.enrolment_status) for (t, e), a in queued.items()} == {
        (T.CUSTOMER, "ann@example.com"): (str(ann.pk), S.PENDING),
        (T.SUBSCRIBER, "bob@example.com"): (
            str(queued[(T.SUBSCRIBER, "bob@example.com")].type_id),
            S.PENDING,
        ),
        (T.ORDER, "carl@example.com"): (str(order.number), S.PENDING),
        (T.FIRST_ORDER, "carl@example.com"): (str(order.number), S.PENDING),
        (T.GUEST_ORDER, "gus@example.com"): (str(guest.number), S.PENDING),
        (T.REVIEW, "dan@example.com"): (queued[(T.REVIEW, "dan@example.com")].type_id, S.PENDING),
        (T.WISHLIST, "eve@example.com"): (str(wishlist.pk), S.PENDING),
    }

    first_run = run()  # the orders' insight records are not on the platform yet: order types wait
    assert first_run.counts["main"]["waiting_order"] == 3
    assert {a.automation_type for a in Automation.objects.filter(enrolment_status=S.ACTIVE)} == {
        T.CUSTOMER,
        T.SUBSCRIBER,
        T.REVIEW,
        T.WISHLIST,
    }
    sync_orders(clock)
    run()
    run()  # nothing new
    assert set(Automation.objects.values_list("enrolment_status", flat=True)) == {S.ACTIVE}
    assert enrolled(sandbox, account) == {
        (first, "ann@example.com"): 1,
        (first, "bob@example.com"): 1,
        (first, "carl@example.com"): 1,
        (second, "carl@example.com"): 1,
        (first, "gus@example.com"): 1,
        (first, "dan@example.com"): 1,
        (first, "eve@example.com"): 1,
    }
    assert all(a.enrolment_id and a.platform_contact_id for a in Automation.objects.all())
    contacts = sandbox.contacts(account.username)
    carl_fields = contacts["carl@example.com"]["data_fields"]
    assert str(carl_fields["LAST_INCREMENT_ID"]) == str(order.number)  # the order's data fields went first


def test_a_programme_that_is_not_active_ends_deactivated(
    scope, sandbox, platform, clock, django_capture_on_commit_callbacks
):
    account, (first, _), draft = platform
    store_settings(scope.main_en, programme_order_id=draft, programme_guest_order_id=first)
    with django_capture_on_commit_callbacks(execute=True):
        carl = make_customer("carl@example.com", "Carl", "Cole")
    shirt = make_product("Shirt", "19.99")
    with django_capture_on_commit_callbacks(execute=True):
        place_order(carl, [(shirt, 1)], scope.main_en)
    with django_capture_on_commit_callbacks(execute=True):
        place_order("gus@example.com", [(shirt, 1)], scope.main_en)
    sync_orders(clock)
    run()
    got = rows()
    carl_row = got[(T.ORDER, "carl@example.com")]
    assert (carl_row.enrolment_status, carl_row.enrolment_id) == (S.DEACTIVATED, "")
    assert "ERROR_PROGRAM_NOT_ACTIVE" in carl_row.message
    assert got[(T.GUEST_ORDER, "gus@example.com")].enrolment_status == S.ACTIVE
    assert enrolled(sandbox, account) == {(first, "gus@example.com"): 1}
    run()
    assert rows()[(T.ORDER, "carl@example.com")].enrolment_status == S.DEACTIVATED


def test_order_status_programme_and_no_row_without_a_programme(
    scope, sandbox, platform, clock, django_capture_on_commit_callbacks
):
    account, (first, _), _ = platform
    store_settings(scope.main_en, programme_order_status="complete", programme_order_status_id=first)
    with django_capture_on_commit_callbacks(execute=True):
        carl = make_customer("carl@example.com", "Carl", "Cole")
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(carl, [(make_product("Shirt", "19.99"), 1)], scope.main_en)
    assert not Automation.objects.exists()  # no programme for orders, first orders; not complete yet
    with django_capture_on_commit_callbacks(execute=True):
        set_order_status(order, "complete")
    with django_capture_on_commit_callbacks(execute=True):
        order.save()
    [row] = Automation.objects.all()
    assert (row.automation_type, row.type_id, row.program_id) == (
        "order_automation_complete",
        str(order.number),
        str(first),
    )
    sync_orders(clock)
    run()
    assert enrolled(sandbox, account) == {(first, "carl@example.com"): 1}


def test_pending_opt_in_is_confirmed_or_expires(
    scope, sandbox, platform, clock, django_capture_on_commit_callbacks
):
    from oscar.apps.customer.signals import user_registered

    account, (first, _), _ = platform
    store_settings(scope.main_en, programme_customer_id=first)
    for email in ("ann@example.com", "ida@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            user = make_customer(email)
        with django_capture_on_commit_callbacks(execute=True):  # double opt-in: awaiting confirmation
            subscribe(email, scope.main_en, SubscriberStatus.UNCONFIRMED, customer=user)
        with django_capture_on_commit_callbacks(execute=True):
            user_registered.send(sender=None, request=store_request(scope.main_en, user), user=user)
    run()
    assert {e: a.enrolment_status for (_, e), a in rows().items()} == {
        "ann@example.com": S.PENDING_OPT_IN,
        "ida@example.com": S.PENDING_OPT_IN,
    }
    assert enrolled(sandbox, account) == {}  # nothing enrolled while awaiting the opt-in

    clock.move_to(T0 + timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        subscribe("ann@example.com", scope.main_en, SubscriberStatus.SUBSCRIBED)  # Ann confirms
    result = pending_contacts.JOB.run(RunContext.resolve())
    assert not result.errors and result.counts["main"] == {"confirmed": 1}
    assert rows()[(T.CUSTOMER, "ann@example.com")].enrolment_status == S.CONFIRMED
    run()
    assert enrolled(sandbox, account) == {(first, "ann@example.com"): 1}

    clock.move_to(T0 + timedelta(hours=25))
    pending_contacts.JOB.run(RunContext.resolve())
    assert rows()[(T.CUSTOMER, "ida@example.com")].enrolment_status == S.EXPIRED
    run()
    assert enrolled(sandbox, account) == {(first, "ann@example.com"): 1}


def _queue(scope: Any, programme: int, email: str, type_id: str, **fields: Any) -> Automation:
    Contact.objects.get_or_create(website=scope.main, email=email, defaults={"store": scope.main_en})
    fields.setdefault("automation_type", T.CUSTOMER)
    return Automation.objects.create(
        email=email,
        type_id=type_id,
        program_id=str(programme),
        website=scope.main,
        store=scope.main_en,
        **fields,
    )


def test_batches_of_at_most_25_contacts_and_a_suppressed_contact_fails(scope, sandbox, platform):
    account, (first, _), _ = platform
    for i in range(30):
        _queue(scope, first, f"c{i:02}@example.com", str(i))
    _queue(scope, first, "gone@example.com", "gone")
    sandbox.suppress("gone@example.com", account=account.username)
    run()
    calls = sandbox.account(account.username)["enrolments"]
    assert sorted(len(e["enrolled"]) for e in calls) == [5, 25]
    assert set(enrolled(sandbox, account).values()) == {1} and len(enrolled(sandbox, account)) == 30
    gone = Automation.objects.get(email="gone@example.com")
    assert (gone.enrolment_status, gone.fail_reason) == (S.FAILED, R.SUPPRESSED)


def test_an_interrupted_enrolment_is_looked_up_never_made_twice(scope, sandbox, platform):
    account, (first, _), _ = platform
    made = _queue(scope, first, "made@example.com", "1")
    lost = _queue(scope, first, "lost@example.com", "2")
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        ids = {e: client.upsert_contact(e)["id"] for e in ("made@example.com", "lost@example.com")}
        call = client.enrol(first, [ids["made@example.com"]])  # the call went out, the run died
    claimed = timezone.now()
    for row in (made, lost):  # both claimed; only the first call reached the platform
        Automation.objects.filter(pk=row.pk).update(
            enrolment_status=S.PROCESSING, claimed_at=claimed, platform_contact_id=ids[row.email]
        )
    result = run()
    assert result.counts["main"]["recovered"] == 1 and result.counts["main"]["requeued"] == 1
    made.refresh_from_db()
    assert (made.enrolment_status, made.enrolment_id) == (S.ACTIVE, call["id"])
    assert Automation.objects.get(pk=lost.pk).enrolment_status == S.ACTIVE
    assert enrolled(sandbox, account) == {(first, "made@example.com"): 1, (first, "lost@example.com"): 1}


def test_a_contact_the_platform_holds_as_pending_opt_in_is_not_enrolled(scope, sandbox, platform):
    account, (first, _), _ = platform
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        client.upsert_contact("dot@example.com", opt_in_type="Double")  # awaits the platform's opt-in email
    row = _queue(scope, first, "dot@example.com", "1")
    assert run().counts["main"] == {"pending_opt_in": 1}
    row.refresh_from_db()
    assert (row.enrolment_status, row.claimed_at) == (S.PENDING_OPT_IN, None)
    result = pending_contacts.JOB.run(RunContext.resolve())  # still pending on the platform: waits
    assert not result.errors and Automation.objects.get(pk=row.pk).enrolment_status == S.PENDING_OPT_IN
    assert enrolled(sandbox, account) == {}


def test_abandoned_cart_programme_rows_enrol_with_the_basket_and_an_emptied_basket_is_cancelled(
    scope, sandbox, platform
):
    account, (first, _), _ = platform
    for quote_id, email, items in ((501, "full@example.com", 2), (502, "empty@example.com", 0)):
        Quote.objects.create(
            website=scope.main, store=scope.main_en, quote_id=quote_id, email=email, item_count=items
        )
        _queue(scope, first, email, str(quote_id), automation_type=T.ABANDONED_CART)
    run()
    got = {a.email: (a.enrolment_status, a.fail_reason) for a in Automation.objects.all()}
    assert got == {
        "full@example.com": (S.ACTIVE, R.NONE),
        "empty@example.com": (S.CANCELLED, R.EMPTY_BASKET),
    }
    assert enrolled(sandbox, account) == {(first, "full@example.com"): 1}
    fields = sandbox.contacts(account.username)["full@example.com"]["data_fields"]
    assert str(fields["LAST_QUOTE_ID"]) == "501"


def test_admin_grid_filters_shows_the_platform_message_and_retries_or_cancels(scope, staff, admin_act):
    from django.urls import reverse

    failed = _queue(
        scope,
        1,
        "f@example.com",
        "1",
        enrolment_status=S.FAILED,
        fail_reason=R.ENROL_REFUSED,
        message="Nope.",
    )
    review = _queue(scope, 1, "r@example.com", "2", enrolment_status=S.REVIEW, fail_reason=R.UNCONFIRMED)
    waiting = _queue(scope, 1, "w@example.com", "3")
    active = _queue(scope, 1, "a@example.com", "4", enrolment_status=S.ACTIVE, enrolment_id="x")
    url = reverse("admin:dotsync_automation_changelist")

    page = staff.get(url, {"enrolment_status__exact": S.FAILED})
    assert page.status_code == 200
    assert (
        b"f@example.com" in page.content and b"Nope." in page.content and b"w@example.com" not in page.content
    )

    assert admin_act(url, "retry_enrolments", failed, review, active).status_code == 200
    status = {a.email: (a.enrolment_status, a.fail_reason) for a in Automation.objects.all()}
    assert status == {
        "f@example.com": (S.PENDING, R.NONE),
        "r@example.com": (S.PENDING, R.NONE),
        "w@example.com": (S.PENDING, R.NONE),
        "a@example.com": (S.ACTIVE, R.NONE),  # an active row is never enrolled again
    }
    admin_act(url, "cancel_enrolments", waiting, active)
    assert Automation.objects.get(pk=waiting.pk).enrolment_status == S.CANCELLED
    assert Automation.objects.get(pk=waiting.pk).fail_reason == R.CANCELLED
    assert Automation.objects.get(pk=active.pk).enrolment_status == S.ACTIVE

"""SMS order-status messages end to end: the real Oscar shop, its observers on commit, the ``sms`` job and
the sandbox over real HTTP, which records every SMS it accepts (``SandboxControl.account(user)["sms"]``).

Orders are placed with Oscar's ``OrderCreator`` and moved with ``Order.set_status`` (the dashboard's
way). The clock is moved with time-machine. The sandbox accepts any number of digits, so the two
refusals it cannot produce for a valid number (``ERROR_SMS_SENDNOTPERMITTED``, and
``ERROR_SMS_INVALIDPHONENUMBER`` for a number that passes dotsync's own check) are raised by a stand-in
for the client's call, said so where it happens; the invalid-number answer itself is also checked over
real HTTP. A run killed between its claim and its outcome is played in process by an exception that no
code catches (``Killed``), raised before or after the real call.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from dotsync import config
from dotsync.accounts import RunContext
from dotsync.config import get_config, get_store_config
from dotsync.exceptions import ValidationError
from dotsync.jobs import registry, sms
from dotsync.jobs.base import JobResult
from dotsync.models import Contact, SmsFailReason, SmsOrderQueue, SmsStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.shop import make_customer, make_product, place_order, set_order_status, subscribe
from tests.jobs.batch_helpers import store_settings

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-03-02 09:00:00+00:00")
S = SmsStatus
R = SmsFailReason
SHIPPED = "Hi {{var customer_first_name}}, order {{var order_number}} is on its way. {{ var customer_name }}"
SETTINGS = {
    "sms_enabled": True,
    "sms_1_enabled": True,
    "sms_1_status": "Complete",  # compared without case with Oscar's "complete"
    "sms_1_message": SHIPPED,
    "sms_2_enabled": True,
    "sms_2_status": "processing",
    "sms_2_message": "Order {{var order_number}} is being prepared.",
    "sms_3_enabled": False,
    "sms_3_status": "complete",
    "sms_3_message": "switched off: never sent",
}
UK_MOBILE = "+447911123456"


@pytest.fixture
def clock() -> Iterator[Any]:
    """time-machine frozen at ``T0`` (no tick); move it with ``shift``."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def act(admin_client: Any, action: str, *rows: SmsOrderQueue) -> Any:
    """Run the grid's admin action ``action`` on ``rows`` as pytest-django's superuser ``admin_client``."""
    url = reverse("admin:dotsync_smsorderqueue_changelist")
    return admin_client.post(
        url, {"action": action, "_selected_action": [str(r.pk) for r in rows]}, follow=True
    )


class Killed(BaseException):
    """The process dying at that point: nothing in dotsync catches it."""


@pytest.fixture
def account(scope: Any, sandbox: Any, clock: Any) -> Any:
    """The main website on a fresh sandbox account; its English store texts on complete and processing."""
    account = configure_websites(sandbox, [scope.main], max_retries=0, timeout=1)["main"]
    store_settings(scope.main_en, **SETTINGS)
    return account


def texts(sandbox: Any, account: Any) -> list[tuple[str, str]]:
    """Every SMS the sandbox accepted for the account: (number, text)."""
    return [(s["telephone"], s["message"]) for s in sandbox.account(account.username)["sms"]]


def run(limit: int = sms.SEND_LIMIT) -> JobResult:
    return sms.JOB.run(RunContext.resolve(), limit=limit)


def order_for(
    scope: Any,
    capture: Any,
    email: str = "ann@example.com",
    phone: str = UK_MOBILE,
    country: str = "GB",
    *,
    subscribed: bool = True,
    guest: bool = False,
) -> Any:
    """An order by a customer (or a guest) with that phone on the delivery address, in store main_en."""
    address = {"phone_number": phone, "country": country}
    with capture(execute=True):
        buyer = email if guest else make_customer(email, "Ann", "Archer", address=address)
        if subscribed:
            subscribe(email, scope.main_en)
        return place_order(
            buyer,
            [(make_product("Shirt", "19.99"), 1)],
            scope.main_en,
            address=address,
            guest_name=("Gil", "Gray"),
        )


def move(capture: Any, order: Any, status: str) -> None:
    with capture(execute=True):
        set_order_status(order, status)


def rows(order: Any) -> dict[tuple[str, int], SmsOrderQueue]:
    return {(r.order_status, r.slot): r for r in SmsOrderQueue.objects.filter(order_id=order.pk)}


# --- end to end -----------------------------------------------------------------------------------------


def test_an_order_reaching_a_configured_status_sends_one_sms_and_only_one(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = order_for(scope, capture)
    assert not SmsOrderQueue.objects.exists()  # placed as "pending": no slot for it
    move(capture, order, "complete")  # through "processing": each status reached is texted once

    assert set(rows(order)) == {("processing", 2), ("complete", 1)}  # the switched-off slot 3 is not queued
    result = run()
    assert not result.errors and result.counts["main"]["sent"] == 2
    assert sorted(texts(sandbox, account)) == sorted(
        [
            ("447911123456", f"Order {order.number} is being prepared."),
            ("447911123456", f"Hi Ann, order {order.number} is on its way. Ann Archer"),
        ]
    )
    done = rows(order)[("complete", 1)]
    assert (done.send_status, done.telephone, done.truncated) == (S.SENT, UK_MOBILE, False)
    assert done.claimed_at and done.sent_at and done.text.endswith("Ann Archer")

    run()  # again: nothing new
    with django_capture_on_commit_callbacks(execute=True):
        order.save()  # a save is not a status reached
    move(capture, order, "closed")  # no slot for "closed"
    run()
    assert len(texts(sandbox, account)) == 2 and SmsOrderQueue.objects.count() == 2


def test_at_most_the_limit_per_run_oldest_first(scope, sandbox, account, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first = order_for(scope, capture)
    second = order_for(scope, capture, "bob@example.com", "+447911000111")
    move(capture, first, "processing")
    move(capture, second, "processing")
    assert run(limit=1).counts["main"]["sent"] == 1
    assert [rows(o)[("processing", 2)].send_status for o in (first, second)] == [S.SENT, S.PENDING]
    run(limit=1)
    assert len(texts(sandbox, account)) == 2


def test_an_order_reaching_the_same_status_again_is_not_texted_again(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = order_for(scope, capture)
    move(capture, order, "processing")
    run()
    move(capture, order, "holded")
    move(capture, order, "processing")  # back in "processing": the (order, status, slot) row exists
    run()
    assert texts(sandbox, account) == [("447911123456", f"Order {order.number} is being prepared.")]


def test_a_guest_with_a_foreign_number_in_national_form_is_texted_in_e164_by_the_address_name(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = order_for(scope, capture, "gil@example.fr", "06 12 34 56 78", "FR", guest=True)
    move(capture, order, "complete")
    run()
    assert sorted(texts(sandbox, account)) == [
        (
            "33612345678",
            f"Hi Gil, order {order.number} is on its way. Gil Gray",
        ),  # the billing address's name
        ("33612345678", f"Order {order.number} is being prepared."),
    ]
    assert rows(order)[("processing", 2)].telephone == "+33612345678"


def test_the_status_an_order_is_placed_in_is_reached_too(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    store_settings(
        scope.main_en,
        **SETTINGS,
        sms_4_enabled=True,
        sms_4_status="pending",
        sms_4_message="Thanks {{var customer_first_name}}, we have order {{var order_number}}.",
    )
    order = order_for(scope, django_capture_on_commit_callbacks)
    assert set(rows(order)) == {("pending", 4)}
    run()
    assert texts(sandbox, account) == [("447911123456", f"Thanks Ann, we have order {order.number}.")]


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("12345", R.INVALID_NUMBER),  # too short for any country
        ("+447700900123", R.INVALID_NUMBER),  # Ofcom's drama range: no real number
        ("+442071234567", R.NOT_MOBILE),  # a London landline
        ("", R.NO_NUMBER),
    ],
)
def test_an_order_without_a_mobile_number_fails_its_row_with_the_reason_and_sends_nothing(
    scope, sandbox, account, django_capture_on_commit_callbacks, phone, reason
):
    capture = django_capture_on_commit_callbacks
    order = order_for(scope, capture, phone=phone)
    move(capture, order, "processing")
    result = run()
    row = rows(order)[("processing", 2)]
    assert (row.send_status, row.fail_reason, row.telephone, row.claimed_at) == (S.FAILED, reason, "", None)
    assert result.counts["main"][reason.value] == 1
    assert texts(sandbox, account) == []


def test_opt_in_subscribers_only_unless_the_store_sends_to_all(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    unsubscribed = order_for(scope, capture, "ned@example.com", subscribed=False)
    suppressed = order_for(scope, capture, "sam@example.com", "+447911654321")
    assert Contact.objects.filter(website=scope.main, email="sam@example.com").update(suppressed=True) == 1
    move(capture, unsubscribed, "processing")
    move(capture, suppressed, "processing")
    run()
    assert texts(sandbox, account) == []
    for order in (unsubscribed, suppressed):
        row = rows(order)[("processing", 2)]
        assert (row.send_status, row.fail_reason) == (S.SKIPPED, R.NOT_OPTED_IN)

    store_settings(scope.main_en, **SETTINGS, sms_opt_in="all")
    move(capture, unsubscribed, "complete")
    run()
    assert texts(sandbox, account) == [
        ("447911123456", f"Hi Ann, order {unsubscribed.number} is on its way. Ann Archer")
    ]


def test_an_unsubscribe_after_the_status_change_is_respected(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = order_for(scope, capture)
    move(capture, order, "processing")
    subscribe("ann@example.com", scope.main_en, status=3)  # unsubscribed before the job ran
    run()
    assert rows(order)[("processing", 2)].fail_reason == R.NOT_OPTED_IN and texts(sandbox, account) == []


def test_nothing_is_queued_when_sms_is_off_and_a_message_switched_off_later_is_skipped(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    store_settings(scope.main_en, **{**SETTINGS, "sms_enabled": False})
    order = order_for(scope, capture)
    move(capture, order, "processing")
    assert not SmsOrderQueue.objects.exists()
    store_settings(scope.main_en, **SETTINGS)
    move(capture, order, "complete")
    store_settings(scope.main_en, **{**SETTINGS, "sms_1_enabled": False})
    run()
    assert rows(order)[("complete", 1)].fail_reason == R.SWITCHED_OFF and texts(sandbox, account) == []
    other = order_for(scope, capture, "bob@example.com", "+447911000111")
    move(capture, other, "processing")
    store_settings(scope.main_en, **{**SETTINGS, "sms_2_status": "holded"})  # slot 2 now texts another status
    run()
    assert rows(other)[("processing", 2)].fail_reason == R.SWITCHED_OFF and texts(sandbox, account) == []


def test_a_long_message_is_cut_to_the_platform_limit_without_splitting_a_character(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    store_settings(scope.main_en, **{**SETTINGS, "sms_2_message": "{{var order_number}} " + "👍🏽" * 800})
    order = order_for(scope, capture)
    move(capture, order, "processing")
    run()
    [(_, text)] = texts(sandbox, account)
    row = rows(order)[("processing", 2)]
    assert row.truncated and text == row.text
    assert text.startswith(str(order.number)) and text.endswith("👍🏽")  # whole emoji with its skin tone
    assert len(text.encode("utf-16-le")) // 2 <= sms.MAX_TEXT


# --- platform answers and interrupted runs ---------------------------------------------------------------


def test_the_platform_refusing_a_number_fails_the_row_with_its_answer(scope, sandbox, account):
    """Over real HTTP: the sandbox answers 400 ``ERROR_SMS_INVALIDPHONENUMBER`` for a number it rejects."""
    row = SmsOrderQueue.objects.create(
        website=scope.main, store=scope.main_en, order_id=1, order_status="complete", slot=1
    )
    result = JobResult("sms")
    cfg = get_config(scope.main)
    with DotdigitalClient(cfg.api_user, cfg.api_password, base_url=sandbox.url) as client:
        assert sms.send(row, sms.Prepared("+12", "Hello", False), client, result, "main")
    row.refresh_from_db()
    assert (row.send_status, row.fail_reason) == (S.FAILED, R.PLATFORM_INVALID_NUMBER)
    assert "ERROR_SMS_INVALIDPHONENUMBER" in row.message and texts(sandbox, account) == []


@pytest.mark.parametrize(
    ("code", "reason", "sent_after"),
    [
        ("ERROR_SMS_INVALIDPHONENUMBER", R.PLATFORM_INVALID_NUMBER, 1),
        ("ERROR_SMS_SENDNOTPERMITTED", R.NOT_PERMITTED, 0),
    ],
)
def test_refusals_are_recorded_on_the_row_and_no_credit_stops_the_run(
    scope, sandbox, account, django_capture_on_commit_callbacks, monkeypatch, code, reason, sent_after
):
    capture = django_capture_on_commit_callbacks
    first = order_for(scope, capture)
    second = order_for(scope, capture, "bob@example.com", "+447911000111")
    move(capture, first, "processing")
    move(capture, second, "processing")
    real = DotdigitalClient.send_sms
    calls: list[str] = []

    def refuse_first(self: DotdigitalClient, telephone: str, message: str) -> dict[str, Any]:
        calls.append(telephone)
        if len(calls) == 1:  # the sandbox cannot refuse a valid number: the client's error for its 400
            raise ValidationError(f"Refused. {code}", status_code=400, error_code=code, operation="sms.send")
        return real(self, telephone, message)

    monkeypatch.setattr(DotdigitalClient, "send_sms", refuse_first)
    result = run()
    refused = rows(first)[("processing", 2)]
    assert (refused.send_status, refused.fail_reason, refused.message) == (
        S.FAILED,
        reason,
        f"Refused. {code}",
    )
    assert len(texts(sandbox, account)) == sent_after
    assert rows(second)[("processing", 2)].send_status == (S.SENT if sent_after else S.PENDING)
    assert bool(result.errors) is (reason is R.NOT_PERMITTED)


def test_a_timeout_may_have_sent_so_the_row_awaits_review_and_a_503_requeues_it(
    scope, sandbox, account, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = order_for(scope, capture)
    move(capture, order, "processing")
    # the sandbox hangs past the client's 1 s timeout: the call may have reached the platform
    sandbox.set_faults(timeout_next=1, timeout_seconds=2, paths=["/v2/sms-messages"])
    result = run()
    row = rows(order)[("processing", 2)]
    assert (row.send_status, row.fail_reason) == (S.REVIEW, R.UNCONFIRMED) and result.counts["main"][
        "interrupted"
    ]
    run()
    assert rows(order)[("processing", 2)].send_status == S.REVIEW  # never sent blind

    move(capture, order, "complete")
    sandbox.set_faults(fail_next=1, error_status=503, paths=["/v2/sms-messages"])  # no retries here
    run()
    assert rows(order)[("complete", 1)].send_status == S.PENDING  # 503: the platform refused it
    run()
    assert rows(order)[("complete", 1)].send_status == S.SENT
    assert len(texts(sandbox, account)) == 1


@pytest.mark.parametrize("after_call", [False, True])
def test_a_run_killed_between_claim_and_outcome_never_sends_again_on_its_own(
    scope,
    sandbox,
    account,
    clock,
    django_capture_on_commit_callbacks,
    monkeypatch,
    admin_client,
    after_call,
):
    capture = django_capture_on_commit_callbacks
    order = order_for(scope, capture)
    move(capture, order, "processing")
    real = DotdigitalClient.send_sms

    def dies(self: DotdigitalClient, telephone: str, message: str) -> dict[str, Any]:
        if after_call:
            real(self, telephone, message)
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(DotdigitalClient, "send_sms", dies)
        with pytest.raises(Killed):
            run()
    row = rows(order)[("processing", 2)]
    assert row.send_status == S.SENDING and row.telephone == UK_MOBILE
    delivered = 1 if after_call else 0
    clock.shift(sms.CLAIM_TIMEOUT - timedelta(seconds=1))
    run()  # the claim may still be a slow run's: left alone
    assert rows(order)[("processing", 2)].send_status == S.SENDING
    clock.shift(timedelta(seconds=2))
    assert run().counts["main"]["review"] == 1
    row = rows(order)[("processing", 2)]
    assert (row.send_status, row.fail_reason) == (S.REVIEW, R.UNCONFIRMED)
    run()
    assert len(texts(sandbox, account)) == delivered  # never sent blind

    # the operator's decision (the admin grid's Retry): it did not go
    assert act(admin_client, "retry_sms", row).status_code == 200
    run()
    assert rows(order)[("processing", 2)].send_status == S.SENT
    assert len(texts(sandbox, account)) == delivered + 1


def test_the_admin_grid_lists_rows_and_cancels_pending_ones(scope, account, admin_client):
    pending = SmsOrderQueue.objects.create(
        website=scope.main,
        store=scope.main_en,
        order_id=1,
        order_number="100001",
        order_status="complete",
        slot=1,
    )
    sent = SmsOrderQueue.objects.create(
        website=scope.main,
        store=scope.main_en,
        order_id=2,
        order_status="complete",
        slot=1,
        send_status=S.SENT,
    )
    url = reverse("admin:dotsync_smsorderqueue_changelist")
    page = admin_client.get(url, {"send_status": "pending"})
    assert page.status_code == 200 and b"100001" in page.content
    act(admin_client, "cancel_sms", pending, sent)
    pending.refresh_from_db()
    sent.refresh_from_db()
    assert (pending.send_status, pending.fail_reason, sent.send_status) == (S.FAILED, R.CANCELLED, S.SENT)
    assert run().total("sent") == 0


# --- settings, phone numbers, text ------------------------------------------------------------------------


def test_a_message_with_an_unknown_placeholder_is_a_problem_naming_the_store_row(scope):
    store_settings(scope.main_en, sms_1_message="Hi {{var first_name}}")
    scfg = get_store_config(scope.main_en)
    assert any("sms_1_message" in p and "first_name" in p for p in scfg.row_problems)
    store_settings(scope.main_en, sms_1_message="Hi {{customer_name}}")  # not written {{var name}}
    assert get_store_config(scope.main_en).row_problems
    store_settings(scope.main_en, sms_opt_in="everyone")
    assert get_store_config(scope.main_en).row_problems
    store_settings(scope.main_en, sms_1_message="Hi {{ var customer_name }}", sms_opt_in="all")
    assert not get_store_config(scope.main_en).row_problems
    assert config.DEFAULTS["sms_opt_in"] == "subscribers" and config.DEFAULTS["sms_enabled"] is False


def test_the_job_is_registered_with_its_frequency():
    assert registry.JOBS["sms"] is sms.JOB
    assert config.DEFAULT_JOB_FREQUENCIES["sms"] == sms.JOB.default_frequency


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+33 6 12 34 56 78", "", ("+33612345678", R.NONE)),
        ("0033 6 12 34 56 78", "GB", ("+33612345678", R.NONE)),
        ("07911 123456", "GB", ("+447911123456", R.NONE)),
        ("+1 415 555 2671", "", ("+14155552671", R.NONE)),  # US: fixed line or mobile, may take SMS
        ("0800 123 4567", "GB", ("", R.NOT_MOBILE)),  # toll-free
        ("07911 123456", "", ("", R.INVALID_NUMBER)),  # national, and no country to read it in
        ("not a number", "GB", ("", R.INVALID_NUMBER)),
        ("  ", "GB", ("", R.NO_NUMBER)),
    ],
)
def test_e164(raw, country, expected):
    assert sms.e164(raw, country) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("hello", 5, ("hello", False)),
        ("hello!", 5, ("hello", True)),
        ("ab😀", 3, ("ab", True)),  # the emoji takes two UTF-16 units: it does not fit
        ("ab😀", 4, ("ab😀", False)),
        ("abe\u0301", 3, ("ab", True)),  # e + combining acute: not cut between them
        ("a👍🏽", 3, ("a", True)),  # thumbs up + skin tone: 4 units, never split
        ("a👩\u200d💻", 4, ("a", True)),  # woman + joiner + laptop
        ("a🇫🇷🇬🇧", 5, ("a🇫🇷", True)),  # flags: pairs of regional indicators
        ("a🇫🇷🇬🇧", 7, ("a🇫🇷", True)),
        ("ab c", 3, ("ab", True)),  # no dangling space
    ],
)
def test_truncate(text, limit, expected):
    assert sms.truncate(text, limit) == expected


def test_render_fills_known_placeholders():
    values = {"customer_name": "Ann Archer", "customer_first_name": "Ann", "order_number": "100001"}
    assert sms.render(
        "Hi {{var customer_first_name}} ({{ var  customer_name }}): {{var order_number}}", values
    ) == ("Hi Ann (Ann Archer): 100001")

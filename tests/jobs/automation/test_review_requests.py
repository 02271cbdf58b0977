"""The ``review_requests`` job on the real Oscar shop: orders placed and moved through Oscar's status
pipeline (``set_status`` records ``OrderStatusChange``), observers on commit, the clock moved with
time-machine. Each qualifying order queues one ``Order Review`` row, after the delay from its status change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from dotsync.jobs.automation import review_requests
from dotsync.models import AutomationWindow, Campaign, CampaignEvent
from dotsync.models.automation import CampaignSendStatus
from dotsync.testing.shop import make_customer, make_product, place_order, set_order_status
from tests.jobs.batch_helpers import contact, store_settings

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-02-02 09:00:00+00:00")
REVIEWS = {
    "review_enabled": True,
    "review_order_status": "complete",
    "review_delay_days": 1,
    "review_campaign_id": 77,
    "review_allow_non_subscribers": True,
}


def run() -> Any:
    result = review_requests.run()
    assert not result.errors, result.errors
    return result


def requests_for(order: Any) -> list[Campaign]:
    return list(
        Campaign.objects.filter(event_name=CampaignEvent.ORDER_REVIEW, order_increment_id=str(order.number))
    )


@pytest.fixture
def late_order(main: Any, clock: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Carol's order placed ten days ago, completed (shipped late) one hour after T0."""
    store_settings(main.main_en, **REVIEWS)
    carol = make_customer("carol@example.com", "Carol", "Cook")
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(
            carol, [(make_product("Shirt", "19.99"), 1)], main.main_en, placed_at=T0 - timedelta(days=10)
        )
    return order


def test_one_request_per_order_after_the_delay_from_the_status_change(
    late_order, clock, django_capture_on_commit_callbacks
):
    run()  # T0: still pending
    clock.move_to(T0 + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        set_order_status(late_order, "complete")
    run()
    clock.move_to(T0 + timedelta(hours=1, days=1) - timedelta(seconds=1))
    run()
    assert requests_for(late_order) == []
    clock.move_to(T0 + timedelta(hours=1, days=1))
    result = run()
    assert result.total("review_requests") == 1
    [row] = requests_for(late_order)
    assert (row.campaign_id, row.email, row.store_id, row.send_status) == (
        77,
        "carol@example.com",
        late_order.site.dotsync_store.pk,
        CampaignSendStatus.PENDING,
    )
    assert row.customer_id == late_order.user_id and row.quote_id == late_order.basket_id
    # never twice: stacked, later, and even with the windows forgotten
    run()
    clock.shift(timedelta(days=3))
    run()
    AutomationWindow.objects.all().delete()
    clock.move_to(T0 + timedelta(hours=1, days=1, minutes=30))
    run()
    assert len(requests_for(late_order)) == 1


def test_an_order_not_in_the_status_is_not_asked(late_order, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        set_order_status(late_order, "processing")
    for days in (1, 2, 11):
        clock.move_to(T0 + timedelta(days=days))
        run()
    assert requests_for(late_order) == []


def test_without_a_status_change_the_delay_counts_from_date_placed(
    main, clock, django_capture_on_commit_callbacks
):
    store_settings(main.main_en, **{**REVIEWS, "review_order_status": "pending", "review_delay_days": 2})
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order("guest@example.com", [(make_product("Mug", "8.00"), 1)], main.main_en)
    run()
    clock.move_to(T0 + timedelta(days=2))
    run()
    [row] = requests_for(order)
    assert (row.email, row.customer_id) == ("guest@example.com", None)


def test_subscribers_only_unless_non_subscribers_are_allowed(main, clock, django_capture_on_commit_callbacks):
    store_settings(main.main_en, **{**REVIEWS, "review_allow_non_subscribers": False})
    contact(main.main_en, "sub@example.com", guest=True, subscriber_status=1)
    with django_capture_on_commit_callbacks(execute=True):
        subscribed = place_order("sub@example.com", [(make_product("Mug", "8.00"), 1)], main.main_en)
        other = place_order("other@example.com", [(make_product("Cup", "6.00"), 1)], main.main_en)
    run()
    with django_capture_on_commit_callbacks(execute=True):
        set_order_status(subscribed, "complete")
        set_order_status(other, "complete")
    clock.move_to(T0 + timedelta(days=1))
    result = run()
    assert len(requests_for(subscribed)) == 1 and requests_for(other) == []
    assert result.total("not_subscribed") == 1


def test_switched_off_or_without_a_campaign_nothing_is_queued(late_order, clock, main):
    store_settings(main.main_en, **{**REVIEWS, "review_campaign_id": None})
    clock.move_to(T0 + timedelta(days=20))
    run()
    assert not Campaign.objects.exists()


def test_orders_that_qualified_while_requests_were_off_are_not_asked_later(
    late_order, clock, main, django_capture_on_commit_callbacks
):
    run()  # T0: the window exists
    store_settings(main.main_en, **{**REVIEWS, "review_enabled": False})
    clock.move_to(T0 + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        set_order_status(late_order, "complete")
    clock.move_to(T0 + timedelta(days=2))
    run()
    store_settings(main.main_en, **REVIEWS)
    clock.shift(timedelta(minutes=15))
    run()
    assert requests_for(late_order) == []

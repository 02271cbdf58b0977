"""The ``abandoned_carts`` job on the real Oscar shop: baskets change through Oscar, the observers write
``email_quote`` on commit, the clock moves with time-machine, and the job queues ``email_campaign`` rows.

Settings come from the store scope (``dotsync_store_config``) over the website's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from oscar.core.loading import get_class

from dotsync import links
from dotsync.jobs.automation import abandoned_carts
from dotsync.jobs.queue import Envelope
from dotsync.models import (
    AbandonedCart,
    Automation,
    Campaign,
    CampaignEvent,
    Importer,
    Quote,
)
from dotsync.models.automation import CampaignSendStatus
from dotsync.testing.shop import make_basket, make_customer, store_request
from tests.jobs.batch_helpers import contact, store_settings

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-01-05 10:00:00+00:00")
SERIES = {
    "ac_customers_enabled_1": True,
    "ac_customers_enabled_2": True,
    "ac_customers_enabled_3": True,
    "ac_customers_send_after_1": 15,
    "ac_customers_send_after_2": 2,
    "ac_customers_send_after_3": 24,
    "ac_customers_campaign_1": 11,
    "ac_customers_campaign_2": 12,
    "ac_customers_campaign_3": 13,
    "ac_allow_non_subscribers": True,
}


def steps(quote_id: int) -> list[tuple[int, int, int, str]]:
    """(series, step, campaign id, message) of the basket's Lost Basket rows, in order."""
    rows = Campaign.objects.filter(quote_id=quote_id, event_name=CampaignEvent.LOST_BASKET).order_by("id")
    return [(r.series, r.step or 0, r.campaign_id, r.message) for r in rows]


def run() -> Any:
    result = abandoned_carts.run()
    assert not result.errors, result.errors
    return result


@pytest.fixture
def carol_basket(main: Any, clock: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Carol's basket in main_en, one shirt, last changed at T0 (through the observers)."""
    from dotsync.testing.shop import make_product

    store_settings(main.main_en, **SERIES)
    carol = make_customer("carol@example.com", "Carol", "Cook")
    shirt = make_product("Shirt", "19.99")
    with django_capture_on_commit_callbacks(execute=True):
        basket = make_basket(carol, [(shirt, 1)], main.main_en)
    assert Quote.objects.get(quote_id=basket.pk).quote_updated_at == T0
    return basket


def test_customer_series_reaches_each_step_at_its_delay(carol_basket, clock):
    basket = carol_basket
    run()  # T0: the first window ends at T0 - 15 min
    clock.shift(timedelta(minutes=10))
    run()
    assert steps(basket.pk) == []
    clock.shift(timedelta(minutes=5))  # T0 + 15 min
    run()
    assert steps(basket.pk) == [(1, 1, 11, "Abandoned Cart 1")]
    row = AbandonedCart.objects.get(quote_id=basket.pk)
    assert (row.abandoned_cart_number, row.status, row.email) == (1, "Sent", "carol@example.com")
    assert row.next_due_at == T0 + timedelta(hours=2)
    clock.move_to(T0 + timedelta(hours=2) - timedelta(seconds=1))
    run()
    assert len(steps(basket.pk)) == 1
    clock.move_to(T0 + timedelta(hours=2))
    run()
    assert steps(basket.pk)[-1] == (1, 2, 12, "Abandoned Cart 2")
    clock.move_to(T0 + timedelta(hours=24))
    run()
    assert steps(basket.pk) == [
        (1, 1, 11, "Abandoned Cart 1"),
        (1, 2, 12, "Abandoned Cart 2"),
        (1, 3, 13, "Abandoned Cart 3"),
    ]
    assert set(Campaign.objects.values_list("send_status", flat=True)) == {CampaignSendStatus.PENDING}
    clock.shift(timedelta(days=3))
    run()
    assert len(steps(basket.pk)) == 3  # the series is over


def test_each_processed_basket_queues_its_cart_insight_and_data_fields(carol_basket, clock):
    clock.move_to(T0 + timedelta(minutes=15))
    run()
    queued = {(i.import_type, i.import_mode): Envelope.load(i).payload for i in Importer.objects.all()}
    insight = queued[("CartInsight", "Single")]
    assert insight["key"] == str(carol_basket.pk) and insight["email"] == "carol@example.com"
    body = insight["json"]
    assert body["cartId"] == str(carol_basket.pk)
    assert body["cartUrl"].startswith("https://main.example.com/dotsync/cart/main/")  # signed restore link
    assert links.read_token(body["cartUrl"].split("/")[-2], 3600) == carol_basket.pk
    assert body["cartPhase"] == "ORDER_PENDING"
    assert [line["name"] for line in body["lineItems"]] == ["Shirt"]
    fields = queued[("Contact", "Contact_Update")]["data_fields"]
    assert fields == {"LAST_QUOTE_ID": carol_basket.pk, "ABANDONED_PROD_NAME": "Shirt"}


def test_stacked_and_late_runs_send_exactly_once_and_step_3_never_with_step_2(carol_basket, clock):
    basket = carol_basket
    run()
    clock.move_to(T0 + timedelta(minutes=15))
    run()
    run()  # stacked over the same window
    assert len(steps(basket.pk)) == 1
    clock.move_to(T0 + timedelta(hours=30))  # late: steps 2 and 3 both due
    run()
    assert [s[1] for s in steps(basket.pk)] == [1, 2]  # step 3 waits for the next pass
    run()  # same instant: its window is empty
    assert [s[1] for s in steps(basket.pk)] == [1, 2]
    clock.shift(timedelta(minutes=5))
    run()
    run()
    assert [s[1] for s in steps(basket.pk)] == [1, 2, 3]
    # the unique key refuses a second row for the same basket, series and step, whoever writes it
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(
            campaign_id=11,
            email="carol@example.com",
            quote_id=basket.pk,
            website_id=basket_website(basket),
            event_name=CampaignEvent.LOST_BASKET,
            step=1,
            series=1,
        )


def basket_website(basket: Any) -> int:
    return Quote.objects.get(quote_id=basket.pk).website_id


def order_basket(basket: Any, store: Any) -> Any:
    """Check ``basket`` out through Oscar's ``OrderCreator`` (as checkout does), then submit it."""
    from decimal import Decimal

    order_creator = get_class("order.utils", "OrderCreator")
    calculator = get_class("checkout.calculators", "OrderTotalCalculator")
    fixed_price = get_class("shipping.methods", "FixedPrice")
    selector = get_class("partner.strategy", "Selector")
    basket.strategy = selector().strategy(user=basket.owner)
    method = fixed_price(charge_excl_tax=Decimal("4.95"), charge_incl_tax=Decimal("4.95"))
    method.name, method.code = "Standard delivery", "standard"
    shipping = method.calculate(basket)
    order = order_creator().place_order(
        basket=basket,
        total=calculator().calculate(basket, shipping),
        shipping_method=method,
        shipping_charge=shipping,
        user=basket.owner,
        site=store.site,
    )
    basket.submit()
    return order


def test_series_stops_when_the_basket_is_ordered_and_its_cart_insight_completes(
    carol_basket, clock, main, django_capture_on_commit_callbacks
):
    clock.move_to(T0 + timedelta(minutes=15))
    run()
    clock.move_to(T0 + timedelta(minutes=50))
    with django_capture_on_commit_callbacks(execute=True):
        order_basket(carol_basket, main.main_en)
    assert not Quote.objects.get(quote_id=carol_basket.pk).is_active
    result = run()
    assert result.total("ordered") == 1
    phases = [
        Envelope.load(i).payload["json"]["cartPhase"]
        for i in Importer.objects.filter(import_type="CartInsight").order_by("id")
    ]
    assert phases == ["ORDER_PENDING", "ORDER_COMPLETE"]
    clock.move_to(T0 + timedelta(hours=25))
    run()
    assert [s[1] for s in steps(carol_basket.pk)] == [1]
    row = AbandonedCart.objects.get(quote_id=carol_basket.pk)
    assert (row.is_active, row.next_due_at, row.abandoned_cart_number) == (False, None, 1)
    assert Importer.objects.filter(import_type="CartInsight").count() == 2  # once each


def test_a_merged_basket_just_stops(carol_basket, clock, django_capture_on_commit_callbacks):
    clock.move_to(T0 + timedelta(minutes=15))
    run()
    with django_capture_on_commit_callbacks(execute=True):
        carol_basket.submit()  # submitted with no order (as a merge leaves it): no ORDER_COMPLETE
    clock.move_to(T0 + timedelta(hours=25))
    result = run()
    assert result.total("ordered") == 0 and [s[1] for s in steps(carol_basket.pk)] == [1]
    assert Importer.objects.filter(import_type="CartInsight").count() == 1


def test_series_stops_when_the_basket_is_emptied(carol_basket, clock, django_capture_on_commit_callbacks):
    clock.move_to(T0 + timedelta(minutes=15))
    run()
    clock.move_to(T0 + timedelta(minutes=40))
    with django_capture_on_commit_callbacks(execute=True):
        carol_basket.flush()
    assert Quote.objects.get(quote_id=carol_basket.pk).item_count == 0
    clock.move_to(T0 + timedelta(hours=25))
    run()
    assert [s[1] for s in steps(carol_basket.pk)] == [1]


def test_changed_items_start_the_series_again_as_the_reference_does(
    carol_basket, clock, django_capture_on_commit_callbacks
):
    from dotsync.testing.shop import make_product

    basket = carol_basket
    clock.move_to(T0 + timedelta(minutes=15))
    run()
    clock.move_to(T0 + timedelta(minutes=30))
    mug = make_product("Mug", "8.00")
    with django_capture_on_commit_callbacks(execute=True):
        basket.add_product(mug, 1)
    for minutes in (35, 40, 45):  # the changed basket is left alone for 15 minutes again
        clock.move_to(T0 + timedelta(minutes=minutes))
        run()
    assert steps(basket.pk) == [(1, 1, 11, "Abandoned Cart 1"), (2, 1, 11, "Abandoned Cart 1")]
    clock.move_to(T0 + timedelta(hours=2))  # step 2 of the first series: the items changed since
    run()
    assert len(steps(basket.pk)) == 2
    clock.move_to(T0 + timedelta(minutes=30) + timedelta(hours=2))
    run()
    assert steps(basket.pk)[-1] == (2, 2, 12, "Abandoned Cart 2")
    row = AbandonedCart.objects.get(quote_id=basket.pk)
    assert (row.series, row.items_count, row.abandoned_cart_number) == (2, 2, 2)


def test_no_second_send_within_the_cart_limit(carol_basket, clock):
    store_settings(
        carol_basket_store(carol_basket), **{**SERIES, "ac_cart_limit": 24, "ac_customers_send_after_3": 48}
    )
    clock.move_to(T0 + timedelta(minutes=15))
    run()
    clock.move_to(T0 + timedelta(hours=2))
    result = run()
    assert result.total("cart_limit") == 1
    clock.move_to(T0 + timedelta(hours=48))
    run()
    assert [s[1] for s in steps(carol_basket.pk)] == [1, 3]


def carol_basket_store(basket: Any) -> Any:
    return Quote.objects.select_related("store").get(quote_id=basket.pk).store


def test_subscribers_only_unless_non_subscribers_are_allowed(carol_basket, clock, main):
    settings = {**SERIES, "ac_allow_non_subscribers": False}
    store_settings(main.main_en, **settings)
    clock.move_to(T0 + timedelta(minutes=15))
    result = run()
    assert result.total("not_subscribed") == 1 and steps(carol_basket.pk) == []
    assert not Importer.objects.exists()


def test_an_empty_basket_never_creates_a_contact(main, clock, django_capture_on_commit_callbacks):
    store_settings(main.main_en, **SERIES)
    dave = make_customer("dave@example.com", "Dave", "Doe")
    with django_capture_on_commit_callbacks(execute=True):
        make_basket(dave, [], main.main_en)
    for minutes in (0, 15, 30):
        clock.move_to(T0 + timedelta(minutes=minutes))
        run()
    assert not Importer.objects.exists() and not Campaign.objects.exists()


def test_guest_series_starts_from_the_email_given_at_checkout(
    main, clock, django_capture_on_commit_callbacks
):
    from dotsync.testing.shop import make_product

    store_settings(
        main.main_en,
        ac_guests_enabled_1=True,
        ac_guests_enabled_2=True,
        ac_guests_send_after_1=20,
        ac_guests_send_after_2=1,
        ac_guests_campaign_1=21,
        ac_guests_campaign_2=22,
        ac_allow_non_subscribers=False,
    )
    contact(main.main_en, "gina@example.com", guest=True, subscriber_status=1)  # a subscribed guest
    mug = make_product("Mug", "8.00")
    with django_capture_on_commit_callbacks(execute=True):
        basket = make_basket(None, [(mug, 2)], main.main_en)
    assert not Quote.objects.filter(quote_id=basket.pk).exists()  # no email yet: no row
    # Oscar's checkout gateway: the guest types an email; CheckoutSessionData.set_guest_email, then
    # start_checkout with the request (sent here as the view sends it: the test has no session)
    request = store_request(main.main_en, None, "/checkout/")
    request.basket = basket
    with django_capture_on_commit_callbacks(execute=True):
        get_class("checkout.signals", "start_checkout").send_robust(
            sender=None, request=request, email="Gina@Example.com"
        )
    quote = Quote.objects.get(quote_id=basket.pk)
    assert (quote.email, quote.customer_id, quote.item_count) == ("gina@example.com", None, 1)
    run()
    clock.move_to(T0 + timedelta(minutes=20))
    run()
    assert steps(basket.pk) == [(1, 1, 21, "Guest Abandoned Cart 1")]
    clock.move_to(T0 + timedelta(hours=1))
    run()
    assert steps(basket.pk)[-1] == (1, 2, 22, "Guest Abandoned Cart 2")
    assert Campaign.objects.get(step=2).customer_id is None


def test_the_programme_variant_queues_one_enrolment_row_per_basket(carol_basket, clock, main):
    store_settings(
        main.main_en,
        ac_program_id=4242,
        ac_program_send_after=30,
        ac_allow_non_subscribers=True,
    )  # the series is off: only the programme
    for minutes in (0, 29, 30, 30, 35, 90):
        clock.move_to(T0 + timedelta(minutes=minutes))
        run()
    [row] = Automation.objects.all()
    assert (row.automation_type, row.enrolment_status, row.type_id, row.program_id, row.email) == (
        "abandoned_cart_automation",
        "pending",
        str(carol_basket.pk),
        "4242",
        "carol@example.com",
    )
    assert row.created_at == T0 + timedelta(minutes=30) and row.store_id == main.main_en.pk
    assert not Campaign.objects.exists()


def test_the_admin_grid_lists_each_baskets_series(carol_basket, clock, client, django_user_model):
    from django.urls import reverse

    clock.move_to(T0 + timedelta(minutes=15))
    run()
    client.force_login(django_user_model.objects.create_superuser("admin", "admin@example.com", "pw"))
    url = reverse("admin:dotsync_abandonedcart_changelist")
    page = client.get(url, {"status__exact": "Sent"})
    assert page.status_code == 200 and "carol@example.com" in page.content.decode()
    assert client.get(reverse("admin:dotsync_abandonedcart_add")).status_code == 403


def test_a_pass_that_fails_midway_queues_nothing_and_the_next_run_takes_its_window_again(
    carol_basket, clock, main, monkeypatch, django_capture_on_commit_callbacks
):
    from dotsync.testing.shop import make_product

    dave = make_customer("dave@example.com", "Dave", "Doe")
    with django_capture_on_commit_callbacks(execute=True):
        make_basket(dave, [(make_product("Cap", "12.00"), 1)], main.main_en)
    run()
    touched: list[int] = []
    real = abandoned_carts._Pass._touch_contact

    def failing(self: Any, quote: Any, basket: Any) -> None:
        # mocked: a failure in the middle of a pass (a crash, a database error), which the job's own
        # inputs cannot produce; the pass's transaction must take everything back
        touched.append(quote.quote_id)
        if len(touched) == 2:
            raise RuntimeError("the database went away")
        real(self, quote, basket)

    monkeypatch.setattr(abandoned_carts._Pass, "_touch_contact", failing)
    clock.move_to(T0 + timedelta(minutes=15))
    result = abandoned_carts.run()
    assert result.errors and "RuntimeError" in result.errors[0]
    assert not Campaign.objects.exists() and not Importer.objects.exists()
    assert not AbandonedCart.objects.exists()
    monkeypatch.setattr(abandoned_carts._Pass, "_touch_contact", real)
    clock.move_to(T0 + timedelta(minutes=20))
    run()
    run()
    assert sorted(Campaign.objects.values_list("email", "step")) == [
        ("carol@example.com", 1),
        ("dave@example.com", 1),
    ]
    assert Importer.objects.filter(import_type="CartInsight").count() == 2


def test_a_basket_waits_for_its_contacts_opt_in_then_starts_or_expires(
    carol_basket, clock, main, django_capture_on_commit_callbacks
):
    from dotsync.models import Contact
    from dotsync.testing.shop import make_product

    store_settings(main.main_en, **{**SERIES, "ac_allow_non_subscribers": False})
    carol = contact(main.main_en, "carol@example.com", customer=carol_basket.owner, subscriber_status=4)
    erin = make_customer("erin@example.com", "Erin", "Eve")
    contact(main.main_en, "erin@example.com", customer=erin, subscriber_status=4)
    with django_capture_on_commit_callbacks(execute=True):
        erin_basket = make_basket(erin, [(make_product("Hat", "15.00"), 1)], main.main_en)
    clock.move_to(T0 + timedelta(minutes=15))
    result = run()
    assert result.total("pending_opt_in") == 2 and not Campaign.objects.exists()
    assert AbandonedCart.objects.get(quote_id=carol_basket.pk).status == "PendingOptIn"
    assert not Importer.objects.exists()  # nothing reaches the platform before the opt-in
    clock.move_to(T0 + timedelta(hours=3))
    Contact.objects.filter(pk=carol.pk).update(is_subscriber=True, subscriber_status=1)  # confirmed
    run()
    assert steps(carol_basket.pk) == [(1, 1, 11, "Abandoned Cart 1")]
    row = AbandonedCart.objects.get(quote_id=carol_basket.pk)
    assert (row.status, row.abandoned_cart_number) == ("Sent", 1)
    assert row.next_due_at == T0 + timedelta(hours=3) + timedelta(microseconds=1)  # step 2 overdue: next pass
    clock.move_to(T0 + timedelta(hours=25))
    run()
    assert AbandonedCart.objects.get(quote_id=erin_basket.pk).status == "Expired"
    assert steps(erin_basket.pk) == []


def test_a_series_switched_off_and_on_again_starts_from_then(
    carol_basket, clock, main, django_capture_on_commit_callbacks
):
    from dotsync.testing.shop import make_product

    run()  # T0: the windows exist
    off = {**SERIES, **{f"ac_customers_enabled_{n}": False for n in (1, 2, 3)}}
    store_settings(main.main_en, **off)
    for minutes in (15, 60):
        clock.move_to(T0 + timedelta(minutes=minutes))
        run()
    clock.move_to(T0 + timedelta(hours=2))
    store_settings(main.main_en, **SERIES)
    dave = make_customer("dave@example.com", "Dave", "Doe")
    with django_capture_on_commit_callbacks(execute=True):
        dave_basket = make_basket(dave, [(make_product("Cap", "12.00"), 1)], main.main_en)
    for minutes in (0, 15):
        clock.move_to(T0 + timedelta(hours=2, minutes=minutes))
        run()
    assert steps(carol_basket.pk) == []  # left while the series was off: never mailed
    assert [s[1] for s in steps(dave_basket.pk)] == [1]

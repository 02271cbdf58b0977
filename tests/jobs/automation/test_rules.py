"""Exclusion rules (``email_rules``): the evaluator on each attribute kind with ALL and ANY, validation in
the model and the admin screen, and the two jobs on the real Oscar shop: an excluded order gets no review
request and an excluded basket no Lost Basket row, each with an ``email_rule_exclusion`` row saying why.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dotsync.jobs.automation import abandoned_carts, review_requests
from dotsync.jobs.automation.rules import Facts, Item, rule_matches
from dotsync.models import Automation, Campaign, CampaignEvent, Rule, RuleExclusion, RuleType, StoreConfig
from dotsync.models.rules import Combination
from dotsync.testing.shop import (
    make_basket,
    make_customer,
    make_product,
    make_voucher,
    place_order,
    set_order_status,
)
from tests.jobs.batch_helpers import enable

T0 = datetime.fromisoformat("2026-03-02 09:00:00+00:00")

FACTS = Facts(
    email="Carol@Example.com",
    payment_method="Credit card",
    shipping_method="Standard delivery",
    shipping_country="FR",
    voucher_codes=("SUMMER10",),
    subtotal=Decimal("39.98"),
    grand_total=Decimal("44.93"),
    item_qty=3,
    items=(
        Item(sku="SHIRT-1", categories=("Clothing > Shirts",), attributes={"colour": "Red"}),
        Item(sku="MUG-1", categories=("Kitchen",), attributes={"colour": "White"}),
    ),
)


def rule(*conditions: tuple[Any, ...], combination: int = Combination.ALL) -> Rule:
    conds = []
    for c in conditions:
        cond = {"attribute": c[0], "operator": c[1], "value": c[2]}
        if len(c) > 3:
            cond["name"] = c[3]
        conds.append(cond)
    return Rule(name="r", rule_type=RuleType.REVIEW, combination=combination, conditions=conds)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (("payment_method", "eq", "credit CARD"), True),
        (("payment_method", "neq", "Credit card"), False),
        (("shipping_method", "like", "standard"), True),
        (("shipping_method", "nlike", "express"), True),
        (("shipping_country", "eq", "FR"), True),
        (("shipping_country", "neq", "FR"), False),
        (("voucher_code", "eq", "summer10"), True),
        (("voucher_code", "neq", "SUMMER10"), False),
        (("voucher_code", "like", "WINTER"), False),
        (("subtotal", "gt", "39.97"), True),
        (("subtotal", "gteq", 39.98), True),
        (("subtotal", "lt", "39.98"), False),
        (("grand_total", "lteq", "44.93"), True),
        (("grand_total", "eq", 44.93), True),
        (("item_qty", "gt", 2), True),
        (("item_qty", "neq", 3), False),
        (("email", "like", "@example.com"), True),
        (("email", "eq", "carol@example.com"), True),
        (("product_sku", "eq", "mug-1"), True),
        (("product_sku", "neq", "MUG-1"), False),
        (("product_category", "like", "shirts"), True),
        (("product_category", "eq", "Garden"), False),
        (("product_category", "nlike", "Garden"), True),
        (("product_attribute", "eq", "red", "colour"), True),
        (("product_attribute", "eq", "blue", "Colour"), False),
        (("product_attribute", "neq", "Blue", "colour"), True),
    ],
)
def test_each_attribute_kind(condition, expected):
    assert (rule_matches(rule(condition), FACTS) is not None) is expected


def test_all_needs_every_condition_any_needs_one():
    fr = ("shipping_country", "eq", "FR")
    cheap = ("subtotal", "lt", "10")
    assert rule_matches(rule(fr, cheap), FACTS) is None
    assert rule_matches(rule(fr, cheap, combination=Combination.ANY), FACTS) == ("shipping_country",)
    big = ("subtotal", "gt", "10")
    assert rule_matches(rule(fr, big), FACTS) == ("shipping_country", "subtotal")
    assert rule_matches(rule(cheap, ("item_qty", "gt", 5), combination=Combination.ANY), FACTS) is None


def test_a_missing_value_matches_only_the_negative_operators():
    bare = Facts(email="x@example.com")  # a basket: no payment, shipping or voucher
    assert rule_matches(rule(("voucher_code", "neq", "SUMMER10")), bare) is not None
    assert rule_matches(rule(("voucher_code", "eq", "SUMMER10")), bare) is None
    assert rule_matches(rule(("payment_method", "like", "card")), bare) is None


def test_validation_names_every_problem():
    bad = Rule(
        name="bad",
        rule_type=RuleType.REVIEW,
        conditions=[
            {"attribute": "colour", "operator": "eq", "value": "red"},
            {"attribute": "subtotal", "operator": "like", "value": "ten"},
            {"attribute": "product_attribute", "operator": "eq", "value": "red"},
            {"attribute": "email", "operator": "eq", "value": ""},
        ],
    )
    with pytest.raises(ValidationError) as caught:
        bad.clean()
    messages = caught.value.message_dict["conditions"]
    assert len(messages) == 5, messages
    assert any("condition 1: attribute 'colour' is not one of" in m for m in messages)
    assert any("condition 2: operator 'like' does not apply to subtotal" in m for m in messages)
    assert any("condition 2: subtotal compares with a number" in m for m in messages)
    assert any("condition 3: a product_attribute condition names the attribute" in m for m in messages)
    assert any("condition 4: email compares with non-empty text" in m for m in messages)
    Rule(name="ok", rule_type=1, conditions=[{"attribute": "subtotal", "operator": "gt", "value": 5}]).clean()
    with pytest.raises(ValidationError):
        Rule(name="empty", rule_type=1, conditions=[]).clean()


@pytest.mark.django_db
def test_admin_screen_refuses_bad_conditions_and_saves_good_ones(scope, client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    url = "/admin/dotsync/rule/add/"
    data = {
        "name": "No French orders",
        "websites": [scope.main.pk],
        "rule_type": RuleType.REVIEW,
        "status": "on",
        "combination": Combination.ALL,
        "conditions": '[{"attribute": "shipping_country", "operator": "gt", "value": "FR"}]',
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "operator &#x27;gt&#x27; does not apply to shipping_country" in response.content.decode()
    assert not Rule.objects.exists()
    data["conditions"] = '[{"attribute": "shipping_country", "operator": "eq", "value": "FR"}]'
    assert client.post(url, data).status_code == 302
    saved = Rule.objects.get()
    assert list(saved.websites.all()) == [scope.main]
    assert client.get("/admin/dotsync/ruleexclusion/").status_code == 200
    assert client.get("/admin/dotsync/contactconsent/").status_code == 200


def make_rule(website: Any, rule_type: int, *conditions: tuple[Any, ...], combination: int = 1) -> Rule:
    saved = rule(*conditions, combination=combination)
    saved.rule_type = rule_type
    saved.name = f"rule {rule_type}"
    saved.full_clean(exclude=["websites"])
    saved.save()
    saved.websites.set([website])
    return saved


@pytest.mark.django_db
def test_an_excluded_order_gets_no_review_request(scope, django_capture_on_commit_callbacks):
    enable(scope.main)
    StoreConfig.objects.create(
        store=scope.main_en,
        overrides={
            "review_enabled": True,
            "review_order_status": "complete",
            "review_delay_days": 1,
            "review_campaign_id": 77,
            "review_allow_non_subscribers": True,
        },
    )
    no_fr = make_rule(
        scope.main, RuleType.REVIEW, ("shipping_country", "eq", "FR"), ("voucher_code", "eq", "SAVE5")
    )
    save5 = make_voucher("SAVE5", 5)
    with time_machine.travel(T0, tick=False) as clock:
        shirt = make_product("Shirt", "19.99")
        with django_capture_on_commit_callbacks(execute=True):
            fr = place_order(
                make_customer("fr@example.com", "Fleur", "Roux"),
                [(shirt, 1)],
                scope.main_en,
                address={"country": "FR"},
                voucher=save5,
            )
            gb = place_order(
                make_customer("gb@example.com", "Gus", "Brown"), [(shirt, 1)], scope.main_en, voucher=save5
            )
            for order in (fr, gb):
                set_order_status(order, "complete")
        review_requests.run()
        clock.move_to(T0 + timedelta(days=1, minutes=5))
        result = review_requests.run()
    assert not result.errors, result.errors
    asked = set(
        Campaign.objects.filter(event_name=CampaignEvent.ORDER_REVIEW).values_list(
            "order_increment_id", flat=True
        )
    )
    assert asked == {str(gb.number)}
    [why] = RuleExclusion.objects.all()
    assert (why.rule_type, why.rule, why.order_increment_id, why.email) == (
        RuleType.REVIEW,
        no_fr,
        str(fr.number),
        "fr@example.com",
    )
    assert why.matched == ["shipping_country", "voucher_code"]
    assert result.counts[scope.main.code]["excluded"] == 1


@pytest.mark.django_db
def test_an_excluded_basket_gets_no_lost_basket_row(scope, django_capture_on_commit_callbacks):
    enable(scope.main)
    StoreConfig.objects.create(
        store=scope.main_en,
        overrides={
            "ac_customers_enabled_1": True,
            "ac_customers_send_after_1": 15,
            "ac_customers_campaign_1": 11,
            "ac_allow_non_subscribers": True,
        },
    )
    shirts = make_rule(
        scope.main,
        RuleType.ABANDONED_CART,
        ("product_category", "like", "shirts"),
        ("item_qty", "gt", 5),
        combination=Combination.ANY,
    )
    make_rule(scope.main, RuleType.REVIEW, ("email", "like", "@example.com"))  # another type: not applied
    with time_machine.travel(T0, tick=False) as clock:
        shirt = make_product("Shirt", "19.99", categories=["Clothing > Shirts"])
        mug = make_product("Mug", "7.50", categories=["Kitchen"])
        with django_capture_on_commit_callbacks(execute=True):
            carol = make_basket(
                make_customer("carol@example.com", "Carol", "Cook"), [(shirt, 1)], scope.main_en
            )
            dan = make_basket(make_customer("dan@example.com", "Dan", "Dee"), [(mug, 2)], scope.main_en)
        abandoned_carts.run()
        clock.move_to(T0 + timedelta(minutes=16))
        result = abandoned_carts.run()
    assert not result.errors, result.errors
    lost = Campaign.objects.filter(event_name=CampaignEvent.LOST_BASKET)
    assert list(lost.values_list("quote_id", flat=True)) == [dan.pk]
    [why] = RuleExclusion.objects.all()
    assert (why.rule_type, why.rule, why.quote_id, why.email) == (
        RuleType.ABANDONED_CART,
        shirts,
        carol.pk,
        "carol@example.com",
    )
    assert why.matched == ["product_category"]


@pytest.mark.django_db
def test_an_excluded_basket_is_not_enrolled_in_the_abandoned_cart_programme(
    scope, django_capture_on_commit_callbacks
):
    enable(scope.main)
    StoreConfig.objects.create(
        store=scope.main_en,
        overrides={"ac_program_id": 5, "ac_program_send_after": 15, "ac_allow_non_subscribers": True},
    )
    make_rule(scope.main, RuleType.ABANDONED_CART, ("subtotal", "gteq", "100"))
    with time_machine.travel(T0, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            big = make_basket(
                make_customer("big@example.com", "Big", "Spender"),
                [(make_product("Coat", "120.00"), 1)],
                scope.main_en,
            )
            small = make_basket(
                make_customer("small@example.com", "Small", "Spender"),
                [(make_product("Sock", "3.00"), 1)],
                scope.main_en,
            )
        abandoned_carts.run()
        clock.move_to(T0 + timedelta(minutes=16))
        abandoned_carts.run()
    enrolled = Automation.objects.filter(automation_type="abandoned_cart_automation")
    assert list(enrolled.values_list("type_id", flat=True)) == [str(small.pk)]
    assert list(RuleExclusion.objects.values_list("quote_id", "matched")) == [(big.pk, ["subtotal"])]

"""The exclusion-rule evaluator (reference §1.10 ``email_rules``, ``Model/Rules.php``).

:class:`RuleSet` holds a website's active rules of one type (:class:`~dotsync.models.rules.RuleType`);
:meth:`RuleSet.basket` and :meth:`RuleSet.order` turn the store's records into :class:`Facts` and
:meth:`RuleSet.excluded` tells whether a rule excludes them. An excluded basket or order gets no campaign
row; :meth:`RuleSet.record` writes its ``email_rule_exclusion`` row (the rule and the matched attributes).

Semantics (the reference applies each condition as its inverse in SQL, so a matching row is removed):

* a rule excludes when ALL its conditions match (``combination`` ALL), or ANY does (ANY);
* text compares case-insensitively, ``like``/``nlike`` as "contains"/"does not contain";
* numbers (subtotal, grand total, item quantity) compare as decimals;
* attributes with several values (voucher codes, each item's SKU, categories or named product
  attribute): ``eq``/``like`` match when some value does, ``neq``/``nlike`` when none does, so a
  missing value (an order without a voucher, a basket without a shipping method) matches
  ``neq``/``nlike`` and never ``eq``/``like`` (the reference's eq/neq also keep NULLs).

Several active rules of the same type and website may apply: the first (by id) that excludes wins.
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from dotsync.models.rules import (
    NUMERIC_ATTRIBUTES,
    Combination,
    Operator,
    Rule,
    RuleAttribute,
    RuleExclusion,
    RuleType,
)
from dotsync.store import records
from dotsync.store.protocol import StoreAdapter


@dataclass(frozen=True)
class Item:
    """One basket or order line, as the rules see it."""

    sku: str = ""
    categories: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What the rules can look at on a basket or an order."""

    email: str = ""
    payment_method: str = ""
    shipping_method: str = ""
    shipping_country: str = ""
    voucher_codes: tuple[str, ...] = ()
    subtotal: Decimal = Decimal("0")
    grand_total: Decimal = Decimal("0")
    item_qty: int = 0
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """A rule that excludes, and the attributes whose conditions matched."""

    rule: Rule
    matched: tuple[str, ...]


_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {
    Operator.EQ: op.eq,
    Operator.NEQ: op.ne,
    Operator.GT: op.gt,
    Operator.GTEQ: op.ge,
    Operator.LT: op.lt,
    Operator.LTEQ: op.le,
}


def _text_matches(operator: str, values: Sequence[str], wanted: str) -> bool:
    """``eq``/``like``: some value is/contains ``wanted``; ``neq``/``nlike``: none is/contains it."""
    wanted = wanted.strip().lower()
    texts = [v.strip().lower() for v in values]
    if operator in (Operator.EQ, Operator.NEQ):
        found = any(t == wanted for t in texts)
        return found if operator == Operator.EQ else not found
    if operator in (Operator.LIKE, Operator.NLIKE):
        found = any(wanted in t for t in texts)
        return found if operator == Operator.LIKE else not found
    return False


def condition_matches(cond: dict[str, Any], facts: Facts) -> bool:
    """Whether one (valid) condition matches the facts."""
    attribute, operator, value = cond["attribute"], cond["operator"], cond["value"]
    if attribute in NUMERIC_ATTRIBUTES:
        compare = _NUMERIC.get(operator)
        return compare is not None and compare(Decimal(str(getattr(facts, attribute))), Decimal(str(value)))
    texts: Sequence[str]
    if attribute == RuleAttribute.VOUCHER_CODE:
        texts = facts.voucher_codes
    elif attribute == RuleAttribute.PRODUCT_SKU:
        texts = [i.sku for i in facts.items]
    elif attribute == RuleAttribute.PRODUCT_CATEGORY:
        texts = [c for i in facts.items for c in i.categories]
    elif attribute == RuleAttribute.PRODUCT_ATTRIBUTE:
        name = str(cond.get("name", "")).strip().lower()
        texts = [
            next((v for k, v in i.attributes.items() if k.strip().lower() == name), "") for i in facts.items
        ]
    else:
        single = str(getattr(facts, attribute))
        texts = [single] if single else []
    return _text_matches(operator, texts, str(value))


def rule_matches(rule: Rule, facts: Facts) -> tuple[str, ...] | None:
    """The attributes whose conditions matched when the rule excludes the facts, else None."""
    conditions: list[dict[str, Any]] = list(rule.conditions or [])
    if not conditions:
        return None
    hits = [c for c in conditions if condition_matches(c, facts)]
    ok = bool(hits) if rule.combination == Combination.ANY else len(hits) == len(conditions)
    return tuple(dict.fromkeys(str(c["attribute"]) for c in hits)) if ok else None


class RuleSet:
    """A website's active rules of one type, and the reads that feed them."""

    def __init__(self, rule_type: RuleType, website_id: int, adapter: StoreAdapter) -> None:
        """Load the active rules of ``rule_type`` for the website (one query)."""
        self.rule_type = rule_type
        self.website_id = website_id
        self.adapter = adapter
        self.rules = list(
            Rule.objects.filter(rule_type=rule_type, status=True, websites=website_id)
            .order_by("id")
            .distinct()
        )

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _needs_products(self) -> bool:
        product_keys = (RuleAttribute.PRODUCT_ATTRIBUTE, RuleAttribute.PRODUCT_CATEGORY)
        return any(c.get("attribute") in product_keys for r in self.rules for c in (r.conditions or []))

    def _products(self, ids: Iterable[int | None]) -> dict[int, records.Product]:
        wanted = sorted({i for i in ids if i})
        if not wanted or not self._needs_products():
            return {}
        return {p.id: p for p in self.adapter.products(wanted)}

    def _item(
        self, product_id: int | None, sku: str, categories: tuple[str, ...], products: dict[int, Any]
    ) -> Item:
        product = products.get(product_id or 0)
        return Item(
            sku=sku,
            categories=categories or (product.categories if product else ()),
            attributes=dict(product.attributes) if product else {},
        )

    def basket(self, basket: records.Quote, email: str = "") -> Facts:
        """The facts of a basket (its lines' products read only when a rule needs their attributes)."""
        products = self._products(line.product_id for line in basket.lines)
        return Facts(
            email=email or basket.email,
            voucher_codes=basket.coupon_codes,
            subtotal=basket.subtotal,
            grand_total=basket.total,
            item_qty=sum(line.qty for line in basket.lines),
            items=tuple(self._item(line.product_id, line.sku, (), products) for line in basket.lines),
        )

    def order(self, order: records.Order) -> Facts:
        """The facts of an order."""
        products = self._products(line.product_id for line in order.lines)
        return Facts(
            email=order.email,
            payment_method=order.payment_method,
            shipping_method=order.shipping_method,
            shipping_country=order.delivery_address.country if order.delivery_address else "",
            voucher_codes=order.coupon_codes,
            subtotal=order.subtotal,
            grand_total=order.total,
            item_qty=sum(line.qty for line in order.lines),
            items=tuple(
                self._item(line.product_id, line.sku, line.categories, products) for line in order.lines
            ),
        )

    def excluded(self, facts: Facts) -> Verdict | None:
        """The first rule that excludes the facts (with the matched attributes), or None."""
        for rule in self.rules:
            matched = rule_matches(rule, facts)
            if matched is not None:
                return Verdict(rule, matched)
        return None

    def record(
        self,
        verdict: Verdict,
        *,
        store_id: int | None,
        email: str,
        quote_id: int | None = None,
        order_increment_id: str = "",
    ) -> None:
        """Write (or refresh) the ``email_rule_exclusion`` row of the excluded basket or order."""
        RuleExclusion.objects.update_or_create(
            rule_type=self.rule_type,
            website_id=self.website_id,
            quote_id=quote_id,
            order_increment_id=order_increment_id,
            defaults={
                "rule": verdict.rule,
                "store_id": store_id,
                "email": email,
                "matched": list(verdict.matched),
                "excluded_at": timezone.now(),
            },
        )

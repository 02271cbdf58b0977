"""Exclusion rules (reference §1.10 ``email_rules``) and the record of what they excluded.

A :class:`Rule` belongs to websites and a type (abandoned cart or review). Its conditions are
``{"attribute", "operator", "value"}`` objects (``"name"`` too for a product attribute), combined with
ALL or ANY: a basket or order that the combination matches is **excluded** (no campaign row), and an
:class:`RuleExclusion` row records which rule and which attributes excluded it. The evaluator is
:mod:`dotsync.jobs.automation.rules`; :func:`condition_problems` is the validation the admin shows.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class RuleType(models.IntegerChoices):
    """What a rule filters (the reference's values)."""

    ABANDONED_CART = 1, "abandoned cart"
    REVIEW = 2, "review"


class Combination(models.IntegerChoices):
    """How a rule's conditions combine (the reference's values)."""

    ALL = 1, "all conditions match"
    ANY = 2, "any condition matches"


class RuleAttribute(models.TextChoices):
    """What a condition looks at (the reference's attributes that Oscar has)."""

    PAYMENT_METHOD = "payment_method", "payment method (orders)"
    SHIPPING_METHOD = "shipping_method", "shipping method (orders)"
    SHIPPING_COUNTRY = "shipping_country", "shipping country, ISO code (orders)"
    VOUCHER_CODE = "voucher_code", "voucher code"
    SUBTOTAL = "subtotal", "subtotal"
    GRAND_TOTAL = "grand_total", "grand total"
    ITEM_QTY = "item_qty", "item quantity (all lines)"
    EMAIL = "email", "email"
    PRODUCT_SKU = "product_sku", "product SKU (any item)"
    PRODUCT_CATEGORY = "product_category", "product category (any item)"
    PRODUCT_ATTRIBUTE = "product_attribute", "product attribute (any item; name the attribute)"


class Operator(models.TextChoices):
    """A condition's comparison (the reference's operators)."""

    EQ = "eq", "is"
    NEQ = "neq", "is not"
    GT = "gt", "greater than"
    GTEQ = "gteq", "greater than or equal to"
    LT = "lt", "less than"
    LTEQ = "lteq", "less than or equal to"
    LIKE = "like", "contains"
    NLIKE = "nlike", "does not contain"


NUMERIC_ATTRIBUTES = frozenset({RuleAttribute.SUBTOTAL, RuleAttribute.GRAND_TOTAL, RuleAttribute.ITEM_QTY})
"""Attributes compared as numbers (the other attributes compare as text, case-insensitively)."""

NUMERIC_OPERATORS = frozenset(
    {Operator.EQ, Operator.NEQ, Operator.GT, Operator.GTEQ, Operator.LT, Operator.LTEQ}
)
TEXT_OPERATORS = frozenset({Operator.EQ, Operator.NEQ, Operator.LIKE, Operator.NLIKE})


def condition_problems(conditions: Any) -> list[str]:
    """What is wrong with a rule's conditions, one message per problem (empty when they are valid)."""
    if not isinstance(conditions, list) or not conditions:
        return ["conditions must be a non-empty list of {attribute, operator, value} objects"]
    out: list[str] = []
    for n, cond in enumerate(conditions, 1):
        where = f"condition {n}"
        if not isinstance(cond, dict):
            out.append(f"{where}: must be an object with attribute, operator and value")
            continue
        unknown = set(cond) - {"attribute", "operator", "value", "name"}
        if unknown:
            out.append(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        attribute, operator, value = cond.get("attribute"), cond.get("operator"), cond.get("value")
        if attribute not in RuleAttribute.values:
            out.append(f"{where}: attribute {attribute!r} is not one of {', '.join(RuleAttribute.values)}")
            continue
        numeric = attribute in NUMERIC_ATTRIBUTES
        allowed = NUMERIC_OPERATORS if numeric else TEXT_OPERATORS
        if operator not in allowed:
            names = ", ".join(sorted(str(o) for o in allowed))
            out.append(f"{where}: operator {operator!r} does not apply to {attribute} (use one of {names})")
        if attribute == RuleAttribute.PRODUCT_ATTRIBUTE:
            if not isinstance(cond.get("name"), str) or not cond["name"].strip():
                out.append(f'{where}: a product_attribute condition names the attribute ("name": "colour")')
        elif "name" in cond:
            out.append(f"{where}: only a product_attribute condition takes a name")
        if numeric:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                out.append(f"{where}: {attribute} compares with a number, not {value!r}")
            else:
                try:
                    Decimal(str(value))
                except InvalidOperation:
                    out.append(f"{where}: {attribute} compares with a number, not {value!r}")
        elif not isinstance(value, str) or not value.strip():
            out.append(f"{where}: {attribute} compares with non-empty text, not {value!r}")
    return out


class Rule(models.Model):
    """``email_rules``: an exclusion rule for some websites' abandoned carts or review requests."""

    name = models.CharField(max_length=255)
    websites = models.ManyToManyField("dotsync.Website", related_name="exclusion_rules")
    rule_type = models.PositiveSmallIntegerField(choices=RuleType.choices)
    status = models.BooleanField(default=True, help_text="active")
    combination = models.PositiveSmallIntegerField(choices=Combination.choices, default=Combination.ALL)
    conditions = models.JSONField(
        default=list,
        help_text='a list of {"attribute", "operator", "value"} (and "name" for product_attribute), e.g. '
        '[{"attribute": "shipping_country", "operator": "eq", "value": "FR"}]',
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_rules"

    def __str__(self) -> str:
        return f"{self.name} ({self.get_rule_type_display()})"  # type: ignore[attr-defined]

    def clean(self) -> None:
        """Refuse conditions the evaluator cannot apply, naming each problem."""
        problems = condition_problems(self.conditions)
        if problems:
            raise ValidationError({"conditions": problems})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, moving ``updated_at`` on."""
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)


class RuleExclusion(models.Model):
    """``email_rule_exclusion``: a basket or order an exclusion rule kept from its campaign, and why.

    One row per (type, website, basket or order): ``rule`` and ``matched`` (the attributes whose
    conditions matched) say why; ``excluded_at`` is the last pass that excluded it.
    """

    rule_type = models.PositiveSmallIntegerField(choices=RuleType.choices)
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="exclusions"
    )
    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(
        "dotsync.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quote_id = models.IntegerField(null=True, blank=True, help_text="the basket (abandoned carts)")
    order_increment_id = models.CharField(
        max_length=128, blank=True, default="", help_text="the order (reviews)"
    )
    email = models.CharField(max_length=255, blank=True, default="")
    matched = models.JSONField(default=list, help_text="the attributes whose conditions matched")
    excluded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_rule_exclusion"
        constraints = [
            models.UniqueConstraint(
                fields=["rule_type", "website", "quote_id", "order_increment_id"],
                name="email_rule_exclusion_once",
            )
        ]

"""Reads that survive a decimal the shop's column cannot hold.

On SQLite a ``DecimalField`` column is not checked on write: Oscar's own checkout stores a total of
13 digits (a 9,999,999,999.99 product plus shipping) in a ``max_digits=12`` column. Reading it back
raises :class:`decimal.InvalidOperation` in Django's converter, for the whole query. :func:`read`
reads a queryset and, when that happens, reads it again row by row, so only the rows that cannot be
read are left out; each is reported with the column, the stored value and what to do.
PostgreSQL refuses such a value on write, so there a read never falls back.
"""

from __future__ import annotations

from decimal import InvalidOperation
from typing import Any

from django.db.models import CharField, DecimalField, QuerySet
from django.db.models.functions import Cast


def decimal_fields(model: Any) -> list[str]:
    """Names of the model's decimal columns (to ``defer()`` them where they are not needed)."""
    return [f.name for f in model._meta.concrete_fields if isinstance(f, DecimalField)]


def unreadable_reason(model: Any, pk: Any) -> str:
    """Which decimal column of this row cannot be read, its stored value, and what to do."""
    rows = model._default_manager.filter(pk=pk)
    table = model._meta.db_table
    for f in model._meta.concrete_fields:
        if not isinstance(f, DecimalField):
            continue
        try:
            list(rows.values_list(f.attname))
        except InvalidOperation:
            raw = rows.annotate(_raw=Cast(f.attname, CharField())).values_list("_raw", flat=True).first()
            return (
                f"{table}.{f.column} of row {pk} is {raw}, more digits than the column holds "
                f"({f.max_digits} digits, {f.decimal_places} decimals); correct it in the shop"
            )[:255]
    return f"a decimal of {table} row {pk} cannot be read; correct it in the shop"


def read(qs: QuerySet[Any], *, owner: str = "pk") -> tuple[list[Any], dict[Any, str]]:
    """The queryset's rows, and ``{owner id: reason}`` for rows whose decimals cannot be read.

    Args:
        qs: any queryset (models, ``values()`` or ``values_list()``).
        owner: the column naming what a bad row belongs to (``"order_id"`` for order lines), so the
            caller can quarantine that entity.

    One query when every row reads; otherwise one more for the ids and one per row.
    """
    try:
        return list(qs), {}
    except InvalidOperation:
        pass
    rows: list[Any] = []
    bad: dict[Any, str] = {}
    for pk, owner_id in qs.values_list("pk", owner):
        try:
            rows.extend(qs.filter(pk=pk))
        except InvalidOperation:
            bad.setdefault(owner_id, unreadable_reason(qs.model, pk))
    return rows, bad

"""Helpers for adapters that describe their history as portable SQL (:class:`HistorySource`).

An adapter names the target columns it computes; :class:`SelectBuilder` fills every other
non-null column of the sync table with its model default as a bound parameter (Django model
defaults are not database defaults, so ``INSERT … SELECT`` must supply them), and binds typed
constants so PostgreSQL never has to guess a parameter's type. Nothing here is specific to Oscar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Field, Model, QuerySet
from django.db.models.expressions import RawSQL

from dotsync.store.protocol import HistorySource


def quote(name: str) -> str:
    """Quote an identifier for the default connection."""
    return str(connection.ops.quote_name(name))


def column(model: type[Model], field_name: str) -> str:
    """The database column of a model field (forked models may rename columns)."""
    return str(model._meta.get_field(field_name).column)  # type: ignore[union-attr]


def table(model: type[Model]) -> str:
    """The quoted table name of a model."""
    return quote(model._meta.db_table)


@dataclass
class SelectBuilder:
    """Collects the select list and typed parameters of one history ``SELECT``.

    Args:
        target: the sync-table model the ``SELECT`` feeds.
    """

    target: type[Model]
    params: dict[str, Any] = field(default_factory=dict)

    def _field(self, column_name: str) -> Field[Any, Any]:
        for f in self.target._meta.concrete_fields:
            if f.column == column_name:
                return f
        raise ValueError(f"{self.target._meta.db_table} has no column {column_name!r}.")

    def param(self, name: str, value: Any, column_name: str) -> str:
        """Bind ``value`` prepared like the target column and return its placeholder.

        On PostgreSQL the placeholder is cast to the column's type, so a constant in a select list
        has a known type.
        """
        target_field = self._field(column_name)
        self.params[name] = target_field.get_db_prep_save(value, connection)
        placeholder = f"%({name})s"
        if connection.vendor == "postgresql":
            return f"CAST({placeholder} AS {target_field.cast_db_type(connection)})"
        return placeholder

    def raw(self, name: str, value: Any) -> str:
        """Bind an untyped parameter (used in comparisons, where its type is inferred)."""
        self.params[name] = value
        return f"%({name})s"

    def select_list(self, exprs: Mapping[str, str]) -> tuple[tuple[str, ...], str]:
        """Target columns and the ``expr AS column`` list for them, defaults filled in.

        Args:
            exprs: target column -> SQL expression computing it.

        Returns:
            The target column names, and the select list in the same order.

        Raises:
            ValueError: for an unknown column, or a required column with no default.
        """
        for name in exprs:
            self._field(name)
        columns: list[str] = []
        parts: list[str] = []
        for f in self.target._meta.concrete_fields:
            name = str(f.column)
            if f.primary_key and f.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField"):
                continue
            if name in exprs:
                expr = exprs[name]
            elif f.null:
                continue
            elif f.has_default():
                expr = self.param(f"default_{name}", f.get_default(), name)
            else:
                raise ValueError(f"{self.target._meta.db_table}.{name} needs a value in the history SELECT.")
            columns.append(name)
            parts.append(f"{expr} AS {quote(name)}")
        return tuple(columns), ", ".join(parts)

    def source(
        self,
        *,
        name: str,
        exprs: Mapping[str, str],
        from_where: str,
        id_bounds_sql: str,
        conflict_columns: tuple[str, ...],
        update_columns: tuple[str, ...] = (),
        update_where: str = "",
    ) -> HistorySource:
        """Build the :class:`HistorySource`.

        Args:
            name: what the source reads.
            exprs: target column -> SQL expression.
            from_where: everything after the select list (``FROM … WHERE … [GROUP BY …]``), with a
                ``WHERE`` clause (SQLite needs one before ``ON CONFLICT``) using ``%(lo)s`` and
                ``%(hi)s``.
            id_bounds_sql: ``SELECT MIN(id), MAX(id)`` over the driving table.
            conflict_columns: the target's unique key.
            update_columns: columns to overwrite on conflict.
            update_where: condition for the conflict update (see :class:`HistorySource`).
        """
        columns, select_list = self.select_list(exprs)
        unknown = set(update_columns) - set(columns)
        if unknown:
            raise ValueError(f"update_columns not selected: {sorted(unknown)}")
        return HistorySource(
            table=self.target._meta.db_table,
            name=name,
            columns=columns,
            select_sql=f"SELECT {select_list} {from_where}",
            params=dict(self.params),
            id_bounds_sql=id_bounds_sql,
            conflict_columns=conflict_columns,
            update_columns=update_columns,
            update_where=update_where,
        )


def ids_in(qs: QuerySet[Any], field_name: str, ids: Iterable[int]) -> QuerySet[Any]:
    """``qs`` filtered on ``field_name IN (ids)``, the integers inlined in the SQL.

    Django prepares every value of an ``__in`` lookup through the field (several calls per id): for
    a page of a thousand ids, read by five queries, that cost more than running them. The ids are
    ``int()``-ed, so inlining them is safe. ``field_name`` is a concrete field of ``qs.model``.
    """
    values = sorted({int(i) for i in ids})
    if not values:
        return qs.none()
    model = qs.model
    name = model._meta.pk.name if field_name == "pk" else field_name
    where = f"{table(model)}.{quote(column(model, name))} IN ({', '.join(map(str, values))})"
    return qs.filter(RawSQL(where, (), output_field=BooleanField()))

"""The exactly-once claim shared by the jobs that make calls the platform does not deduplicate.

Campaign sends (:mod:`~dotsync.jobs.automation.campaigns`) and programme enrolments
(:mod:`~dotsync.jobs.automation.enrolment`) follow one pattern:

1. **claim** the rows (status "in flight", ``claimed_at``, the platform contact id) in their own committed
   transaction, before the call (:func:`claim`);
2. check that the claim is **still ours** right before the call (:func:`still_ours`): a later run that
   took an interrupted claim over must never lead to a second call;
3. make the call, then record its id in the same transaction as the result;
4. a later run finds claimed rows without an id and looks the call up on the platform instead of
   calling again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def now() -> dt.datetime:
    """The current time (time-machine moves it in tests)."""
    return timezone.now()


def when(value: Any) -> dt.datetime:
    """A platform date-time as an aware datetime (now when absent or unreadable)."""
    parsed = parse_datetime(str(value)) if value else None
    if parsed is None:
        return now()
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.UTC)


def claim(
    model: type[models.Model],
    members: Mapping[int, int],
    *,
    status_field: str,
    free: tuple[Any, ...],
    claimed: Any,
    at: dt.datetime,
    extra: Mapping[str, Any] | None = None,
) -> list[int]:
    """Claim rows in one committed transaction; returns the primary keys this run claimed.

    Args:
        model: the table.
        members: primary key -> the platform contact id the call goes to.
        status_field: the status column.
        free: the statuses a row may be claimed from (a row in any other was taken meanwhile).
        claimed: the "in flight" status.
        at: the claim time (written to ``claimed_at``; :func:`still_ours` compares it).
        extra: other columns to reset with the claim (reason, message).
    """
    out: list[int] = []
    with transaction.atomic():
        for pk, contact_id in members.items():
            n = model._default_manager.filter(pk=pk, **{f"{status_field}__in": free}).update(
                **{status_field: claimed},
                claimed_at=at,
                platform_contact_id=contact_id,
                updated_at=at,
                **(extra or {}),
            )
            if n:
                out.append(pk)
    return out


def still_ours(
    model: type[models.Model],
    pks: list[int],
    *,
    status_field: str,
    claimed: Any,
    id_field: str,
    at: dt.datetime,
) -> bool:
    """Whether every claimed row is still in flight under this run's claim, with no call id recorded."""
    return model._default_manager.filter(
        pk__in=pks, **{status_field: claimed, id_field: "", "claimed_at": at}
    ).count() == len(pks)

"""Admin actions on the sync grids and the importer queue, and the "platform message" column.

* Sync tables: **Reset to pending** (the rows are sent again by the next batching run) and **Retry
  failed** (only the ``FAILED`` rows). ``email_contact`` resets both of its streams.
* ``email_importer``: **Retry failed** (``FAILED`` rows back to ``PENDING``, retries and backoff
  cleared, their source rows re-attached so a success settles them) and **Reset to pending** (any row
  not yet imported, as the Magento connector's reset; a row whose import is still running is sent
  again, which is harmless because imports are upserts).

The grids are read-only; the actions need the model's *change* permission. :func:`install` adds
them to the grids registered in :mod:`dotsync.admin`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from dotsync.jobs.importer.state import reset_to_pending
from dotsync.jobs.resync import SYNC_MODELS, resync
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus

__all__ = [
    "SYNC_MODELS",
    "has_resync_permission",
    "install",
    "platform_message",
    "reset_imports_to_pending",
    "reset_sync_to_pending",
    "resync",
    "retry_failed_imports",
    "retry_failed_sync",
]


def has_resync_permission(modeladmin: admin.ModelAdmin, request: HttpRequest) -> bool:  # type: ignore[type-arg]
    """Whether the user may put rows back in the queue: the model's change permission."""
    opts = modeladmin.opts
    return bool(request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))  # type: ignore[union-attr]


@admin.action(description="Reset to pending (send again)", permissions=["resync"])
def reset_sync_to_pending(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:  # type: ignore[type-arg]
    """Mark the selected rows modified, so the next batching run sends them again."""
    n = resync(queryset, only_failed=False)
    modeladmin.message_user(request, f"{n} row(s) will be sent with the next sync.", messages.SUCCESS)


@admin.action(description="Retry failed rows", permissions=["resync"])
def retry_failed_sync(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> None:  # type: ignore[type-arg]
    """Mark the selected failed rows modified."""
    n = resync(queryset, only_failed=True)
    modeladmin.message_user(request, f"{n} failed row(s) will be sent with the next sync.", messages.SUCCESS)


@admin.action(description="Retry failed imports", permissions=["resync"])
def retry_failed_imports(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Importer]
) -> None:  # type: ignore[type-arg]
    """Put the selected failed importer rows back in the queue."""
    n = reset_to_pending(queryset.filter(import_status=ImportStatus.FAILED))
    modeladmin.message_user(request, f"{n} failed import(s) queued again.", messages.SUCCESS)


@admin.action(description="Reset to pending", permissions=["resync"])
def reset_imports_to_pending(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Importer]
) -> None:  # type: ignore[type-arg]
    """Put the selected importer rows (not yet imported) back in the queue as new."""
    n = reset_to_pending(queryset)
    modeladmin.message_user(request, f"{n} import(s) queued again.", messages.SUCCESS)


@admin.display(description="platform message")
def platform_message(obj: Any) -> str:
    """The platform's last word on the row (why it failed, was suppressed or waits)."""
    return str(getattr(obj, "sync_message", None) or getattr(obj, "message", "") or "")


def install(site: admin.AdminSite = admin.site) -> None:
    """Add the actions and the "platform message" column to the registered grids."""
    for model, model_admin in site._registry.items():
        if model in SYNC_MODELS:
            actions = [reset_sync_to_pending, retry_failed_sync]
        elif model is Importer:
            actions = [retry_failed_imports, reset_imports_to_pending]
        else:
            continue
        cls = type(model_admin)
        cls.has_resync_permission = has_resync_permission  # type: ignore[attr-defined]
        cls.actions = [*[a for a in (cls.actions or []) if a not in actions], *actions]
        display = [c for c in cls.list_display if c != "message"]
        if platform_message not in display:
            display.append(platform_message)
        cls.list_display = tuple(display)
        filters = list(cls.list_filter)
        for name in ("website", "sync_status") if model in SYNC_MODELS else ("website", "import_status"):
            if name not in filters and any(f.name == name for f in model._meta.get_fields()):
                filters.append(name)
        cls.list_filter = tuple(filters)

"""Which store adapter dotsync uses: ``settings.DOTSYNC["store_adapter"]``, django-oscar's by default."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from dotsync.store.protocol import StoreAdapter

DEFAULT_ADAPTER = "dotsync.store.oscar.OscarAdapter"
"""Dotted path of the adapter used when the setting is absent."""


@cache
def get_adapter() -> StoreAdapter:
    """The configured store adapter (one instance per process).

    Set ``DOTSYNC = {"store_adapter": "myshop.dotsync_adapter.MyAdapter"}`` in the Django settings to
    use another shop; the class is instantiated without arguments.
    """
    path = (getattr(settings, "DOTSYNC", None) or {}).get("store_adapter", DEFAULT_ADAPTER)
    adapter: StoreAdapter = import_string(path)()
    return adapter

"""The django-oscar store adapter (Oscar 4.2): the reference implementation of the store port."""

from dotsync.store.oscar.adapter import OscarAdapter

__all__ = ["OscarAdapter"]

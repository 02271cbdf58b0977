"""Moved to :mod:`dotsync.store.oscar.observers`; this re-export goes once bench/soak.py imports it there."""

from __future__ import annotations

from dotsync.store.oscar.observers import muted

__all__ = ["muted"]

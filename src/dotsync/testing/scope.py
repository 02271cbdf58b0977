"""The standard websites and stores, for tests: re-exported from :mod:`dotsync.demo.scope`."""

from __future__ import annotations

from dotsync.demo.scope import Scope, make_scope

__all__ = ["Scope", "make_scope"]

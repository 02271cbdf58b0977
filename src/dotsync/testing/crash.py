"""Crash points for the SIGKILL tests: re-exported from :mod:`dotsync.crashpoints`.

The points live in production code (``dotsync.crashpoints``, stdlib only) so that production never
imports the test kit; this module keeps the name tests and docs have always used.
"""

from __future__ import annotations

from dotsync.crashpoints import ENV, POINTS, crashpoint

__all__ = ["ENV", "POINTS", "crashpoint"]

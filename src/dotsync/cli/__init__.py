"""The ``dotsync`` console script (also ``python -m dotsync``).

Each subcommand lives in its own module in this package; :mod:`dotsync.cli.main` builds the click group
from them and :mod:`dotsync.cli.boot` starts Django. Every reporting command takes ``--json``.
"""

from __future__ import annotations

from dotsync.cli.main import main

__all__ = ["main"]

"""Exit codes of the ``dotsync`` console script, for cron jobs and monitors (documented in the README).

:class:`ConfigProblem` is the click error of a configuration problem: it exits with
:data:`EXIT_CONFIG` after printing its message (one line per problem, never a traceback).
"""

from __future__ import annotations

import click

EXIT_OK = 0
"""Done (``sync``: drained)."""

EXIT_CONFIG = 2
"""A configuration problem: settings, DATABASE_URL, database driver, var directory, encryption key."""


class ConfigProblem(click.ClickException):
    """A configuration problem the user must fix; the message says what to do."""

    exit_code = EXIT_CONFIG

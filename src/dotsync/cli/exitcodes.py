"""Exit codes of the ``dotsync`` console script, for cron jobs and monitors (documented in the README).

:class:`ConfigProblem` is the click error of a configuration problem: it exits with
:data:`EXIT_CONFIG` after printing its message (one line per problem, never a traceback).
"""

from __future__ import annotations

import enum

import click

EXIT_OK = 0
"""Done (``sync``: drained)."""

EXIT_CONFIG = 2
"""A configuration problem: settings, DATABASE_URL, database driver, var directory, encryption key."""


class ConfigProblem(click.ClickException):
    """A configuration problem the user must fix; the message says what to do."""

    exit_code = EXIT_CONFIG


class ExitCode(enum.IntEnum):
    """Every exit code of ``dotsync`` (``sync`` and ``sync all`` use them all; README: "Exit codes").

    When several apply, the lowest non-zero one wins except :attr:`ERROR`: a configuration problem is
    reported before refused credentials, which come before an unreachable platform, then failed rows,
    then a queue that did not drain.
    """

    OK = EXIT_OK
    """Done; ``sync all``: the queue drained."""
    ERROR = 1
    """An unexpected error (a bug: the message and log say more)."""
    CONFIG = EXIT_CONFIG
    """A configuration problem (settings, a website's row, DATABASE_URL, encryption key...)."""
    NOTHING_CONFIGURED = 3
    """No website is enabled (or ``--website`` names one that is not): nothing was synced."""
    CREDENTIALS = 4
    """The platform refused an account's API credentials (401/403, ``ERROR_INVALID_LOGIN``...)."""
    UNREACHABLE = 5
    """An account's platform could not be reached (refused, DNS, TLS, timeout, 5xx): circuit open."""
    ROWS_FAILED = 6
    """Rows failed for good in this run (a terminal platform answer); ``dotsync status`` lists them."""
    NOT_DRAINED = 7
    """Work is left: rows deferred, stalled, or the run hit ``--timeout`` / ``--max-rounds``."""

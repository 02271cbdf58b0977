"""Turn database failures (and dotsync's own errors) into click errors that tell the user what to do.

The database's label lives in :mod:`dotsync.dberrors` (the demo uses it too, without the CLI).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from dotsync.cli.exitcodes import ConfigProblem
from dotsync.dberrors import database_label


@contextlib.contextmanager
def friendly_database_errors(*, needs_tables: bool = True) -> Iterator[None]:
    """Re-raise database errors as :class:`click.ClickException` with the next step to take.

    Args:
        needs_tables: a missing table means "not installed yet" (suggest ``dotsync install``).
    """
    from django.db.utils import DatabaseError

    from dotsync.exceptions import ConfigurationError, DotsyncError

    try:
        yield
    except ConfigurationError as exc:  # every problem, each saying what to do
        raise ConfigProblem(str(exc)) from exc
    except DotsyncError as exc:  # their message says what to do
        raise click.ClickException(str(exc)) from exc
    except DatabaseError as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        lowered = text.lower()
        if "file is not a database" in lowered or "malformed" in lowered:
            raise ConfigProblem(
                f"The SQLite file {database_label()} is not a dotsync database, or is corrupt ({text}). "
                "Move it aside and run `dotsync install` to make a new one, or point DATABASE_URL "
                "(or DOTSYNC_VAR_DIR) at the right file."
            ) from exc
        if needs_tables and (
            "no such table" in lowered or ("does not exist" in lowered and "relation" in lowered)
        ):
            raise click.ClickException(
                f"The database at {database_label()} has no dotsync tables yet ({text}). "
                "Run `dotsync install` first."
            ) from exc
        if any(
            s in lowered for s in ("connection", "could not connect", "unable to open", "timeout", "refused")
        ):
            raise click.ClickException(
                f"Cannot reach the database at {database_label()} ({text}). Check DATABASE_URL, "
                "that the server is running, and that the directory is writable."
            ) from exc
        raise click.ClickException(f"Database error at {database_label()}: {text}") from exc

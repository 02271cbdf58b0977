"""``dotsync rotate-key``: re-encrypt the stored secrets (API passwords, EDC passcodes) to the current key."""

from __future__ import annotations

import os
import sys

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.exitcodes import ConfigProblem
from dotsync.cli.output import console, emit_json

OLD_KEY_ENV = "DOTSYNC_OLD_SECRET_KEY"
"""Where the old key is read from (not a command-line option: ``ps`` would show it)."""


@click.command("rotate-key")
@click.option(
    "--old-key-stdin",
    is_flag=True,
    help=f"Read the old key from the first line of stdin instead of ${OLD_KEY_ENV}.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def rotate_key_command(old_key_stdin: bool, as_json: bool) -> None:
    """Re-encrypt every stored API password (and dynamic-content passcode) to the current key, all or nothing.

    The current key is DOTSYNC_ENCRYPTION_KEY, else SECRET_KEY. The old key (the previous value of
    that setting) comes from $DOTSYNC_OLD_SECRET_KEY or, with --old-key-stdin, from stdin. No secret
    is printed.
    """
    setup_django()
    from dotsync.key_rotation import rotate_key

    old_key = sys.stdin.readline().rstrip("\r\n") if old_key_stdin else os.environ.get(OLD_KEY_ENV, "")
    if not old_key:
        where = "on stdin" if old_key_stdin else f"in ${OLD_KEY_ENV} (or on stdin with --old-key-stdin)"
        raise ConfigProblem(f"No old key given: put the key the passwords were stored with {where}.")
    with friendly_database_errors():
        rotation = rotate_key(old_key)
    if as_json:
        emit_json(rotation.as_dict())
        return
    console.print(
        f"Re-encrypted {len(rotation.rotated)} API password(s) with the current key"
        f" ({len(rotation.already_current)} already used it).",
        highlight=False,
    )


COMMANDS = [rotate_key_command]

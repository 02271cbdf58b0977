"""The list of subcommands; each module below defines one or a few click commands."""

from __future__ import annotations

import click

ALL: list[click.Command] = []

from dotsync.cli import demo as _demo  # noqa: E402
from dotsync.cli import install as _install  # noqa: E402
from dotsync.cli import status as _status  # noqa: E402

ALL += [*_install.COMMANDS, *_status.COMMANDS, *_demo.COMMANDS]

from dotsync.cli import sandbox as _sandbox  # noqa: E402

ALL += _sandbox.COMMANDS

from dotsync.cli import sync as _sync  # noqa: E402

ALL += _sync.COMMANDS

from dotsync.cli import datafields as _datafields  # noqa: E402

ALL += _datafields.COMMANDS

from dotsync.cli import rotate_key as _rotate_key  # noqa: E402

ALL += _rotate_key.COMMANDS

from dotsync.cli import retry as _retry  # noqa: E402

ALL += _retry.COMMANDS

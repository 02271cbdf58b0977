"""The list of subcommands; each module below defines one or a few click commands."""

from __future__ import annotations

import click

ALL: list[click.Command] = []

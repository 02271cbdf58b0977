"""The ``dotsync`` click group: every subcommand module of this package, in ``--help`` order."""

from __future__ import annotations

import click

from dotsync.cli import (
    config_cmd,
    datafields,
    demo,
    erase,
    install,
    jobs,
    retry,
    rotate_key,
    run,
    sandbox,
    serve,
    status,
    sync,
)

COMMANDS: list[click.Command] = [
    *install.COMMANDS,
    *status.COMMANDS,
    *demo.COMMANDS,
    *sandbox.COMMANDS,
    *sync.COMMANDS,
    *run.COMMANDS,
    *jobs.COMMANDS,
    *datafields.COMMANDS,
    *config_cmd.COMMANDS,
    *rotate_key.COMMANDS,
    *retry.COMMANDS,
    *erase.COMMANDS,
    *serve.COMMANDS,
]
"""Every subcommand, in the order they are registered."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dotsync")
def main() -> None:
    """Dotsync keeps your shop in sync with dotdigital."""


for _command in COMMANDS:
    main.add_command(_command)

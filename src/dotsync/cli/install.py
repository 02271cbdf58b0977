"""``dotsync install`` and ``dotsync migrate-data``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.output import emit_json, err_console, table
from dotsync.dberrors import database_label


@dataclass
class Bars:
    """Progress hooks drawing rich bars on stderr: install sources and seeding steps."""

    progress: Any
    tasks: dict[str, Any] = field(default_factory=dict)

    def on_start(self, source: Any, total: int) -> None:
        """Install hook: a history source starts with ``total`` ids to walk."""
        key = f"{source.table}:{source.name}"
        self.tasks[key] = self.progress.add_task(
            key, total=max(total, 1), rows=0, completed=0 if total else 1
        )

    def on_chunk(self, source: Any, lo: int, hi: int, written: int) -> None:
        """Install hook: a chunk of ids ``[lo, hi)`` committed with ``written`` rows."""
        task = self.tasks[f"{source.table}:{source.name}"]
        rows = self.progress.tasks[task].fields["rows"] + written
        self.progress.update(task, advance=hi - lo, rows=rows)

    def on_seed(self, step: str, done: int, total: int) -> None:
        """Seeder hook: ``step`` has ``done`` of ``total`` items written."""
        key = f"seed: {step}"
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(key, total=max(total, 1), rows=0)
        self.progress.update(self.tasks[key], completed=done if total else 1, rows=done)

    def on_sync(self, snapshot: dict[str, Any]) -> None:
        """``sync_all`` hook: the batching job running, then the importer queue (rows imported of all)."""
        if "sync" not in self.tasks:
            self.tasks["sync"] = self.progress.add_task("sync: batching", total=None, rows=0)
        task = self.tasks["sync"]
        if snapshot["phase"] == "batch":
            self.progress.update(task, description=f"sync: {snapshot['job']}")
            return
        done = snapshot["imported"] + snapshot["failed"]
        self.progress.update(
            task,
            description=f"sync: import round {snapshot['round']}",
            completed=done,
            total=done + snapshot["pending"] + snapshot["importing"],
            rows=snapshot["imported"],
        )


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Bars]:
    """Rich progress bars on stderr (nothing is drawn when ``enabled`` is false, e.g. with ``--json``)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description:<30}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rows]:>9} rows"),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
    )
    with progress:
        yield Bars(progress)


def _results_table(title: str, results: list[Any]) -> None:
    table(
        title,
        ["table", "source", "rows written", "chunks", "resumed after id", "seconds"],
        [[r.table, r.source, r.rows, r.chunks, r.resumed_from, f"{r.seconds:.2f}"] for r in results],
    )


@click.command("install")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, help="Store ids per INSERT … SELECT.")
def install_command(as_json: bool, chunk_size: int | None) -> None:
    """Migrate the database, then fill every sync table from the store's history.

    Bulk and streaming (memory stays flat), idempotent (a second run changes nothing) and
    resumable (after a kill, run it again: it continues from the last committed chunk).
    """
    setup_django()
    from dotsync.install import DEFAULT_CHUNK_SIZE, run_install

    with friendly_database_errors(needs_tables=False), progress_bar(not as_json) as bars:
        results = run_install(
            chunk_size=chunk_size or DEFAULT_CHUNK_SIZE, on_start=bars.on_start, on_chunk=bars.on_chunk
        )
    if as_json:
        emit_json({"database": database_label(), "sources": [r.as_dict() for r in results]})
    else:
        _results_table("dotsync install", results)


@click.command("migrate-data")
@click.option(
    "--table", "tables", multiple=True, help="Sync table to rebuild (repeatable); all when omitted."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, help="Store ids per INSERT … SELECT.")
def migrate_data_command(tables: tuple[str, ...], as_json: bool, chunk_size: int | None) -> None:
    """Rebuild sync tables from the store's history: empty them, then refill (rows start as new).

    Contacts that carry consent records are kept so consent is never lost.
    """
    setup_django()
    from dotsync.install import DEFAULT_CHUNK_SIZE, migrate_data, validate_tables

    try:
        chosen = validate_tables(tables or None)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--table") from exc
    with friendly_database_errors(), progress_bar(not as_json) as bars:
        deleted, results = migrate_data(
            chosen,
            chunk_size=chunk_size or DEFAULT_CHUNK_SIZE,
            on_start=bars.on_start,
            on_chunk=bars.on_chunk,
        )
    if as_json:
        emit_json({"deleted": deleted, "sources": [r.as_dict() for r in results]})
    else:
        _results_table(f"dotsync migrate-data ({', '.join(chosen)})", results)


COMMANDS = [install_command, migrate_data_command]

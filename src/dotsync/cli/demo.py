"""``dotsync demo``: seed a realistic Oscar shop on a fresh database, install, print a summary."""

from __future__ import annotations

import click

from dotsync.cli import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.install import progress_bar
from dotsync.cli.output import console, emit_json, err_console


@click.command("demo")
@click.option("--seed", type=int, default=None, help="Seed of the shop; the same seed gives the same shop.")
@click.option("--customers", type=click.IntRange(min=1), default=None, help="Customers to create.")
@click.option("--orders", type=click.IntRange(min=0), default=None, help="Orders to place.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demo_command(seed: int | None, customers: int | None, orders: int | None, as_json: bool) -> None:
    """Create a fresh SQLite database, seed an Oscar shop, run install and print rows per sync table.

    The database is ./var/dotsync.sqlite3 (DOTSYNC_VAR_DIR moves it; DATABASE_URL replaces it). The
    defaults finish in about a minute.
    """
    setup_django()
    from dotsync.demo import run as demo

    def step(message: str) -> None:
        if not as_json:
            err_console.print(f"[bold]•[/bold] {message}")

    with friendly_database_errors(needs_tables=False), progress_bar(not as_json) as bars:
        try:
            result = demo.run_demo(
                seed=demo.DEFAULT_SEED if seed is None else seed,
                customers=customers or demo.DEFAULT_CUSTOMERS,
                orders=demo.DEFAULT_ORDERS if orders is None else orders,
                step=step,
                seed_progress=bars.on_seed,
                install_hooks=(bars.on_start, bars.on_chunk),
            )
        except demo.DemoError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json(result.as_dict())
        return
    from dotsync.cli.status import print_summary

    print_summary(result.summary, title="Sync tables after install (rows per website and state)")
    took = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
    console.print(f"Database: {result.database}")
    console.print(f"Seed {result.seed}: {result.customers} customers, {result.orders} orders. {took}.")
    console.print("Next: `dotsync status` shows these counts again; `dotsync migrate-data` rebuilds a table.")


COMMANDS = [demo_command]

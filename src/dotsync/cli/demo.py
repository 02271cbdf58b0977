"""``dotsync demo``: seed a realistic Oscar shop, install, sync it into a sandbox, print a summary."""

from __future__ import annotations

from typing import Any

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.install import progress_bar
from dotsync.cli.output import console, emit_json, err_console, table


@click.command("demo")
@click.option("--seed", type=int, default=None, help="Seed of the shop; the same seed gives the same shop.")
@click.option("--customers", type=click.IntRange(min=1), default=None, help="Customers to create.")
@click.option("--orders", type=click.IntRange(min=0), default=None, help="Orders to place.")
@click.option(
    "--sandbox-url",
    default=None,
    metavar="URL",
    help="Use the sandbox running at URL (e.g. http://127.0.0.1:8899 from `dotsync sandbox`) instead "
    "of starting one in-process; the demo accounts are created through POST /sandbox/accounts.",
)
@click.option(
    "--serve-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    metavar="URL",
    help="Where `dotsync serve` will answer: the base of the printed storefront links.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (keys below).")
def demo_command(
    seed: int | None,
    customers: int | None,
    orders: int | None,
    sandbox_url: str | None,
    serve_url: str,
    as_json: bool,
) -> None:
    """Seed an Oscar shop on a fresh database, install, sync it into a sandbox and summarise.

    Steps: recreate the SQLite database (./var/dotsync.sqlite3; DOTSYNC_VAR_DIR moves it,
    DATABASE_URL replaces it), migrate, seed (2 websites, 3 stores), install, start a sandbox on
    ./var/sandbox.sqlite3 (or use --sandbox-url), create one account per website
    (demo-<website>@apiconnector.com), suppress two seeded addresses per website there, then
    `sync all` until the queue drains. Then the automation: each store gets the account's
    campaigns and programme, customers leave baskets and orders are completed, a contact is
    suppressed and another resubscribed on the platform, and time is let pass (the store's dates
    moved back, not waited for) with a `sync all` after each step; every job is run again at once
    and sends nothing. Last, each website gets a fresh dynamic-content passcode and the demo prints,
    per website, dynamic-content URLs for one demo customer, a cart-restore link and the subscribe
    page: open them under `dotsync serve`. The defaults finish in about a minute.

    \b
    --json keys:
      database, seed, customers, orders, migrations, timings (seconds per step), seeded, install
      summary      rows per sync table, website and state, after the sync
      sandbox      url, database (null with --sandbox-url), in_process, browse
      suppressed   website -> addresses suppressed in the sandbox before the sync
      sync         drained, stopped, rounds, api_calls, elapsed_seconds, errors
      websites     website -> account (API user), contacts, address_books (name -> contacts),
                   collections (insight collection -> records), imports (total, by_kind,
                   by_status), faults (reason -> addresses), fault_rows (reason -> report
                   rows), api_calls (sandbox log for the user), importer (local totals:
                   imported, failed, ...), suppressed_locally
      automation   passes, pass_seconds, clock_moved_hours, second_pass (api_writes, api_reads, errors of
                   every job run again at once), websites -> account, activity (baskets,
                   completed_orders), abandoned_cart_sends (step1..step3), review_requests,
                   platform_deliveries (abandoned_cart, review), enrolments (rows_by_programme,
                   rows_by_status, platform), suppressions (carried_in, resubscribed,
                   unsubscribed_now, subscribed_again), second_pass (deliveries, queued)
      storefront   website -> customer (the demo customer's id), edc (name -> URL with the
                   passcode), restore (cart-restore link), subscribe (the subscribe page)
    """  # noqa: D301 (\b is click's "do not rewrap" marker)
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
                sandbox_url=sandbox_url,
                sync_progress=bars.on_sync,
                serve_url=serve_url,
            )
        except demo.DemoError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json(result.as_dict())
        return
    print_result(result)


def platform_rows(websites: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """One row per measure, one column per website: what reached each account."""
    codes = list(websites)

    def row(label: str, value: Any) -> list[Any]:
        return [label, *(value(websites[code]) for code in codes)]

    def keys(part: str) -> list[str]:
        return sorted({k for site in websites.values() for k in site[part]})

    def statuses(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "-"

    rows = [row("contacts", lambda s: s["contacts"])]
    rows += [row(f"  in {b}", lambda s, b=b: s["address_books"].get(b, 0)) for b in keys("address_books")]
    rows += [row(f"{c} records", lambda s, c=c: s["collections"].get(c, 0)) for c in keys("collections")]
    rows.append(row("imports", lambda s: f"{s['imports']['total']} ({statuses(s['imports']['by_status'])})"))
    rows += [
        row(f"fault: {r}", lambda s, r=r: f"{s['faults'].get(r, 0)} ({s['fault_rows'].get(r, 0)} rows)")
        for r in keys("faults")
    ]
    rows.append(row("importer rows imported", lambda s: s["importer"].get("imported", 0)))
    rows.append(row("importer rows failed", lambda s: s["importer"].get("failed", 0)))
    rows.append(row("suppressed locally", lambda s: s["suppressed_locally"]))
    rows.append(row("API calls (setup and sync)", lambda s: s["api_calls"]))
    return rows


def automation_rows(websites: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """One row per automation measure, one column per website."""
    codes = list(websites)

    def row(label: str, value: Any) -> list[Any]:
        return [label, *(value(websites[code]) for code in codes)]

    programmes = sorted({p for s in websites.values() for p in s["enrolments"]["rows_by_programme"]})
    rows = [row("baskets left", lambda s: s["activity"].get("baskets", 0))]
    rows += [
        row(f"abandoned cart step {n} sends", lambda s, n=n: s["abandoned_cart_sends"][f"step{n}"])
        for n in (1, 2, 3)
    ]
    rows.append(row("orders completed", lambda s: s["activity"].get("completed_orders", 0)))
    rows.append(row("review requests sent", lambda s: s["review_requests"]))
    rows.append(
        row(
            "delivered (sandbox): carts / reviews",
            lambda s: f"{s['platform_deliveries']['abandoned_cart']} / {s['platform_deliveries']['review']}",
        )
    )
    rows += [
        row(f"enrolment rows: {p}", lambda s, p=p: s["enrolments"]["rows_by_programme"].get(p, 0))
        for p in programmes
    ]
    rows.append(row("enrolled (sandbox)", lambda s: s["enrolments"]["platform"]))
    rows.append(row("suppressed on the platform -> store", lambda s: s["suppressions"]["carried_in"]))
    rows.append(row("resubscribed on the platform -> store", lambda s: s["suppressions"]["resubscribed"]))
    rows.append(
        row(
            "run again at once: delivered / queued",
            lambda s: f"{s['second_pass']['deliveries']} / {s['second_pass']['queued']}",
        )
    )
    return rows


def print_result(result: Any) -> None:
    """The demo summary for people: sync tables, what reached the platform, where to look next."""
    from dotsync.cli.status import print_summary

    print_summary(result.summary, title="Sync tables after the sync (rows per website and state)")
    table("What reached the platform (sandbox)", ["", *result.websites], platform_rows(result.websites))
    auto = result.automation
    if auto.get("websites"):
        table(
            f"Automation ({auto['clock_moved_hours']} hours let pass, {auto['passes']} `sync all` passes)",
            ["", *auto["websites"]],
            automation_rows(auto["websites"]),
        )
        again = auto["second_pass"]
        console.print(
            f"Every job run again at once: {again['api_writes']} writing API calls "
            f"({again['api_reads']} feed reads)."
        )
    for error in result.sync.get("errors", []):
        err_console.print(f"[red]error:[/red] {error}")
    sync = result.sync
    state = "drained" if sync.get("drained") else f"stopped ({sync.get('stopped')})"
    took = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
    for code, site in result.websites.items():
        console.print(f"Account of {code}: {site['account']}")
    console.print(f"Database: {result.database}")
    console.print(f"Seed {result.seed}: {result.customers} customers, {result.orders} orders. {took}.")
    console.print(
        f"Sync: queue {state} after {sync.get('rounds', 0)} rounds, {sync.get('api_calls', 0)} API calls "
        "by `sync all`; "
        f"{sum(result.suppressed.values())} addresses were suppressed in the sandbox beforehand."
    )
    sandbox = result.sandbox
    if sandbox.get("in_process"):
        console.print(f"Sandbox state: {sandbox['database']} (the demo's sandbox has stopped).")
        console.print(f"See what was sent: {sandbox['browse']}")
    else:
        console.print(f"Sandbox: {sandbox['url']}; see what was sent at {sandbox['browse']}")
    for code, site in result.storefront.items():
        console.print(f"Storefront of {code} (open under `dotsync serve`; customer {site['customer']}):")
        for name, url in site["edc"].items():
            console.print(f"  {name}: {url}", soft_wrap=True)
        for name in ("restore", "subscribe"):
            if site.get(name):
                console.print(f"  {name}: {site[name]}", soft_wrap=True)
    console.print("Next: `dotsync status` shows the sync tables again; `dotsync sync all` sends changes.")


COMMANDS = [demo_command]

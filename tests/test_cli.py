"""The install/status/migrate-data/demo commands, in-process on a tiny shop and as real processes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dotsync.cli import main
from dotsync.cli.exitcodes import ExitCode
from dotsync.install import backfill
from dotsync.models import Contact, Importer, Order, SyncStatus, WebsiteConfig
from dotsync.models.importer import ImportStatus
from dotsync.platform.sandbox.control import SandboxControl
from dotsync.platform.sandbox.server import run_in_thread
from dotsync.testing.platform_setup import configure_websites

ROOT = Path(__file__).resolve().parents[1]


def dotsync(*args: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "dotsync", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_status_json_counts_rows_per_table_website_and_state(shop):
    backfill()
    Order.objects.filter(order_id=shop.orders["bob_outlet"].pk).update(sync_status=SyncStatus.IMPORTED)
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["websites"] == ["main", "outlet"]
    orders = data["tables"]["email_order"]
    outlet_orders = Order.objects.filter(website=shop.scope.outlet).count()
    assert orders["outlet"] == {
        **orders["outlet"],
        "imported": 1,
        "new": outlet_orders - 1,
        "total": outlet_orders,
    }
    assert orders["main"]["total"] + orders["outlet"]["total"] == Order.objects.count()
    contacts = data["tables"]["email_contact"]
    assert contacts["main"]["total"] == Contact.objects.filter(website=shop.scope.main).count()
    assert set(data["tables"]["email_catalog"]) == {"*"}
    assert "pending" in data["tables"]["email_importer"]["main"]


def test_status_has_the_automation_lines_per_website(shop):
    """email_abandoned_cart, email_campaign, email_automation and consent, in --json and for people."""
    from dotsync.models import ContactConsent
    from dotsync.models.automation import Automation, AutomationStatus

    backfill()
    main_site, outlet = shop.scope.main, shop.scope.outlet
    for n, status in enumerate((AutomationStatus.ACTIVE, AutomationStatus.ACTIVE, AutomationStatus.FAILED)):
        Automation.objects.create(
            automation_type="customer_automation",
            email=f"a{n}@example.com",
            type_id=str(n),
            website=main_site,
            enrolment_status=status,
        )
    contact = Contact.objects.filter(website=outlet).order_by("pk").first()
    ContactConsent.objects.create(email_contact=contact, consent_text="Yes please", consent_imported=True)
    ContactConsent.objects.create(email_contact=contact, consent_text="Yes please")

    data = json.loads(CliRunner().invoke(main, ["status", "--json"]).output)

    tables = data["tables"]
    assert {"email_abandoned_cart", "email_campaign", "email_automation", "email_contact_consent"} <= set(
        tables
    )
    assert tables["email_automation"]["main"] == {
        **tables["email_automation"]["main"],
        "Active": 2,
        "Failed": 1,
        "pending": 0,
        "total": 3,
    }
    assert tables["email_automation"]["outlet"]["total"] == 0
    assert tables["email_contact_consent"] == {
        "main": {"waiting": 0, "sent": 0, "total": 0},
        "outlet": {"waiting": 1, "sent": 1, "total": 2},
    }
    assert (
        tables["email_abandoned_cart"]["main"]["total"] == 0
        and "step 3" in tables["email_abandoned_cart"]["main"]
    )
    out = CliRunner().invoke(main, ["status"], terminal_width=250).output
    assert "email_automation" in out and "email_contact_consent" in out


def test_status_prints_a_table_for_people(shop):
    backfill()
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "email_order" in result.output and "outlet" in result.output


def test_migrate_data_json_rebuilds_one_table(shop):
    backfill()
    Order.objects.update(sync_status=SyncStatus.IMPORTED)
    result = CliRunner().invoke(main, ["migrate-data", "--table", "email_order", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["deleted"] == {"email_order": len(shop.orders)}
    assert [(s["table"], s["rows"]) for s in data["sources"]] == [("email_order", len(shop.orders))]
    assert set(Order.objects.values_list("sync_status", flat=True)) == {SyncStatus.NEW}


def test_migrate_data_rejects_an_unknown_table_and_names_the_valid_ones(db):
    result = CliRunner().invoke(main, ["migrate-data", "--table", "email_nope"])
    assert result.exit_code == 2
    assert "email_nope" in result.output and "email_wishlist" in result.output


def test_status_on_an_empty_database_says_to_run_install(tmp_path):
    done = dotsync("status", env={"DOTSYNC_VAR_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "Run `dotsync install` first" in done.stderr and "Traceback" not in done.stderr


def test_unreachable_database_says_what_to_check(tmp_path):
    done = dotsync("status", env={"DATABASE_URL": "postgres://postgres@127.0.0.1:9/nowhere"}, timeout=60)
    assert done.returncode == 1
    assert "Cannot reach the database" in done.stderr and "DATABASE_URL" in done.stderr


BOOK_MEMBERS = {
    "Customers": "customer_id IS NOT NULL",
    "Guests": "is_guest",
    "Subscribers": "is_subscriber OR subscriber_status = 3",
}
"""Who may be in each demo address book, as a condition on the demo database's email_contact."""


def local(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows of a query on a demo's SQLite database (read directly, not through the test database)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def check_platform(
    demo_db: Path, websites: dict[str, dict], tables: dict, accounts: dict, automation: dict | None = None
) -> None:
    """What the demo reports reached each website's account is what the sandbox holds, and fits the shop."""
    for code, site in websites.items():
        user = f"demo-{code}@apiconnector.com"
        assert site["account"] == user
        account = accounts[user]
        (website_id,) = local(demo_db, "SELECT id FROM dotsync_website WHERE code = ?", code)[0]
        books = {b["name"]: b["contacts"] for b in account["address_books"]}
        assert site["address_books"] == {name: books[name] for name in BOOK_MEMBERS}
        assert all(site["address_books"][name] > 0 for name in ("Customers", "Subscribers"))
        for name, condition in BOOK_MEMBERS.items():
            on_platform = {c["email"].lower() for c in account["contacts"] if name in c["address_books"]}
            allowed = local(
                demo_db,
                f"SELECT lower(email) FROM email_contact WHERE website_id = ? AND ({condition})",
                website_id,
            )
            assert on_platform <= {e for (e,) in allowed}, name
        orders = account["insight"]["Orders"]["records"]
        assert site["collections"]["Orders"] == len(orders) == tables["email_order"][code]["imported"] > 0
        assert {r["key"] for r in orders} == {
            str(n)
            for (n,) in local(
                demo_db,
                "SELECT order_number FROM email_order WHERE website_id = ? AND sync_status = 3",
                website_id,
            )
        }
        # two addresses of this website were globally suppressed before the sync: the fault report named
        # them and they end unsubscribed locally
        assert site["faults"] == {"Globally Suppressed": 2}
        suppressed = local(
            demo_db,
            "SELECT COUNT(*) FROM email_contact WHERE website_id = ? AND suppressed AND NOT is_subscriber",
            website_id,
        )
        # plus the contact the demo's automation suppressed on the platform (the unsubscriber carried it)
        carried = len(automation["websites"][code]["suppressions"]["unsubscribed_now"]) if automation else 0
        assert site["suppressed_locally"] == suppressed[0][0] == 2 + carried
        assert site["importer"]["imported"] == site["imports"]["total"] > 0
        assert site["importer"].get("failed", 0) == 0


def check_automation(auto: dict) -> None:
    """The demo's automation: every configured step sent, reviews asked, both feeds carried, and every
    job run again at once sent nothing."""
    assert auto["second_pass"]["api_writes"] == 0 and not auto["second_pass"]["errors"], auto["second_pass"]
    assert auto["second_pass"]["api_reads"] > 0  # only the feeds read
    assert set(auto["websites"]) == {"main", "outlet"}
    for code, site in auto["websites"].items():
        assert site["account"] == f"demo-{code}@apiconnector.com"
        baskets, orders = site["activity"]["baskets"], site["activity"]["completed_orders"]
        assert baskets > 0 and orders > 0, site
        # each basket got step 1, 2 and 3 once, each completed order one review request
        assert site["abandoned_cart_sends"] == {"step1": baskets, "step2": baskets, "step3": baskets}, site
        assert site["review_requests"] == orders
        assert site["platform_deliveries"] == {"abandoned_cart": 3 * baskets, "review": orders}
        # the orders placed are enrolment rows of the order programme
        assert site["enrolments"]["rows_by_programme"].get("order_automation", 0) >= orders
        sup = site["suppressions"]
        assert sup["carried_in"] == 2 and sup["resubscribed"] >= 1, sup
        assert len(sup["unsubscribed_now"]) == 1 and len(sup["subscribed_again"]) == 1, sup
        assert site["second_pass"] == {"deliveries": 0, "queued": 0}


def check_storefront_links(links: dict, serve_url: str, env: dict[str, str]) -> None:
    """The demo's storefront URLs answer real content under `dotsync serve` (a real process on loopback)."""
    import httpx

    assert set(links) == {"main", "outlet"}
    for code, site in links.items():
        assert site["customer"] is not None, code
        assert {"basket", "bestsellers", "wishlist", "recentlyviewed", "review", "coupon"} <= set(
            site["edc"]
        ), site
        assert all(url.startswith(f"{serve_url}/dotsync/edc/{code}/") for url in site["edc"].values())
        assert site["restore"].startswith(f"{serve_url}/dotsync/cart/{code}/")
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    port = serve_url.rsplit(":", 1)[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "dotsync", "serve", "--port", port, "--log-level", "warning"],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with httpx.Client(base_url=serve_url, timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:  # the server binds within seconds; poll its health page, no fixed sleep
                try:
                    if client.get("/healthz").status_code in (200, 503):
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, "dotsync serve did not start"
            for code, site in links.items():
                basket = client.get(site["edc"]["basket"])
                assert basket.status_code == 200 and "<table" in basket.text, (code, basket.status_code)
                assert f"/dotsync/cart/{code}/" in basket.text  # the fragment's restore link
                bestsellers = client.get(site["edc"]["bestsellers"])
                assert bestsellers.status_code == 200 and "<img" in bestsellers.text
                coupon = client.get(site["edc"]["coupon"])  # a unique code from the demo's voucher offer
                assert coupon.status_code == 200 and "edc-coupon" in coupon.text
                viewed = client.get(site["edc"]["recentlyviewed"])
                assert viewed.status_code == 200  # the demo recorded the customer's views
                assert client.get(site["edc"]["basket"].replace("code=", "code=wrong")).status_code == 401
                restored = client.get(site["restore"])  # a guest basket into the session, or the login page
                assert restored.status_code == 302, restored.text[:500]
                landing = client.get(restored.headers["location"])
                assert landing.status_code == 200
                if site["subscribe"]:
                    assert client.get(site["subscribe"]).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_demo_syncs_into_its_sandbox_then_status_and_a_second_install_on_a_fresh_machine(tmp_path):
    env = {"DOTSYNC_VAR_DIR": str(tmp_path)}
    serve_url = f"http://127.0.0.1:{_closed_port()}"
    done = dotsync(
        "demo",
        "--seed",
        "7",
        "--customers",
        "30",
        "--orders",
        "60",
        "--serve-url",
        serve_url,
        "--json",
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    demo = json.loads(done.stdout)
    check_storefront_links(demo["storefront"], serve_url, env)
    assert demo["database"] == str(tmp_path / "dotsync.sqlite3")
    assert (demo["seed"], demo["customers"], demo["orders"]) == (7, 30, 60)
    tables = demo["summary"]["tables"]
    completed = sum(site["activity"]["completed_orders"] for site in demo["automation"]["websites"].values())
    assert sum(site["total"] for site in tables["email_order"].values()) == 60 + completed  # + the demo's own
    assert all(
        sum(site["total"] for site in tables[t].values()) > 0 for t in ("email_contact", "email_catalog")
    )
    assert demo["sync"]["drained"] and not demo["sync"]["errors"], demo["sync"]
    assert demo["suppressed"] == {"main": 2, "outlet": 2}
    check_automation(demo["automation"])
    # the in-process sandbox kept its state in var/sandbox.sqlite3: serve it again, as a user would with
    # `dotsync sandbox --db var/sandbox.sqlite3`, and compare with the summary
    assert demo["sandbox"]["in_process"] and demo["sandbox"]["database"] == str(tmp_path / "sandbox.sqlite3")
    assert f"--db {tmp_path / 'sandbox.sqlite3'}" in demo["sandbox"]["browse"]
    served = run_in_thread(db_path=demo["sandbox"]["database"])
    try:
        with SandboxControl(served.url) as control:
            state = control.state()
            calls = {user: control.requests(user)["total"] for user in state["accounts"]}
    finally:
        served.stop()
    assert set(state["accounts"]) == {"demo-main@apiconnector.com", "demo-outlet@apiconnector.com"}
    check_platform(Path(demo["database"]), demo["websites"], tables, state["accounts"], demo["automation"])
    assert {site["account"]: site["api_calls"] for site in demo["websites"].values()} == calls
    status = dotsync("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["tables"] == tables
    again = dotsync("install", "--json", env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert sum(s["rows"] for s in json.loads(again.stdout)["sources"]) == 0
    assert json.loads(dotsync("status", "--json", env=env).stdout)["tables"] == tables
    # a second demo starts from a fresh database and sandbox again (migrated schema reused) and, with
    # the same seed, builds the same shop and sends the same
    second = dotsync("demo", "--seed", "7", "--customers", "30", "--orders", "60", "--json", env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    rerun = json.loads(second.stdout)
    assert (demo["migrations"], rerun["migrations"]) == ("migrated", "cached")
    assert rerun["summary"]["tables"] == tables and rerun["seeded"] == demo["seeded"]
    # what reached the platform is the same; the importer's in-progress polls depend on timing
    stable = ("account", "contacts", "address_books", "collections", "faults")

    def sent(run: dict) -> dict:
        return {
            code: {**{k: site[k] for k in stable}, "imported": site["importer"].get("imported")}
            for code, site in run["websites"].items()
        }

    assert sent(rerun) == sent(demo)


@pytest.mark.slow
def test_demo_with_sandbox_url_creates_its_accounts_on_that_sandbox(tmp_path):
    sandbox = run_in_thread()  # in memory, no accounts: the demo must create them over POST /sandbox/accounts
    try:
        env = {"DOTSYNC_VAR_DIR": str(tmp_path)}
        done = dotsync(
            "demo",
            "--seed",
            "3",
            "--customers",
            "25",
            "--orders",
            "40",
            "--sandbox-url",
            sandbox.url,
            env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        with SandboxControl(sandbox.url) as control:
            state = control.state()
    finally:
        sandbox.stop()
    assert not (tmp_path / "sandbox.sqlite3").exists()  # no sandbox of its own
    assert set(state["accounts"]) == {"demo-main@apiconnector.com", "demo-outlet@apiconnector.com"}
    out = " ".join(done.stdout.split())  # rich wraps long lines
    assert "Account of main: demo-main@apiconnector.com" in out
    assert "Account of outlet: demo-outlet@apiconnector.com" in out
    assert f"Database: {tmp_path / 'dotsync.sqlite3'}" in out
    assert f"see what was sent at {sandbox.url}/sandbox/" in out
    assert "fault: Globally Suppressed" in out and "Orders records" in out
    demo_db = tmp_path / "dotsync.sqlite3"
    for user, account in state["accounts"].items():
        code = user.removeprefix("demo-").split("@")[0]
        (website_id,) = local(demo_db, "SELECT id FROM dotsync_website WHERE code = ?", code)[0]
        (imported,) = local(
            demo_db, "SELECT COUNT(*) FROM email_order WHERE website_id = ? AND sync_status = 3", website_id
        )[0]
        assert len(account["insight"]["Orders"]["records"]) == imported > 0
        filled = {b["name"] for b in account["address_books"] if b["contacts"]}
        assert "Customers" in filled and filled <= {"Customers", "Subscribers", "Guests"}


def test_demo_with_an_unreachable_sandbox_url_says_how_to_start_one(tmp_path):
    done = dotsync(
        "demo", "--sandbox-url", "http://127.0.0.1:9", env={"DOTSYNC_VAR_DIR": str(tmp_path)}, timeout=60
    )
    assert done.returncode == 1
    assert "No dotdigital sandbox answers at http://127.0.0.1:9" in done.stderr
    assert "`dotsync sandbox`" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "dotsync.sqlite3").exists()  # checked before the database is wiped


def test_install_without_websites_says_how_to_create_them(db):
    result = CliRunner().invoke(main, ["migrate-data", "--table", "email_order"])
    assert result.exit_code == ExitCode.CONFIG  # a ConfigurationError: no website has a store yet
    assert "dotsync demo" in result.output and "Traceback" not in result.output


# -- exit codes of `dotsync sync` (README "Exit codes") -------------------------------------------------


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sync_all_with_nothing_configured_exits_3_and_says_what_to_do(scope):
    result = CliRunner().invoke(main, ["sync", "all"])
    assert result.exit_code == ExitCode.NOTHING_CONFIGURED == 3, result.output
    assert "no website is enabled" in result.output and "drained" not in result.output
    as_json = CliRunner().invoke(main, ["sync", "contacts", "--json"])
    assert as_json.exit_code == 3 and json.loads(as_json.stdout)["websites"] == 0


def test_sync_all_drained_exits_0(shop, sandbox):
    backfill()
    configure_websites(sandbox, shop.scope.websites)
    result = CliRunner().invoke(main, ["sync", "all", "--json"])
    summary = json.loads(result.stdout)
    assert result.exit_code == ExitCode.OK, summary["errors"]
    assert summary["drained"] and summary["exit_code"] == 0 and summary["api_calls"] > 0
    assert {a["state"] for a in summary["accounts"]} == {"ok"}


def test_sync_all_with_refused_credentials_exits_4(shop, sandbox):
    backfill()
    configure_websites(sandbox, shop.scope.websites, password="right-password")
    cfg = WebsiteConfig.objects.get(website=shop.scope.main)
    cfg.set_api_password("wrong-password")
    cfg.save()
    result = CliRunner().invoke(main, ["sync", "all", "--json", "--stall-limit", "5"])
    summary = json.loads(result.stdout)
    assert result.exit_code == ExitCode.CREDENTIALS == 4, summary
    main_account = next(a for a in summary["accounts"] if a["websites"] == ["main"])
    assert main_account["state"] == "credentials"
    assert any("refused the API credentials" in e and "dotsync retry" in e for e in summary["errors"])


def test_sync_all_with_an_unreachable_platform_ends_soon_and_exits_5_with_its_own_hint(shop, sandbox):
    backfill()
    configure_websites(sandbox, shop.scope.websites, max_retries=1)
    closed = f"http://127.0.0.1:{_closed_port()}"
    WebsiteConfig.objects.update(api_base_url=closed, api_endpoint=closed)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["sync", "all", "--stall-limit", "3"])
    elapsed = time.monotonic() - started
    assert result.exit_code == ExitCode.UNREACHABLE == 5, result.output
    assert elapsed < 60
    out = " ".join(result.output.split())  # rich wraps long lines
    for code in ("main", "outlet"):
        assert f"website(s) {code}: the platform is unreachable (refused)" in out
    assert "connection was refused" in out and "status page" not in out
    assert "stopped (stalled)" in out
    # nothing was lost: every queued row is still pending, none failed
    assert not Importer.objects.filter(import_status=ImportStatus.FAILED).exists()
    assert Importer.objects.filter(import_status=ImportStatus.PENDING).exists()


def test_sync_all_with_rows_the_platform_failed_exits_6(shop, sandbox, monkeypatch):
    from tests.jobs.importer_helpers import no_import_retries

    backfill()
    configure_websites(sandbox, shop.scope.websites)
    no_import_retries(monkeypatch)
    sandbox.set_faults(import_outcome="RejectedByWatchdog")
    result = CliRunner().invoke(main, ["sync", "all", "--json"])
    summary = json.loads(result.stdout)
    assert result.exit_code == ExitCode.ROWS_FAILED == 6, summary["errors"]
    assert summary["failed"] > 0


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("notaurl", "DATABASE_URL is not a URL"),
        ("postgress", "DATABASE_URL has the unknown scheme 'postgress'"),
        ("no-driver", "DATABASE_URL needs a database driver that is not installed"),
        ("corrupt", "is not a dotsync database, or is corrupt"),
        ("var-unwritable", "cannot be created"),
    ],
)
def test_settings_problems_exit_2_with_one_line_and_no_traceback(tmp_path, case, expected):
    """Settings that lie (issue 8): each a one-line error saying what to do, exit code 2."""
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(bytes(range(256)) * 16)  # garbage, not SQLite
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {
        "notaurl": {"DATABASE_URL": "notaurl"},
        "postgress": {"DATABASE_URL": "postgress://dotsync:db-secret@localhost/dotsync"},
        "no-driver": {"DATABASE_URL": "mysql://dotsync:db-secret@localhost/dotsync"},  # mysqlclient absent
        "corrupt": {"DATABASE_URL": f"sqlite:///{corrupt}"},
        "var-unwritable": {"DOTSYNC_VAR_DIR": str(blocker / "var")},  # under a file: cannot be made
    }[case]
    done = dotsync("status", env=env, timeout=60)
    assert done.returncode == ExitCode.CONFIG == 2, done.stderr
    assert "Traceback" not in done.stderr and "db-secret" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert expected in line


def test_a_missing_var_dir_is_created(tmp_path):
    var = tmp_path / "not" / "yet"
    done = dotsync("status", env={"DOTSYNC_VAR_DIR": str(var)})
    assert var.is_dir() and "Run `dotsync install` first" in done.stderr and "Traceback" not in done.stderr


def test_sync_all_with_a_platform_that_never_answers_ends_and_says_timeout(shop, sandbox):
    backfill()
    configure_websites(sandbox, shop.scope.websites, max_retries=1, timeout=0.5)
    sandbox.set_faults(timeout_rate=1.0, timeout_seconds=1.0)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["sync", "all", "--stall-limit", "2"])
    elapsed = time.monotonic() - started
    sandbox.set_faults(reset=True)
    assert result.exit_code == ExitCode.UNREACHABLE, result.output
    out = " ".join(result.output.split())
    assert "the platform is unreachable (timeout)" in out and "did not answer in time" in out
    assert elapsed < 90
    assert not Importer.objects.filter(import_status=ImportStatus.FAILED).exists()

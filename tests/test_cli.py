"""The install/status/migrate-data/demo commands, in-process on a tiny shop and as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dotsync.cli import main
from dotsync.install import backfill
from dotsync.models import Contact, Order, SyncStatus

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


@pytest.mark.slow
def test_demo_then_status_and_a_second_install_on_a_fresh_machine(tmp_path):
    env = {"DOTSYNC_VAR_DIR": str(tmp_path)}
    done = dotsync("demo", "--seed", "7", "--customers", "30", "--orders", "60", "--json", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    demo = json.loads(done.stdout)
    assert demo["database"] == str(tmp_path / "dotsync.sqlite3")
    assert (demo["seed"], demo["customers"], demo["orders"]) == (7, 30, 60)
    tables = demo["summary"]["tables"]
    assert sum(site["total"] for site in tables["email_order"].values()) == 60
    assert all(
        sum(site["total"] for site in tables[t].values()) > 0 for t in ("email_contact", "email_catalog")
    )
    status = dotsync("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["tables"] == tables
    again = dotsync("install", "--json", env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert sum(s["rows"] for s in json.loads(again.stdout)["sources"]) == 0
    assert json.loads(dotsync("status", "--json", env=env).stdout)["tables"] == tables
    # a second demo starts from a fresh database again (migrated schema reused) and, with the same
    # seed, builds the same shop
    second = dotsync("demo", "--seed", "7", "--customers", "30", "--orders", "60", "--json", env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    rerun = json.loads(second.stdout)
    assert (demo["migrations"], rerun["migrations"]) == ("migrated", "cached")
    assert rerun["summary"]["tables"] == tables and rerun["seeded"] == demo["seeded"]


def test_install_without_websites_says_how_to_create_them(db):
    result = CliRunner().invoke(main, ["migrate-data", "--table", "email_order"])
    assert result.exit_code == 1
    assert "dotsync demo" in result.output and "Traceback" not in result.output

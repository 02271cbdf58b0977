"""``dotsync datafields automap`` against the sandbox over real HTTP."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dotsync.accounts import reset_clients
from dotsync.cli import main
from dotsync.config import get_config
from dotsync.jobs.automap import SENT_KEYS, automap
from dotsync.testing.sandbox_fixtures import SANDBOX_PASSWORD, SANDBOX_USER
from tests.jobs.batch_helpers import enable


@pytest.fixture
def account(sandbox, scope):
    sandbox.create_account(SANDBOX_USER, SANDBOX_PASSWORD)
    enable(scope.main, api_user=SANDBOX_USER, password=SANDBOX_PASSWORD, api_base_url=sandbox.url)
    reset_clients()
    yield sandbox
    reset_clients()


def _fields(sandbox):
    return {f["name"]: f["type"] for f in sandbox.account(SANDBOX_USER)["data_fields"]}


def test_automap_creates_missing_fields_with_types_and_saves_mapping(account, scope):
    [result] = automap("main")

    fields = _fields(account)
    assert fields["NUMBER_OF_ORDERS"] == "Numeric"
    assert fields["TOTAL_SPEND"] == "Numeric"
    assert fields["LAST_ORDER_DATE"] == "Date"
    assert fields["STORE_NAME"] == "String"
    assert "FIRSTNAME" in result.existing  # a default field of every account
    assert "NUMBER_OF_ORDERS" in result.created
    assert "DOB" not in fields  # the shop has no date of birth, so it is never sent or created
    cfg = get_config(scope.main)
    assert all(cfg.data_field_mapping[k] for k in SENT_KEYS)

    [again] = automap("main")

    assert again.created == [] and again.failed == {}
    assert set(again.existing) == set(result.created) | set(result.existing)


def test_automap_tolerates_a_field_that_cannot_be_created(account, scope):
    enable(
        scope.main,
        api_user=SANDBOX_USER,
        password=SANDBOX_PASSWORD,
        api_base_url=account.url,
        data_field_mapping={"title": "contact"},  # a restricted name on the platform
    )

    [result] = automap("main")

    assert "contact" in result.failed
    assert get_config(scope.main).data_field_mapping["title"] == ""  # not sent any more
    assert "NUMBER_OF_ORDERS" in result.created


def test_automap_cli_json(account):
    out = CliRunner().invoke(main, ["datafields", "automap", "--website", "main", "--json"])

    assert out.exit_code == 0, out.output
    [data] = json.loads(out.output)
    assert data["website"] == "main" and "LAST_ORDER_DATE" in data["created"]


def test_automap_unknown_website_tells_what_to_do(account):
    out = CliRunner().invoke(main, ["datafields", "automap", "--website", "outlet"])

    assert out.exit_code != 0
    assert "not enabled" in out.output

"""``dotsync config get|set`` on a real scope, and ``manage.py dotsync`` (call_command and a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.core.management import call_command

from dotsync.cli import main
from dotsync.config import DEFAULTS, SCHEMA, env_name
from dotsync.crypto import DEFAULT_SECRET_KEY
from dotsync.models import WebsiteConfig

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_stray_settings(monkeypatch):
    for key in SCHEMA:
        monkeypatch.delenv(env_name(key), raising=False)


def config(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["config", *args], input=input)


def get_json(*args: str) -> dict:
    result = config("get", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def parser_message(key: str, raw: str) -> str:
    with pytest.raises(ValueError) as caught:
        SCHEMA[key](raw)
    return str(caught.value)


def test_set_get_unset_round_trip_on_a_website(scope):
    for key, value in (("timeout", "30"), ("sync_orders", "no"), ("job_frequencies", '{"orders": 30}')):
        result = config("set", "--website", "main", key, value)
        assert result.exit_code == 0, result.output
    row = WebsiteConfig.objects.get(website=scope.main)
    assert row.extra == {"timeout": 30.0}  # no column: extra JSON
    assert row.sync_orders is False and row.job_frequencies == {"orders": 30}  # columns
    got = get_json("--website", "main", "timeout")
    assert (got["value"], got["source"], got["inherited"]) == (30.0, "website row", False)
    assert got["sources"] == ["website main's row: extra['timeout']"]
    frequencies = get_json("--website", "main", "job_frequencies")
    assert frequencies["value"] == {**DEFAULTS["job_frequencies"], "orders": 30}  # merged over the defaults
    outlet = get_json("--website", "outlet", "timeout")
    assert (outlet["value"], outlet["source"], outlet["inherited"]) == (121.0, "defaults", True)
    human = config("get", "--website", "main", "sync_orders")
    assert human.stdout == "false\n"

    for key in ("timeout", "sync_orders", "job_frequencies"):  # no VALUE: inherit again
        assert config("set", "--website", "main", key).exit_code == 0
    row.refresh_from_db()
    assert row.extra is None and row.sync_orders is None and row.job_frequencies is None
    got = get_json("--website", "main", "timeout")
    assert (got["value"], got["inherited"]) == (121.0, True)


def test_get_lists_every_key_with_the_global_source(scope, monkeypatch, settings):
    settings.DOTSYNC = {"max_retries": 9}
    monkeypatch.setenv("DOTSYNC_TIMEOUT", "12")
    listing = get_json()
    assert listing["website"] is None and set(listing["settings"]) == set(SCHEMA)
    assert listing["settings"]["max_retries"]["source"] == "settings.DOTSYNC"
    assert (listing["settings"]["timeout"]["value"], listing["settings"]["timeout"]["source"]) == (
        12.0,
        "environment",
    )
    assert listing["settings"]["catalog_level"]["source"] == "defaults"
    inherited = get_json("--website", "main", "timeout")
    assert inherited["inherited"] and inherited["sources"] == ["environment variable DOTSYNC_TIMEOUT"]
    monkeypatch.setenv("DOTSYNC_MAX_RETRIES", "lots")  # a value that does not parse: the layer below stays
    bad = get_json("max_retries")
    assert bad["value"] == 9 and bad["problems"] == [
        f"environment variable DOTSYNC_MAX_RETRIES {parser_message('max_retries', 'lots')}"
    ]
    table = config("get")
    assert table.exit_code == 0 and "catalog_level" in table.stdout and "DOTSYNC_MAX_RETRIES" in table.stdout


@pytest.mark.parametrize(
    ("key", "raw", "label"),
    [
        ("timeout", "soon", "extra['timeout']"),
        ("sync_orders", "maybe", "sync_orders"),
        ("job_frequencies", '{"ordrs": 30}', "job_frequencies"),
        ("max_active_imports", "99", "extra['max_active_imports']"),
    ],
)
def test_an_invalid_value_exits_2_with_the_parsers_message_and_writes_nothing(scope, key, raw, label):
    before = WebsiteConfig.objects.filter(website=scope.main).values().first()
    result = config("set", "--website", "main", key, raw)
    assert result.exit_code == 2, result.output
    assert f"website main's row: {label} {parser_message(key, raw)}" in result.output
    assert WebsiteConfig.objects.filter(website=scope.main).values().first() == before


def test_a_configuration_the_admin_would_refuse_is_refused_and_rolled_back(scope):
    result = config("set", "--website", "main", "enabled", "true")  # no API user nor password
    assert result.exit_code == 2
    assert "website main: enabled but the API user is empty" in result.output
    assert WebsiteConfig.objects.get(website=scope.main).enabled is None


def test_a_row_broken_before_can_be_fixed_one_key_at_a_time(scope):
    WebsiteConfig.objects.filter(website=scope.main).update(extra={"timeout": "soon", "max_retries": -1})
    result = config("set", "--json", "--website", "main", "max_retries", "3")  # timeout is still broken
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["website_problems"] == [
        f"website main's row: extra['timeout'] {parser_message('timeout', 'soon')}"
    ]
    assert config("set", "--website", "main", "timeout", "30").exit_code == 0
    assert WebsiteConfig.objects.get(website=scope.main).extra == {"timeout": 30.0, "max_retries": 3}
    assert config("set", "--website", "main", "timeout", "-5").exit_code == 2  # a new problem: refused


def test_refusals_without_website_unknown_key_or_website(scope):
    result = config("set", "timeout", "5")
    assert result.exit_code == 2 and "add --website CODE" in result.output and "DOTSYNC_" in result.output
    result = config("get", "timeot")
    assert result.exit_code == 2 and "did you mean 'timeout'" in result.output
    result = config("set", "--website", "nope", "timeout", "5")
    assert result.exit_code == 2 and "no website 'nope'" in result.output


def test_the_api_password_is_write_only(scope):
    result = config("set", "--website", "main", "api_password", "on-argv")
    assert result.exit_code == 2 and "never given on the command line" in result.output
    assert "on-argv" not in result.output
    result = config("set", "--website", "main", "api_password", input="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output
    row = WebsiteConfig.objects.get(website=scope.main)
    assert row.get_api_password() == "s3cret-pass" and "s3cret-pass" not in row.api_password_encrypted
    got = get_json("--website", "main", "api_password")
    assert (got["value"], got["source"]) == ("set", "website row")
    for output in (
        config("get", "--website", "main").output,
        config("get", "--json", "--website", "main").output,
    ):
        assert "s3cret-pass" not in output
    assert get_json("--website", "outlet", "api_password")["value"] == "not set"
    assert config("set", "--website", "main", "api_password", input="\n").exit_code == 2  # empty: kept
    assert config("set", "--website", "main", "api_password", "--unset").exit_code == 0
    row.refresh_from_db()
    assert row.api_password_encrypted == ""


def test_the_api_password_is_refused_under_the_default_secret_key(scope, monkeypatch, settings):
    monkeypatch.delenv("DOTSYNC_ENCRYPTION_KEY", raising=False)
    settings.SECRET_KEY = DEFAULT_SECRET_KEY
    result = config("set", "--website", "main", "api_password", input="s3cret-pass\n")
    assert result.exit_code == 2
    assert "refusing to store a password encrypted with the public default SECRET_KEY" in result.output
    assert "s3cret-pass" not in result.output
    assert WebsiteConfig.objects.get(website=scope.main).api_password_encrypted == ""


# --- python manage.py dotsync ---------------------------------------------------------------------------


def test_call_command_runs_the_dotsync_subcommand(scope, capsys):
    call_command("dotsync", "status", "--json")
    assert json.loads(capsys.readouterr().out)["websites"] == ["main", "outlet"]
    call_command("dotsync", "config", "set", "--website", "main", "max_retries", "3")
    assert WebsiteConfig.objects.get(website=scope.main).extra == {"max_retries": 3}
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as caught:
        call_command("dotsync", "config", "set", "--website", "main", "max_retries", "-1")
    assert caught.value.returncode == 2


def test_python_m_django_dotsync_is_the_console_script(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"DOTSYNC_VAR_DIR": str(tmp_path), "DOTSYNC_TIMEOUT": "42"})

    def django(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "django", "dotsync", *args, "--settings=dotsync.settings"]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    got = django("config", "get", "--json", "timeout")
    assert got.returncode == 0, got.stderr
    assert (json.loads(got.stdout)["value"], json.loads(got.stdout)["source"]) == (42.0, "environment")
    refused = django("config", "set", "timeout", "5")
    assert refused.returncode == 2 and "add --website CODE" in refused.stderr

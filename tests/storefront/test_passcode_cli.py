"""``dotsync config`` keeps the dynamic-content passcode write-only, as it does the API password."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dotsync.cli import main
from dotsync.models import WebsiteConfig
from dotsync.testing.scope import Scope
from tests.test_config_cli import config, get_json

pytestmark = pytest.mark.django_db


def test_the_passcode_is_write_only_and_never_printed(scope: Scope) -> None:
    result = config("set", "--website", "main", "edc_passcode", "on-argv")
    assert result.exit_code == 2 and "never given on the command line" in result.output
    assert "on-argv" not in result.output
    result = config("set", "--website", "main", "edc_passcode", input="edc-cli-Mv3\n")
    assert result.exit_code == 0, result.output
    assert "edc-cli-Mv3" not in result.output
    row = WebsiteConfig.objects.get(website=scope.main)
    assert row.get_edc_passcode() == "edc-cli-Mv3" and "edc-cli-Mv3" not in row.edc_passcode_encrypted
    assert get_json("--website", "main", "edc_passcode")["value"] == "set"
    for output in (
        config("get", "--website", "main").output,
        config("get", "--json", "--website", "main").output,
        CliRunner().invoke(main, ["config", "get", "--website", "main", "edc_passcode"]).output,
    ):
        assert "edc-cli-Mv3" not in output
    assert config("set", "--website", "main", "edc_passcode", "--unset").exit_code == 0
    row.refresh_from_db()
    assert row.edc_passcode_encrypted == ""
    # the other storefront settings are ordinary keys
    assert config("set", "--website", "main", "edc_allowed_ips", "10.0.0.0/8,192.0.2.1").exit_code == 0
    assert get_json("--website", "main", "edc_allowed_ips")["value"] == ["10.0.0.0/8", "192.0.2.1/32"]

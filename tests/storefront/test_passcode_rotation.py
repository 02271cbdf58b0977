"""``dotsync rotate-key`` moves the dynamic-content passcode to the new key too (EDC keeps working)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.test import Client

from dotsync.cli import main
from dotsync.config import get_config
from dotsync.models import WebsiteConfig
from dotsync.testing.scope import Scope

pytestmark = pytest.mark.django_db


def test_rotate_key_re_encrypts_the_passcode_and_prints_it_nowhere(scope: Scope, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOTSYNC_ENCRYPTION_KEY", "old-key-1")
    row = WebsiteConfig.objects.get(website=scope.main)
    row.set_edc_passcode("edc-rot-Kx7")  # a passcode only, no API password
    row.save()
    monkeypatch.setenv("DOTSYNC_ENCRYPTION_KEY", "new-key-2")
    monkeypatch.setenv("DOTSYNC_OLD_SECRET_KEY", "old-key-1")
    edc = Client(REMOTE_ADDR="192.0.2.20")
    assert edc.get("/dotsync/edc/main/push/?code=edc-rot-Kx7").status_code == 401  # undecryptable

    result = CliRunner().invoke(main, ["rotate-key", "--json"])

    assert result.exit_code == 0, result.output
    assert "edc-rot-Kx7" not in result.output
    assert get_config(scope.main).edc_passcode == "edc-rot-Kx7"
    assert CliRunner().invoke(main, ["rotate-key"]).exit_code == 0  # a second run is harmless
    assert edc.get("/dotsync/edc/main/push/?code=edc-rot-Kx7").status_code == 204

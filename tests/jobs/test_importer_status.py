"""`dotsync status` shows the importer queue per website: due, deferred, importing, retried."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from django.utils import timezone

from dotsync.cli import main
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus, WaitReason
from dotsync.reporting import sync_summary
from tests.jobs.importer_helpers import contact_batch, contacts

pytestmark = pytest.mark.django_db


def test_status_splits_the_live_queue(scope):
    rows = [contact_batch(scope.main, contacts(scope.main, [f"a{i}@example.com"])) for i in range(4)]
    contact_batch(scope.outlet, contacts(scope.outlet, ["b@example.com"]))
    Importer.objects.filter(pk=rows[0].pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5), retry_count=2, wait_reason="unreachable"
    )
    Importer.objects.filter(pk=rows[1].pk).update(import_status=ImportStatus.IMPORTING, import_id="x")
    Importer.objects.filter(pk=rows[2].pk).update(import_status=ImportStatus.FAILED)

    queue = sync_summary()["tables"]["email_importer.queue"]
    reasons = {f"waiting:{r.value}": 0 for r in WaitReason if r}
    assert queue["main"] == {
        **reasons,
        "due": 1,
        "deferred": 1,
        "importing": 1,
        "retried": 1,
        "waiting:unreachable": 1,  # why it is deferred
        "total": 3,
    }
    assert queue["outlet"] == {**reasons, "due": 1, "deferred": 0, "importing": 0, "retried": 0, "total": 1}
    importer = sync_summary()["tables"]["email_importer"]
    assert importer["main"]["failed"] == 1 and importer["main"]["pending"] == 2

    out = CliRunner().invoke(main, ["status", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["tables"]["email_importer.queue"]["main"]["deferred"] == 1

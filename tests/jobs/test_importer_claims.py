"""Claims of dead runs: a claimed row whose process is gone returns to the queue at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from django.utils import timezone

from dotsync.jobs.importer import state
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus
from tests.jobs.importer_helpers import contact_batch, contacts


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_claim_of_a_dead_process_on_this_host_is_stale_at_once(scope):
    host = socket.gethostname()
    rows = {
        name: contact_batch(scope.main, contacts(scope.main, [f"{name}@example.com"]))
        for name in ("dead", "alive", "elsewhere", "mine")
    }
    for row in rows.values():
        assert state.claim(row)
    assert Importer.objects.get(pk=rows["mine"].pk).claimed_by == f"{host}:{os.getpid()}"
    owners = {"dead": f"{host}:{_dead_pid()}", "alive": f"{host}:{os.getppid()}", "elsewhere": "other-host:1"}
    for name, owner in owners.items():
        Importer.objects.filter(pk=rows[name].pk).update(claimed_by=owner)

    recovered = state.recover_stale_claims([scope.main.pk], timezone.now())

    assert recovered == 1
    status = dict(Importer.objects.values_list("pk", "import_status"))
    assert status[rows["dead"].pk] == ImportStatus.PENDING
    for name in ("alive", "elsewhere", "mine"):  # may still answer: left to CLAIM_TIMEOUT
        assert status[rows[name].pk] == ImportStatus.IMPORTING, name

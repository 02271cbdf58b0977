"""Deterministic crash points for the SIGKILL tests (stdlib only, bottom layer).

Production code calls :func:`crashpoint` at a few named moments. Nothing happens unless the
environment variable ``DOTSYNC_TEST_CRASH_AT`` names that point (``NAME`` or ``NAME:N`` for its Nth
hit); then the process kills itself with ``SIGKILL`` — no cleanup, no ``finally``, no commit — as a
power cut or an OOM kill would. The points:

* ``batch_registered``: a batching job has just committed a batch (importer row + source rows
  ``importing``);
* ``import_started``: the platform accepted a bulk import, before its id is recorded locally;
* ``import_polled``: a poll found an import finished, before it is settled locally;
* ``campaign_claimed``: the campaigns job committed its claim of a group of rows, before the send call;
* ``campaign_sent``: the platform accepted a campaign send, before its send id is recorded locally;
* ``enrolment_claimed``: the automation job committed its claim of a group of rows, before the enrolment
  call;
* ``enrolment_sent``: the platform accepted a programme enrolment, before its id is recorded locally.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "DOTSYNC_TEST_CRASH_AT"
POINTS = (
    "batch_registered",
    "import_started",
    "import_polled",
    "campaign_claimed",
    "campaign_sent",
    "enrolment_claimed",
    "enrolment_sent",
)

_hits: Counter[str] = Counter()


def crashpoint(name: str) -> None:
    """Kill this process with SIGKILL if ``DOTSYNC_TEST_CRASH_AT`` names this point (and hit)."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _hits[name] += 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)

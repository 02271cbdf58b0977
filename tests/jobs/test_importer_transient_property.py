"""Property: no sequence of transient errors, however long, fails an importer row or its records.

Hypothesis generates sequences of every transient error class (5xx, timeouts, refused connections,
open circuits, throttling, busy accounts) with the clock moving between them; each is applied to a
claimed row through the importer's failure policy. The row always ends ``PENDING`` with a
``wait_reason`` and a next attempt at most 15 minutes (+ jitter) away, and its records stay attached.
Only a terminal answer fails it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dotsync.config import get_config
from dotsync.exceptions import (
    CircuitOpenError,
    NotFoundError,
    PlatformConnectionError,
    PlatformTimeout,
    RateLimitedError,
    ServerError,
    TooManyActiveImportsError,
    TransientPlatformError,
)
from dotsync.jobs.base import JobResult
from dotsync.jobs.importer import state
from dotsync.jobs.importer.start import _failed
from dotsync.models import Contact, Importer, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts

pytestmark = pytest.mark.django_db

TRANSIENT = st.one_of(
    st.builds(lambda s: ServerError(f"HTTP {s}", status_code=s), st.sampled_from([500, 502, 503, 504])),
    st.just(PlatformTimeout("ReadTimeout")),
    st.just(PlatformConnectionError("ConnectError")),
    st.builds(
        lambda w, c: CircuitOpenError("held", retry_after=w, cause=c),
        st.floats(0, 300),
        st.sampled_from(["refused", "dns", "tls", "timeout", "server_error"]),
    ),
    st.builds(lambda w: RateLimitedError("429", retry_after=w), st.one_of(st.none(), st.floats(0, 900))),
    st.just(TooManyActiveImportsError("busy")),
)


@pytest.fixture
def row(scope, sandbox):
    configure_websites(sandbox, [scope.main])
    return contact_batch(scope.main, contacts(scope.main, ["ann@example.com", "bob@example.com"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(errors=st.lists(st.tuples(TRANSIENT, st.integers(0, 7200)), min_size=1, max_size=40))
def test_transient_errors_never_fail_a_row(scope, row, errors):
    cfg = get_config(scope.main)
    Importer.objects.filter(pk=row.pk).update(import_status=ImportStatus.PENDING, retry_count=0)
    row.refresh_from_db()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for exc, seconds in errors:
            assert isinstance(exc, TransientPlatformError)
            assert state.claim(row)
            _failed(row, exc, cfg, JobResult("importer"))
            row.refresh_from_db()
            assert row.import_status == ImportStatus.PENDING, row.message
            assert row.wait_reason
            assert row.next_attempt_at <= timezone.now() + timedelta(minutes=15) * 1.2
            clock.shift(seconds)
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTING}


def test_a_terminal_answer_fails_the_row(scope, row):
    assert state.claim(row)
    _failed(row, NotFoundError("HTTP 404", status_code=404), get_config(scope.main), JobResult("importer"))
    row.refresh_from_db()
    assert row.import_status == ImportStatus.FAILED
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.FAILED}

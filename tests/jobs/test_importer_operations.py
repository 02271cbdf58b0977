"""Every import mode is declared once, as an Operation, and the importer's views derive from it."""

from __future__ import annotations

import pytest

from dotsync.exceptions import DotsyncError
from dotsync.jobs.importer import fairness, single
from dotsync.jobs.importer.operation import Kind
from dotsync.jobs.importer.operations import OPERATIONS, UNSUBSCRIBE, operation
from dotsync.models.importer import ImportMode


def test_every_import_mode_has_one_operation():
    for mode in ImportMode:
        op = operation(mode)
        assert op.mode == mode or (mode == ImportMode.SUBSCRIBER_UPDATE and op is UNSUBSCRIBE)
        # an import is polled, confirmed, capped and can be split; a call is none of these
        assert (op.kind is not Kind.CALL) == (op.progress is not None) == (op.confirm is not None)
        assert (op.kind is not Kind.CALL) == op.splittable == (op.platform_cap is not None)
        assert op.waits_for_carrier == (op.kind is Kind.CALL)
    assert set(OPERATIONS) == {str(m) for m in ImportMode}


def test_the_views_are_derived_from_the_operations():
    assert fairness.KIND_BY_MODE == {ImportMode.BULK: "contact", ImportMode.BULK_JSON: "insight"}
    assert fairness.PLATFORM_CAPS == {"contact": 25, "insight": 5}
    assert set(single.HANDLERS) == {m for m, op in OPERATIONS.items() if op.kind is Kind.CALL}
    assert fairness.kind_of("Nonsense") is Kind.CALL  # sent as a call, where it fails with the reason


def test_an_unknown_mode_says_the_row_cannot_be_sent():
    with pytest.raises(DotsyncError, match="import mode 'Nonsense' has no handler; the row cannot be sent"):
        operation("Nonsense")

"""Acceptance (issue 11, exactly once): the ``automation`` job killed with SIGKILL during programme
enrolments, then run again, enrols every contact in each programme exactly once.

The job runs in a subprocess (``tests/e2e/crash_enrolments_child.py``) on a file SQLite database holding
the Oscar shop of ``tests/e2e/crash_child.py`` (24 customers with an order and a wishlist each) and, per
customer, a ``customer_automation`` and a ``wishlist_automation`` row (two programmes); the sandbox runs
in this process and lists every enrolment call with the contacts it was given. ``DOTSYNC_TEST_CRASH_AT``
kills the child:

* ``enrolment_claimed``: rows claimed (committed), the enrolment call not made;
* ``enrolment_sent``: the platform accepted the enrolment, its id not recorded.

The rerun looks the interrupted enrolment up among the programme's enrolments: one that reached the
platform is recorded (``recovered``), not made again; a claim whose call never went out is queued again
(``requeued``) and enrolled once.
"""

from __future__ import annotations

import shutil
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_crash_campaigns import SHOP, build_shop, child, ok

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
CHILD = [SHOP[0], str(HERE / "crash_enrolments_child.py")]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop, built once per module."""
    return build_shop(tmp_path_factory, "crash_enrolments")


def calls_per_contact(sandbox: Any, username: str) -> Counter[tuple[int, str]]:
    """(programme id, email) -> how many enrolment calls named the contact (the sandbox's record)."""
    emails = {int(c["id"]): email for email, c in sandbox.contacts(username).items()}
    out: Counter[tuple[int, str]] = Counter()
    for enrolment in sandbox.account(username)["enrolments"]:
        for contact_id in enrolment["contacts"] or []:
            out[(int(enrolment["programId"]), emails[int(contact_id)])] += 1
    return out


@pytest.mark.parametrize(
    "crash_at",
    ["enrolment_claimed:2", "enrolment_sent:1", "enrolment_sent:3"],
    ids=["after-a-claim", "after-the-first-enrolment", "after-a-later-enrolment"],
)
def test_sigkill_during_enrolments_then_rerun_enrols_each_contact_once(crash_at, built, sandbox, tmp_path):
    db = tmp_path / "shop.sqlite3"
    shutil.copy(built, db)
    sandbox.set_faults(import_delay=0, enrolments_per_hour=1000)  # many small calls: past the 20/hour
    setup = ok(child(CHILD, db, "configure", sandbox.url))
    killed = child(CHILD, db, "enrol", crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, (crash_at, killed.returncode, killed.stderr[-3000:])
    rerun = ok(child(CHILD, db, "enrol"))

    expected = setup["expected"]
    assert rerun["statuses"] == {"Active": sum(len(pairs) for pairs in expected.values())}, rerun
    for code, pairs in expected.items():
        username = setup["accounts"][code]["username"]
        wanted = {(int(programme), email): 1 for programme, email in pairs}
        assert calls_per_contact(sandbox, username) == wanted, code  # each contact, each programme, once
        enrolled = Counter(
            (int(e["programId"]), email)
            for e in sandbox.account(username)["enrolments"]
            for email in e["enrolled"]
        )
        assert enrolled == wanted, code
    if crash_at.startswith("enrolment_sent"):
        assert rerun["counts"].get("recovered", 0) >= 1, rerun  # found on the platform, not enrolled again
    else:
        assert rerun["counts"].get("requeued", 0) >= 1, rerun  # the call never went out: enrolled now

"""The enrolment crash test's child process: ``python tests/e2e/crash_enrolments_child.py DB MODE [ARG]``.

It runs on a file SQLite database built by ``tests/e2e/crash_child.py build`` (the small Oscar shop and
24 customers with an order and a wishlist each). Modes:

* ``configure URL``: point both websites at the sandbox at URL (one account each) and queue, for every
  customer, a ``customer_automation`` row (their customer id) in the account's first active programme
  and a ``wishlist_automation`` row (their wishlist id) in its second, in the website of the order's
  store (each with its ``email_contact`` row); prints the accounts and, per website, the
  (programme id, email) pairs queued;
* ``enrol``: run the ``automation`` job (3 rows per website per run, so a run makes several enrolment
  calls) until nothing is waiting or processing, at most 40 runs; ``DOTSYNC_TEST_CRASH_AT`` may kill it;
  prints the job's counts and the rows' statuses.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crash_child import add_counts, order_store, queued, sandbox_websites, setup  # noqa: E402  (a sibling script, not a package import)

LIMIT = 3


def configure(url: str) -> None:
    from oscar.core.loading import get_model

    from dotsync.models import Contact
    from dotsync.models.automation import Automation, AutomationType

    Order = get_model("order", "Order")
    WishList = get_model("wishlists", "WishList")
    accounts, programmes = sandbox_websites(
        url, lambda client: [int(p["id"]) for p in client.list_programs() if p["status"] == "Active"][:2]
    )
    store_of = order_store()
    seen: set[int] = set()
    for order in Order._default_manager.exclude(user=None).select_related("user").order_by("pk"):
        if order.user_id in seen:  # a customer's first order places them
            continue
        seen.add(order.user_id)
        store = store_of(order)
        first, second = programmes[store.website.code]
        email = order.user.email.lower()
        Contact.objects.get_or_create(website=store.website, email=email, defaults={"store": store})
        wishlist = WishList._default_manager.filter(owner=order.user).values_list("pk", flat=True).first()
        common = {"website": store.website, "store": store, "email": email, "store_name": store.name}
        Automation.objects.create(
            automation_type=AutomationType.CUSTOMER,
            type_id=str(order.user_id),
            program_id=str(first),
            **common,
        )
        Automation.objects.create(
            automation_type=AutomationType.WISHLIST,
            type_id=str(wishlist or f"user{order.user_id}"),
            program_id=str(second),
            **common,
        )
    accounts_out = {c: a.__dict__ for c, a in accounts.items()}
    print(json.dumps({"accounts": accounts_out, "programmes": programmes, "expected": expected()}))


def enrol() -> dict[str, Any]:
    """Run the job until nothing is left to do (see the module docstring); returns counts and statuses."""
    from dotsync.accounts import RunContext
    from dotsync.jobs.automation.enrolment import JOB
    from dotsync.models.automation import Automation, AutomationStatus

    open_states = (*AutomationStatus.waiting(), AutomationStatus.PROCESSING)
    counts: dict[str, int] = {}
    for _ in range(40):
        result = JOB.run(RunContext.resolve(), limit=LIMIT)
        assert not result.errors, result.errors
        add_counts(counts, result)
        if not Automation.objects.filter(enrolment_status__in=open_states).exists():
            break
    statuses = Counter(row.enrolment_status for row in Automation.objects.all())
    return {"counts": counts, "statuses": dict(statuses)}


def expected() -> dict[str, list[list[object]]]:
    """Per website, the (programme id, email) pairs the queue holds."""
    from dotsync.models.automation import Automation

    return queued(Automation, lambda row: int(row.program_id))


if __name__ == "__main__":
    setup(sys.argv[1])
    mode = sys.argv[2]
    if mode == "configure":
        configure(sys.argv[3])
    elif mode == "enrol":
        print(json.dumps(enrol()), flush=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}")

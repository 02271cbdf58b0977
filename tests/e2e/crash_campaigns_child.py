"""The campaign crash test's child process: ``python tests/e2e/crash_campaigns_child.py DB MODE [ARG]``.

It runs on a file SQLite database built by ``tests/e2e/crash_child.py build`` (the small Oscar shop and
24 customers with an order each). Modes:

* ``configure URL``: point both websites at the sandbox at URL (one account each) and queue, for every
  customer, an ``Order Review`` row for their order and a ``Lost Basket`` row, in the website of the
  order's store; prints the accounts, the campaign ids and, per website, the (campaign id, email)
  pairs queued;
* ``send``: run the ``campaigns`` job (3 rows per website per run, so a run makes several send calls)
  until nothing is pending or processing but claims awaiting the send report, at most 30 runs;
  ``DOTSYNC_TEST_CRASH_AT`` may kill it; prints the job's counts and the rows' statuses;
* ``rerun``: ``send``, then ``send`` again with this process's clock moved (time-machine) past the
  send report's grace period, as when time passes between scheduled runs; prints both.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crash_child import add_counts, order_store, queued, sandbox_websites, setup  # noqa: E402  (a sibling script, not a package import)

LIMIT = 3


def configure(url: str) -> None:
    from oscar.core.loading import get_model

    from dotsync.models.automation import Campaign

    Order = get_model("order", "Order")
    accounts, ids = sandbox_websites(url, lambda client: [int(c["id"]) for c in client.list_campaigns()][:2])
    store_of = order_store()
    for order in Order._default_manager.exclude(user=None).select_related("user").order_by("pk"):
        store = store_of(order)
        review, basket = ids[store.website.code]
        email = order.user.email
        common = {"website": store.website, "store": store, "email": email, "customer_id": order.user_id}
        Campaign.objects.create(
            campaign_id=review, event_name="Order Review", order_increment_id=str(order.number), **common
        )
        Campaign.objects.create(
            campaign_id=basket, event_name="Lost Basket", quote_id=order.basket_id, step=1, **common
        )
    accounts_out = {c: a.__dict__ for c, a in accounts.items()}
    print(json.dumps({"accounts": accounts_out, "campaigns": ids, "expected": expected()}))


def send(hours: float = 0.0) -> dict[str, Any]:
    """Run the job until nothing is left to do (see the module docstring); returns counts and statuses."""
    import time_machine
    from django.utils import timezone

    from dotsync.accounts import RunContext
    from dotsync.jobs.automation.campaigns import JOB
    from dotsync.models.automation import Campaign, CampaignSendStatus

    open_states = (CampaignSendStatus.PENDING, CampaignSendStatus.PROCESSING)
    counts: dict[str, int] = {}
    with time_machine.travel(timezone.now() + timedelta(hours=hours), tick=True):
        for _ in range(30):
            result = JOB.run(RunContext.resolve(), limit=LIMIT)
            assert not result.errors, result.errors
            add_counts(counts, result)
            if not result.counts:
                break
            if not Campaign.objects.filter(send_status__in=open_states).exclude(
                send_status=CampaignSendStatus.PROCESSING, send_id=""
            ):
                break
    statuses = Counter(str(CampaignSendStatus(row.send_status).label) for row in Campaign.objects.all())
    return {"counts": counts, "statuses": dict(statuses)}


def rerun() -> None:
    """``send`` now, then ``send`` with the clock past the send report's grace period; prints both."""
    from dotsync.jobs.automation.campaigns import LOOKUP_GRACE

    first = send()
    later = send(LOOKUP_GRACE.total_seconds() / 3600 + 1)
    print(json.dumps({"rerun": first, "later": later}), flush=True)


def expected() -> dict[str, list[list[object]]]:
    """Per website, the (campaign id, email) pairs the queue holds."""
    from dotsync.models.automation import Campaign

    return queued(Campaign, lambda row: row.campaign_id)


if __name__ == "__main__":
    setup(sys.argv[1])
    mode = sys.argv[2]
    if mode == "configure":
        configure(sys.argv[3])
    elif mode == "send":
        print(json.dumps(send()), flush=True)
    elif mode == "rerun":
        rerun()
    else:
        raise SystemExit(f"unknown mode {mode!r}")

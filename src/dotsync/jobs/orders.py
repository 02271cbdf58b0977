"""``orders`` (spec: ``order_and_quote_sync``): orders to ``Orders`` and baskets to ``Quote``.

Per enabled website, the streams :data:`~dotsync.jobs.streams.ORDERS` and
:data:`~dotsync.jobs.streams.QUOTES`, each synced by :func:`dotsync.jobs.insight_sync.sync`:

* **orders** (``sync_orders``): ``email_order`` rows -> insight collection ``Orders`` (contact scope,
  type ``orders``, key = order number), shaped by :mod:`dotsync.jobs.payloads.order`. Only orders in
  ``order_statuses`` are sent. An order in another status that was imported before is deleted from
  the collection (``Single_Delete``: a cancelled order leaves ``Orders``); one never imported is
  skipped with the reason, and looked at again when the order changes. An order whose contact is
  not in the platform yet waits (stays pending, ``sync_message`` says why) — never dropped, never
  sent early — and a guest order makes sure the guest's ``email_contact`` row exists.
* **quotes** (``sync_quotes``): ``email_quote`` rows of baskets with items -> collection ``Quote``
  (contact scope, key = basket id). A basket that is empty (or gone) is deleted from the collection
  if it was imported, else skipped; anonymous baskets (no email) are skipped.
"""

from __future__ import annotations

from dotsync.jobs import insight_sync, streams
from dotsync.jobs.base import JobResult, JobScope
from dotsync.jobs.stream import StreamJob

JOB_ID = "orders"
SPEC_NAME = "order_and_quote_sync"

JOB = StreamJob(
    JOB_ID,
    SPEC_NAME,
    "Orders to the Orders collection and baskets to the Quote collection.",
    JobScope.WEBSITE,
    default_frequency=15,
    parts=insight_sync.parts(streams.ORDERS, streams.QUOTES),
    after=("unsubscriber", "resubscriber"),  # the store knows the platform's suppressions first
)


def run(website_code: str | None = None) -> JobResult:
    """Queue order and basket imports for every enabled website (or just ``website_code``).

    Returns:
        Counters per website: ``batches``, ``records``, ``unchanged``, ``failed``, ``skipped``,
        ``waiting``, ``deletes``.
    """
    return JOB(website_code)

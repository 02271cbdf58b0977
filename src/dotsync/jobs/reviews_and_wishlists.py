"""``reviews_and_wishlists`` (spec: ``reviews_and_wishlist``): the ``Reviews`` and ``Wishlist`` collections.

Per enabled website, the streams :data:`~dotsync.jobs.streams.REVIEWS` and
:data:`~dotsync.jobs.streams.WISHLISTS`, each synced by :func:`dotsync.jobs.insight_sync.sync`:

* **reviews** (``sync_reviews``): approved reviews -> ``Reviews`` (contact scope, key = review id).
  A review no longer approved (or gone) is deleted from the collection if it was imported.
* **wishlists** (``sync_wishlists``): wishlists with items -> ``Wishlist`` (contact scope, type
  ``wishList``, key = wishlist id). A wishlist that becomes empty (or is gone) is deleted from the
  platform if it was imported, else skipped.

Both wait, like orders, until the contact is in the platform.
"""

from __future__ import annotations

from dotsync.jobs import insight_sync, streams
from dotsync.jobs.base import JobResult, JobScope
from dotsync.jobs.stream import StreamJob

JOB_ID = "reviews_and_wishlists"
SPEC_NAME = "reviews_and_wishlist"

JOB = StreamJob(
    JOB_ID,
    SPEC_NAME,
    "Reviews and wishlists to the Reviews and Wishlist collections.",
    JobScope.WEBSITE,
    default_frequency=15,
    parts=insight_sync.parts(streams.REVIEWS, streams.WISHLISTS),
    after=("unsubscriber", "resubscriber"),
)


def run(website_code: str | None = None) -> JobResult:
    """Queue review and wishlist imports for every enabled website (or just ``website_code``).

    Returns:
        Counters per website: ``batches``, ``records``, ``unchanged``, ``failed``, ``skipped``,
        ``waiting``, ``deletes``.
    """
    return JOB(website_code)

"""Acceptance tests of the sync, end to end: the Oscar shop, dotsync and the sandbox over real HTTP.

* ``test_sync_shop``: every store entity reaches its website's account with the Oscar fields; account
  separation; every sync row settles; a second ``sync all`` sends nothing.
* ``test_suppression``: an address suppressed in the platform before a contact import ends
  unsubscribed in ``email_contact`` and ``newsletter_subscriber``, in that website only.
* ``test_order_lifecycle``: an order placed, changed, refunded and cancelled through Oscar is upserted,
  updated and deleted in ``Orders``.
* ``test_store_changes``: changes and deletes made in Oscar after a first sync (rename, wishlist line,
  review withdrawn or deleted, product unpublished, basket/wishlist/customer deleted) reach the platform.
* ``test_crash`` (slow, about 40 s): ``sync all`` in a subprocess killed with SIGKILL at three points
  (``dotsync.testing.crash``), rerun, and compared with an uninterrupted run and the shop.
* ``test_faults``: 20% 503s and a low rate tier; everything lands, only 5xx/429 answers are retried.

Run: ``.venv/bin/python -m pytest tests/e2e -q`` (about a minute).
"""

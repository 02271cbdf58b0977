"""Payload builders: pure functions from store records (``dotsync.store.records``) to platform payloads.

No module here touches the database or the network, so they are cheap to call per record and are
reused by the benchmark's serialisation floor. ``contact_csv`` and ``datafields`` shape contact
imports; ``order``, ``quote``, ``review``, ``wishlist`` and ``product`` shape insight records;
``insight`` wraps and validates them.
"""

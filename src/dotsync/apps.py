"""Django app configuration: installs the store-event sink and connects the store observers."""

from __future__ import annotations

from django.apps import AppConfig


class DotsyncConfig(AppConfig):
    """The ``dotsync`` app."""

    name = "dotsync"
    verbose_name = "dotdigital sync"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        """Install dotsync's store-event sink, then connect Oscar's observers to the store's signals.

        The observers report events to the sink (:mod:`dotsync.jobs.events`), which marks rows and
        queues platform deletes, and nudge the jobs that send them (:mod:`dotsync.jobs.nudge`); nothing
        here calls the platform.
        """
        from dotsync.jobs import events, nudge
        from dotsync.store import events as store_events
        from dotsync.store.oscar import observers

        store_events.install(nudge.nudging(events.SINK))  # each event also nudges its job (fast path)
        observers.connect()
        from dotsync.storefront import product_views, sites

        product_views.connect()  # time-stamped product views for the most/recently viewed content
        sites.connect()  # a configuration change empties the dynamic content's website snapshots

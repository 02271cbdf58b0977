"""Django app configuration: connects the store observers when Django is ready."""

from __future__ import annotations

from django.apps import AppConfig


class DotsyncConfig(AppConfig):
    """The ``dotsync`` app."""

    name = "dotsync"
    verbose_name = "dotdigital sync"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        """Connect observers to the store's signals (they mark rows; they never call the platform)."""
        from dotsync import observers

        observers.connect()

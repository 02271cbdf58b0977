"""``/metrics`` and ``/healthz`` for a host shop's URLconf: ``path("", include("dotsync.web.urls"))``."""

from __future__ import annotations

from django.urls import path

from dotsync.web.health import healthz
from dotsync.web.metrics import metrics

urlpatterns = [
    path("metrics", metrics, name="dotsync-metrics"),
    path("healthz", healthz, name="dotsync-healthz"),
]

"""The ASGI application of the standalone mode (``dotsync serve`` runs it under uvicorn)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsync.settings")

application = get_asgi_application()

import dotsync.web.metrics  # noqa: E402, F401 - counts this process's API calls from the start

"""The ASGI application of the standalone mode (``dotsync serve`` runs it under uvicorn)."""

from __future__ import annotations

import os
from importlib import import_module

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsync.settings")

application = get_asgi_application()

import_module("dotsync.web.metrics")  # after Django's setup: counts this process's API calls from the start

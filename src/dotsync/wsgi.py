"""The WSGI application of the standalone mode: ``dotsync serve`` runs it under uvicorn (through a2wsgi).

WSGI, not ASGI: every dotsync view is synchronous, and Django's ASGI handler runs each request's
synchronous code in a thread of its own, so each request opened and closed its own database
connection (2.4 ms on SQLite, whose first statement parses the schema of about 150 tables again, and
4.4 ms on PostgreSQL, on this project's 2-core machine): a fifth of a dynamic-content request. a2wsgi
runs requests on a pool of reused threads, so each keeps its connection for ``CONN_MAX_AGE``
(:mod:`dotsync.settings`). :mod:`dotsync.asgi` stays for hosts that serve ASGI.
"""

from __future__ import annotations

import os
from importlib import import_module

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsync.settings")

application = get_wsgi_application()

import_module("dotsync.web.metrics")  # after Django's setup: counts this process's API calls from the start

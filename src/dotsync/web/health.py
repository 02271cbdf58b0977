"""``/healthz``: 200 when the database answers, 503 otherwise; no personal data."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from dotsync import __version__

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok", "database": "ok", "version": ...}``; 503 with ``"database": "unavailable"``."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("healthz: the database does not answer (%s)", type(exc).__name__)
        return JsonResponse(
            {"status": "error", "database": "unavailable", "version": __version__}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok", "version": __version__})

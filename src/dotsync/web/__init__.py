"""The web side of the standalone mode besides the admin: ``/metrics`` and ``/healthz``.

A host shop includes :mod:`dotsync.web.urls` in its own URLconf; ``dotsync serve`` runs
:mod:`dotsync.urls` (admin, these endpoints, the admin's static files) under uvicorn.
"""

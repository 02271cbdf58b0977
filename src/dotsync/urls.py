"""URLs of the standalone project: admin, ``/metrics``, ``/healthz``, storefront, static files, Oscar's shop.

A host shop does not use this module: it includes :mod:`dotsync.web.urls` for ``/metrics`` and
``/healthz``, :mod:`dotsync.storefront.urls` for dynamic content and cart-restore links, and serves static
files its own way.
"""

from django.apps import apps
from django.contrib import admin
from django.contrib.staticfiles.views import serve
from django.urls import include, path, re_path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("dotsync.web.urls")),
    # standalone only: static files from the apps' static/ folders, without collectstatic (admin traffic)
    re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}),
]
if apps.is_installed("oscar.apps.basket"):  # the storefront reads Oscar's baskets, orders and catalogue
    urlpatterns.insert(2, path("", include("dotsync.storefront.urls")))  # dynamic content, cart restore
    # standalone only: Oscar's shop itself (catalogue, basket, checkout, accounts), so `dotsync serve` shows
    # a restored basket, the newsletter pages and tracking on a real shop (a host shop has its own)
    urlpatterns.append(path("", include(apps.get_app_config("oscar").urls[0])))  # type: ignore[attr-defined]

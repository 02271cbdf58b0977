"""Oscar's storefront and dotsync's storefront URLs together: a host shop's urls.py (tracking, capture)."""

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("", include("dotsync.storefront.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]

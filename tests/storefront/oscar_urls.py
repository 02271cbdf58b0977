"""dotsync's URLs and Oscar's storefront (basket, voucher add), so a test drives both for real."""

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("", include("dotsync.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),  # type: ignore[attr-defined]
]

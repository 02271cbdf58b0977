"""Oscar's shop with guest checkout, and dotsync's storefront: the URLs of the capture browser test.

Oscar decides at URL-building time whether its checkout needs a login (``OSCAR_ALLOW_ANON_CHECKOUT``), so
these patterns are built with guest checkout on, whatever other tests imported before.
"""

from django.apps import apps
from django.test import override_settings
from django.urls import include, path

with override_settings(OSCAR_ALLOW_ANON_CHECKOUT=True):
    urlpatterns = [
        path("", include("dotsync.storefront.urls")),
        path("", include(apps.get_app_config("oscar").urls[0])),
    ]

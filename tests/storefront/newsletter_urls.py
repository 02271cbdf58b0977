"""dotsync's storefront URLs alone, as in a host that does not route Oscar's shop: the plain layout."""

from django.urls import include, path

urlpatterns = [path("", include("dotsync.storefront.urls"))]

"""Oscar's storefront URLs, so tests drive its real views (login, basket add, review add)."""

from django.apps import apps
from django.urls import include, path

urlpatterns = [path("", include(apps.get_app_config("oscar").urls[0]))]

"""URLs of the standalone project: the Django admin is dotsync's configuration screen."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]

"""Websites, stores and per-website configuration.

A *website* owns a dotdigital account and its settings; a *store* belongs to one website and maps
to one Django ``Site`` (Oscar's ``Order.site``). Every scoped sync row carries both ids.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models


def fallback_store(default_store_id: int | None, store_ids: Iterable[int]) -> int | None:
    """A website's store for a record nothing else places: its ``default_store``, else its lowest-id store.

    The one rule, used by the Oscar adapter's :class:`~dotsync.store.oscar.scope.StoreMap` (and the history
    SQL it parameterises) and the observers' :func:`~dotsync.store.oscar.scope.default_store`;
    ``tests/store/test_scope_rule.py`` runs the same cases through all of them.
    """
    if default_store_id is not None:
        return default_store_id
    return min(store_ids, default=None)


class Website(models.Model):
    """A website: the unit that owns a dotdigital account and its settings."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    default_store = models.ForeignKey(
        "dotsync.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "dotsync_website"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Store(models.Model):
    """A store (Magento's store view) inside a website, bound to one Django ``Site``."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    website = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="stores")
    site = models.OneToOneField(
        "sites.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="dotsync_store"
    )
    requires_confirmation = models.BooleanField(
        default=False, help_text="Newsletter sign-ups need double opt-in confirmation in this store."
    )

    class Meta:
        db_table = "dotsync_store"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class WebsiteConfig(models.Model):
    """Per-website settings; a null field inherits the default from ``settings.DOTSYNC``.

    Resolve and validate through :func:`dotsync.config.get_config`, never read fields directly.
    """

    website = models.OneToOneField(Website, on_delete=models.CASCADE, related_name="config")
    enabled = models.BooleanField(null=True, blank=True)
    api_user = models.CharField(max_length=255, blank=True, default="")
    api_password_encrypted = models.TextField(blank=True, default="", editable=False)
    edc_passcode_encrypted = models.TextField(blank=True, default="", editable=False)
    api_base_url = models.URLField(
        blank=True,
        default="",
        help_text="Where region discovery starts (r1, or a sandbox URL); blank inherits.",
    )
    api_endpoint = models.URLField(
        blank=True, default="", help_text="Regional endpoint; blank = discover it."
    )
    customers_address_book_id = models.BigIntegerField(null=True, blank=True)
    subscribers_address_book_id = models.BigIntegerField(null=True, blank=True)
    guests_address_book_id = models.BigIntegerField(null=True, blank=True)
    sync_customers = models.BooleanField(null=True, blank=True)
    sync_subscribers = models.BooleanField(null=True, blank=True)
    sync_guests = models.BooleanField(null=True, blank=True)
    sync_orders = models.BooleanField(null=True, blank=True)
    sync_quotes = models.BooleanField(null=True, blank=True)
    sync_reviews = models.BooleanField(null=True, blank=True)
    sync_wishlists = models.BooleanField(null=True, blank=True)
    sync_catalog = models.BooleanField(null=True, blank=True)
    order_statuses = models.JSONField(
        null=True, blank=True, help_text='List of order statuses, e.g. ["complete"]'
    )
    batch_sizes = models.JSONField(null=True, blank=True, help_text="Overrides of the batch-size defaults.")
    job_frequencies = models.JSONField(null=True, blank=True, help_text="Job id to minutes between runs.")
    data_field_mapping = models.JSONField(null=True, blank=True, help_text="Store field to data-field name.")
    alert_emails = models.BooleanField(
        null=True, blank=True, help_text="Email the alert recipients what the monitor job finds."
    )
    alert_recipients = models.CharField(
        max_length=1000,
        blank=True,
        default="",
        help_text="Staff user ids or staff email addresses, separated by commas.",
    )
    alert_window = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minutes the monitor looks back; it runs and emails once per window."
    )
    extra = models.JSONField(null=True, blank=True, help_text="Any other setting key to its value.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dotsync_website_config"

    def __str__(self) -> str:
        return f"Configuration of {self.website}"

    def set_api_password(self, password: str) -> None:
        """Encrypt and store the API password; the plain text is never kept."""
        from dotsync.crypto import encrypt

        self.api_password_encrypted = encrypt(password) if password else ""

    def get_api_password(self) -> str:
        """Decrypt the stored API password (empty when none is set)."""
        from dotsync.crypto import decrypt

        return decrypt(self.api_password_encrypted) if self.api_password_encrypted else ""

    def set_edc_passcode(self, passcode: str) -> None:
        """Encrypt and store the external-dynamic-content passcode; the plain text is never kept."""
        from dotsync.crypto import encrypt

        self.edc_passcode_encrypted = encrypt(passcode) if passcode else ""

    def get_edc_passcode(self) -> str:
        """Decrypt the stored external-dynamic-content passcode (empty when none is set)."""
        from dotsync.crypto import decrypt

        return decrypt(self.edc_passcode_encrypted) if self.edc_passcode_encrypted else ""


class StoreConfig(models.Model):
    """Per-store settings: overrides of the website's for the keys that may differ per store.

    ``overrides`` maps a store-scope key (:data:`dotsync.config.STORE_SCHEMA`) to its value, parsed like
    every other source. Resolve through :func:`dotsync.config.get_store_config` (store > website >
    defaults), never read it directly.
    """

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="config")
    overrides = models.JSONField(
        null=True,
        blank=True,
        help_text="Store-scope setting key to its value (the rest inherit the website's).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dotsync_store_config"

    def __str__(self) -> str:
        return f"Configuration of store {self.store}"

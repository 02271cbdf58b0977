"""Django admin: dotsync's configuration screen and read-only grids of the sync tables.

* **Websites** with their **stores** inline.
* **Website configuration**: every per-website setting (empty inherits the default from
  ``settings.DOTSYNC``). The API password is write-only: typed into a password field, encrypted
  with :meth:`~dotsync.models.WebsiteConfig.set_api_password`, never displayed or logged. Saving
  validates the resulting configuration through :func:`dotsync.config.get_config` and shows every
  problem at once.
* **Sync tables** (contacts, orders, quotes, wishlists, reviews, catalogue, importer queue):
  read-only, filterable by website and state, without full-table counts. Each stream declares its
  grid (:attr:`dotsync.jobs.stream.Stream.grid`); the importer queue's is here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.forms.models import construct_instance
from django.http import HttpRequest

from dotsync.admin_actions import has_resync_permission
from dotsync.admin_actions import install as install_actions
from dotsync.dashboard import install as install_dashboard
from dotsync.jobs import sms as sms_sends
from dotsync.jobs import streams
from dotsync.jobs.automation import campaigns as campaign_sends
from dotsync.jobs.automation import enrolment as enrolments
from dotsync.jobs.stream import Stream
from dotsync.models import (
    AbandonedCart,
    ContactConsent,
    EmailCouponAttribute,
    Importer,
    JobRun,
    MonitorAlert,
    NewsletterSubscriber,
    Rule,
    RuleExclusion,
    Store,
    StoreConfig,
    Website,
    WebsiteConfig,
)
from dotsync.models.automation import Automation, Campaign
from dotsync.models.erasure import Erasure
from dotsync.models.sms import SmsOrderQueue

# --- websites and stores ------------------------------------------------------------------------------


class StoreInline(admin.TabularInline):  # type: ignore[type-arg]
    """The stores of a website."""

    model = Store
    extra = 0
    fields = ("code", "name", "site", "requires_confirmation")


@admin.register(Website)
class WebsiteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Websites, each with its stores."""

    list_display = ("code", "name", "default_store")
    inlines = (StoreInline,)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Offer only the website's own stores as its default store."""
        if db_field.name == "default_store":
            website_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = (
                Store.objects.filter(website_id=website_id) if website_id else Store.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- configuration -------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _formfield(field: Any, **kwargs: Any) -> Any:
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class WebsiteConfigForm(forms.ModelForm):  # type: ignore[type-arg]
    """The configuration form: a write-only API password and whole-configuration validation."""

    api_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: leave empty to keep the stored password. It is encrypted and never shown.",
    )
    clear_api_password = forms.BooleanField(required=False, help_text="Remove the stored API password.")
    edc_passcode = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: the passcode dynamic-content URLs carry (?code=). Encrypted, never shown; "
        "without one every dynamic-content request is refused.",
    )
    clear_edc_passcode = forms.BooleanField(required=False, help_text="Remove the stored passcode.")

    class Meta:
        model = WebsiteConfig
        fields = "__all__"
        formfield_callback = _formfield

    def _apply_password(self, instance: WebsiteConfig) -> None:
        if self.cleaned_data.get("clear_api_password"):
            instance.set_api_password("")
        elif self.cleaned_data.get("api_password"):
            instance.set_api_password(self.cleaned_data["api_password"])
        if self.cleaned_data.get("clear_edc_passcode"):
            instance.set_edc_passcode("")
        elif self.cleaned_data.get("edc_passcode"):
            instance.set_edc_passcode(self.cleaned_data["edc_passcode"])

    def clean(self) -> dict[str, Any]:
        """Validate the configuration this form would save, listing every problem."""
        cleaned: dict[str, Any] = super().clean() or {}
        if self.errors or not cleaned.get("website"):
            return cleaned
        from dotsync.config import get_config
        from dotsync.exceptions import ConfigurationError

        candidate = construct_instance(self, copy.copy(self.instance))
        try:
            self._apply_password(candidate)
        except ConfigurationError as exc:  # e.g. the public default SECRET_KEY is in use
            for problem in exc.problems:
                self.add_error("api_password", problem)
            return cleaned
        problems: list[str] = []
        try:
            with transaction.atomic():
                candidate.save()  # resolved exactly as it will be, then rolled back
                # settings.DOTSYNC and DOTSYNC_* problems are shown as a warning: this row cannot fix them
                problems = get_config(candidate.website).problems(include_global=False)
                raise _Rollback
        except _Rollback:
            pass
        except IntegrityError:  # e.g. a second configuration for the website: Django reports it
            return cleaned
        for problem in problems:
            self.add_error(None, problem)
        return cleaned

    def save(self, commit: bool = True) -> WebsiteConfig:
        """Save, encrypting a newly typed password."""
        instance: WebsiteConfig = super().save(commit=False)
        self._apply_password(instance)
        if commit:
            instance.save()
            self.save_m2m()
        return instance


@admin.register(WebsiteConfig)
class WebsiteConfigAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Per-website configuration (empty fields inherit the defaults)."""

    form = WebsiteConfigForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("website", "enabled", "api_user", "password_set", "api_endpoint", "updated_at")
    readonly_fields = ("updated_at",)
    fieldsets = (
        (None, {"fields": ("website", "enabled")}),
        ("API account", {"fields": ("api_user", "api_password", "clear_api_password", "api_endpoint")}),
        (
            "Address books",
            {
                "fields": (
                    "customers_address_book_id",
                    "subscribers_address_book_id",
                    "guests_address_book_id",
                )
            },
        ),
        (
            "What to sync",
            {
                "fields": (
                    "sync_customers",
                    "sync_subscribers",
                    "sync_guests",
                    "sync_orders",
                    "sync_quotes",
                    "sync_reviews",
                    "sync_wishlists",
                    "sync_catalog",
                    "order_statuses",
                )
            },
        ),
        (
            "Alerts",
            {
                "description": "The monitor job records failed imports and job errors each window (see "
                "the dashboard) and, when alert emails are on, emails these staff at most once per window.",
                "fields": ("alert_emails", "alert_recipients", "alert_window"),
            },
        ),
        (
            "Dynamic content",
            {
                "description": "The storefront's dynamic-content URLs (dotsync/edc/<website>/...) need "
                "this passcode; display settings (edc_display_type, edc_items, ...) and edc_allowed_ips "
                "go in extra.",
                "fields": ("edc_passcode", "clear_edc_passcode"),
            },
        ),
        (
            "Advanced",
            {
                "classes": ("collapse",),
                "fields": ("batch_sizes", "job_frequencies", "data_field_mapping", "extra", "updated_at"),
            },
        ),
    )

    def _warn(self, request: HttpRequest) -> None:
        """Warn about the public default encryption key and settings the jobs refuse."""
        from django.contrib import messages

        from dotsync.config_report import configuration_warnings

        for warning in configuration_warnings():
            messages.warning(request, warning)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """The list, with the configuration warnings."""
        if request.method == "GET":
            self._warn(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        """The form, with the configuration warnings."""
        if request.method == "GET":
            self._warn(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(boolean=True, description="password set")
    def password_set(self, obj: WebsiteConfig) -> bool:
        """Whether a password is stored (never the password itself)."""
        return bool(obj.api_password_encrypted)


# --- the store's newsletter table ----------------------------------------------------------------------


@admin.register(NewsletterSubscriber)
class NewsletterSubscriberAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The newsletter table dotsync supplies to Oscar."""

    list_display = ("subscriber_email", "store", "subscriber_status", "customer_id", "change_status_at")
    list_filter = ("store", "subscriber_status")
    search_fields = ("subscriber_email",)
    show_full_result_count = False


# --- read-only grids -----------------------------------------------------------------------------------


class ReadOnlyGrid(admin.ModelAdmin):  # type: ignore[type-arg]
    """A view-only grid over a large table: no add/change/delete, no full-table count."""

    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Rows are written by observers, install and jobs only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only (``dotsync migrate-data`` rebuilds a table)."""
        return False


def _register_grid(stream: Stream) -> None:
    """Register the read-only grid a stream declares (:attr:`~dotsync.jobs.stream.Stream.grid`)."""
    grid = stream.grid
    assert grid is not None
    model = stream.model
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": f"``{stream.table}``.",
        "list_display": grid.list_display,
        "list_filter": grid.list_filter,
    }
    if grid.search_fields:
        attrs["search_fields"] = grid.search_fields
    if grid.select_related:
        attrs["list_select_related"] = grid.select_related
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyGrid,), attrs))


for _stream in streams.ALL:
    if _stream.grid is not None:
        _register_grid(_stream)


@admin.register(Importer)
class ImporterAdmin(ReadOnlyGrid):
    """``email_importer``: the import work queue (its payload is not shown: it holds personal data)."""

    list_display = (
        "id",
        "website",
        "import_type",
        "import_mode",
        "import_status",
        "record_count",
        "retry_count",
        "wait_reason",
        "next_attempt_at",
        "import_id",
        "message",
        "created_at",
        "import_finished",
    )
    list_filter = ("website", "import_status", "wait_reason", "import_type", "import_mode")
    list_select_related = ("website",)
    exclude = ("import_data", "import_file")


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyGrid):
    """``email_job_run``: every job run (``dotsync run``) and its outcome; written by the runtime only."""

    list_display = ("id", "job_id", "scope", "outcome", "started_at", "finished_at", "error")
    list_filter = ("job_id", "outcome", "scope")
    date_hierarchy = "started_at"


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyGrid):
    """``email_erasure``: one row per ``dotsync erase`` (a keyed hash, never the address); read-only."""

    list_display = ("id", "created_at", "website", "outcome", "platform_status", "counts")
    list_filter = ("outcome", "platform_status", "website")
    search_fields = ("subject_hash",)
    list_select_related = ("website",)
    date_hierarchy = "created_at"


@admin.register(MonitorAlert)
class MonitorAlertAdmin(ReadOnlyGrid):
    """``email_monitor_alert``: what each run of the ``monitor`` job found, and whether staff were emailed."""

    list_display = (
        "id",
        "website",
        "window_start",
        "window_end",
        "failed_imports",
        "job_errors",
        "notify_status",
        "notified_at",
    )
    list_filter = ("website", "notify_status")
    list_select_related = ("website",)
    date_hierarchy = "window_end"


# --- actions: reset to pending, retry failed, platform message (dotsync.admin_actions) ------------------

install_actions()

# --- the dashboard (dotsync.dashboard): /admin/dotsync/dashboard/, linked on the admin index -----------

install_dashboard()


# --- store-scope configuration ---------------------------------------------------------------------------


class StoreConfigForm(forms.ModelForm):  # type: ignore[type-arg]
    """A store's overrides, refused when they make a problem (as ``dotsync config set --store`` does)."""

    class Meta:
        model = StoreConfig
        fields = ("store", "overrides")

    def clean(self) -> dict[str, Any]:
        """Resolve the store's settings with these overrides (rolled back) and list every problem."""
        cleaned: dict[str, Any] = super().clean() or {}
        if self.errors or not cleaned.get("store"):
            return cleaned
        from dotsync.config import get_store_config

        candidate = construct_instance(self, copy.copy(self.instance))
        problems: list[str] = []
        try:
            with transaction.atomic():
                candidate.save()
                problems = list(get_store_config(candidate.store).row_problems)
                raise _Rollback
        except _Rollback:
            pass
        except IntegrityError:  # a second configuration for the store: Django reports it
            return cleaned
        for problem in problems:
            self.add_error("overrides", problem)
        return cleaned


@admin.register(StoreConfig)
class StoreConfigAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Per-store settings: abandoned carts, review requests, programme ids (the rest are the website's)."""

    form = StoreConfigForm
    list_display = ("store", "overridden", "updated_at")
    readonly_fields = ("resolved", "updated_at")
    fields = ("store", "overrides", "resolved", "updated_at")

    @admin.display(description="overridden keys")
    def overridden(self, obj: StoreConfig) -> str:
        """The keys this store sets itself."""
        return ", ".join(sorted(obj.overrides)) if isinstance(obj.overrides, dict) else ""

    @admin.display(description="resolved store settings")
    def resolved(self, obj: StoreConfig) -> str:
        """Every store-scope setting's value and where it comes from (store row, website row, defaults)."""
        from django.utils.html import format_html, format_html_join

        from dotsync.config import STORE_SCHEMA, explain

        if obj.pk is None:
            return "-"
        items = explain(store=obj.store)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    key,
                    json.dumps(items[key].value),
                    ", ".join(label for _, label in items[key].sources) or "defaults",
                )
                for key in STORE_SCHEMA
            ),
        )
        return format_html("<table><tr><th>key</th><th>value</th><th>source</th></tr>{}</table>", rows)


# --- campaign sends (email_campaign): filters, the platform's message, retry and cancel -------------------


def rows_action(name: str, description: str, apply: Callable[[QuerySet[Any]], int], done: str) -> Any:
    """An admin action ``name`` that needs the resync permission.

    It calls ``apply`` with the selected rows, then tells the user ``"<n> <done>"`` with the count
    ``apply`` returns.
    """

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> None:  # type: ignore[type-arg]
        n = apply(queryset)
        modeladmin.message_user(request, f"{n} {done}", messages.SUCCESS)

    action.__name__ = action.__qualname__ = name
    action.__doc__ = f"{description}: :func:`{apply.__module__}.{apply.__name__}`."
    return admin.action(description=description, permissions=["resync"])(action)


class QueuedRowsGrid(ReadOnlyGrid):
    """A grid of queued rows per website and store (campaign sends, enrolments) with retry and cancel."""

    list_select_related = ("website", "store")
    date_hierarchy = "created_at"

    def has_resync_permission(self, request: HttpRequest) -> bool:
        """Retry and cancel need the change permission on the grid's table."""
        return has_resync_permission(self, request)


retry_campaigns = rows_action(
    "retry_campaigns",
    "Retry (failed or review rows: send again)",
    campaign_sends.retry,
    "campaign row(s) queued to be sent again.",
)
cancel_campaigns = rows_action(
    "cancel_campaigns",
    "Cancel (pending or review rows: never send)",
    campaign_sends.cancel,
    "campaign row(s) cancelled.",
)


@admin.register(Campaign)
class CampaignAdmin(QueuedRowsGrid):
    """``email_campaign``: queued campaign sends, their state, reason and the platform's message."""

    list_display = (
        "id",
        "website",
        "store",
        "event_name",
        "campaign_id",
        "email",
        "send_status",
        "fail_reason",
        "message",
        "send_id",
        "claimed_at",
        "sent_at",
        "created_at",
    )
    list_filter = ("website", "send_status", "fail_reason", "event_name", "campaign_id")
    search_fields = ("email", "send_id", "order_increment_id")
    actions = (retry_campaigns, cancel_campaigns)


# --- programme enrolments (email_automation): filters, the platform's message, retry and cancel ----------


retry_enrolments = rows_action(
    "retry_enrolments",
    "Retry (failed, review, deactivated, expired, cancelled: enrol again)",
    enrolments.retry,
    "enrolment row(s) queued to be enrolled again.",
)
cancel_enrolments = rows_action(
    "cancel_enrolments",
    "Cancel (waiting or review rows: never enrol)",
    enrolments.cancel,
    "enrolment row(s) cancelled.",
)


@admin.register(Automation)
class AutomationAdmin(QueuedRowsGrid):
    """``email_automation``: programme enrolment requests, their status, reason and the platform's message."""

    list_display = (
        "id",
        "website",
        "store",
        "automation_type",
        "type_id",
        "program_id",
        "email",
        "enrolment_status",
        "fail_reason",
        "message",
        "enrolment_id",
        "claimed_at",
        "created_at",
        "updated_at",
    )
    list_filter = ("website", "enrolment_status", "fail_reason", "automation_type", "program_id")
    search_fields = ("email", "enrolment_id", "type_id")
    actions = (retry_enrolments, cancel_enrolments)


# --- SMS order-status messages (email_sms_order_queue): filters, the platform's message, retry and cancel ---


retry_sms = rows_action(
    "retry_sms",
    "Retry (failed, skipped or review rows: check and send again)",
    sms_sends.retry,
    "SMS row(s) queued to be sent again.",
)
cancel_sms = rows_action(
    "cancel_sms",
    "Cancel (pending or review rows: never send)",
    sms_sends.cancel,
    "SMS row(s) cancelled.",
)


@admin.register(SmsOrderQueue)
class SmsOrderQueueAdmin(QueuedRowsGrid):
    """``email_sms_order_queue``: order-status SMS messages, their state, reason and the platform's answer."""

    list_display = (
        "id",
        "website",
        "store",
        "order_number",
        "order_status",
        "slot",
        "send_status",
        "fail_reason",
        "message",
        "telephone",
        "truncated",
        "claimed_at",
        "sent_at",
        "created_at",
    )
    list_filter = ("website", "send_status", "fail_reason", "slot", "order_status")
    search_fields = ("order_number", "telephone")
    actions = (retry_sms, cancel_sms)


# --- abandoned carts (email_abandoned_cart) --------------------------------------------------------------


@admin.register(AbandonedCart)
class AbandonedCartAdmin(ReadOnlyGrid):
    """``email_abandoned_cart``: each basket's series (``abandoned_carts`` job): step, status, next due."""

    list_display = (
        "quote_id",
        "website",
        "store",
        "email",
        "customer_id",
        "status",
        "abandoned_cart_number",
        "series",
        "items_count",
        "is_active",
        "next_due_at",
        "quote_updated_at",
        "updated_at",
    )
    list_filter = ("website", "store", "status", "abandoned_cart_number", "is_active")
    search_fields = ("email",)
    list_select_related = ("website", "store")


# --- exclusion rules (email_rules) and consent (email_contact_consent) ----------------------------------


class RuleForm(forms.ModelForm):  # type: ignore[type-arg]
    """An exclusion rule; its conditions are JSON, checked by :meth:`~dotsync.models.Rule.clean`."""

    class Meta:
        model = Rule
        fields = ("name", "websites", "rule_type", "status", "combination", "conditions")
        widgets = {"conditions": forms.Textarea(attrs={"rows": 8, "cols": 90})}


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """``email_rules``: exclusion rules per website and type (abandoned cart, review), ALL or ANY conditions.

    Saving validates every condition (attribute, operator for its kind, value) and lists each problem.
    """

    form = RuleForm
    list_display = ("name", "rule_type", "status", "combination", "updated_at")
    list_filter = ("rule_type", "status", "websites")
    search_fields = ("name",)


@admin.register(RuleExclusion)
class RuleExclusionAdmin(ReadOnlyGrid):
    """``email_rule_exclusion``: baskets and orders a rule kept from their campaign, with the rule and why."""

    list_display = (
        "rule_type",
        "rule",
        "website",
        "store",
        "quote_id",
        "order_increment_id",
        "email",
        "matched",
        "excluded_at",
    )
    list_filter = ("rule_type", "website", "rule")
    search_fields = ("email", "order_increment_id")
    list_select_related = ("rule", "website", "store")


@admin.register(ContactConsent)
class ContactConsentAdmin(ReadOnlyGrid):
    """``email_contact_consent``: consent recorded with subscriptions, and whether it reached the platform."""

    list_display = (
        "email_contact",
        "consent_datetime",
        "consent_text",
        "consent_url",
        "consent_ip",
        "consent_imported",
    )
    list_filter = ("consent_imported", "email_contact__website")
    search_fields = ("email_contact__email",)
    list_select_related = ("email_contact",)


@admin.register(EmailCouponAttribute)
class EmailCouponAttributeAdmin(ReadOnlyGrid):
    """``email_coupon_attribute``: the voucher codes the coupon dynamic content generated, per email."""

    list_display = ("code", "website", "offer_id", "email", "expires_at", "created_at", "replaced_at")
    list_filter = ("website", "offer_id")
    search_fields = ("email", "code")
    list_select_related = ("website",)
    date_hierarchy = "created_at"

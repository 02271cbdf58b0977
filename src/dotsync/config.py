"""Per-website configuration: defaults, overrides, resolution and validation.

Resolution order for every key, last wins:

1. :data:`DEFAULTS` below;
2. ``settings.DOTSYNC`` (a dict) in the Django settings;
3. ``DOTSYNC_<KEY>`` environment variables (JSON values are parsed, e.g. ``DOTSYNC_SYNC_ORDERS=true``);
4. the website's :class:`~dotsync.models.WebsiteConfig` row (null fields inherit).

:func:`get_config` returns a frozen :class:`WebsiteSettings`; :meth:`WebsiteSettings.validate`
raises one :class:`~dotsync.exceptions.ConfigurationError` listing every problem.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any

from dotsync.exceptions import ConfigurationError

SANDBOX_ENDPOINT = "http://127.0.0.1:8899"
"""Where ``dotsync sandbox`` listens by default."""

DEFAULT_DATA_FIELD_MAPPING: dict[str, str] = {
    "title": "TITLE",
    "customer_id": "CUSTOMER_ID",
    "firstname": "FIRSTNAME",
    "lastname": "LASTNAME",
    "dob": "DOB",
    "gender": "GENDER",
    "created_at": "ACCOUNT_CREATED_DATE",
    "last_logged_date": "LAST_LOGGEDIN_DATE",
    "customer_group": "CUSTOMER_GROUP",
    "review_count": "REVIEW_COUNT",
    "last_review_date": "LAST_REVIEW_DATE",
    "subscriber_status": "SUBSCRIBER_STATUS",
    "billing_address_1": "BILLING_ADDRESS_1",
    "billing_address_2": "BILLING_ADDRESS_2",
    "billing_city": "BILLING_CITY",
    "billing_state": "BILLING_STATE",
    "billing_country": "BILLING_COUNTRY",
    "billing_postcode": "BILLING_POSTCODE",
    "billing_telephone": "BILLING_TELEPHONE",
    "delivery_address_1": "DELIVERY_ADDRESS_1",
    "delivery_address_2": "DELIVERY_ADDRESS_2",
    "delivery_city": "DELIVERY_CITY",
    "delivery_state": "DELIVERY_STATE",
    "delivery_country": "DELIVERY_COUNTRY",
    "delivery_postcode": "DELIVERY_POSTCODE",
    "delivery_telephone": "DELIVERY_TELEPHONE",
    "number_of_orders": "NUMBER_OF_ORDERS",
    "average_order_value": "AVERAGE_ORDER_VALUE",
    "total_spend": "TOTAL_SPEND",
    "last_order_date": "LAST_ORDER_DATE",
    "last_order_id": "LAST_ORDER_ID",
    "last_increment_id": "LAST_INCREMENT_ID",
    "last_quote_id": "LAST_QUOTE_ID",
    "total_refund": "TOTAL_REFUND",
    "most_freq_pur_day": "MOST_FREQ_PUR_DAY",
    "most_freq_pur_mon": "MOST_FREQ_PUR_MON",
    "most_pur_category": "MOST_PUR_CATEGORY",
    "most_pur_brand": "MOST_PUR_BRAND",
    "first_category_pur": "FIRST_CATEGORY_PUR",
    "last_category_pur": "LAST_CATEGORY_PUR",
    "first_brand_pur": "FIRST_BRAND_PUR",
    "last_brand_pur": "LAST_BRAND_PUR",
    "website_name": "WEBSITE_NAME",
    "store_name": "STORE_NAME",
}

DEFAULT_BATCH_SIZES: dict[str, int] = {
    "page": 1000,  # rows read per keyset page
    "contacts": 2000,  # contacts per CSV import
    "contacts_bytes": 9 * 1024 * 1024,  # under the platform's 10 MB CSV limit
    "insight": 4000,  # insight records per v3 import
    "insight_bytes": 45 * 1024 * 1024,  # under the platform's 50 MB request limit
    "catalog": 5000,
}

DEFAULT_JOB_FREQUENCIES: dict[str, int] = {
    "contacts": 15,
    "orders": 15,
    "reviews_and_wishlists": 15,
    "catalog": 15,
    "importer": 5,
    "abandoned_carts": 5,
    "campaigns": 5,
    "automation": 15,
    "cleaner": 60 * 24,
}

DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "api_user": "",
    "api_password": "",
    "api_base_url": "https://r1-api.dotdigital.com",
    "api_endpoint": "",
    "customers_address_book_id": None,
    "subscribers_address_book_id": None,
    "guests_address_book_id": None,
    "sync_customers": True,
    "sync_subscribers": True,
    "sync_guests": True,
    "sync_orders": True,
    "sync_quotes": True,
    "sync_reviews": True,
    "sync_wishlists": True,
    "sync_catalog": True,
    "order_statuses": ["pending", "processing", "complete"],
    "sales_data_order_statuses": ["pending", "processing", "complete"],
    "batch_sizes": DEFAULT_BATCH_SIZES,
    "job_frequencies": DEFAULT_JOB_FREQUENCIES,
    "data_field_mapping": DEFAULT_DATA_FIELD_MAPPING,
    "catalog_level": "default",  # "default" -> Catalog_Default, "store" -> Catalog_<website>_<store>
    "max_active_imports": 20,  # per account, inside the platform's 25
    "max_retries": 5,
    "timeout": 121.0,
}

_ENDPOINT_RE = re.compile(
    r"^(https://(r[0-9]+-)?api(.*)\.(dotmailer|dotdigital)\.com|https://(r[0-9]+\.)?apiconnector\.com"
    r"|http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?)/?$"
)
_DATAFIELD_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")


@dataclass(frozen=True)
class WebsiteSettings:
    """The resolved settings of one website. Build with :func:`get_config`."""

    website_id: int
    website_code: str
    enabled: bool
    api_user: str
    api_password: str = field(repr=False)
    api_base_url: str
    api_endpoint: str
    customers_address_book_id: int | None
    subscribers_address_book_id: int | None
    guests_address_book_id: int | None
    sync_customers: bool
    sync_subscribers: bool
    sync_guests: bool
    sync_orders: bool
    sync_quotes: bool
    sync_reviews: bool
    sync_wishlists: bool
    sync_catalog: bool
    order_statuses: tuple[str, ...]
    sales_data_order_statuses: tuple[str, ...]
    batch_sizes: dict[str, int]
    job_frequencies: dict[str, int]
    data_field_mapping: dict[str, str]
    catalog_level: str
    max_active_imports: int
    max_retries: int
    timeout: float

    def problems(self) -> list[str]:
        """Every problem with these settings (empty when valid)."""
        out: list[str] = []
        prefix = f"website {self.website_code}: "
        if self.enabled:
            if not self.api_user:
                out.append(prefix + "enabled but the API user is empty")
            if not self.api_password:
                out.append(prefix + "enabled but the API password is empty")
        for name, url in (("API base URL", self.api_base_url), ("API endpoint", self.api_endpoint)):
            if url and not _ENDPOINT_RE.match(url):
                out.append(prefix + f"{name} {url!r} is not a dotdigital or loopback sandbox URL")
        books = {
            "customers": self.customers_address_book_id,
            "subscribers": self.subscribers_address_book_id,
            "guests": self.guests_address_book_id,
        }
        seen: dict[int, str] = {}
        for name, book in books.items():
            if book is None:
                continue
            if book <= 0:
                out.append(prefix + f"{name} address book id must be a positive number, not {book}")
            elif book in seen:
                out.append(prefix + f"{name} and {seen[book]} use the same address book {book}")
            else:
                seen[book] = name
        for key, value in self.batch_sizes.items():
            if not isinstance(value, int) or value <= 0:
                out.append(prefix + f"batch size {key!r} must be a positive integer, not {value!r}")
        for key, value in self.job_frequencies.items():
            if not isinstance(value, int) or value <= 0:
                out.append(
                    prefix + f"job frequency {key!r} must be a positive number of minutes, not {value!r}"
                )
        for key, name in self.data_field_mapping.items():
            if name and not _DATAFIELD_NAME_RE.match(name):
                out.append(prefix + f"data field {name!r} (for {key}) breaks the platform's naming rules")
        if not all(isinstance(s, str) and s for s in self.order_statuses):
            out.append(prefix + "order statuses must be non-empty strings")
        if self.catalog_level not in ("default", "store"):
            out.append(prefix + f"catalog_level must be 'default' or 'store', not {self.catalog_level!r}")
        if not 1 <= self.max_active_imports <= 25:
            out.append(prefix + "max_active_imports must be between 1 and 25 (the platform allows 25)")
        if self.timeout <= 0:
            out.append(prefix + "timeout must be positive")
        return out

    def validate(self) -> WebsiteSettings:
        """Return self, or raise :class:`ConfigurationError` listing every problem."""
        problems = self.problems()
        if problems:
            raise ConfigurationError(problems)
        return self

    def address_book(self, kind: str) -> int | None:
        """The address book id for ``customers``, ``subscribers`` or ``guests``."""
        value: int | None = getattr(self, f"{kind}_address_book_id")
        return value

    def batch(self, key: str) -> int:
        """A batch-size setting, falling back to the default."""
        return int(self.batch_sizes.get(key, DEFAULT_BATCH_SIZES[key]))


def _env_overrides() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in DEFAULTS:
        raw = os.environ.get(f"DOTSYNC_{key.upper()}")
        if raw is None:
            continue
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def global_defaults() -> dict[str, Any]:
    """Defaults merged with ``settings.DOTSYNC`` and ``DOTSYNC_*`` environment variables."""
    from django.conf import settings

    merged = dict(DEFAULTS)
    merged.update(getattr(settings, "DOTSYNC", {}) or {})
    merged.update(_env_overrides())
    return merged


_DICT_KEYS = ("batch_sizes", "job_frequencies", "data_field_mapping")


def get_config(website: Any) -> WebsiteSettings:
    """Resolve the settings of ``website`` (a :class:`~dotsync.models.Website` or its id).

    The result is not validated; call :meth:`WebsiteSettings.validate` where it matters.
    """
    from dotsync.models import Website, WebsiteConfig

    if not isinstance(website, Website):
        website = Website.objects.get(pk=website)
    values = global_defaults()
    row = WebsiteConfig.objects.filter(website=website).first()
    if row is not None:
        for key in DEFAULTS:
            if key == "api_password":
                if row.api_password_encrypted:
                    values[key] = row.get_api_password()
                continue
            if not hasattr(row, key):
                continue
            value = getattr(row, key)
            if value is None or value == "":
                continue
            if key in _DICT_KEYS and isinstance(value, dict):
                values[key] = {**values[key], **value}
            else:
                values[key] = value
        if row.extra:
            values.update({k: v for k, v in row.extra.items() if k in DEFAULTS})
    known = {f.name for f in fields(WebsiteSettings)}
    kwargs = {k: v for k, v in values.items() if k in known}
    kwargs["order_statuses"] = tuple(kwargs["order_statuses"])
    kwargs["sales_data_order_statuses"] = tuple(kwargs["sales_data_order_statuses"])
    kwargs["batch_sizes"] = dict(kwargs["batch_sizes"])
    kwargs["job_frequencies"] = dict(kwargs["job_frequencies"])
    kwargs["data_field_mapping"] = dict(kwargs["data_field_mapping"])
    kwargs["timeout"] = float(kwargs["timeout"])
    return WebsiteSettings(website_id=website.pk, website_code=website.code, **kwargs)

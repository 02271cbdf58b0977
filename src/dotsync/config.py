"""Per-website configuration: defaults, overrides, resolution and validation.

Resolution order for every key, last wins:

1. :data:`DEFAULTS` below;
2. ``settings.DOTSYNC`` (a dict) in the Django settings;
3. ``DOTSYNC_<KEY>`` environment variables (``DOTSYNC_SYNC_ORDERS=false``);
4. the website's :class:`~dotsync.models.WebsiteConfig` row (null fields inherit), then its ``extra`` JSON.

Every value from every source is parsed strictly by its key's type in :data:`SCHEMA` (rules in
:mod:`dotsync.config_types`); the maps (batch sizes, job frequencies, data-field mapping) are merged
key by key over the layer below. A value that does not parse, or a key that is not a setting, is a
problem naming its source (``environment variable DOTSYNC_TIMEOUT``, ``settings.DOTSYNC['timeout']``,
``website main's row: timeout``). :func:`get_config` returns a frozen :class:`WebsiteSettings`;
:meth:`WebsiteSettings.validate` raises one :class:`~dotsync.exceptions.ConfigurationError` listing
every problem, and the jobs refuse a website that has any.
"""

from __future__ import annotations

import enum
import ipaddress
import os
import re
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

from dotsync import config_types as types
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
    "abandoned_prod_name": "ABANDONED_PROD_NAME",  # sent by the abandoned_carts job, not the contact imports
}

DEFAULT_BATCH_SIZES: dict[str, int] = {
    "page": 1000,  # rows read per keyset page
    "contacts": 2000,  # contacts per CSV import
    "contacts_bytes": 9 * 1024 * 1024,  # under the platform's 10 MB CSV limit
    "insight": 4000,  # insight records per v3 import
    "insight_bytes": 45 * 1024 * 1024,  # under the platform's 50 MB request limit
    "catalog": 5000,
    "singles_below": 10,  # a nudged run sends fewer pending records than this as single calls
}

RESERVED_JOB_FREQUENCIES: dict[str, int] = {
    "abandoned_carts": 5,
}
"""Jobs announced but not built yet: their ``job_frequencies`` keys are accepted (not a problem), unused."""

DEFAULT_JOB_FREQUENCIES: dict[str, int] = {
    "contacts": 15,
    "orders": 15,
    "reviews_and_wishlists": 15,
    "catalog": 15,
    "importer": 5,
    "monitor": 60,
    "unsubscriber": 15,
    "resubscriber": 15,
    "cleaner": 60 * 24 * 30,
    "campaigns": 5,
    "review_requests": 15,
    "automation": 15,
    "pending_contacts": 30,
    "sms": 5,
    **RESERVED_JOB_FREQUENCIES,
}
"""Job id -> minutes between runs: the known ``job_frequencies`` keys (any other key is a problem).

The jobs declare their own defaults (``Job.default_frequency``, collected in
:data:`dotsync.jobs.registry.DEFAULT_JOB_FREQUENCIES`); this settings layer cannot import the jobs, so it
repeats them, and ``tests/jobs/test_registry.py`` fails when the two disagree. The scheduler
(:mod:`dotsync.runtime.scheduler`) reads ``Job.frequency(cfg)``; ``0`` (or ``"disabled"`` in
``job_frequencies``) switches a job off for the website.
"""

AUDIENCES: tuple[str, ...] = ("customers", "guests")
"""The abandoned-cart audiences: baskets of customers, and of guests (no account, an email known)."""

CART_STEPS: tuple[int, ...] = (1, 2, 3)
"""The abandoned-cart series steps."""


def _cart_defaults() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for audience in AUDIENCES:
        for n in CART_STEPS:
            out[f"ac_{audience}_enabled_{n}"] = False
            out[f"ac_{audience}_send_after_{n}"] = 15 if n == 1 else 1  # step 1: minutes; 2 and 3: hours
            out[f"ac_{audience}_campaign_{n}"] = None
    return out


PROGRAMMES: tuple[str, ...] = (
    "customer",
    "subscriber",
    "first_order",
    "order",
    "guest_order",
    "review",
    "wishlist",
)
"""The enrolment programmes a store names by id (``programme_<name>_id``; reference §4.5)."""

SMS_SLOTS: tuple[int, ...] = (1, 2, 3, 4)
"""The SMS order-status message slots of a store (reference §7: up to four messages)."""

SMS_PLACEHOLDERS: tuple[str, ...] = ("customer_name", "customer_first_name", "order_number")
"""The placeholders an SMS message may hold, written ``{{var customer_name}}`` (reference §7)."""

SMS_OPT_IN: tuple[str, ...] = ("subscribers", "all")
"""Who gets SMS order-status messages (``sms_opt_in``; :mod:`dotsync.jobs.sms` says what each means)."""

SMS_PLACEHOLDER_RE = re.compile(r"\{\{\s*var\s+([A-Za-z_]+)\s*\}\}")
"""One placeholder, ``{{var name}}`` (spaces allowed inside the braces); group 1 is the name."""


def _sms_defaults() -> dict[str, Any]:
    out: dict[str, Any] = {"sms_enabled": False, "sms_opt_in": "subscribers"}
    for n in SMS_SLOTS:
        out[f"sms_{n}_enabled"] = False
        out[f"sms_{n}_status"] = ""  # the order status that sends it
        out[f"sms_{n}_message"] = ""  # the text, with SMS_PLACEHOLDERS
    return out


def _sms_message(value: Any) -> str:
    """An SMS message template: text whose only ``{{...}}`` are ``{{var <placeholder>}}``."""
    message = types.text(value)
    unknown = [name for name in SMS_PLACEHOLDER_RE.findall(message) if name not in SMS_PLACEHOLDERS]
    if unknown:
        raise ValueError(f"{{{{var {unknown[0]}}}}} is not one of {', '.join(SMS_PLACEHOLDERS)}")
    rest = SMS_PLACEHOLDER_RE.sub("", message)
    if "{{" in rest or "}}" in rest:
        raise ValueError("has a placeholder not written {{var name}}")
    return message


STORE_DEFAULTS: dict[str, Any] = {
    **_cart_defaults(),
    "ac_allow_non_subscribers": False,
    "ac_cart_limit": 0,  # hours; 0 = no limit
    "ac_program_id": None,
    "ac_program_send_after": 15,  # minutes
    "review_enabled": False,
    "review_order_status": "complete",
    "review_delay_days": 1,
    "review_campaign_id": None,
    "review_allow_non_subscribers": False,
    **{f"programme_{name}_id": None for name in PROGRAMMES},
    "programme_order_status": "",  # an order reaching this status enrols in programme_order_status_id
    "programme_order_status_id": None,
    "consent_enabled": False,  # subscriptions record consent (reference §4.8 connector_consent)
    "consent_text": "",
    "consent_url": "",
    **_sms_defaults(),
}
"""Settings that may differ per store (reference §8: the abandoned-cart series, the programme ids, the
review settings). Every layer may set them; a store's :class:`~dotsync.models.StoreConfig` row overrides
its website's value (:func:`get_store_config`)."""


def _store_schema() -> dict[str, types.Parser]:
    out: dict[str, types.Parser] = {}
    for key in STORE_DEFAULTS:
        if key.endswith("_id") or "_campaign_" in key:
            out[key] = types.optional_id
        elif key.startswith("ac_") and "_send_after_1" in key:
            out[key] = types.whole_number(1, 1440)  # minutes
        elif key.startswith("ac_") and "_send_after_" in key:
            out[key] = types.whole_number(1, 720)  # hours
        elif isinstance(STORE_DEFAULTS[key], bool):
            out[key] = types.boolean
    out["ac_cart_limit"] = types.whole_number(0, 8760)
    out["ac_program_send_after"] = types.whole_number(1, 1440)
    out["review_order_status"] = _status_name
    out["programme_order_status"] = types.text
    out["review_delay_days"] = types.whole_number(0, 365)
    out["consent_text"] = types.text
    out["consent_url"] = types.text
    out["sms_opt_in"] = types.choice(SMS_OPT_IN)
    for n in SMS_SLOTS:
        out[f"sms_{n}_status"] = types.text
        out[f"sms_{n}_message"] = _sms_message
    return out


def _status_name(value: Any) -> str:
    name = types.text(value)
    if not name:
        raise ValueError("must name an order status")
    return name


STORE_SCHEMA: dict[str, types.Parser] = _store_schema()
"""How every store-scope setting is parsed (part of :data:`SCHEMA`)."""


def _ip_networks(value: Any) -> tuple[str, ...]:
    """Addresses or CIDR networks (a list or comma-separated text); empty allows every client."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"must be a list of IP addresses or networks, not {types.show(value)}")
    out = []
    for item in value:
        try:
            out.append(str(ipaddress.ip_network(str(item).strip(), strict=False)))
        except ValueError:
            raise ValueError(f"{types.show(item)} is not an IP address or network") from None
    return tuple(out)


def _product_ids(value: Any) -> tuple[int, ...]:
    """Product ids (a list or comma-separated text), in order, without repeats."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"must be a list of product ids, not {types.show(value)}")
    return tuple(dict.fromkeys(types.whole_number(1)(item) for item in value))


_TAG_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CAPTURE_SELECTORS = ("#id_username", "#id_login-username", "#id_registration-email")
"""Oscar's email fields: the checkout gateway's, the login form's and the registration form's."""


def _selectors(value: Any) -> tuple[str, ...]:
    """CSS selectors (a JSON array, a list, or selectors separated by commas); empty binds nothing.

    They reach the page as JSON data (escaped); a selector the browser rejects is skipped by the script.
    """
    if (isinstance(value, str) and not value.strip()) or (isinstance(value, (list, tuple)) and not value):
        return ()
    return types.names(value)


STOREFRONT_DEFAULTS: dict[str, Any] = {
    "edc_passcode": "",  # secret: encrypted in WebsiteConfig.edc_passcode_encrypted; empty = EDC refused
    "edc_allowed_ips": (),  # addresses or networks allowed to fetch EDC; empty = any client
    "edc_display_type": "grid",  # product lists: grid or list (reference §4.6 *_display_type)
    "edc_items": 4,  # products per list (items_to_display)
    "edc_link_text": "View now",
    "edc_image_size": 120,  # pixels
    "edc_period": "M",  # bestsellers and most viewed: D, W or M
    "edc_push_product_ids": (),  # the manual product push
    "edc_fallback_product_ids": (),  # recommendations are topped up from these
    "cart_restore_max_age": 168,  # hours a signed cart-restore link stays valid
    "tracking_profile_id": "",  # the Dotdigital Tag id (reference §4.9 tracking_profile_id); empty = no tag
    "roi_enabled": True,  # ROI tracking on the thank-you page (needs the API enabled)
    "email_capture_enabled": False,  # easy email capture: typed emails feed guest abandoned carts
    "email_capture_selectors": CAPTURE_SELECTORS,  # CSS selectors of the email fields to watch
}
"""The storefront's website settings: external dynamic content (reference §4.6) and cart-restore links
(:mod:`dotsync.storefront`, :mod:`dotsync.links`)."""

STOREFRONT_SCHEMA: dict[str, types.Parser] = {
    "edc_passcode": types.secret,
    "edc_allowed_ips": _ip_networks,
    "edc_display_type": types.choice(("grid", "list")),
    "edc_items": types.whole_number(1, 24),
    "edc_link_text": types.text,
    "edc_image_size": types.whole_number(16, 600),
    "edc_period": types.choice(("D", "W", "M")),
    "edc_push_product_ids": _product_ids,
    "edc_fallback_product_ids": _product_ids,
    "cart_restore_max_age": types.whole_number(1, 24 * 365),
    "tracking_profile_id": types.url(_TAG_ID_RE, "a Dotdigital Tag id (letters, digits, - and _)"),
    "roi_enabled": types.boolean,
    "email_capture_enabled": types.boolean,
    "email_capture_selectors": _selectors,
}
"""How the storefront settings are parsed (part of :data:`SCHEMA`)."""


NEWSLETTER_FIELDS: tuple[str, ...] = ("firstname", "lastname")
"""The data fields (``data_field_mapping`` keys) a customer may be allowed to edit on the newsletter
preferences page: those the shop's own customer record holds, so an edit is a customer change that the
contacts sync sends (reference §4.9 ``customer_addressbook/fields_to_show``)."""


def _book_choices(value: Any) -> tuple[tuple[int, str], ...]:
    """Address books customers may join or leave: ``{"id": "label"}``, or items ``id`` / ``"id:label"``.

    Items come as a JSON array or object, a list, or text separated by commas; a book without a label is
    shown as ``Address book <id>``. Returns ``(id, label)`` pairs in order (an object's in id order),
    without repeated ids.
    """
    if isinstance(value, str) and value.strip().startswith("{"):
        value = types._object(value, '{"12": "Offers"}')
    if isinstance(value, dict):  # in id order: PostgreSQL's jsonb does not keep an object's key order
        value = [
            f"{key}:{label}" for key, label in sorted(value.items(), key=lambda kv: str(kv[0]).zfill(20))
        ]
    value = types._listed(value, keep_empty=False)
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"must list address books (ids, or id:label), not {types.show(value)}")
    out: dict[int, str] = {}
    for item in value:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            raw_id, label = item
        elif isinstance(item, str) and ":" in item:
            raw_id, label = item.split(":", 1)
        else:
            raw_id, label = item, ""
        if not isinstance(label, str):
            raise ValueError(f"{types.show(label)} is not an address book label")
        book = types.whole_number(1)(raw_id.strip() if isinstance(raw_id, str) else raw_id)
        out.setdefault(book, label.strip() or f"Address book {book}")
    return tuple(out.items())


def _newsletter_fields(value: Any) -> tuple[str, ...]:
    """Data fields customers may edit: names from :data:`NEWSLETTER_FIELDS`; empty shows none."""
    listed = types._listed(value, keep_empty=False)
    if not isinstance(listed, (list, tuple)):
        raise ValueError(f"must list data fields, not {types.show(value)}")
    bad = [item for item in listed if item not in NEWSLETTER_FIELDS]
    if bad:
        raise ValueError(f"{types.show(bad[0])} is not one of {', '.join(NEWSLETTER_FIELDS)}")
    return tuple(dict.fromkeys(listed))


NEWSLETTER_DEFAULTS: dict[str, Any] = {
    "newsletter_confirm_max_age": 48,  # hours a double opt-in confirmation link stays valid
    "newsletter_preferences": True,  # logged-in customers get the preferences page (show_preferences)
    "newsletter_books": (),  # address books customers may join or leave there (show_books)
    "newsletter_fields": (),  # data fields customers may edit there (fields_to_show)
}
"""The subscription forms' website settings (reference §4.9 ``customer_addressbook``;
:mod:`dotsync.storefront.newsletter`). Double opt-in is the store's ``requires_confirmation``."""

NEWSLETTER_SCHEMA: dict[str, types.Parser] = {
    "newsletter_confirm_max_age": types.whole_number(1, 24 * 365),
    "newsletter_preferences": types.boolean,
    "newsletter_books": _book_choices,
    "newsletter_fields": _newsletter_fields,
}
"""How the subscription forms' settings are parsed (part of :data:`SCHEMA`)."""

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
    "order_statuses": ("pending", "processing", "complete"),
    "sales_data_order_statuses": ("pending", "processing", "complete"),
    "batch_sizes": DEFAULT_BATCH_SIZES,
    "job_frequencies": DEFAULT_JOB_FREQUENCIES,
    "data_field_mapping": DEFAULT_DATA_FIELD_MAPPING,
    "catalog_level": "default",  # "default" -> Catalog_Default, "store" -> Catalog_<website>_<store>
    "max_active_imports": 20,  # per account, inside the platform's 25
    "max_retries": 5,
    "timeout": 121.0,
    "cleaner_retention_days": 30,  # the cleaner deletes finished work older than this
    "alert_emails": False,  # the monitor job emails what it finds (reference system_alerts)
    "alert_recipients": (),  # staff user ids or staff email addresses
    "alert_window": 60,  # minutes: what the monitor looks back over, and how often it runs and emails
    **STOREFRONT_DEFAULTS,
    **NEWSLETTER_DEFAULTS,
    **STORE_DEFAULTS,
}

_ENDPOINT_RE = re.compile(
    r"^(https://(r[0-9]+-)?api(.*)\.(dotmailer|dotdigital)\.com|https://(r[0-9]+\.)?apiconnector\.com"
    r"|http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?)/?$"
)
_DATAFIELD_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")
_URL_WHAT = "a dotdigital or loopback sandbox URL"

SCHEMA: dict[str, types.Parser] = {
    "enabled": types.boolean,
    "api_user": types.text,
    "api_password": types.secret,
    "api_base_url": types.url(_ENDPOINT_RE, _URL_WHAT),
    "api_endpoint": types.url(_ENDPOINT_RE, _URL_WHAT),
    "customers_address_book_id": types.optional_id,
    "subscribers_address_book_id": types.optional_id,
    "guests_address_book_id": types.optional_id,
    "sync_customers": types.boolean,
    "sync_subscribers": types.boolean,
    "sync_guests": types.boolean,
    "sync_orders": types.boolean,
    "sync_quotes": types.boolean,
    "sync_reviews": types.boolean,
    "sync_wishlists": types.boolean,
    "sync_catalog": types.boolean,
    "order_statuses": types.names,
    "sales_data_order_statuses": types.names,
    "batch_sizes": types.int_map(DEFAULT_BATCH_SIZES, "records or bytes", '{"contacts": 500}'),
    "job_frequencies": types.int_map(
        DEFAULT_JOB_FREQUENCIES, "minutes", '{"orders": 30, "catalog": "disabled"}', disabled=True
    ),
    "data_field_mapping": types.name_map(DEFAULT_DATA_FIELD_MAPPING, _DATAFIELD_NAME_RE, '{"title": ""}'),
    "catalog_level": types.choice(("default", "store")),
    "max_active_imports": types.whole_number(1, 25),
    "max_retries": types.whole_number(0, 100),
    "timeout": types.seconds,
    "cleaner_retention_days": types.whole_number(1, 3650),
    "alert_emails": types.boolean,
    "alert_recipients": types.recipients,
    "alert_window": types.whole_number(5, 72 * 60),
    **STOREFRONT_SCHEMA,
    **NEWSLETTER_SCHEMA,
    **STORE_SCHEMA,
}
"""How every setting key is parsed (see :mod:`dotsync.config_types` for the rules)."""

_MAPS = ("batch_sizes", "job_frequencies", "data_field_mapping")
"""Keys whose value is merged over the previous layer's, key by key (the others replace it)."""


@dataclass(frozen=True)
class WebsiteSettings:
    """The resolved settings of one website. Build with :func:`get_config`.

    A value that could not be parsed keeps the layer below (a boolean: False, so nothing is switched
    on by mistake); its key is in :attr:`invalid` and its problem in :attr:`global_problems` or
    :attr:`row_problems`, so :meth:`problems` is not empty and jobs refuse the website.
    """

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
    cleaner_retention_days: int = 30
    alert_emails: bool = False
    alert_recipients: tuple[str, ...] = ()
    alert_window: int = 60
    edc_passcode: str = field(default="", repr=False)
    edc_allowed_ips: tuple[str, ...] = ()
    edc_display_type: str = "grid"
    edc_items: int = 4
    edc_link_text: str = "View now"
    edc_image_size: int = 120
    edc_period: str = "M"
    edc_push_product_ids: tuple[int, ...] = ()
    edc_fallback_product_ids: tuple[int, ...] = ()
    cart_restore_max_age: int = 168
    newsletter_confirm_max_age: int = 48
    newsletter_preferences: bool = True
    newsletter_books: tuple[tuple[int, str], ...] = ()
    newsletter_fields: tuple[str, ...] = ()
    tracking_profile_id: str = ""
    roi_enabled: bool = True
    email_capture_enabled: bool = False
    email_capture_selectors: tuple[str, ...] = CAPTURE_SELECTORS
    invalid: frozenset[str] = frozenset()
    global_problems: tuple[str, ...] = ()
    row_problems: tuple[str, ...] = ()
    store_scope: dict[str, Any] = field(default_factory=dict)
    """The website's values of the store-scope keys (:data:`STORE_SCHEMA`); a store's row may override
    them (:func:`get_store_config`)."""

    def problems(self, *, include_global: bool = True) -> list[str]:
        """Every problem with these settings (empty when valid), each naming its source.

        Args:
            include_global: also list problems of ``settings.DOTSYNC`` and ``DOTSYNC_*`` (the admin
                leaves them out: a website's row cannot fix them).
        """
        out: list[str] = [*(self.global_problems if include_global else ()), *self.row_problems]
        prefix = f"website {self.website_code}: "
        if self.enabled:
            if not self.api_user:
                out.append(prefix + "enabled but the API user is empty")
            if not self.api_password and "api_password" not in self.invalid:
                out.append(prefix + "enabled but the API password is empty")
        seen: dict[int, str] = {}
        for name in ("customers", "subscribers", "guests"):
            book = self.address_book(name)
            if book is None:
                continue
            if book in seen:
                out.append(prefix + f"{name} and {seen[book]} use the same address book {book}")
            else:
                seen[book] = name
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


class Layer(enum.StrEnum):
    """A source of setting values, lowest first (see the module docstring)."""

    DEFAULTS = "defaults"
    SETTINGS = "settings.DOTSYNC"
    ENVIRONMENT = "environment"
    WEBSITE = "website row"
    STORE = "store row"


@dataclass
class _Layers:
    """Values resolved so far, with the keys and problems of values that could not be parsed."""

    values: dict[str, Any]
    invalid: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    sources: dict[str, list[tuple[Layer, str]]] = field(default_factory=dict)
    key_problems: dict[str, list[str]] = field(default_factory=dict)

    def apply(self, key: str, raw: Any, source: str, layer: Layer) -> None:
        """Parse ``raw`` (from ``source``, in ``layer``) for ``key`` and lay it over the current value."""
        try:
            value = SCHEMA[key](raw)
        except (ValueError, TypeError) as exc:
            self.fail(key, [f"{source} {exc}"])
            return
        self.values[key] = {**self.values[key], **value} if key in _MAPS else value
        self.sources.setdefault(key, []).append((layer, source))

    def fail(self, key: str, problems: list[str]) -> None:
        """Record that ``key``'s value from a source could not be used, and why."""
        self.invalid.add(key)
        self.problems.extend(problems)
        self.key_problems.setdefault(key, []).extend(problems)

    def unknown(self, key: Any, source: str) -> None:
        """Report a key that is not a setting."""
        self.problems.append(unknown_key_problem(key, source))


def unknown_key_problem(key: Any, source: str) -> str:
    """The problem of a key (from ``source``) that is not a setting, with the closest setting's name."""
    import difflib

    close = difflib.get_close_matches(str(key), list(SCHEMA), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{source} is not a dotsync setting{hint}"


def env_name(key: str) -> str:
    """The environment variable of setting ``key`` (``DOTSYNC_SYNC_ORDERS``)."""
    return f"DOTSYNC_{key.upper()}"


def _global_layers() -> _Layers:
    from django.conf import settings

    layers = _Layers(dict(DEFAULTS))
    configured = getattr(settings, "DOTSYNC", None) or {}
    if not isinstance(configured, dict):
        layers.problems.append(f"settings.DOTSYNC must be a dict of settings, not {types.show(configured)}")
        configured = {}
    for key, raw in configured.items():
        if key in SCHEMA:
            layers.apply(key, raw, f"settings.DOTSYNC[{key!r}]", Layer.SETTINGS)
        else:
            layers.unknown(key, f"settings.DOTSYNC[{types.show(key)}]")
    for key in SCHEMA:
        raw = os.environ.get(env_name(key))
        if raw is not None:
            layers.apply(key, raw, f"environment variable {env_name(key)}", Layer.ENVIRONMENT)
    return layers


def global_defaults() -> dict[str, Any]:
    """Defaults merged with ``settings.DOTSYNC`` and ``DOTSYNC_*`` (values that do not parse are left out)."""
    return _global_layers().values


def global_problems() -> list[str]:
    """Every problem of ``settings.DOTSYNC`` and the ``DOTSYNC_*`` environment variables."""
    return _global_layers().problems


def _apply_row(layers: _Layers, row: Any, code: str) -> None:
    source = f"website {code}'s row:"
    for key in SCHEMA:
        if key == "edc_passcode":
            if row.edc_passcode_encrypted:
                try:
                    layers.values[key] = row.get_edc_passcode()
                    layers.sources.setdefault(key, []).append((Layer.WEBSITE, f"{source} edc_passcode"))
                except ConfigurationError as exc:
                    layers.fail(key, [f"{source} {p}" for p in exc.problems])
            continue
        if key == "api_password":
            if row.api_password_encrypted:
                try:
                    layers.values[key] = row.get_api_password()
                    layers.sources.setdefault(key, []).append((Layer.WEBSITE, f"{source} api_password"))
                except ConfigurationError as exc:
                    layers.fail(key, [f"{source} {p}" for p in exc.problems])
            continue
        if not hasattr(row, key):
            continue
        value = getattr(row, key)
        if value is None or value == "":
            continue  # inherits
        layers.apply(key, value, f"{source} {key}", Layer.WEBSITE)
    extra = row.extra
    if extra is None:
        return
    if not isinstance(extra, dict):
        layers.problems.append(f"{source} extra must be a JSON object of settings, not {types.show(extra)}")
        return
    for key, value in extra.items():
        if key == "api_password":  # never kept in plain text: say where it goes, never show it
            layers.fail(
                key,
                [
                    f"{source} extra['api_password'] must not hold the password (it would be stored in plain "
                    "text); remove it and type the password in the admin's password field, which encrypts it"
                ],
            )
        elif key == "edc_passcode":  # a secret too: encrypted in its own column
            layers.fail(
                key,
                [
                    f"{source} extra['edc_passcode'] must not hold the passcode (it would be stored in plain "
                    "text); set it with WebsiteConfig.set_edc_passcode, which encrypts it"
                ],
            )
        elif key in SCHEMA:
            layers.apply(key, value, f"{source} extra[{key!r}]", Layer.WEBSITE)
        else:
            layers.unknown(key, f"{source} extra[{types.show(key)}]")


def _website_layers(website: Any) -> tuple[_Layers, int]:
    """The layers of a :class:`~dotsync.models.Website`, and how many of their problems are global."""
    from dotsync.models import WebsiteConfig

    layers = _global_layers()
    global_count = len(layers.problems)
    row = WebsiteConfig.objects.filter(website=website).first()
    if row is not None:
        _apply_row(layers, row, website.code)
    for key in layers.invalid & {k for k, parse in SCHEMA.items() if parse is types.boolean}:
        layers.values[key] = False  # an unreadable switch is off, never on
    return layers, global_count


@dataclass(frozen=True)
class Provenance:
    """A setting's resolved value and where it comes from (``dotsync config get``)."""

    key: str
    value: Any = field(repr=False)
    sources: tuple[tuple[Layer, str], ...]
    """Every source that set the value, lowest first (a map merges them all); empty: the default."""
    problems: tuple[str, ...]
    """Values of this key that could not be used, each naming its source (the layer below is kept)."""

    @property
    def layer(self) -> Layer:
        """The layer the value comes from (the highest one that set it)."""
        return self.sources[-1][0] if self.sources else Layer.DEFAULTS


def explain(website: Any = None, store: Any = None) -> dict[str, Provenance]:
    """Every setting's value and source: the global defaults, or those of ``website`` or ``store``.

    With ``store`` (a :class:`~dotsync.models.Store`), the store-scope keys come from its row when it
    sets them (:attr:`Layer.STORE`), else from its website's; the other keys are the website's.
    The values are those :func:`get_config` resolves; ``api_password`` is in plain text, never show it.
    """
    if store is not None:
        layers = _store_layers(store)[0]
    else:
        layers = _global_layers() if website is None else _website_layers(website)[0]
    return {
        key: Provenance(
            key=key,
            value=layers.values[key],
            sources=tuple(layers.sources.get(key, ())),
            problems=tuple(layers.key_problems.get(key, ())),
        )
        for key in SCHEMA
    }


def get_config(website: Any) -> WebsiteSettings:
    """Resolve the settings of ``website`` (a :class:`~dotsync.models.Website` or its id).

    Never raises for a bad value: every problem is kept, naming its source, and reported by
    :meth:`WebsiteSettings.problems` / :meth:`WebsiteSettings.validate`.
    """
    from dotsync.models import Website

    if not isinstance(website, Website):
        website = Website.objects.get(pk=website)
    layers, global_count = _website_layers(website)
    known = {f.name for f in fields(WebsiteSettings)}
    kwargs = {k: v for k, v in layers.values.items() if k in known}
    kwargs["order_statuses"] = tuple(kwargs["order_statuses"])
    kwargs["sales_data_order_statuses"] = tuple(kwargs["sales_data_order_statuses"])
    for key in _MAPS:
        kwargs[key] = dict(kwargs[key])
    kwargs["timeout"] = float(kwargs["timeout"])
    kwargs["store_scope"] = {key: layers.values[key] for key in STORE_SCHEMA}
    kwargs["alert_recipients"] = tuple(kwargs["alert_recipients"])
    for key in (
        "edc_allowed_ips",
        "edc_push_product_ids",
        "edc_fallback_product_ids",
        "email_capture_selectors",
    ):
        kwargs[key] = tuple(kwargs[key])
    kwargs["newsletter_books"] = tuple((int(b), str(n)) for b, n in kwargs["newsletter_books"])
    kwargs["newsletter_fields"] = tuple(kwargs["newsletter_fields"])
    return WebsiteSettings(
        website_id=website.pk,
        website_code=website.code,
        invalid=frozenset(layers.invalid),
        global_problems=tuple(layers.problems[:global_count]),
        row_problems=tuple(layers.problems[global_count:]),
        **kwargs,
    )


# --- store scope ------------------------------------------------------------------------------------


def _apply_store_row(layers: _Layers, row: Any, store: Any) -> None:
    source = f"store {store.code}'s row:"
    overrides = row.overrides
    if overrides is None:
        return
    if not isinstance(overrides, dict):
        layers.problems.append(
            f"{source} overrides must be a JSON object of settings, not {types.show(overrides)}"
        )
        return
    for key, value in overrides.items():
        if key in STORE_SCHEMA:
            layers.apply(key, value, f"{source} overrides[{key!r}]", Layer.STORE)
        elif key in SCHEMA:
            layers.problems.append(
                f"{source} overrides[{key!r}] is a website setting, the same for every store of the "
                "website: set it on the website"
            )
        else:
            layers.unknown(key, f"{source} overrides[{types.show(key)}]")


def _store_layers(store: Any) -> tuple[_Layers, int]:
    """The layers of a :class:`~dotsync.models.Store`: its website's, then its row's overrides."""
    from dotsync.models import StoreConfig

    layers, global_count = _website_layers(store.website)
    row = StoreConfig.objects.filter(store=store).first()
    if row is not None:
        _apply_store_row(layers, row, store)
    for key in layers.invalid & {k for k, parse in STORE_SCHEMA.items() if parse is types.boolean}:
        layers.values[key] = False  # an unreadable switch is off, never on
    return layers, global_count


@dataclass(frozen=True)
class CartStep:
    """One step of an abandoned-cart series in a store: is it on, when is it due, which campaign."""

    audience: str
    number: int
    enabled: bool
    delay: timedelta
    """Step 1: after the basket's last change (minutes); steps 2 and 3: after it too (hours), as the
    reference counts them."""
    campaign_id: int | None


@dataclass(frozen=True)
class StoreSettings:
    """The resolved settings of one store: its website's, with the store-scope keys laid over them.

    Build with :func:`get_store_config`. ``values`` holds every key of :data:`STORE_SCHEMA`.
    """

    store_id: int
    store_code: str
    website: WebsiteSettings
    values: dict[str, Any]
    invalid: frozenset[str] = frozenset()
    row_problems: tuple[str, ...] = ()

    def problems(self, *, include_global: bool = True) -> list[str]:
        """The website's problems and the store row's (empty when valid)."""
        return [*self.website.problems(include_global=include_global), *self.row_problems]

    def cart_step(self, audience: str, number: int) -> CartStep:
        """Step ``number`` (1-3) of the ``customers`` or ``guests`` series."""
        after = int(self.values[f"ac_{audience}_send_after_{number}"])
        return CartStep(
            audience=audience,
            number=number,
            enabled=bool(self.values[f"ac_{audience}_enabled_{number}"]),
            delay=timedelta(minutes=after) if number == 1 else timedelta(hours=after),
            campaign_id=self.values[f"ac_{audience}_campaign_{number}"],
        )

    def cart_series_on(self, audience: str) -> bool:
        """True when any step of the audience's series is on (the reference runs series 1 then)."""
        return any(self.cart_step(audience, n).enabled for n in CART_STEPS)

    @property
    def cart_limit(self) -> timedelta:
        """No second Lost Basket send to an email within this time (zero: no limit)."""
        return timedelta(hours=int(self.values["ac_cart_limit"]))

    @property
    def allow_non_subscribers(self) -> bool:
        """Abandoned-cart emails go to contacts who are not subscribed too."""
        return bool(self.values["ac_allow_non_subscribers"])


def get_store_config(store: Any, website: WebsiteSettings | None = None) -> StoreSettings:
    """Resolve the settings of ``store`` (a Store or its id): store > website > defaults.

    Args:
        store: the store.
        website: its website's settings when the caller has them (a job's run context), so they are
            not resolved (nor the API password decrypted) again.

    Never raises for a bad value: problems name their source, as :func:`get_config`'s do.
    """
    from dotsync.models import Store, StoreConfig

    if not isinstance(store, Store):
        store = Store.objects.select_related("website").get(pk=store)
    if website is None:
        website = get_config(store.website)
    layers = _Layers(dict(website.store_scope))
    row = StoreConfig.objects.filter(store=store).first()
    if row is not None:
        _apply_store_row(layers, row, store)
    for key in layers.invalid & {k for k, parse in STORE_SCHEMA.items() if parse is types.boolean}:
        layers.values[key] = False  # an unreadable switch is off, never on
    return StoreSettings(
        store_id=store.pk,
        store_code=store.code,
        website=website,
        values={key: layers.values[key] for key in STORE_SCHEMA},
        invalid=frozenset(layers.invalid),
        row_problems=tuple(layers.problems),
    )

"""``dotsync datafields automap``: create the mapped contact data fields in each account, save the mapping.

For every enabled website (or one), the account's data fields are listed once; each mapping key the
contact streams send whose data field is missing is created with its platform type (``String``,
``Numeric`` or ``Date``, see :func:`dotsync.jobs.payloads.datafields.datafield_type`) and
``Private`` visibility. A field that already exists — including a create answered with
``ERROR_NON_UNIQUE_DATAFIELD`` because another process made it meanwhile — counts as mapped. The
website's mapping is then saved in ``WebsiteConfig.data_field_mapping``: keys whose field exists keep
their name; keys whose field could not be created are saved empty (not sent), so one bad field
never makes every contact import fail with ``ERROR_DATAFIELD_NOTFOUND``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dotsync.accounts import RunContext
from dotsync.config import WebsiteSettings
from dotsync.exceptions import PlatformError
from dotsync.jobs.payloads import datafields
from dotsync.models import WebsiteConfig

log = logging.getLogger("dotsync.jobs.automap")

CONTACT_UPDATE_KEYS: tuple[str, ...] = ("last_quote_id", "abandoned_prod_name")
"""Mapping keys the ``abandoned_carts`` job sends in its contact updates (not in the contact imports)."""

SENT_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            *datafields.CUSTOMER_KEYS,
            *datafields.GUEST_KEYS,
            *datafields.SUBSCRIBER_KEYS,
            *CONTACT_UPDATE_KEYS,
        )
    )
)
"""Every mapping key a contact stream or a contact update sends (only these are created)."""


@dataclass
class AutomapResult:
    """What automap did for one website."""

    website: str
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "website": self.website,
            "created": self.created,
            "existing": self.existing,
            "failed": self.failed,
            "mapping": self.mapping,
        }


def _non_unique(exc: PlatformError) -> bool:
    return "ERROR_NON_UNIQUE_DATAFIELD" in f"{exc.error_code or ''} {exc.message}"


def automap_website(cfg: WebsiteSettings, client: Any) -> AutomapResult:
    """Create the website's missing data fields through ``client`` and save its mapping."""
    result = AutomapResult(cfg.website_code)
    known = {str(f.get("name", "")).upper() for f in client.list_data_fields()}
    mapping = dict(cfg.data_field_mapping)
    for key in SENT_KEYS:
        name = mapping.get(key) or ""
        if not name:
            continue
        if name.upper() in known:
            if name not in result.existing:
                result.existing.append(name)
            continue
        try:
            client.create_data_field(name, datafields.datafield_type(key), "Private")
        except PlatformError as exc:
            if not _non_unique(exc):
                result.failed[name] = exc.message
                mapping[key] = ""
                log.warning(
                    "automap: website %s could not create data field %s: %s", cfg.website_code, name, exc
                )
                continue
            result.existing.append(name)
        else:
            result.created.append(name)
        known.add(name.upper())
    result.mapping = mapping
    WebsiteConfig.objects.update_or_create(
        website_id=cfg.website_id, defaults={"data_field_mapping": mapping}
    )
    return result


def automap(
    website_code: str | None = None, *, client_for: Callable[[WebsiteSettings], Any] | None = None
) -> list[AutomapResult]:
    """Run :func:`automap_website` for every enabled website (or just ``website_code``).

    Args:
        website_code: only this website.
        client_for: the client to use for a website's settings (tests); None: its account's client.

    Raises:
        ConfigurationError: a website's settings are invalid (every problem is listed).
        LookupError: ``website_code`` names no enabled website.
    """
    ctx = RunContext.resolve(website_code)
    out = []
    for website in ctx.enabled:
        cfg = website.cfg.validate()
        client = client_for(cfg) if client_for is not None else ctx.account_of(website.website.pk).client()
        out.append(automap_website(cfg, client))
    if website_code and not out:
        raise LookupError(
            f"website {website_code!r} does not exist or dotsync is not enabled for it; "
            "enable it (with API credentials) first"
        )
    return out

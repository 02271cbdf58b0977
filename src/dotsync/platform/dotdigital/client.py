"""The dotdigital REST client: one typed method per call dotsync makes.

Paths, field spellings and status codes follow dotdigital's published specs (the v2 swagger, the v3
insight-data service, programs.yaml, sms-campaigns.yaml). Behaviour shared by every call (auth,
timeouts, rate limits, retries, error mapping, logging) lives in :mod:`.transport`.

Region discovery: the first call that needs the account's endpoint calls ``GET /v2/account-info`` on
``base_url`` (r1) and uses its ``ApiEndpoint`` property; the result is cached per account (API user +
base URL) for the life of the process. Pass ``endpoint=`` to skip discovery.

Retries: reads, upserts (``POST /v2/contacts`` creates or updates), deletes and PUTs are idempotent
and are retried on every transient error. Campaign sends, program enrolments, SMS sends and import
starts are not: they are retried only when the platform surely did not act (see
:mod:`.transport.retry`). A caller that gets a :class:`~dotsync.exceptions.PlatformTimeout` from one of
those must check the platform before sending again.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json as _json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from dotsync.exceptions import NotFoundError, PayloadTooLargeError
from dotsync.platform.dotdigital.models import AccountKey, ImportFault, InsightImportStatus
from dotsync.platform.dotdigital.ratelimit import RateLimiter, default_limiter
from dotsync.platform.dotdigital.transport import Breaker, CallStats, RetryPolicy, Transport
from dotsync.platform.dotdigital.transport.observers import CallObserver

logger = logging.getLogger("dotsync.platform.dotdigital")

DEFAULT_BASE_URL = "https://r1-api.dotdigital.com"
"""Where region discovery starts: dotdigital answers ``account-info`` on r1 for every region."""
DEFAULT_TIMEOUT = 121.0
"""dotdigital advises allowing 121 seconds before treating a call as timed out."""
MAX_CSV_IMPORT_BYTES = 10 * 1024 * 1024
"""Largest contact CSV sent in one import (10 MB; the documented, if old, file limit)."""
MAX_INSIGHT_IMPORT_RECORDS = 10_000
"""Largest number of records sent in one insight import (the 50 MB body limit is checked too)."""
MAX_INSIGHT_IMPORT_BYTES = 50 * 1024 * 1024
"""Largest insight import body (50 MB per request, documented)."""
MAX_ENROLMENT_CONTACTS = 25
"""Largest number of contacts in one program enrolment (programs spec: 1 to 25)."""

_endpoint_cache: dict[tuple[str, str], str] = {}
_endpoint_lock = threading.Lock()


def clear_endpoint_cache() -> None:
    """Forget every discovered endpoint (tests; after an account moves region)."""
    with _endpoint_lock:
        _endpoint_cache.clear()


def account_property(info: Mapping[str, Any], name: str) -> str | None:
    """Read one property (e.g. ``ApiEndpoint``, ``MainEmail``) from an ``account-info`` answer.

    Args:
        info: the ``account_info()`` result.
        name: the property name, compared case-insensitively.

    Returns:
        The property's value (always a string in the API), or None.
    """
    for prop in info.get("properties") or ():
        if str(prop.get("name", "")).lower() == name.lower():
            value = prop.get("value")
            return None if value is None else str(value)
    return None


def _seg(value: object) -> str:
    """Percent-encode one path segment (emails hold ``@`` and maybe ``+`` or ``/``)."""
    return quote(str(value), safe="")


def _path_date(value: dt.datetime | dt.date) -> str:
    """Format a path date as ISO 8601 UTC with ``Z`` (naive datetimes are taken as UTC)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _field_value(value: object) -> object:
    """A data-field value as JSON: dates become ISO 8601 strings, everything else is kept."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _as_text(value: object) -> str:
    """A value as the platform's text form: booleans ``true``/``false``, dates ISO 8601."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_field_value(value))


def _data_fields(fields: Mapping[str, object] | None) -> list[dict[str, object]] | None:
    if not fields:
        return None
    return [{"key": key, "value": _field_value(value)} for key, value in fields.items()]


def _read_csv(content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV report as dicts keyed by the header (UTF-8, optional BOM, blank lines skipped)."""
    text = content.decode("utf-8-sig", errors="replace")
    return [row for row in csv.DictReader(io.StringIO(text)) if any((v or "").strip() for v in row.values())]


def _column(row: Mapping[str, str | None], name: str) -> str:
    """A CSV column's value, matching the header case-insensitively."""
    for key, value in row.items():
        if key is not None and key.strip().lower() == name:
            return (value or "").strip()
    return ""


class DotdigitalClient:
    """A typed client for the dotdigital REST API (v2 and v3).

    Args:
        api_user: the API user's email address (HTTP Basic user name).
        api_password: the API user's password. Never logged.
        base_url: where region discovery runs (``GET /v2/account-info``). Point it at the sandbox in
            tests and local runs.
        endpoint: the account's regional endpoint; None discovers it (cached per account).
        timeout: seconds before a call counts as timed out.
        max_retries: retries of a transient failure after the first try.
        limiter: the per-account rate limiter; None uses the process-wide in-process one. Pass a
            :class:`~dotsync.platform.dotdigital.ratelimit.RedisRateLimiter` when workers run in
            several processes.
        event_hooks: httpx event hooks (``{"request": [...], "response": [...]}``), e.g. the
            conformance harness.
        sleep: the sleep function used between retries (injectable for tests).
        retry_policy: full retry settings; overrides ``max_retries`` when given.
        transport: an httpx transport instead of the network (only for edges the sandbox cannot
            produce).
        breaker: the account's circuit breaker (see :mod:`.transport.breaker`); a new one by default.

    Example:
        >>> with DotdigitalClient("apiuser-1@apiconnector.com", "secret") as client:  # doctest: +SKIP
        ...     book = client.create_address_book("Newsletter")
        ...     client.add_contact_to_address_book(book["id"], "ann@example.com")
    """

    def __init__(
        self,
        api_user: str,
        api_password: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        endpoint: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 5,
        limiter: RateLimiter | None = None,
        event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.api_user = api_user
        self.base_url = base_url.rstrip("/")
        self._endpoint = endpoint.rstrip("/") if endpoint else None
        self.key = AccountKey(self.base_url, api_user)
        self.account_key = str(self.key)
        self._transport = Transport(
            api_user,
            api_password,
            timeout=timeout,
            retry=retry_policy or RetryPolicy(max_retries=max_retries),
            limiter=limiter or default_limiter(),
            limiter_key=self.account_key,
            event_hooks=event_hooks,
            sleep=sleep,
            transport=transport,
            breaker=breaker,
        )

    def __repr__(self) -> str:
        return f"DotdigitalClient(api_user={self.api_user!r}, base_url={self.base_url!r})"

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        self._transport.close()

    def __enter__(self) -> DotdigitalClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def stats(self) -> CallStats:
        """Counters of calls, retries, throttles and time slept."""
        return self._transport.stats

    @property
    def observers(self) -> list[CallObserver]:
        """This client's own call observers (see :mod:`.transport.observers`); append to register one."""
        return self._transport.observers

    @property
    def breaker(self) -> Breaker:
        """The account's circuit breaker (state, cause of the last failures, next probe)."""
        return self._transport.breaker

    # -- plumbing ------------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The account's regional endpoint, discovered on first use and cached per account."""
        if self._endpoint is None:
            cache_key = (self.api_user, self.base_url)
            with _endpoint_lock:
                cached = _endpoint_cache.get(cache_key)
            if cached is None:
                info = self.account_info()
                cached = (account_property(info, "ApiEndpoint") or "").rstrip("/")
                if not cached:
                    logger.warning("account-info returned no ApiEndpoint; using the base URL")
                    cached = self.base_url
                with _endpoint_lock:
                    _endpoint_cache[cache_key] = cached
            self._endpoint = cached
        return self._endpoint

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        base: str | None = None,
    ) -> httpx.Response:
        url = f"{base or self.endpoint}{path}"
        return self._transport.request(
            operation, method, url, json=json, content=content, params=params, idempotent=idempotent
        )

    def _json(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self._call(operation, method, path, **kwargs)
        if not response.content:
            return None
        return response.json()

    def _pages(
        self,
        operation: str,
        path: str,
        page_size: int,
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield v2 pages (``select``/``skip``) until the platform returns an empty page."""
        skip, pages, started = 0, 0, time.monotonic()
        while True:
            query: dict[str, Any] = {**(params or {}), "select": page_size}
            if skip:  # programs.yaml gives skip a minimum of 1: leave it out on the first page
                query["skip"] = skip
            page = self._json(operation, "GET", path, params=query) or []
            if not page:
                logger.info(
                    "dotdigital %s: %d item(s) in %d page(s) in %.0f ms",
                    operation,
                    skip,
                    pages,
                    (time.monotonic() - started) * 1000,
                )
                return
            pages += 1
            yield page
            skip += len(page)

    def _all(self, operation: str, path: str, page_size: int = 1000) -> list[dict[str, Any]]:
        return [item for page in self._pages(operation, path, page_size) for item in page]

    # -- account ---------------------------------------------------------------------------------------

    def account_info(self) -> dict[str, Any]:
        """Return ``GET /v2/account-info`` (called on ``base_url``, i.e. r1).

        Returns:
            ``{"id": int, "properties": [{"name", "type", "value"}, ...]}``; read properties with
            :func:`account_property`.

        Raises:
            AuthenticationError: the API user or password is wrong.
        """
        info: dict[str, Any] = self._json("account.info", "GET", "/v2/account-info", base=self.base_url)
        return info

    # -- data fields -----------------------------------------------------------------------------------

    def list_data_fields(self) -> list[dict[str, Any]]:
        """Return every contact data field (``GET /v2/data-fields``)."""
        return list(self._json("datafields.list", "GET", "/v2/data-fields") or [])

    def create_data_field(
        self,
        name: str,
        type: str = "String",
        visibility: str = "Private",
        default: object = None,
    ) -> dict[str, Any]:
        """Create a contact data field (``POST /v2/data-fields``).

        Args:
            name: 1-20 characters of ``[A-Za-z0-9_-]``.
            type: ``String``, ``Numeric``, ``Date`` or ``Boolean``.
            visibility: ``Private`` or ``Public``.
            default: the default value, if any (sent as text: ``0``, ``true``, ``2024-01-31``).

        Returns:
            The created field (the platform's answer, or what was sent when it answers with no body).

        Raises:
            ValidationError: e.g. ``ERROR_NON_UNIQUE_DATAFIELD`` when the name exists.
        """
        body: dict[str, Any] = {"name": name, "type": type, "visibility": visibility}
        if default is not None:
            # The data-fields reference spec types defaultValue as a string ("it can be any data type").
            body["defaultValue"] = _as_text(default)
        created = self._json("datafields.create", "POST", "/v2/data-fields", json=body)
        return dict(created) if isinstance(created, dict) else body

    # -- address books ---------------------------------------------------------------------------------

    def list_address_books(self) -> list[dict[str, Any]]:
        """Return every address book (``GET /v2/address-books``, all pages)."""
        return self._all("addressbooks.list", "/v2/address-books")

    def create_address_book(self, name: str, visibility: str = "Private") -> dict[str, Any]:
        """Create an address book (``POST /v2/address-books``).

        Raises:
            ValidationError: ``ERROR_ADDRESSBOOK_DUPLICATE`` when the name is in use.
        """
        body = {"name": name, "visibility": visibility}
        created: dict[str, Any] = self._json("addressbooks.create", "POST", "/v2/address-books", json=body)
        return created

    # -- contacts --------------------------------------------------------------------------------------

    def get_contact(self, email_or_id: str | int) -> dict[str, Any] | None:
        """Return a contact by id or email (``GET /v2/contacts/{id|email}``), or None if absent.

        Suppressed and unsubscribed contacts are not returned by the platform (None).
        """
        is_id = isinstance(email_or_id, int) or str(email_or_id).isdigit()
        try:
            contact: dict[str, Any] = self._json(
                "contacts.get_by_id" if is_id else "contacts.get_by_email",
                "GET",
                f"/v2/contacts/{_seg(email_or_id)}",
            )
        except NotFoundError:
            return None
        return contact

    def upsert_contact(
        self,
        email: str,
        *,
        data_fields: Mapping[str, object] | None = None,
        opt_in_type: str | None = None,
    ) -> dict[str, Any]:
        """Create or update a contact (``POST /v2/contacts``).

        Args:
            email: the contact's email address.
            data_fields: data-field values by field name (dates are sent as ISO 8601).
            opt_in_type: ``Single``, ``Double``, ``VerifiedDouble`` or ``Unknown``.

        Returns:
            The contact, with its ``id``.

        Raises:
            ValidationError: e.g. ``ERROR_CONTACT_SUPPRESSED`` for a suppressed address.
        """
        body: dict[str, Any] = {"email": email, "emailType": "Html"}
        if opt_in_type:
            body["optInType"] = opt_in_type
        if fields := _data_fields(data_fields):
            body["dataFields"] = fields
        contact: dict[str, Any] = self._json("contacts.upsert", "POST", "/v2/contacts", json=body)
        return contact

    def update_contact_email(self, contact_id: int, new_email: str) -> dict[str, Any]:
        """Change a contact's email address (``PUT /v2/contacts/{id}``)."""
        body = {"id": int(contact_id), "email": new_email}
        contact: dict[str, Any] = self._json(
            "contacts.update_email", "PUT", f"/v2/contacts/{_seg(contact_id)}", json=body
        )
        return contact

    def delete_contact(self, contact_id: int) -> None:
        """Delete a contact (``DELETE /v2/contacts/{id}``). Suppressed contacts cannot be deleted."""
        self._call("contacts.delete", "DELETE", f"/v2/contacts/{_seg(contact_id)}")

    def resubscribe_contact(
        self,
        email: str,
        *,
        address_book_id: int | None = None,
        no_challenge: bool = False,
        preferred_locale: str | None = None,
        return_url: str | None = None,
    ) -> dict[str, Any]:
        """Resubscribe an unsubscribed contact, to the account or to one address book.

        Uses ``POST /v2/contacts/resubscribe`` or ``/v2/address-books/{id}/contacts/resubscribe``, with
        the ``-with-no-challenge`` variant when ``no_challenge`` is set.

        Args:
            email: the contact's email address.
            address_book_id: resubscribe to this address book instead of the account.
            no_challenge: skip the confirmation email.
            preferred_locale: the locale of the confirmation email.
            return_url: where the confirmation link returns to.

        Returns:
            ``{"contact": {...}, "status": "ContactAdded" | "ContactChallenged" |
            "ContactCannotBeUnsuppressed" | ...}``.
        """
        suffix = "resubscribe-with-no-challenge" if no_challenge else "resubscribe"
        path = (
            f"/v2/contacts/{suffix}"
            if address_book_id is None
            else f"/v2/address-books/{_seg(address_book_id)}/contacts/{suffix}"
        )
        body: dict[str, Any] = {"unsubscribedContact": {"email": email}}
        if preferred_locale:
            body["preferredLocale"] = preferred_locale
        if return_url:
            body["returnUrlToUseIfChallenged"] = return_url
        result: dict[str, Any] = self._json("contacts.resubscribe", "POST", path, json=body)
        return result

    def add_contact_to_address_book(
        self,
        address_book_id: int,
        email: str,
        *,
        data_fields: Mapping[str, object] | None = None,
        opt_in_type: str | None = None,
    ) -> dict[str, Any]:
        """Add (creating if needed) a contact to an address book (``POST /v2/address-books/{id}/contacts``).

        Returns:
            The contact, with its ``id``.
        """
        body: dict[str, Any] = {"email": email, "emailType": "Html"}
        if opt_in_type:
            body["optInType"] = opt_in_type
        if fields := _data_fields(data_fields):
            body["dataFields"] = fields
        contact: dict[str, Any] = self._json(
            "addressbooks.add_contact",
            "POST",
            f"/v2/address-books/{_seg(address_book_id)}/contacts",
            json=body,
        )
        return contact

    def remove_contact_from_address_book(self, address_book_id: int, contact_id: int) -> None:
        """Remove a contact from an address book (``DELETE /v2/address-books/{id}/contacts/{contactId}``)."""
        self._call(
            "addressbooks.remove_contact",
            "DELETE",
            f"/v2/address-books/{_seg(address_book_id)}/contacts/{_seg(contact_id)}",
        )

    # -- contact CSV import (v2) -------------------------------------------------------------------------

    def import_contacts_csv(
        self,
        address_book_id: int,
        csv_bytes: bytes,
        *,
        filename: str = "contacts.csv",
        merge_option: str | None = None,
    ) -> str:
        """Start a bulk contact import of a CSV into an address book.

        Sends ``POST /v2/address-books/{id}/contacts/import`` (or ``.../import/with-merge-option/{option}``)
        with the spec's JSON body ``{"fileName", "data": <base64>}``. The CSV needs an ``Email`` column;
        other columns map to data fields by name.

        Args:
            address_book_id: the target address book.
            csv_bytes: the UTF-8 CSV file.
            filename: the file name reported to the platform.
            merge_option: ``Overwrite``, ``OnlyOverwriteIfNotEmpty`` or
                ``OnlyOverwriteIfContactDataNotPopulated``; None keeps the default (overwrite).

        Returns:
            The import id; poll :meth:`contact_import_status`.

        Raises:
            PayloadTooLargeError: the file is over :data:`MAX_CSV_IMPORT_BYTES` (nothing is sent).
            TooManyActiveImportsError: the account runs too many imports (after retries).
        """
        if len(csv_bytes) > MAX_CSV_IMPORT_BYTES:
            raise PayloadTooLargeError(
                f"contact CSV of {len(csv_bytes)} bytes is over the {MAX_CSV_IMPORT_BYTES}-byte limit. "
                "What to do: lower the contact import batch size.",
                operation="contacts.import",
            )
        path = f"/v2/address-books/{_seg(address_book_id)}/contacts/import"
        if merge_option:
            path += f"/with-merge-option/{_seg(merge_option)}"
        body = {"fileName": filename, "data": base64.b64encode(csv_bytes).decode("ascii")}
        started = time.monotonic()
        result = self._json("contacts.import", "POST", path, json=body, idempotent=False)
        import_id = str(result["id"])
        logger.info(
            "dotdigital contacts.import started: import_id=%s address_book=%s bytes=%d in %.0f ms",
            import_id,
            address_book_id,
            len(csv_bytes),
            (time.monotonic() - started) * 1000,
        )
        return import_id

    def contact_import_status(self, import_id: str) -> str:
        """Return a contact import's status (``GET /v2/contacts/import/{id}``).

        Returns:
            ``NotFinished`` (poll again), ``Finished``, or a failure status (see
            :data:`~dotsync.platform.dotdigital.models.CONTACT_IMPORT_FAILED_STATUSES`).
        """
        body = self._json("contacts.import_status", "GET", f"/v2/contacts/import/{_seg(import_id)}")
        return str((body or {}).get("status", "Unknown"))

    def contact_import_report(self, import_id: str) -> dict[str, Any]:
        """Return a finished contact import's counters (``GET /v2/contacts/import/{id}/report``)."""
        report: dict[str, Any] = self._json(
            "contacts.import_report", "GET", f"/v2/contacts/import/{_seg(import_id)}/report"
        )
        return report

    def contact_import_faults(self, import_id: str) -> list[ImportFault]:
        """Return the rows a contact import did not import (``GET .../report-faults``, a CSV).

        The CSV's BOM is stripped and its ``Reason`` and ``Email`` columns are matched
        case-insensitively.
        """
        response = self._call(
            "contacts.import_faults", "GET", f"/v2/contacts/import/{_seg(import_id)}/report-faults"
        )
        faults = [
            ImportFault(reason=_column(row, "reason"), email=_column(row, "email"))
            for row in _read_csv(response.content)
        ]
        logger.info("dotdigital contacts.import_faults: import_id=%s faults=%d", import_id, len(faults))
        return faults

    # -- change feeds ----------------------------------------------------------------------------------

    def iter_suppressed_since(self, since: dt.datetime, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Stream suppressions since a time (``GET /v2/contacts/suppressed-since/{date}``), page by page.

        Yields:
            ``{"suppressedContact": {...}, "dateRemoved": ..., "reason": ...}`` items.
        """
        path = f"/v2/contacts/suppressed-since/{_seg(_path_date(since))}"
        for page in self._pages("contacts.suppressed_since", path, page_size):
            yield from page

    def iter_modified_since(self, since: dt.datetime, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Stream contacts modified since a time, with data fields (``GET .../modified-since/{date}``).

        Yields:
            Contacts (``withFullData=true``).
        """
        path = f"/v2/contacts/modified-since/{_seg(_path_date(since))}"
        for page in self._pages("contacts.modified_since", path, page_size, {"withFullData": "true"}):
            yield from page

    # -- insight data ----------------------------------------------------------------------------------

    def insight_import(
        self,
        collection_name: str,
        records: list[dict[str, Any]],
        *,
        scope: str = "contact",
        collection_type: str | None = None,
    ) -> str:
        """Start a v3 insight-data bulk import (``PUT /insightData/v3/import``).

        Args:
            collection_name: e.g. ``Orders``; created if missing.
            records: ``{"key": ..., "json": {...}}`` items; contact-scoped ones also need ``"email"``
                (or a ready ``"contactIdentity": {"identifier", "value"}``).
            scope: ``contact`` or ``account``.
            collection_type: ``orders``, ``catalog``, ``cartInsight``, ... (None sends ``custom``).

        Returns:
            The import id; poll :meth:`insight_import_status`.

        Raises:
            ValueError: a contact-scoped record has no contact, or there are no records.
            PayloadTooLargeError: too many records or bytes for one call (nothing is sent).
        """
        if not records:
            raise ValueError("insight_import needs at least one record")
        encoded = _json.dumps([self._insight_record(r, scope) for r in records], separators=(",", ":"))
        return self.insight_import_json(
            collection_name, encoded, len(records), scope=scope, collection_type=collection_type
        )

    def insight_import_json(
        self,
        collection_name: str,
        records_json: str,
        count: int,
        *,
        scope: str = "contact",
        collection_type: str | None = None,
    ) -> str:
        """Start a v3 insight-data bulk import whose records are already encoded.

        The importer sends a queued batch this way: the records' JSON array is spliced into the
        body as stored, never built as objects (see :func:`dotsync.jobs.queue.split_records`).

        Args:
            collection_name: e.g. ``Orders``; created if missing.
            records_json: a JSON array of records in the API's shape (``key``, ``json`` and, for
                contact scope, ``contactIdentity``), as :meth:`insight_import` would send them.
            count: how many records the array holds.
            scope: ``contact`` or ``account``.
            collection_type: ``orders``, ``catalog``, ``cartInsight``, ... (None sends ``custom``).

        Returns:
            The import id; poll :meth:`insight_import_status`.

        Raises:
            ValueError: there are no records.
            PayloadTooLargeError: too many records or bytes for one call (nothing is sent).
        """
        if count < 1:
            raise ValueError("insight_import needs at least one record")
        if count > MAX_INSIGHT_IMPORT_RECORDS:
            raise PayloadTooLargeError(
                f"{count} insight records are over the {MAX_INSIGHT_IMPORT_RECORDS}-record batch "
                "limit. What to do: lower the insight import batch size.",
                operation="insight.import",
            )
        head = _json.dumps(
            {
                "collectionName": collection_name,
                "collectionScope": scope,
                "collectionType": collection_type or "custom",
            },
            separators=(",", ":"),
        )
        body = f'{head[:-1]},"records":{records_json}}}'.encode()
        if len(body) > MAX_INSIGHT_IMPORT_BYTES:
            raise PayloadTooLargeError(
                f"insight import body of {len(body)} bytes is over the 50 MB limit. "
                "What to do: lower the insight import batch size.",
                operation="insight.import",
            )
        started = time.monotonic()
        result = self._json("insight.import", "PUT", "/insightData/v3/import", content=body, idempotent=False)
        import_id = str(result["importId"])
        logger.info(
            "dotdigital insight.import started: import_id=%s collection=%s scope=%s records=%d in %.0f ms",
            import_id,
            collection_name,
            scope,
            count,
            (time.monotonic() - started) * 1000,
        )
        return import_id

    @staticmethod
    def _insight_record(record: Mapping[str, Any], scope: str) -> dict[str, Any]:
        out: dict[str, Any] = {"key": str(record["key"]), "json": record["json"]}
        if scope == "contact":
            identity = record.get("contactIdentity")
            if identity is None and record.get("email"):
                identity = {"identifier": "email", "value": record["email"]}
            if identity is None:
                raise ValueError(f"contact-scoped insight record {out['key']!r} has no email")
            out["contactIdentity"] = identity
        return out

    def insight_import_status(self, import_id: str) -> InsightImportStatus:
        """Return a v3 insight import's status and rejected records (``GET /insightData/v3/import/{id}``)."""
        body = self._json("insight.import_status", "GET", f"/insightData/v3/import/{_seg(import_id)}")
        status = InsightImportStatus.from_api(body or {})
        if not status.in_progress:
            logger.info(
                "dotdigital insight.import_status: import_id=%s status=%s imported=%d rejected=%d",
                import_id,
                status.status,
                status.total_imported,
                status.total_rejected,
            )
        return status

    def upsert_contact_insight(self, collection: str, email: str, key: str, json: dict[str, Any]) -> None:
        """Create or replace one contact-scoped insight record.

        ``PUT /insightData/v3/contacts/email/{email}/{collection}/{key}`` with the record as the body.

        Raises:
            NotFoundError: the contact does not exist (``insightData:contactNotFound``).
        """
        path = f"/insightData/v3/contacts/email/{_seg(email)}/{_seg(collection)}/{_seg(key)}"
        self._call("insight.contact_upsert", "PUT", path, json=json)

    def delete_contact_insight(self, collection: str, key: str, *, email: str | None = None) -> None:
        """Delete one contact-scoped insight record.

        With ``email``: ``DELETE /insightData/v3/contacts/email/{email}/{collection}/{key}``. Without it
        (the owner is unknown, e.g. after an email change): ``DELETE
        /v2/contacts/transactional-data/{collection}/{key}``, which deletes by key alone.
        """
        if email is None:
            path = f"/v2/contacts/transactional-data/{_seg(collection)}/{_seg(key)}"
        else:
            path = f"/insightData/v3/contacts/email/{_seg(email)}/{_seg(collection)}/{_seg(key)}"
        self._call("insight.contact_delete", "DELETE", path)

    def upsert_account_insight(self, collection: str, key: str, json: dict[str, Any]) -> None:
        """Create or replace one account-scoped record (``PUT /insightData/v3/account/{coll}/{key}``)."""
        self._call(
            "insight.account_upsert",
            "PUT",
            f"/insightData/v3/account/{_seg(collection)}/{_seg(key)}",
            json=json,
        )

    def delete_account_insight(self, collection: str, key: str) -> None:
        """Delete one account-scoped record (``DELETE /insightData/v3/account/{coll}/{key}``)."""
        self._call(
            "insight.account_delete", "DELETE", f"/insightData/v3/account/{_seg(collection)}/{_seg(key)}"
        )

    # -- campaigns -------------------------------------------------------------------------------------

    def list_campaigns(self) -> list[dict[str, Any]]:
        """Return every campaign (``GET /v2/campaigns``, all pages)."""
        return self._all("campaigns.list", "/v2/campaigns")

    def send_campaign(
        self,
        campaign_id: int,
        contact_ids: list[int],
        *,
        send_date: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Send a campaign to contacts (``POST /v2/campaigns/send``). Not retried if it may have gone out.

        Returns:
            The send, with its ``id`` (a GUID for :meth:`campaign_send_status`) and ``status``.
        """
        body: dict[str, Any] = {"campaignId": int(campaign_id), "contactIds": [int(c) for c in contact_ids]}
        if send_date is not None:
            body["sendDate"] = _path_date(send_date)
        send: dict[str, Any] = self._json(
            "campaigns.send", "POST", "/v2/campaigns/send", json=body, idempotent=False
        )
        logger.info(
            "dotdigital campaigns.send: campaign=%s contacts=%d send_id=%s",
            campaign_id,
            len(contact_ids),
            send.get("id"),
        )
        return send

    def campaign_send_status(self, send_id: str) -> dict[str, Any]:
        """Return a campaign send's progress (``GET /v2/campaigns/send/{sendId}``)."""
        send: dict[str, Any] = self._json(
            "campaigns.send_status", "GET", f"/v2/campaigns/send/{_seg(send_id)}"
        )
        return send

    def campaign_contact_activity(self, campaign_id: int, contact_id: int) -> dict[str, Any] | None:
        """Return a contact's send report for a campaign, or None if it was not sent to them.

        ``GET /v2/campaigns/{campaignId}/activities/{contactId}`` (``ApiCampaignContactSummary``, with
        ``dateSent``). A 404 naming the campaign or the contact (``ERROR_CAMPAIGN_NOT_FOUND``,
        ``ERROR_CONTACT_NOT_FOUND``) is raised: the report cannot tell then.

        Raises:
            NotFoundError: the campaign or the contact does not exist.
        """
        try:
            activity: dict[str, Any] = self._json(
                "campaigns.contact_activity",
                "GET",
                f"/v2/campaigns/{_seg(campaign_id)}/activities/{_seg(contact_id)}",
            )
        except NotFoundError as exc:
            if exc.error_code in ("ERROR_CAMPAIGN_NOT_FOUND", "ERROR_CONTACT_NOT_FOUND"):
                raise
            return None
        return activity

    # -- programs --------------------------------------------------------------------------------------

    def list_programs(self) -> list[dict[str, Any]]:
        """Return every program (``GET /v2/programs``, all pages)."""
        return self._all("programs.list", "/v2/programs")

    def get_program(self, program_id: int) -> dict[str, Any]:
        """Return one program (``GET /v2/programs/{id}``).

        Raises:
            NotFoundError: ``ERROR_PROGRAM_NOT_FOUND``.
        """
        program: dict[str, Any] = self._json("programs.get", "GET", f"/v2/programs/{_seg(program_id)}")
        return program

    def enrol(self, program_id: int, contact_ids: list[int]) -> dict[str, Any]:
        """Enrol 1 to 25 contacts in a program (``POST /v2/programs/enrolments``).

        The platform allows 20 enrolment calls per hour per account; batch contacts.

        Returns:
            The enrolment, with its ``id`` and ``status`` (``Processing``).

        Raises:
            ValueError: no contacts, or more than 25 (nothing is sent).
            ValidationError: e.g. ``ERROR_PROGRAM_NOT_ACTIVE``, ``ERROR_ENROLMENT_ALLOWANCE_EXCEEDED``.
        """
        if not 1 <= len(contact_ids) <= MAX_ENROLMENT_CONTACTS:
            raise ValueError(
                f"an enrolment takes 1 to {MAX_ENROLMENT_CONTACTS} contacts, got {len(contact_ids)}"
            )
        body = {"programId": int(program_id), "contacts": [int(c) for c in contact_ids]}
        enrolment: dict[str, Any] = self._json(
            "programs.enrol", "POST", "/v2/programs/enrolments", json=body, idempotent=False
        )
        logger.info(
            "dotdigital programs.enrol: program=%s contacts=%d enrolment_id=%s",
            program_id,
            len(contact_ids),
            enrolment.get("id"),
        )
        return enrolment

    def enrolment_status(self, enrolment_id: str) -> dict[str, Any]:
        """Return an enrolment (``GET /v2/programs/enrolments/{id}``): Processing or Finished."""
        enrolment: dict[str, Any] = self._json(
            "programs.enrolment_status", "GET", f"/v2/programs/enrolments/{_seg(enrolment_id)}"
        )
        return enrolment

    def enrolments_by_status(self, status: str) -> list[dict[str, Any]]:
        """Return every enrolment in ``status`` (``GET /v2/programs/enrolments/{status}``, all pages).

        Args:
            status: ``Processing`` or ``Finished``.
        """
        return self._all("programs.enrolments_by_status", f"/v2/programs/enrolments/{_seg(status)}")

    def enrolment_faults(self, enrolment_id: str) -> list[dict[str, Any]]:
        """Return the contacts an enrolment could not enrol (``GET .../report-faults``, a CSV).

        Returns:
            Rows keyed by the CSV header (``Id``, ``Email``, ``TelephoneNumber``, ``Reason``).

        Raises:
            ValidationError: ``ERROR_ENROLMENT_IS_PROCESSING`` while the enrolment still runs.
        """
        response = self._call(
            "programs.enrolment_faults", "GET", f"/v2/programs/enrolments/{_seg(enrolment_id)}/report-faults"
        )
        return [dict(row) for row in _read_csv(response.content)]

    # -- SMS -------------------------------------------------------------------------------------------

    def send_sms(self, telephone_number: str, message: str) -> dict[str, Any]:
        """Send one SMS (``POST /v2/sms-messages/send-to/{number}``). Not retried if it may have gone.

        Args:
            telephone_number: the number in E.164 form (e.g. ``447123123123``).
            message: the text, at most 1,600 characters.

        Returns:
            The platform's answer; ``{}`` for its usual 204 (accepted).

        Raises:
            ValueError: an empty or over-long message (nothing is sent).
        """
        if not 1 <= len(message) <= 1600:
            raise ValueError(f"an SMS message takes 1 to 1600 characters, got {len(message)}")
        result = self._json(
            "sms.send",
            "POST",
            f"/v2/sms-messages/send-to/{_seg(telephone_number)}",
            json={"message": message},
            idempotent=False,
        )
        return dict(result) if isinstance(result, dict) else {}

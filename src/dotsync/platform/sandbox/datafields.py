"""Contact data fields: the platform's name rules, types and value validation."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import Response

from dotsync.platform.sandbox.context import Api, Ctx, enum, get, ok
from dotsync.platform.sandbox.errors import ApiError
from dotsync.platform.sandbox.storage import Store, dumps, parse_iso

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
RESTRICTED_NAMES = frozenset(
    [
        "account",
        "campaign",
        "campaignid",
        "contact",
        "contact_api_id",
        "contactid",
        "email",
        "hcontactid",
        "hemail",
        "hemail256",
        "id",
        "messagecontent",
        "mobilenumberid",
        "notes",
        "unsubscribed",
        "uniquecontactid",
    ]
)
TYPES = ("String", "Numeric", "Date", "Boolean")
VISIBILITIES = ("Private", "Public")
MAX_TEXT = 1000
TRUE_WORDS = frozenset({"true", "1", "yes", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "n"})


def fields_of(store: Store, account_id: int) -> dict[str, dict[str, Any]]:
    """The account's data fields keyed by lower-cased name."""
    rows = store.all("SELECT * FROM data_fields WHERE account_id = ? ORDER BY rowid", (account_id,))
    return {
        r["name_key"]: {
            "name": r["name"],
            "type": r["type"],
            "visibility": r["visibility"],
            "defaultValue": json.loads(r["default_value"]),
        }
        for r in rows
    }


def coerce(field: dict[str, Any], value: Any) -> Any:
    """Validate ``value`` for the field's type and return it as the platform stores it.

    Raises:
        ApiError: 400 ``ERROR_DATAFIELD_VALUE_OVERFLOW`` or ``ERROR_DATAFIELD_INVALID``.
    """
    name, ftype = field["name"], field["type"]
    if value is None or value == "":
        return None
    if ftype == "String":
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, dict | list)
            else str(value)
        )
        if len(text) > MAX_TEXT:
            raise ApiError(
                400, f"The value for data field {name} is too long. ERROR_DATAFIELD_VALUE_OVERFLOW"
            )
        return text
    if ftype == "Numeric":
        if isinstance(value, bool):
            raise ApiError(400, f"The value for data field {name} must be a number. ERROR_DATAFIELD_INVALID")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ApiError(
                400, f"The value for data field {name} must be a number. ERROR_DATAFIELD_INVALID"
            ) from None
        if not number.is_finite():
            raise ApiError(400, f"The value for data field {name} must be a number. ERROR_DATAFIELD_INVALID")
        _, digits, exponent = number.as_tuple()
        exp = int(exponent)
        before = max(len(digits) + exp, 0)
        after = max(-exp, 0)
        if before > 18 or after > 9:
            raise ApiError(
                400, f"The value for data field {name} is too large. ERROR_DATAFIELD_VALUE_OVERFLOW"
            )
        return int(number) if number == number.to_integral_value() else float(number)
    if ftype == "Boolean":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ApiError(400, f"The value for data field {name} must be true or false. ERROR_DATAFIELD_INVALID")
    try:
        return parse_iso(str(value)).strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise ApiError(
            400, f"The value for data field {name} must be a date. ERROR_DATAFIELD_INVALID"
        ) from None


def coerce_many(fields: dict[str, dict[str, Any]], pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Validate ``(key, value)`` pairs against the account's fields; returns ``{NAME: stored value}``.

    Raises:
        ApiError: 400 ``ERROR_DATAFIELD_NOTFOUND`` for an unknown key, or a value error.
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        field = fields.get(str(key).lower())
        if field is None:
            raise ApiError(400, f"Data field {key} does not exist. ERROR_DATAFIELD_NOTFOUND")
        out[field["name"]] = coerce(field, value)
    return out


def check_name(name: Any) -> str:
    """A valid new data-field name, or 400."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ApiError(
            400,
            "Data field names must be 1 to 20 characters: letters, digits, hyphens and underscores only. "
            "ERROR_DATAFIELD_INVALID",
        )
    if name.lower() in RESTRICTED_NAMES:
        raise ApiError(
            400, f"{name} is a restricted name and cannot be used for a data field. ERROR_DATAFIELD_INVALID"
        )
    return name


async def list_fields(ctx: Ctx) -> Response:
    """``GET /v2/data-fields``."""
    return ok(list(fields_of(ctx.store, ctx.account_id).values()))


async def create_field(ctx: Ctx) -> Response:
    """``POST /v2/data-fields``: 201 with the field; an existing name is ``ERROR_NON_UNIQUE_DATAFIELD``."""
    body = await ctx.json_object()
    name = check_name(get(body, "name"))
    ftype = enum(get(body, "type"), TYPES, "type", default="String")
    visibility = enum(get(body, "visibility"), VISIBILITIES, "visibility", default="Private")
    field = {"name": name, "type": ftype, "visibility": visibility, "defaultValue": None}
    default = get(body, "defaultValue")
    if default is not None:
        field["defaultValue"] = coerce(field, default)
    with ctx.store.tx() as conn:
        exists = conn.execute(
            "SELECT 1 FROM data_fields WHERE account_id = ? AND name_key = ?", (ctx.account_id, name.lower())
        ).fetchone()
        if exists:
            raise ApiError(400, "Field already exists. ERROR_NON_UNIQUE_DATAFIELD")
        conn.execute(
            "INSERT INTO data_fields (account_id, name, name_key, type, visibility, default_value) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (ctx.account_id, name, name.lower(), ftype, visibility, dumps(field["defaultValue"])),
        )
    return ok(field, 201)


ROUTES = [
    Api("GET", "/v2/data-fields", list_fields),
    Api("POST", "/v2/data-fields", create_field),
]

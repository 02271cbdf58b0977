"""``dotsync config get|set``: read and write any setting from the shell, like ``bin/magento config:set``.

``get`` shows a value and where it comes from (:func:`dotsync.config.explain`): without ``--website`` the
global default (defaults, ``settings.DOTSYNC`` or a ``DOTSYNC_*`` environment variable), with it the
website's resolved value (its row, or inherited). ``set`` writes the website's
:class:`~dotsync.models.WebsiteConfig` (the key's column, else its ``extra`` JSON), parsed by the key's
parser in :data:`dotsync.config.SCHEMA` and validated as the admin does (the whole configuration through
:func:`dotsync.config.get_config`, rolled back on any problem). Global defaults are not written: they come
from settings and the environment. The API password is write-only: never printed, read from stdin or a
hidden prompt (never the command line), and refused under the public default SECRET_KEY.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from dotsync.cli.boot import setup_django
from dotsync.cli.dberrors import friendly_database_errors
from dotsync.cli.exitcodes import ConfigProblem
from dotsync.cli.output import console, emit_json, err_console

if TYPE_CHECKING:
    from dotsync.config import Provenance
    from dotsync.models import Store, Website, WebsiteConfig

PASSWORD = "api_password"
SECRETS: dict[str, str] = {PASSWORD: "API password", "edc_passcode": "dynamic-content passcode"}
"""Keys never shown nor given on the command line, each stored encrypted by ``WebsiteConfig.set_<key>``."""
"""The write-only key."""


class _Rollback(Exception):
    pass


def _website(code: str) -> Website:
    from dotsync.cli.sync import require_website
    from dotsync.models import Website

    require_website(code)
    return Website.objects.get(code=code)


def _check_key(key: str) -> None:
    from dotsync.config import SCHEMA, unknown_key_problem

    if key not in SCHEMA:
        raise ConfigProblem(unknown_key_problem(key, f"{key!r}") + " (`dotsync config get` lists them)")


def _shown(key: str, value: Any) -> Any:
    """A value as JSON shows it; the password only as "set" or "not set"."""
    if key in SECRETS:
        return "set" if value else "not set"
    return list(value) if isinstance(value, tuple) else value


def _entry(item: Provenance, website: Website | None, store: Store | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": item.key,
        "value": _shown(item.key, item.value),
        "source": str(item.layer),
        "sources": [label for _, label in item.sources],
        "problems": list(item.problems),
    }
    if store is not None:
        entry["store"] = store.code
        entry["website"] = store.website.code
        entry["inherited"] = item.layer != "store row"
    elif website is not None:
        entry["website"] = website.code
        entry["inherited"] = item.layer != "website row"
    return entry


def _store(code: str) -> Store:
    from dotsync.models import Store

    store = Store.objects.select_related("website").filter(code=code).first()
    if store is None:
        known = ", ".join(Store.objects.order_by("code").values_list("code", flat=True)) or "none"
        raise ConfigProblem(f"no store {code!r} (stores: {known})")
    return store


def _check_store_key(key: str) -> None:
    from dotsync.config import STORE_SCHEMA

    if key not in STORE_SCHEMA:
        raise ConfigProblem(
            f"{key!r} is a website setting, the same for every store of a website: use --website "
            "(`dotsync config get --store CODE` lists the store settings)"
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@click.group("config")
def config_group() -> None:
    """Read and write settings: `get [--website CODE] [KEY]`, `set --website CODE KEY [VALUE]`."""


@config_group.command("get")
@click.option(
    "--website", "website_code", metavar="CODE", help="A website's resolved value (else the default)."
)
@click.option(
    "--store", "store_code", metavar="CODE", help="A store's resolved store-scope settings (store > website)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.argument("key", required=False)
def get_command(website_code: str | None, store_code: str | None, as_json: bool, key: str | None) -> None:
    """Show KEY (or every setting): its value and where it comes from. The API password shows as set/not set.

    Without --website: the global default and its source (defaults, settings.DOTSYNC, environment). With
    --website: the website's value, from its row or inherited. With --store: the store-scope settings
    (abandoned carts, review requests, programme ids), from the store's row or inherited from its website.
    """
    setup_django()
    from dotsync.config import STORE_SCHEMA, explain

    if website_code and store_code:
        raise ConfigProblem("give --website or --store, not both (a store's website is known)")
    if key is not None:
        _check_key(key)
        if store_code:
            _check_store_key(key)
    with friendly_database_errors():
        website = _website(website_code) if website_code else None
        store = _store(store_code) if store_code else None
        items = explain(website, store=store)
    entries = [
        _entry(item, website, store)
        for k, item in items.items()
        if (key is None or k == key) and (store is None or k in STORE_SCHEMA)
    ]
    if as_json:
        if key is not None:
            emit_json(entries[0])
        elif store is not None:
            emit_json({"store": store_code, "settings": {e["key"]: e for e in entries}})
        else:
            emit_json({"website": website_code, "settings": {e["key"]: e for e in entries}})
        return
    if key is not None and not entries[0]["problems"]:
        click.echo(_text(entries[0]["value"]))
        err_console.print(_where(entries[0]), highlight=False, soft_wrap=True)
        return
    from rich.table import Table

    scope = (
        f"store {store_code}"
        if store_code
        else f"website {website_code}"
        if website_code
        else "global defaults"
    )
    t = Table(title=f"dotsync config: {scope}", title_justify="left")
    for column in ("key", "value", "source"):
        t.add_column(column, overflow="fold")
    for e in entries:
        t.add_row(e["key"], _text(e["value"]), _where(e))
    console.print(t)
    for e in entries:
        for problem in e["problems"]:
            console.print(f"[yellow]Warning:[/yellow] {problem}", highlight=False, soft_wrap=True)


def _where(entry: dict[str, Any]) -> str:
    where = ", ".join(entry["sources"]) or "defaults"
    return f"inherited ({where})" if entry.get("inherited") else where


def _read_password(label: str = "API password") -> str:
    """The new secret from a hidden prompt (a terminal) or the first line of stdin; never argv."""
    if sys.stdin.isatty():
        return str(click.prompt(label, hide_input=True, confirmation_prompt=True, err=True))
    return sys.stdin.readline().rstrip("\r\n")


def _column(key: str) -> Any:
    """The WebsiteConfig field of ``key``, or None when the key lives in ``extra``."""
    from django.core.exceptions import FieldDoesNotExist

    from dotsync.models import WebsiteConfig

    try:
        return WebsiteConfig._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def _write(row: WebsiteConfig, key: str, value: Any, *, unset: bool) -> list[str]:
    """Lay ``value`` for ``key`` on ``row`` (or remove it); the notes say what else changed."""
    notes: list[str] = []
    column = _column(key)
    extra = dict(row.extra) if isinstance(row.extra, dict) else {}
    if column is not None:
        empty = None if column.null else ""
        if isinstance(value, tuple) and column.get_internal_type() in ("CharField", "TextField"):
            value = ", ".join(value)  # a list in a text column (alert_recipients): as an admin would type it
        setattr(row, key, empty if unset else value)
        if key in extra:  # extra is laid over the column: drop it, or the column would not count
            del extra[key]
            notes.append(f"removed {key!r} from the row's extra JSON (it overrode the column)")
    elif unset:
        extra.pop(key, None)
    else:
        extra[key] = list(value) if isinstance(value, tuple) else value
    row.extra = extra or None
    return notes


def _save(website: Website, key: str, parsed: Any, password: str | None, *, unset: bool) -> list[str]:
    """Write ``key`` on the website's row unless that adds a problem to its configuration.

    The whole configuration is resolved and checked as the admin does (:func:`dotsync.config.get_config`),
    without the global problems a row cannot fix. Problems the row had before do not block the change
    (so a broken row can be fixed one key at a time); a new one rolls everything back and
    :class:`~dotsync.exceptions.ConfigurationError` lists it, as does the public default SECRET_KEY.
    """
    from django.db import transaction

    from dotsync.config import get_config
    from dotsync.exceptions import ConfigurationError
    from dotsync.models import WebsiteConfig

    before = set(get_config(website).problems(include_global=False))
    with transaction.atomic():
        row, _ = WebsiteConfig.objects.select_for_update().get_or_create(website=website)
        notes: list[str] = []
        if key in SECRETS:  # set_api_password, set_edc_passcode: refused under the default SECRET_KEY
            getattr(row, f"set_{key}")("" if unset else password or "")
        else:
            notes = _write(row, key, parsed, unset=unset)
        row.save()
        problems = [p for p in get_config(website).problems(include_global=False) if p not in before]
        if problems:
            raise ConfigurationError(problems)  # leaving the block rolls the row back
    return notes


def _save_store(store: Store, key: str, parsed: Any, *, unset: bool) -> None:
    """Write ``key`` in the store's overrides unless that adds a problem (as :func:`_save` does)."""
    from django.db import transaction

    from dotsync.config import get_store_config
    from dotsync.exceptions import ConfigurationError
    from dotsync.models import StoreConfig

    before = set(get_store_config(store).problems(include_global=False))
    with transaction.atomic():
        row, _ = StoreConfig.objects.select_for_update().get_or_create(store=store)
        overrides = dict(row.overrides) if isinstance(row.overrides, dict) else {}
        if unset:
            overrides.pop(key, None)
        else:
            overrides[key] = list(parsed) if isinstance(parsed, tuple) else parsed
        row.overrides = overrides or None
        row.save()
        problems = [p for p in get_store_config(store).problems(include_global=False) if p not in before]
        if problems:
            raise ConfigurationError(problems)


def _set_store(store_code: str, unset: bool, as_json: bool, key: str, value: str | None) -> None:
    _check_store_key(key)
    setup_django()
    from dotsync.config import SCHEMA, explain, get_store_config

    with friendly_database_errors():
        store = _store(store_code)
        unset = unset or value is None
        parsed: Any = None
        if not unset:
            try:
                parsed = SCHEMA[key](value)
            except (ValueError, TypeError) as exc:
                raise ConfigProblem(f"store {store.code}'s row: overrides[{key!r}] {exc}") from None
        _save_store(store, key, parsed, unset=unset)
        entry = _entry(explain(store=store)[key], None, store)
        left = get_store_config(store).problems(include_global=False)
    if as_json:
        emit_json({**entry, "notes": [], "store_problems": left})
        return
    for problem in left:
        console.print(f"[yellow]Still to fix:[/yellow] {problem}", highlight=False, soft_wrap=True)
    action = "unset" if unset else "set"
    console.print(
        f"{key} {action} for store {store.code}: {_text(entry['value'])} ({_where(entry)})",
        highlight=False,
        soft_wrap=True,
    )


@config_group.command("set")
@click.option("--website", "website_code", metavar="CODE", help="The website whose row to write.")
@click.option(
    "--store", "store_code", metavar="CODE", help="The store whose row to write (store-scope keys only)."
)
@click.option("--unset", is_flag=True, help="Remove the website's value: it inherits the default again.")
@click.option("--json", "as_json", is_flag=True, help="Print the new value and its source as JSON.")
@click.argument("key")
@click.argument("value", required=False)
def set_command(
    website_code: str | None, store_code: str | None, unset: bool, as_json: bool, key: str, value: str | None
) -> None:
    """Set KEY to VALUE for a website (or a store); without VALUE (or with --unset) it inherits again.

    VALUE is parsed like DOTSYNC_<KEY> (true/false, numbers, JSON arrays or objects for maps, which
    replace the website's map). The API password is never given on the command line: it is read from a
    hidden prompt, or the first line of stdin (`... set --website main api_password < file`); remove it
    with --unset. With --store, only the store-scope keys (`dotsync config get --store CODE` lists them)
    are written, in the store's row; the others are the website's.
    """
    _check_key(key)
    if website_code and store_code:
        raise ConfigProblem("give --website or --store, not both (a store's website is known)")
    if store_code:
        _set_store(store_code, unset, as_json, key, value)
        return
    if not website_code:
        raise ConfigProblem(
            "`dotsync config set` writes a website's (or a store's) settings: add --website CODE or --store "
            "CODE. Global defaults come "
            "from settings.DOTSYNC and DOTSYNC_<KEY> environment variables (see the README), not the database"
        )
    if key in SECRETS and value is not None:
        raise ConfigProblem(
            f"the {SECRETS[key]} is never given on the command line (other users could read it); run the "
            "command without it and type it at the hidden prompt, or pass it on stdin"
        )
    setup_django()
    from dotsync.config import SCHEMA, explain, get_config

    with friendly_database_errors():
        website = _website(website_code)
        password = _read_password(SECRETS[key]) if key in SECRETS and not unset else None
        if key in SECRETS and not unset and not password:
            raise ConfigProblem(
                f"no {SECRETS[key]} given (empty input); to remove the stored one use "
                f"`dotsync config set --website {website_code} {key} --unset`"
            )
        unset = unset or (value is None and key not in SECRETS)
        parsed: Any = None
        if not unset and key not in SECRETS:
            label = key if _column(key) is not None else f"extra[{key!r}]"
            try:
                parsed = SCHEMA[key](value)
            except (ValueError, TypeError) as exc:
                raise ConfigProblem(f"website {website.code}'s row: {label} {exc}") from None
        notes = _save(website, key, parsed, password, unset=unset)
        entry = _entry(explain(website)[key], website)
        left = get_config(website).problems(include_global=False)  # the row had them before this change
    if as_json:
        emit_json({**entry, "notes": notes, "website_problems": left})
        return
    for note in notes:
        console.print(f"Note: {note}", highlight=False, soft_wrap=True)
    for problem in left:
        console.print(f"[yellow]Still to fix:[/yellow] {problem}", highlight=False, soft_wrap=True)
    action = "unset" if unset else "set"
    console.print(
        f"{key} {action} for website {website.code}: {_text(entry['value'])} ({_where(entry)})",
        highlight=False,
        soft_wrap=True,
    )


COMMANDS = [config_group]

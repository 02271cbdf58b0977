"""Contact CSV for a v2 address-book import: ``Email,EmailType,<DATAFIELDS...>[,OptInType]``.

The importer uploads the text as the import file; the platform's fault report (``Reason`` followed by
these columns) then names every rejected row, which the importer maps back to its contact.

CSV injection (OWASP): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is
:func:`neutralise`-d, i.e. prefixed with a single quote, and :func:`line` always wraps such a cell in
double quotes (inner quotes doubled), so a spreadsheet opening the import file or its archived copy
under ``var/export/email/archive/`` shows text, never runs a formula. Numbers (``-50.00`` in a
``Numeric`` data field) are data, not text, and stay as they are (:func:`cell` with
``numeric=True``). An email starting with one of these characters cannot be escaped without changing
the address, so :func:`email_problem` rejects it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dotsync.jobs.payloads.values import strip_controls

EMAIL_TYPE = "Html"
OPT_IN_DOUBLE = "Double"
OPT_IN_SINGLE = "Single"

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters a spreadsheet reads as a formula (OWASP's CSV-injection list)."""

_NUMBER_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

_EMAIL_RE = re.compile(
    r"^[^@\s,;:<>()\[\]\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


def email_problem(email: str) -> str | None:
    """Why the platform would reject this email address, or None when it looks valid."""
    if not email:
        return "the email address is empty"
    if email.startswith(FORMULA_START):
        return (
            f"the email address starts with {email[0]!r}, which spreadsheets run as a formula "
            "(CSV injection), so it is not sent"
        )
    if len(email) > 254:
        return "the email address is longer than 254 characters"
    if strip_controls(email) != email:
        return "the email address has control characters"
    if not _EMAIL_RE.match(email) or ".." in email:
        return "the email address is not valid"
    return None


def neutralise(value: str) -> str:
    """A text cell made safe for spreadsheets (OWASP): ``'`` before a leading ``= + - @``, tab or CR.

    Idempotent: a neutralised cell starts with ``'`` and is left alone.
    """
    return "'" + value if value.startswith(FORMULA_START) else value


def cell(value: str, *, numeric: bool = False) -> str:
    """A data-field cell: a plain number (``-50.00``) in a numeric field as is, else :func:`neutralise`-d."""
    if numeric and _NUMBER_RE.match(value):
        return value
    return neutralise(value)


def header(names: Sequence[str], *, opt_in: bool) -> list[str]:
    """The CSV header for these data-field names (``OptInType`` last when ``opt_in``)."""
    cols = ["Email", "EmailType", *names]
    if opt_in:
        cols.append("OptInType")
    return cols


def row(email: str, values: Sequence[str], *, opt_in_type: str | None = None) -> list[str]:
    """One contact's cells, in header order; pass ``opt_in_type`` when the header has ``OptInType``."""
    cells = [email, EMAIL_TYPE, *values]
    if opt_in_type is not None:
        cells.append(opt_in_type)
    return cells


_QUOTE_RE = re.compile(r'^\'|[,"\r\n]')
"""A cell that must be quoted: a neutralised one (leading ``'``), or one with a comma, quote, CR or LF."""


def _quoted(value: str) -> str:
    if _QUOTE_RE.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def line(cells: Sequence[str]) -> str:
    """One CSV line, CRLF-terminated.

    A cell with a comma, quote, CR or LF, or a neutralised cell (leading ``'``), is wrapped in
    double quotes with inner quotes doubled; other cells are bare.
    """
    if len(cells) == 1 and not cells[0]:
        return '""\r\n'  # a bare empty line would read back as no cell at all
    return ",".join(_quoted(c) for c in cells) + "\r\n"


def document(head: Sequence[str], lines: Sequence[str]) -> str:
    """The whole file: the header line, then the already-rendered lines."""
    return line(head) + "".join(lines)

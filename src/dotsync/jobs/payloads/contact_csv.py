"""Contact CSV for a v2 address-book import: ``Email,EmailType,<DATAFIELDS...>[,OptInType]``.

The importer uploads the text as the import file; the platform's fault report (``Reason`` followed by
these columns) then names every rejected row, which the importer maps back to its contact.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

EMAIL_TYPE = "Html"
OPT_IN_DOUBLE = "Double"
OPT_IN_SINGLE = "Single"

_EMAIL_RE = re.compile(
    r"^[^@\s,;:<>()\[\]\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


def email_problem(email: str) -> str | None:
    """Why the platform would reject this email address, or None when it looks valid."""
    if not email:
        return "the email address is empty"
    if len(email) > 254:
        return "the email address is longer than 254 characters"
    if not _EMAIL_RE.match(email) or ".." in email:
        return "the email address is not valid"
    return None


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


def line(cells: Sequence[str]) -> str:
    """One CSV line, quoted where needed, CRLF-terminated."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


def document(head: Sequence[str], lines: Sequence[str]) -> str:
    """The whole file: the header line, then the already-rendered lines."""
    return line(head) + "".join(lines)

"""The coupon fragment: a unique Oscar voucher code for the email being sent (reference §5.1).

``edc/<website>/coupon/<offer_id>/?code=<passcode>&code_email=@EMAIL@`` with the reference's options
``code_prefix`` (default ``DOT-``), ``code_suffix``, ``code_format`` (``alphanum``, ``alpha``, ``num``),
``code_expires_after`` (days), ``code_allow_resend`` and ``code_cancel_send`` (``1`` on). The answer is
``<div class="edc-coupon">CODE</div>``, or 204 when there is no code (the offer is unavailable, the email
invalid, or its code used with cancel-send on). :mod:`dotsync.storefront.vouchers` decides.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, QueryDict
from django.utils.html import format_html

from dotsync.storefront import vouchers
from dotsync.storefront.passcode import EdcContext, edc_view

log = logging.getLogger("dotsync.storefront")

STYLE = (
    "display:inline-block;padding:12px 18px;border:2px dashed #333333;font-family:'Courier New',Courier,"
    "monospace;font-size:20px;font-weight:bold;letter-spacing:2px;color:#333333;background:#ffffff"
)


def _days(raw: str) -> int | None:
    """``code_expires_after``: a whole number of days above zero, else no expiry of its own."""
    return int(raw) if raw.strip().isdigit() and 0 < int(raw) <= 3650 else None


def code_request(offer_id: int, query: QueryDict) -> vouchers.CodeRequest:
    """The :class:`~dotsync.storefront.vouchers.CodeRequest` the query's ``code_*`` parameters ask for."""
    fmt = query.get("code_format", "")
    formats = {f.value: f for f in vouchers.CodeFormat}
    return vouchers.CodeRequest(
        offer_id=offer_id,
        email=query.get("code_email", ""),
        prefix=query.get("code_prefix", vouchers.DEFAULT_PREFIX),
        suffix=query.get("code_suffix", ""),
        code_format=formats.get(fmt, vouchers.CodeFormat.ALPHANUM),
        expires_after_days=_days(query.get("code_expires_after", "")),
        allow_resend=query.get("code_allow_resend") == "1",
        cancel_send=query.get("code_cancel_send") == "1",
    )


@edc_view
def coupon(request: HttpRequest, ctx: EdcContext, offer_id: int) -> str:
    """``edc/<website>/coupon/<offer_id>/``: the email's voucher code (204 when it gets none)."""
    issued = vouchers.issue(ctx.website, code_request(offer_id, request.GET))
    # the outcome only: neither the email nor the code is logged
    log.info("edc coupon: %s (website %s, offer %s)", issued.outcome, ctx.website.code, offer_id)
    if not issued.code:
        return ""
    return str(format_html('<div class="edc-coupon" style="{}">{}</div>', STYLE, issued.code))

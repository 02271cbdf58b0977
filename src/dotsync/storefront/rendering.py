"""Email-safe HTML of the fragments: tables, inline styles, absolute URLs, every value escaped.

Product lists follow the website's display settings (``edc_display_type`` grid or list, ``edc_items``,
``edc_link_text``, ``edc_image_size``); a grid has four products a row, as the reference's.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from dotsync.store.records import Quote
from dotsync.storefront.passcode import EdcContext
from dotsync.storefront.products import Card

GRID_COLUMNS = 4
NAME_LENGTH = 40
TABLE = (
    "border-collapse:collapse;width:100%;font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#333333"
)
CELL = "padding:8px;vertical-align:top;text-align:center"
LINK = "color:#1a73e8;text-decoration:underline"


def money(amount: Decimal | None, currency: str) -> str:
    """``12.50 GBP`` (empty when there is no price)."""
    if amount is None:
        return ""
    return f"{amount.quantize(Decimal('0.01'))} {currency}".strip()


def _name(card: Card) -> str:
    return card.name if len(card.name) <= NAME_LENGTH else card.name[: NAME_LENGTH - 1] + "\u2026"


def _image(ctx: EdcContext, url: str, alt: str) -> SafeString:
    size = ctx.cfg.edc_image_size
    if not url:
        return mark_safe("")
    return format_html(
        '<img src="{}" alt="{}" width="{}" '
        'style="display:block;margin:0 auto;border:0;max-width:{}px;height:auto">',
        ctx.absolute(url),
        alt,
        size,
        size,
    )


def _card(ctx: EdcContext, card: Card, style: str) -> SafeString:
    url = ctx.absolute(card.url)
    return format_html(
        '<td style="{}"><a href="{}" style="{}">{}</a><div style="padding-top:6px">{}</div>'
        '<div style="padding:4px 0;font-weight:bold">{}</div><a href="{}" style="{}">{}</a></td>',
        style,
        url,
        LINK,
        _image(ctx, card.image_url, card.name),
        _name(card),
        money(card.price, card.currency),
        url,
        LINK,
        ctx.cfg.edc_link_text or "View now",
    )


def product_list(ctx: EdcContext, cards: Sequence[Card]) -> str:
    """The products as a grid or a list table (empty text when there are none)."""
    cards = list(cards)[: ctx.cfg.edc_items]
    if not cards:
        return ""
    if ctx.cfg.edc_display_type == "list":
        rows = [format_html("<tr>{}</tr>", _card(ctx, c, CELL + ";text-align:left")) for c in cards]
    else:
        width = f"width:{100 // GRID_COLUMNS}%"
        rows = [
            format_html(
                "<tr>{}</tr>",
                format_html_join(
                    "", "{}", ((_card(ctx, c, f"{CELL};{width}"),) for c in cards[i : i + GRID_COLUMNS])
                ),
            )
            for i in range(0, len(cards), GRID_COLUMNS)
        ]
    return str(
        format_html(
            '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="{}">{}</table>',
            TABLE,
            mark_safe("".join(rows)),
        )
    )


def basket_table(ctx: EdcContext, basket: Quote, restore_url: str) -> str:
    """The basket: Image, Description, Quantity, Total, the grand total and the link back to it."""
    if not basket.lines:
        return ""
    head = format_html_join(
        "",
        '<th style="padding:8px;text-align:left;border-bottom:1px solid #dddddd">{}</th>',
        (("Image",), ("Description",), ("Quantity",), ("Total",)),
    )
    rows = format_html_join(
        "",
        '<tr><td style="padding:8px">{}</td><td style="padding:8px"><a href="{}" style="{}">{}</a></td>'
        '<td style="padding:8px">{}</td><td style="padding:8px">{}</td></tr>',
        (
            (
                _image(ctx, line.image_url, line.name),
                ctx.absolute(line.url),
                LINK,
                line.name,
                line.qty,
                money(line.price_inc_tax * line.qty, basket.currency),
            )
            for line in basket.lines
        ),
    )
    link = (
        format_html(
            '<p style="padding:8px"><a href="{}" style="{}">{}</a></p>',
            ctx.absolute(restore_url),
            LINK,
            ctx.cfg.edc_link_text or "View now",
        )
        if restore_url
        else ""
    )
    return str(
        format_html(
            '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="{}"><tr>{}</tr>{}'
            '<tr><td colspan="3" style="padding:8px;text-align:right;font-weight:bold">Grand total</td>'
            '<td style="padding:8px;font-weight:bold">{}</td></tr></table>{}',
            TABLE,
            head,
            rows,
            money(basket.total, basket.currency),
            link,
        )
    )

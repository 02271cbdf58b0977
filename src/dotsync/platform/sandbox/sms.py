"""SMS: ``POST /v2/sms-messages/send-to/{telephoneNumber}`` records the message (204)."""

from __future__ import annotations

import re

from starlette.responses import Response

from dotsync.platform.sandbox.context import Api, Ctx, get, no_content
from dotsync.platform.sandbox.errors import ApiError
from dotsync.platform.sandbox.storage import iso

PHONE_RE = re.compile(r"^\+?[0-9]{7,15}$")
MAX_MESSAGE = 1600


async def send_sms(ctx: Ctx) -> Response:
    """Record an SMS to an international number (digits, optional leading ``+``); 204."""
    telephone = ctx.path("telephoneNumber").replace(" ", "")
    if not PHONE_RE.match(telephone):
        raise ApiError(400, "The telephone number is not valid. ERROR_SMS_INVALIDPHONENUMBER")
    body = await ctx.json_object()
    message = get(body, "message")
    if not isinstance(message, str) or not message or len(message) > MAX_MESSAGE:
        raise ApiError(400, f"The message must be 1 to {MAX_MESSAGE} characters. ERROR_SMS_INVALID")
    ctx.store.run(
        "INSERT INTO sms (account_id, telephone, message, sent) VALUES (?, ?, ?, ?)",
        (ctx.account_id, telephone, message, iso()),
    )
    return no_content()


ROUTES = [Api("POST", "/v2/sms-messages/send-to/{telephoneNumber}", send_sms)]

"""The sandbox's Starlette application: the dotdigital API subset plus ``/sandbox/`` inspection and control.

Every API call goes through :func:`_dispatch`: fault injection (latency, hangs, 5xx, rate limits), Basic
auth, lazy processing of due asynchronous work (imports, sends, enrolments), the handler, error
formatting, and the request log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dotsync.platform.sandbox import (
    accounts,
    addressbooks,
    admin,
    campaigns,
    contacts,
    datafields,
    imports,
    insight,
    processing,
    programs,
    sms,
)
from dotsync.platform.sandbox.accounts import authenticate, basic_credentials
from dotsync.platform.sandbox.boot import Boot
from dotsync.platform.sandbox.context import Api, Ctx
from dotsync.platform.sandbox.errors import UNAUTHORIZED, ApiError, V3Error
from dotsync.platform.sandbox.faults import FaultState
from dotsync.platform.sandbox.storage import Store

log = logging.getLogger("dotsync.sandbox")

API_ROUTES: list[Api] = [
    *accounts.ROUTES,
    *datafields.ROUTES,
    *imports.ROUTES,  # before contacts: /v2/contacts/import/{id} beats /v2/contacts/{identifier}
    *contacts.ROUTES,
    *addressbooks.ROUTES,
    *insight.ROUTES,
    *campaigns.ROUTES,
    *programs.ROUTES,
    *sms.ROUTES,
]


def _error(
    path: str, status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> Response:
    err: ApiError = V3Error(status, code, message) if "/v3" in path else ApiError(status, f"{message} {code}")
    return JSONResponse(err.body(), status_code=status, headers=headers)


def _wrap(api: Api, store: Store, faults: FaultState) -> Callable[[Request], object]:
    endpoint = f"{api.method} {api.path}"

    async def _dispatch(request: Request) -> Response:
        started = time.perf_counter()
        creds = basic_credentials(request.headers.get("authorization"))
        username = creds[0] if creds else ""
        response = await _respond(request, username)
        try:
            store.count_request(username, endpoint, response.status_code)
        except Exception:  # the log must never break a call
            log.exception("request log failed")
        log.debug(
            "%s -> %s in %.1f ms", endpoint, response.status_code, (time.perf_counter() - started) * 1000
        )
        return response

    async def _respond(request: Request, username: str) -> Response:
        path = request.url.path
        decision = faults.decide(username, path)
        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.hang is not None:
            await asyncio.sleep(decision.hang)
            return _error(path, 504, "The request timed out.", "ERROR_TIMEOUT")
        if decision.error_status is not None:
            return _error(
                path,
                decision.error_status,
                "The service is temporarily unavailable, please try again later.",
                "ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE",
            )
        if decision.rate_limited_headers is not None:
            return _error(
                path,
                429,
                "Too many requests, slow down.",
                "ERROR_RATE_LIMIT_EXCEEDED",
                decision.rate_limited_headers,
            )
        if decision.usage_exceeded:
            return _error(
                path,
                400,
                "Your account has generated excess API activity and is being temporarily capped. "
                "Please contact support.",
                "ERROR_APIUSAGE_EXCEEDED",
            )
        account = authenticate(store, request.headers.get("authorization"))
        if account is None:
            if "/v3" in path:
                return JSONResponse(
                    {"errorCode": "unauthorized", "description": UNAUTHORIZED},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="dotdigital sandbox"'},
                )
            return JSONResponse(
                {"message": UNAUTHORIZED},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="dotdigital sandbox"'},
            )
        ctx = Ctx(request=request, store=store, faults=faults, account=account)
        try:
            processing.process_due(store, faults.faults, int(account["id"]))
            return await api.handler(ctx)
        except ApiError as err:
            return JSONResponse(err.body(), status_code=err.status, headers=err.headers or None)
        except Exception:
            log.exception("sandbox handler failed: %s", endpoint)
            return _error(path, 500, "An unexpected error occurred in the sandbox.", "ERROR_UNKNOWN")

    return _dispatch


def build_app(store: Store, boot: Boot | None = None) -> Starlette:
    """The ASGI app over ``store``; ``boot``'s accounts and knobs are applied now and on every reset."""
    boot = boot or Boot()
    state = FaultState()
    boot.apply(store, state)
    routes = [Route(api.path, _wrap(api, store, state), methods=[api.method]) for api in API_ROUTES]  # type: ignore[arg-type]
    routes += admin.routes(store, state, boot)
    app = Starlette(routes=routes)
    app.state.store = store
    app.state.faults = state
    return app

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
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
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
from dotsync.platform.sandbox.errors import (
    UNAUTHORIZED,
    ApiError,
    V3Error,
    error_response,
    is_v3,
    render,
    v3_area,
)
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
    return error_response(path, status, message, code, headers)


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
            if is_v3(path):
                err: ApiError = V3Error(401, f"{v3_area(path)}:unauthorized", UNAUTHORIZED)
            else:
                err = ApiError(401, UNAUTHORIZED)
            err.headers = {"WWW-Authenticate": 'Basic realm="dotdigital sandbox"'}
            return render(err, path)
        ctx = Ctx(request=request, store=store, faults=faults, account=account)
        try:
            processing.process_due(store, faults.faults, int(account["id"]))
            return await api.handler(ctx)
        except ApiError as err:
            return render(err, path)
        except Exception:  # a bug; the caller still gets the platform's error shape, never a Python message
            log.exception("sandbox handler failed: %s", endpoint)
            return _error(path, 500, "An unexpected error occurred in the sandbox.", "ERROR_UNKNOWN")

    return _dispatch


async def _not_found(request: Request, exc: Exception) -> Response:
    path = request.url.path
    if path.startswith("/sandbox"):
        return JSONResponse({"error": f"no sandbox control route {path}; see GET /sandbox/"}, 404)
    return _error(
        path, 404, "No HTTP resource was found that matches the request URI.", "ERROR_RESOURCE_NOT_FOUND"
    )


async def _not_allowed(request: Request, exc: Exception) -> Response:
    path = request.url.path
    allow = dict(getattr(exc, "headers", None) or {})
    if path.startswith("/sandbox"):
        return JSONResponse({"error": f"{request.method} is not allowed on {path}"}, 405, headers=allow)
    text = f"The requested resource does not support http method '{request.method}'."
    return _error(path, 405, text, "ERROR_METHOD_NOT_ALLOWED", allow)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Any other ``HTTPException`` (e.g. a form the parser refused): a JSON error in the path's family."""
    status = int(getattr(exc, "status_code", 400))
    path = request.url.path
    if path.startswith("/sandbox"):
        return JSONResponse({"error": "the request could not be read"}, status)
    return _error(path, status, "The request could not be read.", "ERROR_MALFORMED_REQUEST")


async def _server_error(request: Request, exc: Exception) -> Response:
    """Last resort for a bug outside the API dispatcher: logged, answered without a Python message."""
    log.error("sandbox route failed: %s %s", request.method, request.url.path, exc_info=exc)
    path = request.url.path
    if path.startswith("/sandbox"):
        return JSONResponse({"error": "the sandbox failed on this request; see its log"}, 500)
    return _error(path, 500, "An unexpected error occurred in the sandbox.", "ERROR_UNKNOWN")


def _exception_handlers() -> dict[Any, Callable[[Request, Exception], Any]]:
    return {
        404: _not_found,
        405: _not_allowed,
        HTTPException: _http_error,
        Exception: _server_error,
    }


def build_app(store: Store, boot: Boot | None = None, control_token: str | None = None) -> Starlette:
    """The ASGI app over ``store``; ``boot``'s accounts and knobs are applied now and on every reset.

    ``control_token``: non-loopback clients may use ``/sandbox/`` when they send it (see admin.py).
    """
    boot = boot or Boot()
    state = FaultState()
    boot.apply(store, state)
    routes = [Route(api.path, _wrap(api, store, state), methods=[api.method]) for api in API_ROUTES]  # type: ignore[arg-type]
    routes += admin.routes(store, state, boot, control_token)
    app = Starlette(routes=routes, exception_handlers=_exception_handlers())
    app.state.store = store
    app.state.faults = state
    return app

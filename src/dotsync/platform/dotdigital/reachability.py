"""Why the platform could not be reached, and what to do about it.

A transport failure (no HTTP answer) is diagnosed from the exception chain httpx raises: a refused
connection, a DNS failure, a TLS error, a timeout or a dropped connection each get their own hint,
because each has a different fix (the URL, the network, the proxy, the certificate store...). A 5xx
is the platform's own trouble and keeps the "retry later" hint.
"""

from __future__ import annotations

import enum
import socket
import ssl

import httpx


class Unreachable(enum.StrEnum):
    """Kinds of "no answer from the platform"."""

    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    TIMEOUT = "timeout"
    RESET = "reset"
    SERVER_ERROR = "server_error"
    """The platform answered 5xx (it is reachable, but failing)."""


HINTS: dict[Unreachable, str] = {
    Unreachable.REFUSED: (
        "the connection was refused: check the API base URL / endpoint (host and port) and, for the "
        "sandbox, that `dotsync sandbox` is running"
    ),
    Unreachable.DNS: (
        "the host name did not resolve (DNS): check the API base URL / endpoint for typos and this "
        "machine's DNS and network"
    ),
    Unreachable.TLS: (
        "the TLS handshake failed: check the URL uses https on the right host, the system's CA "
        "certificates, and any proxy that intercepts TLS"
    ),
    Unreachable.TIMEOUT: (
        "the platform did not answer in time: check network access (firewall, proxy) to the endpoint, "
        "or raise the timeout setting"
    ),
    Unreachable.RESET: "the connection dropped mid-call: check the network path (proxy, VPN, firewall)",
    Unreachable.SERVER_ERROR: (
        "the platform answers with server errors; dotsync keeps the work queued and retries, "
        "check dotdigital's status page if it lasts"
    ),
}
"""What to do next, by kind."""


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def diagnose(exc: BaseException) -> Unreachable:
    """The kind of a transport failure raised by httpx (``ConnectError``, ``ReadTimeout``...).

    Args:
        exc: the httpx exception (its ``__cause__`` chain is read).

    Returns:
        The kind; a failure that fits no other kind is ``RESET``.
    """
    chain = _chain(exc)
    for err in chain:
        if isinstance(err, httpx.TimeoutException | TimeoutError | socket.timeout):
            return Unreachable.TIMEOUT
        if isinstance(err, ssl.SSLError):
            return Unreachable.TLS
        if isinstance(err, socket.gaierror):
            return Unreachable.DNS
        if isinstance(err, ConnectionRefusedError):
            return Unreachable.REFUSED
    text = " ".join(str(err) for err in chain).lower()
    if "ssl" in text or "certificate" in text or "tls" in text:
        return Unreachable.TLS
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return Unreachable.DNS
    if "refused" in text or "errno 111" in text:
        return Unreachable.REFUSED
    return Unreachable.RESET


def hint(kind: str | None) -> str:
    """The hint for a kind (``Unreachable`` value); the server-error hint for anything else."""
    try:
        return HINTS[Unreachable(kind or "")]
    except ValueError:
        return HINTS[Unreachable.SERVER_ERROR]

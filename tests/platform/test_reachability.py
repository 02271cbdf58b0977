"""An unreachable platform is diagnosed from the real failure (refused, DNS, TLS, timeout) with its hint."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from dotsync.exceptions import PlatformConnectionError, PlatformError, PlatformTimeout
from dotsync.platform.dotdigital import DotdigitalClient, InProcessRateLimiter, RetryPolicy
from dotsync.platform.dotdigital.reachability import HINTS, Unreachable, diagnose


def _call(base_url: str, *, timeout: float = 5.0) -> PlatformError:
    client = DotdigitalClient(
        "apiuser-x@apiconnector.com",
        "secret",
        base_url=base_url,
        endpoint=base_url,
        timeout=timeout,
        limiter=InProcessRateLimiter(),
        retry_policy=RetryPolicy(max_retries=0),
    )
    with client, pytest.raises(PlatformError) as failed:
        client.list_data_fields()
    return failed.value


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused() -> None:
    error = _call(f"http://127.0.0.1:{_closed_port()}")
    assert isinstance(error, PlatformConnectionError) and error.unreachable == Unreachable.REFUSED
    assert HINTS[Unreachable.REFUSED] in str(error) and "status page" not in str(error)


def test_tls_error_against_a_plain_http_port(sandbox: Any) -> None:
    error = _call(sandbox.url.replace("http://", "https://"))
    assert error.unreachable == Unreachable.TLS
    assert "TLS handshake failed" in str(error)


def test_dns_failure() -> None:
    # a reserved name that never resolves (RFC 2606); the resolver answers at once
    error = _call("https://dotsync-no-such-host.invalid")
    assert error.unreachable == Unreachable.DNS
    assert "did not resolve (DNS)" in str(error)


def test_timeout(sandbox: Any) -> None:
    sandbox.set_faults(timeout_next=1, timeout_seconds=1.0)
    error = _call(sandbox.url, timeout=0.3)
    assert isinstance(error, PlatformTimeout) and error.unreachable == Unreachable.TIMEOUT


def test_diagnose_reads_the_cause_chain() -> None:
    wrapped = httpx.ConnectError("boom")
    wrapped.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert diagnose(wrapped) == Unreachable.DNS
    assert diagnose(httpx.RemoteProtocolError("Server disconnected")) == Unreachable.RESET

"""Retries, backoff, rate limits and timeouts, with faults injected into the sandbox.

Transient errors are retried within the limits, Retry-After is honoured, terminal errors are never
retried, and non-idempotent calls are retried only when the platform surely did not act.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
import pytest

from dotsync.exceptions import (
    NotFoundError,
    PlatformConnectionError,
    PlatformTimeout,
    RateLimitedError,
    ServerError,
    TooManyActiveImportsError,
    ValidationError,
)
from dotsync.platform.dotdigital import DotdigitalClient, InProcessRateLimiter, RetryPolicy
from tests.platform.client_helpers import FAST_RETRY, new_account, new_client, wait_for


class FakeTime:
    """A clock that only moves when slept on (for waits too long to sleep in a test)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- transient errors -------------------------------------------------------------------------------------


def test_transient_5xx_is_retried_with_real_backoff(sandbox: Any) -> None:
    with new_client(sandbox) as client:
        client.list_data_fields()  # discovery first, so only the call under test meets the faults
        sandbox.set_faults(fail_next=2, error_status=503)
        started = time.monotonic()
        fields = client.list_data_fields()
        elapsed = time.monotonic() - started
    assert fields
    assert client.stats.by_operation["datafields.list"] == 4  # 1 + 1 failing + 1 failing + 1 ok
    assert client.stats.retries == 2
    assert 0 < client.stats.slept <= elapsed  # the backoff really slept


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_retries_stop_at_the_cap(sandbox: Any, status: int) -> None:
    with new_client(sandbox, max_retries=3) as client:
        client.account_info()
        _ = client.endpoint
        sandbox.set_faults(fail_next=10, error_status=status)
        with pytest.raises(ServerError) as err:
            client.list_address_books()
    assert err.value.transient and err.value.status_code == status
    assert client.stats.by_operation["addressbooks.list"] == 4  # first try + max_retries


def test_terminal_errors_are_never_retried(sandbox: Any) -> None:
    with new_client(sandbox, max_retries=5) as client:
        with pytest.raises(NotFoundError):
            client.get_program(424_242)
        with pytest.raises(ValidationError):
            client.upsert_contact("not an email")
        with pytest.raises(ValidationError):
            client.create_address_book("Test")  # reserved name
    assert client.stats.retries == 0
    assert client.stats.by_operation["programs.get"] == 1
    assert client.stats.by_operation["contacts.upsert"] == 1
    assert client.stats.by_operation["addressbooks.create"] == 1


def test_too_many_active_imports_is_raised_at_once_for_the_caller_to_reschedule(sandbox: Any) -> None:
    retry = RetryPolicy(max_retries=10, base_delay=0.2, max_delay=0.4)
    with new_client(sandbox, retry_policy=retry) as client:
        book = client.create_address_book("Busy")
        sandbox.set_faults(max_active_imports=1, import_delay=0.6)
        first = client.import_contacts_csv(book["id"], b"Email\na1@example.com\n")
        with pytest.raises(TooManyActiveImportsError) as busy:
            client.import_contacts_csv(book["id"], b"Email\na2@example.com\n")
        assert busy.value.transient  # the importer defers the row; it does not count as a failure
        assert client.stats.by_operation["contacts.import"] == 2  # no retry spent on a busy account
        wait_for(lambda: client.contact_import_status(first) == "Finished", timeout=15)
        second = client.import_contacts_csv(book["id"], b"Email\na2@example.com\n")  # a slot is free
        assert second != first


# -- rate limits -------------------------------------------------------------------------------------------


def _throttled_client(sandbox: Any, clock: FakeTime, **retry: Any) -> DotdigitalClient:
    """A client whose sleeps (and limiter) run on ``clock``; the sandbox window is real."""
    user, password = new_account(sandbox)
    return DotdigitalClient(
        user,
        password,
        base_url=sandbox.url,
        endpoint=sandbox.url,
        limiter=InProcessRateLimiter(sleep=clock.sleep, clock=clock.monotonic),
        retry_policy=RetryPolicy(max_retries=3, **{**FAST_RETRY, **retry}),
        sleep=clock.sleep,
    )


@pytest.mark.parametrize("header", ["retry-after", "x-ratelimit-reset seconds", "x-ratelimit-reset epoch"])
def test_429_waits_what_the_platform_asked_then_retries(sandbox: Any, header: str) -> None:
    """The sandbox's window is a real minute, too long to sleep: the injected sleep records the wait the
    client chose and lifts the sandbox's limit, as the passing minute would."""
    clock = FakeTime()
    real_sleep = clock.sleep

    def sleep_then_lift(seconds: float) -> None:
        real_sleep(seconds)
        sandbox.set_faults(rate_limit_per_minute=None)

    clock.sleep = sleep_then_lift  # type: ignore[method-assign]
    sandbox.set_faults(
        rate_limit_per_minute=2,
        retry_after_header=header == "retry-after",
        rate_limit_reset_epoch=header.endswith("epoch"),
    )
    with _throttled_client(sandbox, clock) as client:
        client.list_data_fields()
        client.list_data_fields()
        fields = client.list_data_fields()  # throttled, waits, retried
    assert fields
    assert client.stats.rate_limited == 1 and client.stats.retries == 1
    [wait] = clock.sleeps
    assert 55 <= wait <= 61  # the rest of the sandbox's minute, as the headers said
    assert client.stats.by_operation["datafields.list"] == 4


def test_429_longer_than_the_cap_is_raised_for_the_job_to_reschedule(sandbox: Any) -> None:
    clock = FakeTime()
    sandbox.set_faults(rate_limit_per_minute=1)
    with _throttled_client(sandbox, clock, max_rate_limit_wait=5.0) as client:
        client.list_data_fields()
        with pytest.raises(RateLimitedError) as err:
            client.list_data_fields()
    assert err.value.transient and err.value.status_code == 429
    assert err.value.retry_after is not None and err.value.retry_after > 5
    assert clock.sleeps == []


def test_hourly_allowance_exceeded_raises_at_once(sandbox: Any) -> None:
    with new_client(sandbox) as client:
        _ = client.endpoint
        sandbox.set_faults(hourly_call_limit=1)
        client.list_data_fields()
        with pytest.raises(RateLimitedError) as err:
            client.list_data_fields()
    assert err.value.error_code == "ERROR_APIUSAGE_EXCEEDED"
    assert err.value.retry_after and err.value.retry_after >= 900
    assert client.stats.retries == 0


def test_clients_sharing_an_account_share_one_budget(sandbox: Any) -> None:
    user, password = new_account(sandbox)
    shared = InProcessRateLimiter(calls=4, period=0.5)
    clients = [
        DotdigitalClient(user, password, base_url=sandbox.url, endpoint=sandbox.url, limiter=shared)
        for _ in range(2)
    ]
    started = time.monotonic()
    threads = [threading.Thread(target=lambda c=c: [c.list_data_fields() for _ in range(5)]) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.monotonic() - started
    assert sum(c.stats.calls for c in clients) == 10
    assert elapsed >= 1.0  # 10 calls at 4 per 0.5 s need three windows
    for c in clients:
        c.close()


# -- timeouts and connection errors ----------------------------------------------------------------------


def test_read_timeout_is_retried_for_reads(sandbox: Any) -> None:
    with new_client(sandbox, timeout=0.5) as client:
        _ = client.endpoint
        sandbox.set_faults(timeout_next=1, timeout_seconds=2.0)
        assert client.list_programs()
    assert client.stats.by_operation["programs.list"] >= 2


def test_read_timeout_of_a_send_is_not_retried(sandbox: Any) -> None:
    """The platform may have sent the campaign: repeating could email customers twice."""
    with new_client(sandbox, timeout=0.5) as client:
        campaign = client.list_campaigns()[0]
        contact = client.upsert_contact("once@example.com")
        sandbox.set_faults(timeout_next=1, timeout_seconds=2.0)
        with pytest.raises(PlatformTimeout) as err:
            client.send_campaign(campaign["id"], [contact["id"]])
    assert err.value.transient
    assert client.stats.by_operation["campaigns.send"] == 1


def test_503_before_a_send_is_retried_and_sends_once(sandbox: Any) -> None:
    with new_client(sandbox) as client:
        campaign = client.list_campaigns()[0]
        contact = client.upsert_contact("twice@example.com")
        sandbox.set_faults(fail_next=1, error_status=503)
        send = client.send_campaign(campaign["id"], [contact["id"]])
    assert send["id"]
    assert client.stats.by_operation["campaigns.send"] == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_retried_even_for_sends_then_raised() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    client = DotdigitalClient(
        "u",
        "p",
        base_url=url,
        endpoint=url,
        limiter=InProcessRateLimiter(),
        retry_policy=RetryPolicy(max_retries=2, **FAST_RETRY),
    )
    with client, pytest.raises(PlatformConnectionError) as err:
        client.send_campaign(1, [1])
    assert err.value.transient
    assert client.stats.by_operation["campaigns.send"] == 3


def test_plain_500_after_a_send_is_not_retried() -> None:
    """Edge the sandbox cannot produce: its injected 5xx always carry
    ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE (the platform refused). A bare 500 may follow a send
    that went out, so the client must not repeat it. httpx.MockTransport stands in for the platform."""
    seen: list[str] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(500, json={"message": "An error has occurred."})

    client = DotdigitalClient(
        "u",
        "p",
        endpoint="https://r1-api.dotdigital.com",
        transport=httpx.MockTransport(platform),
        limiter=InProcessRateLimiter(),
        retry_policy=RetryPolicy(max_retries=3, **FAST_RETRY),
    )
    with client:
        with pytest.raises(ServerError):
            client.send_campaign(1, [1])
        assert seen == ["/v2/campaigns/send"]
        with pytest.raises(ServerError):
            client.list_campaigns()  # the same answer to a read is retried
    assert seen.count("/v2/campaigns") == 4


def test_a_429_holds_every_client_of_the_account(sandbox: Any) -> None:
    """Client A is throttled; before A retries, client B of the same account must wait the same penalty."""
    user, password = new_account(sandbox)
    clock = FakeTime()
    shared = InProcessRateLimiter(sleep=clock.sleep, clock=clock.monotonic)
    held: list[float] = []

    def a_sleeps(seconds: float) -> None:
        held.append(shared.acquire(b.account_key))  # B's next call, made while A waits
        sandbox.set_faults(rate_limit_per_minute=None)  # the minute passes

    common = dict(base_url=sandbox.url, endpoint=sandbox.url, limiter=shared)
    a = DotdigitalClient(user, password, sleep=a_sleeps, retry_policy=RetryPolicy(**FAST_RETRY), **common)
    b = DotdigitalClient(user, password, sleep=clock.sleep, **common)
    sandbox.set_faults(rate_limit_per_minute=1)
    b.list_data_fields()
    assert a.list_data_fields()  # throttled, then retried
    assert a.stats.rate_limited == 1
    [waited] = held
    assert 55 <= waited <= 61  # B was held for the Retry-After A received
    a.close()
    b.close()


def test_a_spent_budget_on_a_success_holds_the_next_call() -> None:
    """Edge the sandbox cannot produce: it sends x-ratelimit-* headers only on its 429s. The platform
    may announce ``x-ratelimit-remaining: 0`` on a success; the next call then waits for the reset
    instead of running into a 429. httpx.MockTransport stands in for the platform."""

    def platform(request: httpx.Request) -> httpx.Response:
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0.3", "x-ratelimit-limit": "35"}
        return httpx.Response(200, json=[], headers=headers)

    client = DotdigitalClient(
        "u",
        "p",
        endpoint="https://r1-api.dotdigital.com",
        transport=httpx.MockTransport(platform),
        limiter=InProcessRateLimiter(),
    )
    with client:
        client.list_data_fields()
        started = time.monotonic()
        client.list_data_fields()
        assert time.monotonic() - started >= 0.25

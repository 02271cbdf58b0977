"""The per-account circuit breaker, against the real sandbox over HTTP (faults injected there).

After ``threshold`` (10) consecutive failures that say the platform is down (5xx, no answer), the client
stops calling: :class:`CircuitOpenError` (transient) is raised without touching the network until the
cool-down ends; then one probe goes through. The cool-down grows while probes fail, up to a cap, and
an answer closes the breaker. Region discovery that fails is held back the same way.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine

from dotsync.exceptions import CircuitOpenError, NotFoundError, PlatformConnectionError, ServerError
from dotsync.platform.dotdigital import DotdigitalClient, InProcessRateLimiter, RetryPolicy
from dotsync.platform.dotdigital.transport import Breaker, BreakerState
from tests.platform.client_helpers import FAST_RETRY, new_account, new_client

THRESHOLD = Breaker().threshold


def _sent(sandbox: Any, client: DotdigitalClient) -> int:
    return int(sandbox.requests(client.api_user)["total"])


def test_a_storm_of_5xx_opens_the_breaker_then_a_probe_closes_it(sandbox: Any) -> None:
    with (
        time_machine.travel(datetime(2026, 11, 30, 12, 0), tick=False) as clock,
        new_client(sandbox, max_retries=20) as client,
    ):
        client.list_data_fields()  # discovery done before the storm
        sandbox.set_faults(error_rate=1.0, error_status=503)
        before = _sent(sandbox, client)
        with pytest.raises(CircuitOpenError) as opened:
            client.list_data_fields()
        assert _sent(sandbox, client) - before == THRESHOLD  # not 1 + max_retries (21)
        assert opened.value.transient and opened.value.cause == "server_error"
        assert client.breaker.state is BreakerState.OPEN

        for _ in range(20):  # every call of the account is held, none reaches the platform
            with pytest.raises(CircuitOpenError):
                client.list_address_books()
        assert _sent(sandbox, client) - before == THRESHOLD and client.stats.held == 21

        clock.shift(timedelta(seconds=client.breaker.cooldown + 1))  # half-open: one probe, fails
        with pytest.raises(CircuitOpenError):
            client.list_data_fields()
        assert _sent(sandbox, client) - before == THRESHOLD + 1
        assert client.breaker.current_cooldown() == 2 * client.breaker.cooldown  # it grew

        sandbox.set_faults(error_rate=0.0)
        clock.shift(timedelta(seconds=client.breaker.current_cooldown() + 1))
        assert client.list_data_fields()  # the probe is answered: closed again
        assert client.breaker.state is BreakerState.CLOSED and client.breaker.failures == 0


def test_the_cool_down_is_capped() -> None:
    now = [0.0]
    breaker = Breaker(threshold=1, cooldown=10, max_cooldown=60, clock=lambda: now[0])
    waits = []
    for _ in range(8):
        breaker.failed("refused", "refused")
        waits.append(breaker.reopens_at - now[0])
        now[0] = breaker.reopens_at
        breaker.before_call("probe")  # the probe goes through (half-open)
    assert waits == [10, 20, 40, 60, 60, 60, 60, 60]


def test_slow_failures_open_it_after_two_not_ten() -> None:
    now = [0.0]
    breaker = Breaker(clock=lambda: now[0])
    breaker.failed("timeout", "ReadTimeout")  # one 121-second timeout is not an outage yet
    assert breaker.state is BreakerState.CLOSED
    now[0] += 121
    breaker.failed("timeout", "ReadTimeout")
    assert breaker.state is BreakerState.OPEN and breaker.cause == "timeout"
    with pytest.raises(CircuitOpenError, match="did not answer in time"):
        breaker.before_call("contacts.import")


def test_terminal_answers_do_not_open_the_breaker(sandbox: Any) -> None:
    with new_client(sandbox) as client:
        for _ in range(10):
            with pytest.raises(NotFoundError):
                client.get_program(424_242)
        assert client.breaker.state is BreakerState.CLOSED and client.breaker.failures == 0


def test_few_5xx_in_a_row_are_retried_without_opening(sandbox: Any) -> None:
    with new_client(sandbox) as client:
        client.list_data_fields()
        sandbox.set_faults(fail_next=3)
        assert client.list_data_fields() is not None
        assert client.breaker.state is BreakerState.CLOSED


def test_failing_discovery_is_not_repeated_per_call(sandbox: Any) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = DotdigitalClient(
        "apiuser-x@apiconnector.com",
        "secret",
        base_url=closed,
        limiter=InProcessRateLimiter(),
        retry_policy=RetryPolicy(max_retries=5, **FAST_RETRY),
    )
    with client:
        for _ in range(30):  # e.g. 30 queued rows, each needing the endpoint
            with pytest.raises(PlatformConnectionError) as held:  # the first calls' own failures, then held
                client.list_data_fields()
        assert isinstance(held.value, CircuitOpenError)
        # discovery tried up to the threshold in all, not 1 + 5 retries per row (180 calls)
        assert client.stats.calls == THRESHOLD
        assert client.stats.by_operation == {"account.info": THRESHOLD}
        assert held.value.cause == "refused"
        assert "connection was refused" in str(held.value) and "status page" not in str(held.value)


def test_a_5xx_is_not_reported_as_unreachable(sandbox: Any) -> None:
    user, password = new_account(sandbox)
    with DotdigitalClient(
        user, password, base_url=sandbox.url, retry_policy=RetryPolicy(max_retries=0)
    ) as client:
        client.list_data_fields()
        sandbox.set_faults(fail_next=1)
        with pytest.raises(ServerError) as failed:
            client.list_data_fields()
    assert failed.value.unreachable is None and client.breaker.cause == "server_error"

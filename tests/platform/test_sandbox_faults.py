"""Sandbox fault injection over real HTTP: 5xx, 429 with rate-limit headers, latency, timeouts, flat cap."""

from __future__ import annotations

import time

import httpx
import pytest

from dotsync.platform.sandbox.control import SandboxError


def test_fail_next_and_error_rate_answer_5xx_in_the_platform_format(sandbox_client, sandbox):
    sandbox.set_faults(fail_next=2, error_status=502)
    statuses = [sandbox_client.get("/v2/account-info").status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    sandbox.set_faults(error_rate=1.0)
    failed = sandbox_client.get("/v2/data-fields")
    assert failed.status_code == 502
    assert failed.json()["message"].endswith("ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE")
    v3 = sandbox_client.get("/insightData/v3/import/8d6e0f0e-2a5b-4a43-9d7e-000000000000")
    assert v3.status_code == 502 and "errorCode" in v3.json()
    sandbox.set_faults(error_rate=0.5, seed=7)
    first = [sandbox_client.get("/v2/account-info").status_code for _ in range(20)]
    sandbox.set_faults(seed=7)
    second = [sandbox_client.get("/v2/account-info").status_code for _ in range(20)]
    assert first == second and 200 in first and 502 in first
    assert sandbox.requests()["by_status"]["502"] >= 4


def test_rate_limit_answers_429_with_headers(sandbox_client, sandbox):
    sandbox.set_faults(rate_limit_per_minute=3)
    statuses = [sandbox_client.get("/v2/account-info").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = sandbox_client.get("/v2/account-info")
    assert limited.status_code == 429
    assert limited.headers["x-ratelimit-limit"] == "3"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-scope"] == "lowCallRate"
    assert 1 <= int(limited.headers["x-ratelimit-reset"]) <= 60
    assert limited.headers["retry-after"] == limited.headers["x-ratelimit-reset"]
    # the limit is per account
    sandbox.create_account("apiuser-2@apiconnector.com", "pw")
    with httpx.Client(base_url=sandbox.url, auth=("apiuser-2@apiconnector.com", "pw")) as other:
        assert other.get("/v2/account-info").status_code == 200
    sandbox.set_faults(rate_limit_reset_epoch=True, retry_after_header=False)
    epoch = sandbox_client.get("/v2/account-info")
    assert int(epoch.headers["x-ratelimit-reset"]) > time.time() and "retry-after" not in epoch.headers
    # /sandbox/ is never limited
    assert sandbox.state()["requests"]["total"] > 0


def test_hourly_flat_cap(sandbox_client, sandbox):
    sandbox.set_faults(hourly_call_limit=2)
    assert [sandbox_client.get("/v2/account-info").status_code for _ in range(2)] == [200, 200]
    capped = sandbox_client.get("/v2/account-info")
    assert capped.status_code == 400 and capped.json()["message"].endswith("ERROR_APIUSAGE_EXCEEDED")


def test_latency_and_path_filter(sandbox_client, sandbox):
    sandbox.set_faults(latency_ms=150)
    started = time.perf_counter()
    sandbox_client.get("/v2/account-info")
    assert time.perf_counter() - started >= 0.15
    sandbox.set_faults(latency_ms=0, fail_next=1, paths=["/insightData/"])
    assert sandbox_client.get("/v2/account-info").status_code == 200
    assert (
        sandbox_client.get("/insightData/v3/import/8d6e0f0e-2a5b-4a43-9d7e-000000000000").status_code == 503
    )


def test_timeouts_hang_then_answer_504(sandbox, sandbox_account):
    sandbox.set_faults(timeout_next=1, timeout_seconds=1.0)
    with httpx.Client(base_url=sandbox.url, auth=sandbox_account, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/v2/account-info")
        assert client.get("/v2/account-info").status_code == 200
    sandbox.set_faults(timeout_next=1, timeout_seconds=0.1)
    with httpx.Client(base_url=sandbox.url, auth=sandbox_account, timeout=5) as client:
        hung = client.get("/v2/account-info")
    assert hung.status_code == 504 and hung.json()["message"].endswith("ERROR_TIMEOUT")


def test_knobs_are_validated_and_reset(sandbox):
    with pytest.raises(SandboxError, match="unknown fault knob"):
        sandbox.set_faults(error_rat=0.5)
    with pytest.raises(SandboxError, match="between 0 and 1"):
        sandbox.set_faults(error_rate=2)
    assert sandbox.set_faults(latency_ms=5)["latency_ms"] == 5
    assert sandbox.set_faults(reset=True)["latency_ms"] == 0

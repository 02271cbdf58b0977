"""Error parsing and the status -> action policy table (pure functions: no HTTP involved)."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from dotsync import exceptions as exc
from dotsync.platform.dotdigital import policy
from dotsync.platform.dotdigital.errors import parse_error_body, parse_error_code, retry_after_seconds
from dotsync.platform.dotdigital.policy import Action, rule_for_exception, rule_for_response
from dotsync.platform.dotdigital.transport import RetryPolicy


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Contact is suppressed. ERROR_CONTACT_SUPPRESSED", "ERROR_CONTACT_SUPPRESSED"),
        ("Error: ERROR_CONTACT_NOT_FOUND", "ERROR_CONTACT_NOT_FOUND"),
        ("Error: ERROR_ENROLMENT_ALLOWANCE_EXCEEDED ", "ERROR_ENROLMENT_ALLOWANCE_EXCEEDED"),
        (
            "Name in use. ERROR_ADDRESSBOOK_DUPLICATE",
            "ERROR_ADDRESSBOOK_DUPLICATE",
        ),
        ("Authorization has been denied for this request.", None),
        ("", None),
        (None, None),
    ],
)
def test_error_codes_are_parsed_from_both_message_styles(text: str | None, code: str | None) -> None:
    assert parse_error_code(text) == code


def _response(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(
        status, request=httpx.Request("GET", "https://r1-api.dotdigital.com/v2/x"), **kwargs
    )  # type: ignore[arg-type]


def test_v2_v3_and_problem_bodies_are_read() -> None:
    v2 = parse_error_body(_response(400, json={"message": "Error: ERROR_PROGRAM_NOT_ACTIVE"}))
    assert (v2.code, v2.message) == ("ERROR_PROGRAM_NOT_ACTIVE", "Error: ERROR_PROGRAM_NOT_ACTIVE")
    v3 = parse_error_body(
        _response(429, json={"errorCode": "contacts:tooManyActiveImports", "description": "Too many imports"})
    )
    assert (v3.code, v3.message) == ("contacts:tooManyActiveImports", "Too many imports")
    problem = parse_error_body(_response(409, json={"title": "Conflict", "status": 409}))
    assert problem.message == "Conflict"
    plain = parse_error_body(_response(502, text="<html>Bad gateway</html>"))
    assert plain.code is None and "Bad gateway" in plain.message
    long = parse_error_body(_response(400, json={"message": "x" * 5000}))
    assert len(long.message) == 300


def test_retry_after_reads_seconds_dates_and_both_reset_units() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds(_response(429, headers={"Retry-After": "7"}), now=now) == 7
    http_date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(_response(429, headers={"Retry-After": http_date}), now=now) == pytest.approx(
        30
    )
    assert retry_after_seconds(_response(429, headers={"x-ratelimit-reset": "12"}), now=now) == 12
    epoch = str(int(now + 40))
    assert retry_after_seconds(_response(429, headers={"x-ratelimit-reset": epoch}), now=now) == 40
    # Retry-After wins over x-ratelimit-reset.
    both = _response(429, headers={"Retry-After": "2", "x-ratelimit-reset": "50"})
    assert retry_after_seconds(both, now=now) == 2
    assert retry_after_seconds(_response(429), now=now) is None
    assert retry_after_seconds(_response(429, headers={"Retry-After": "-3"}), now=now) == 0


@pytest.mark.parametrize(
    ("status", "code", "error", "action"),
    [
        (429, None, exc.RateLimitedError, Action.RATE_LIMITED),
        (500, None, exc.ServerError, Action.RETRY),
        (503, None, exc.ServerError, Action.RETRY),
        (599, None, exc.ServerError, Action.RETRY),
        (400, "ERROR_IMPORT_TOOMANYACTIVEIMPORTS", exc.TooManyActiveImportsError, Action.DEFER),
        (429, "contacts:tooManyActiveImports", exc.TooManyActiveImportsError, Action.DEFER),
        (429, "insightData:tooManyActiveImports", exc.TooManyActiveImportsError, Action.DEFER),
        (400, "ERROR_APIUSAGE_EXCEEDED", exc.RateLimitedError, Action.RATE_LIMITED),
        (400, "ERROR_CONTACT_SUPPRESSED", exc.ValidationError, Action.FAIL),
        (400, "ERROR_CONTACT_NOT_FOUND", exc.NotFoundError, Action.FAIL),
        (401, None, exc.AuthenticationError, Action.FAIL),
        (403, None, exc.AuthenticationError, Action.FAIL),
        (404, None, exc.NotFoundError, Action.FAIL),
        (409, None, exc.ValidationError, Action.FAIL),
        (413, None, exc.PayloadTooLargeError, Action.FAIL),
        (422, "ERROR_PROGRAM_NOT_ACTIVE", exc.ValidationError, Action.FAIL),
        (418, None, exc.ValidationError, Action.FAIL),
    ],
)
def test_policy_table(status: int, code: str | None, error: type[Exception], action: Action) -> None:
    rule = rule_for_response(status, code)
    assert rule.error is error
    assert rule.action is action
    assert rule.error.transient is (action is not Action.FAIL)


def test_every_rule_is_consistent_with_the_exception_tree() -> None:
    rules = [
        *policy.STATUS_RULES.values(),
        *policy.ERROR_CODE_RULES.values(),
        *policy.EXCEPTION_RULES.values(),
        policy.SERVER_FALLBACK,
        policy.CLIENT_FALLBACK,
    ]
    for rule in rules:
        assert issubclass(rule.error, exc.PlatformError)
        # Retry actions raise transient errors; FAIL raises terminal ones.
        assert rule.error.transient is (rule.action is not Action.FAIL), rule
        assert rule.hint
        # Only transient failures may ever be retried for non-idempotent calls.
        assert not (rule.retry_unsafe and rule.action is Action.FAIL), rule


@pytest.mark.parametrize(
    ("error", "expected", "unsafe_ok"),
    [
        (httpx.ConnectError("refused"), exc.PlatformConnectionError, True),
        (httpx.ConnectTimeout("slow connect"), exc.PlatformTimeout, True),
        (httpx.ReadTimeout("slow answer"), exc.PlatformTimeout, False),
        (httpx.RemoteProtocolError("reset"), exc.PlatformConnectionError, False),
        (ValueError("not a transport error"), None, None),
    ],
)
def test_transport_exceptions_follow_the_table(
    error: Exception, expected: type | None, unsafe_ok: bool
) -> None:
    rule = rule_for_exception(error)
    if expected is None:
        assert rule is None
        return
    assert rule is not None
    assert rule.error is expected
    assert rule.retry_unsafe is unsafe_ok


def test_retry_policy_decisions_and_full_jitter_bounds() -> None:
    retry = RetryPolicy(max_retries=3, base_delay=1.0, max_delay=5.0)
    busy, read_timeout, bad = (
        rule_for_response(503, None),
        rule_for_exception(httpx.ReadTimeout("x")),
        rule_for_response(400, None),
    )
    assert read_timeout is not None
    assert retry.may_retry(busy, 0, idempotent=False)  # 503: the platform refused before acting
    assert not retry.may_retry(read_timeout, 0, idempotent=False)  # it may have acted
    assert retry.may_retry(read_timeout, 2, idempotent=True)
    assert not retry.may_retry(read_timeout, 3, idempotent=True)  # cap reached
    assert not retry.may_retry(bad, 0, idempotent=True)  # terminal: never
    for attempt in range(8):
        delays = [retry.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= min(5.0, 2**attempt) for d in delays)
    assert max(retry.backoff(6) for _ in range(200)) > 2.5  # jitter spans the capped range
    assert 3.0 <= retry.rate_limit_wait(3.0) <= 3.25

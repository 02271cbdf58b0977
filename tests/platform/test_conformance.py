"""The spec checker itself: it must catch mismatches, tolerate only listed disagreements, and count."""

from __future__ import annotations

import json

import httpx
import pytest

from dotsync.testing.conformance import TOLERATED, Conformance, SpecViolation


@pytest.fixture
def checker(conformance: Conformance) -> Conformance:
    return Conformance(conformance.specs, raise_on_violation=False)


def pair(method: str, path: str, status: int, body=None, request_json=None, headers=None) -> httpx.Response:
    request = httpx.Request(method, f"https://r1-api.dotdigital.com{path}", json=request_json)
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(
        status, content=content, headers=headers or {"content-type": "application/json"}, request=request
    )


def test_a_conforming_pair_passes_and_is_counted(checker):
    response = pair(
        "GET", "/v2/contacts/42", 200, {"id": 42, "email": "a@example.com", "status": "Subscribed"}
    )
    assert checker.validate_request(response.request) == []
    assert checker.validate_response(response) == []
    summary = checker.summary()
    assert summary["by_operation"]["GET /v2/contacts/{id}"] == 1
    assert "GET /v2/contacts/{email}" not in summary["by_operation"]


def test_wrong_bodies_statuses_and_enums_are_caught(checker):
    missing_email = pair("GET", "/v2/contacts/42", 200, {"id": 42, "status": "Subscribed"})
    assert any(
        "'email' is a required property" in f.message for f in checker.validate_response(missing_email)
    )
    bad_enum = pair("GET", "/v2/contacts/42", 200, {"id": 42, "email": "a@b.co", "status": "UnSubscribed"})
    assert any("UnSubscribed" in f.message for f in checker.validate_response(bad_enum))
    wrong_status = pair(
        "POST", "/v2/contacts", 200, {"id": 1, "email": "a@b.co"}, request_json={"email": "a@b.co"}
    )
    assert any(f.kind == "response-status" for f in checker.validate_response(wrong_status))
    bad_error = pair("GET", "/v2/contacts/42", 404, {"error": "nope"})
    assert any("message" in f.message for f in checker.validate_response(bad_error))


def test_requests_are_checked_too(checker):
    pascal = pair("POST", "/v2/contacts", 201, None, request_json={"Email": "a@b.co", "EmailType": "Html"})
    findings = checker.validate_request(pascal.request)
    assert any("'email' is a required property" in f.message for f in findings)
    unknown = httpx.Request("GET", "https://r1-api.dotdigital.com/v2/nowhere")
    assert [f.kind for f in checker.validate_request(unknown)] == ["operation"]
    bad_select = httpx.Request("GET", "https://r1-api.dotdigital.com/v2/programs?select=many")
    assert any(f.kind == "request-parameter" for f in checker.validate_request(bad_select))


def test_listed_disagreements_are_tolerated_and_counted(checker):
    send = pair(
        "POST",
        "/v2/campaigns/send",
        202,
        {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "campaignId": 1},
        request_json={"campaignId": 1, "contactIds": [1]},
    )
    assert checker.validate_response(send) == []
    assert any("campaigns/send" in key for key in checker.summary()["tolerated"])
    assert all(t.reason for t in TOLERATED)


def test_check_raises_a_clear_error(conformance):
    response = pair("GET", "/v2/address-books/1", 200, {"id": "one"})
    with pytest.raises(SpecViolation, match=r"GET /v2/address-books/\{id\} response-body"):
        Conformance(conformance.specs).check(response)

"""Sandbox over real HTTP: campaigns and sends, programs and enrolments, SMS."""

from __future__ import annotations

import csv
import io
import time

USER = "apiuser-test@apiconnector.com"


def make_contacts(client, n: int, prefix: str = "c") -> list[int]:
    return [
        client.post("/v2/contacts", json={"email": f"{prefix}{i}@example.com"}).json()["id"] for i in range(n)
    ]


def test_seeded_campaigns_and_a_send_that_progresses(sandbox_client, sandbox, sandbox_raw_client):
    sandbox.set_faults(import_delay=0.3)
    campaigns = sandbox_client.get("/v2/campaigns", params={"select": 1000, "skip": 0}).json()
    assert len(campaigns) >= 3
    ids = make_contacts(sandbox_client, 3)
    sandbox.suppress("c2@example.com", account=USER)
    send = sandbox_client.post(
        "/v2/campaigns/send", json={"campaignId": campaigns[0]["id"], "contactIds": ids}
    )
    assert send.status_code == 202
    send_id = send.json()["id"]
    assert send.json()["status"] == "Sending"
    deadline = time.monotonic() + 5
    while sandbox_client.get(f"/v2/campaigns/send/{send_id}").json()["status"] != "Sent":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    recorded = sandbox.account(USER)["campaign_sends"]
    assert recorded[0]["recipients"] == ["c0@example.com", "c1@example.com"]
    missing = sandbox_client.post(
        "/v2/campaigns/send", json={"campaignId": campaigns[0]["id"], "contactIds": [999999]}
    )
    assert missing.status_code == 400
    assert missing.json()["message"] == (
        "One or more of the supplied contacts were not found. Send not permitted. ERROR_CONTACT_NOT_FOUND"
    )
    no_campaign = sandbox_raw_client.post(
        "/v2/campaigns/send", json={"campaignId": 424242, "contactIds": ids}
    )
    assert no_campaign.status_code == 404


def test_enrolments_caps_statuses_and_faults(sandbox_client, sandbox, sandbox_raw_client):
    sandbox.set_faults(import_delay=0.3)
    programs = sandbox_client.get("/v2/programs").json()
    active = next(p for p in programs if p["status"] == "Active")
    draft = next(p for p in programs if p["status"] == "Draft")
    assert sandbox_client.get(f"/v2/programs/{active['id']}").json()["name"] == active["name"]
    assert sandbox_client.get("/v2/programs/424242").json() == {"message": "Error: ERROR_PROGRAM_NOT_FOUND"}

    ids = make_contacts(sandbox_client, 26)
    too_many = sandbox_raw_client.post(
        "/v2/programs/enrolments", json={"programId": active["id"], "contacts": ids}
    )
    assert too_many.status_code == 400 and "ERROR_CONTACT_TOOMANY" in too_many.json()["message"]
    not_active = sandbox_client.post(
        "/v2/programs/enrolments", json={"programId": draft["id"], "contacts": ids[:2]}
    )
    assert not_active.status_code == 422 and not_active.json() == {
        "message": "Error: ERROR_PROGRAM_NOT_ACTIVE"
    }

    first = sandbox_client.post(
        "/v2/programs/enrolments", json={"programId": active["id"], "contacts": ids[:2]}
    )
    assert first.status_code == 201
    sandbox.suppress("c2@example.com", account=USER)
    second = sandbox_client.post(
        "/v2/programs/enrolments", json={"programId": active["id"], "contacts": ids[1:4]}
    )
    enrolment_id = second.json()["id"]
    assert second.json()["status"] == "Processing"
    processing = sandbox_client.get(f"/v2/programs/enrolments/{enrolment_id}/report-faults")
    assert processing.status_code == 400
    assert processing.json() == {"message": "Error: ERROR_ENROLMENT_IS_PROCESSING"}
    time.sleep(0.35)
    assert sandbox_client.get(f"/v2/programs/enrolments/{enrolment_id}").json()["status"] == "Finished"
    faults = sandbox_client.get(f"/v2/programs/enrolments/{enrolment_id}/report-faults")
    rows = list(csv.reader(io.StringIO(faults.text)))
    assert rows[0] == ["Id", "Email", "TelephoneNumber", "Reason"]
    assert {(r[1], r[3]) for r in rows[1:]} == {
        ("c1@example.com", "AlreadyInProgram"),
        ("c2@example.com", "Unsubcribed"),
    }
    enrolled = [e["enrolled"] for e in sandbox.account(USER)["enrolments"]]
    assert enrolled == [["c0@example.com", "c1@example.com"], ["c3@example.com"]]
    finished = sandbox_client.get("/v2/programs/enrolments/Finished").json()
    assert {e["id"] for e in finished} == {first.json()["id"], enrolment_id}


def test_enrolment_calls_per_hour(sandbox_client, sandbox):
    sandbox.set_faults(enrolments_per_hour=2)
    program = next(p for p in sandbox_client.get("/v2/programs").json() if p["status"] == "Active")
    ids = make_contacts(sandbox_client, 3)
    for contact_id in ids[:2]:
        assert (
            sandbox_client.post(
                "/v2/programs/enrolments", json={"programId": program["id"], "contacts": [contact_id]}
            ).status_code
            == 201
        )
    capped = sandbox_client.post(
        "/v2/programs/enrolments", json={"programId": program["id"], "contacts": [ids[2]]}
    )
    assert capped.status_code == 400 and capped.json() == {
        "message": "Error: ERROR_ENROLMENT_ALLOWANCE_EXCEEDED"
    }


def test_sms_sends_are_recorded(sandbox_client, sandbox, sandbox_raw_client):
    assert (
        sandbox_client.post(
            "/v2/sms-messages/send-to/+447700900123", json={"message": "Your order shipped"}
        ).status_code
        == 204
    )
    bad = sandbox_raw_client.post("/v2/sms-messages/send-to/not-a-number", json={"message": "x"})
    assert bad.status_code == 400 and bad.json()["message"].endswith("ERROR_SMS_INVALIDPHONENUMBER")
    assert sandbox.account(USER)["sms"] == [
        {
            "telephone": "+447700900123",
            "message": "Your order shipped",
            "sent": sandbox.account(USER)["sms"][0]["sent"],
        }
    ]

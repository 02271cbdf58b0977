"""Sandbox over real HTTP: each campaign send is recorded per contact, and the per-contact send report
(``GET /v2/campaigns/{campaignId}/activities/{contactId}``) answers once the send is ``Sent``."""

from __future__ import annotations

import time

from tests.platform.test_sandbox_campaigns_programs import USER, make_contacts


def test_deliveries_are_recorded_per_contact_and_reported_once_sent(sandbox_client, sandbox):
    sandbox.set_faults(import_delay=0.3)
    campaign_id = sandbox_client.get("/v2/campaigns").json()[0]["id"]
    ids = make_contacts(sandbox_client, 3, prefix="act")
    sandbox.suppress("act2@example.com", account=USER)
    before = sandbox_client.get(f"/v2/campaigns/{campaign_id}/activities/{ids[0]}")
    assert before.status_code == 404

    send = sandbox_client.post("/v2/campaigns/send", json={"campaignId": campaign_id, "contactIds": ids})
    assert send.status_code == 202
    sending = sandbox_client.get(f"/v2/campaigns/{campaign_id}/activities/{ids[0]}")
    assert sending.status_code == 404  # the report shows a send once it is Sent
    time.sleep(0.35)  # the sandbox's own processing delay (real seconds, not the shop's clock)
    report = sandbox_client.get(f"/v2/campaigns/{campaign_id}/activities/{ids[0]}")
    assert report.status_code == 200
    assert report.json()["email"] == "act0@example.com" and report.json()["dateSent"]
    # the suppressed contact was skipped when the send was accepted: no delivery, no report
    assert sandbox_client.get(f"/v2/campaigns/{campaign_id}/activities/{ids[2]}").status_code == 404
    state = sandbox.account(USER)
    assert state["campaign_sends"][0]["recipients"] == ["act0@example.com", "act1@example.com"]
    assert sandbox.deliveries(USER) == {
        (campaign_id, "act0@example.com"): 1,
        (campaign_id, "act1@example.com"): 1,
    }


def test_activity_of_an_unknown_campaign_or_contact_is_a_named_404(sandbox_client):
    ids = make_contacts(sandbox_client, 1, prefix="unk")
    campaign_id = sandbox_client.get("/v2/campaigns").json()[0]["id"]
    no_campaign = sandbox_client.get(f"/v2/campaigns/424242/activities/{ids[0]}")
    assert no_campaign.status_code == 404 and "ERROR_CAMPAIGN_NOT_FOUND" in no_campaign.json()["message"]
    no_contact = sandbox_client.get(f"/v2/campaigns/{campaign_id}/activities/999999")
    assert no_contact.status_code == 404 and "ERROR_CONTACT_NOT_FOUND" in no_contact.json()["message"]

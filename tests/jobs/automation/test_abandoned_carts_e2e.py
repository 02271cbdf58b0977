"""The abandoned-cart series end to end: an Oscar basket, the observers, ``sync all`` (every job, the
importer, the ``campaigns`` job) and the sandbox over real HTTP. The clock moves with time-machine
(ticking; the sandbox runs in this process, so it moves too).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from dotsync import links
from dotsync.jobs.automap import automap
from dotsync.jobs.runner import sync_all
from dotsync.models import Campaign, StoreConfig
from dotsync.models.automation import CampaignSendStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.shop import make_basket, make_customer, make_product

pytestmark = pytest.mark.django_db


def run_sync() -> None:
    summary = sync_all(timeout=60)
    assert summary["drained"] and not summary["errors"], summary


def test_a_basket_left_alone_gets_its_cart_insight_data_fields_and_one_send(
    scope, sandbox, django_capture_on_commit_callbacks
):
    sandbox.set_faults(import_delay=0)
    account = configure_websites(sandbox, [scope.main])["main"]
    automap()
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        campaign = int(client.list_campaigns()[0]["id"])
    StoreConfig.objects.create(
        store=scope.main_en,
        overrides={
            "ac_customers_enabled_1": True,
            "ac_customers_campaign_1": campaign,
            "ac_allow_non_subscribers": True,
        },
    )
    with time_machine.travel(timezone.now(), tick=True) as clock:
        carol = make_customer("carol@example.com", "Carol", "Cook")
        with django_capture_on_commit_callbacks(execute=True):
            basket = make_basket(carol, [(make_product("Shirt", "19.99"), 1)], scope.main_en)
        run_sync()
        clock.shift(timedelta(minutes=16))
        run_sync()
        run_sync()  # again at once: nothing new
        state = sandbox.account(account.username)
        records = {r["key"]: r for r in state["insight"]["CartInsight"]["records"]}
        cart = records[str(basket.pk)]["json"]
        assert cart["cartUrl"].startswith("https://main.example.com/dotsync/cart/main/")  # restore link
        assert links.read_token(cart["cartUrl"].split("/")[-2], 3600) == basket.pk
        assert cart["cartPhase"] == "ORDER_PENDING"
        fields = sandbox.contacts(account.username)["carol@example.com"]["data_fields"]
        assert str(fields["LAST_QUOTE_ID"]) == str(basket.pk)
        assert fields["ABANDONED_PROD_NAME"] == "Shirt"
        assert sandbox.deliveries(account.username) == {(campaign, "carol@example.com"): 1}
        [row] = Campaign.objects.all()
        assert (row.step, row.send_status) == (1, CampaignSendStatus.SENT)

"""The job registry, the Job declarations and the run context (accounts resolved once per run)."""

from __future__ import annotations

import pytest

from dotsync import accounts, config, crypto
from dotsync.accounts import RunContext
from dotsync.config import get_config
from dotsync.jobs import registry, runner
from dotsync.jobs.base import JobScope
from dotsync.jobs.importer import ImporterJob
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.batch_helpers import enable
from tests.jobs.importer_helpers import contact_batch, contacts

pytestmark = pytest.mark.django_db


def test_the_registry_is_the_list_of_jobs_and_their_defaults_are_the_settings_defaults():
    ids = [job.id for job in registry.ALL]
    assert ids[:5] == ["contacts", "orders", "reviews_and_wishlists", "catalog", "importer"]
    assert "campaigns" in ids  # issue 11: the automation jobs
    assert {"unsubscriber", "resubscriber", "cleaner"} <= set(ids)
    assert registry.JOBS["unsubscriber"].scope is registry.JOBS["resubscriber"].scope is JobScope.ACCOUNT
    assert registry.DEFAULT_JOB_FREQUENCIES["cleaner"] == 60 * 24 * 30  # monthly
    assert list(registry.JOBS) == ids
    # `sync all` runs every registered job, each after the jobs its `after` declares
    order = [job.id for job in registry.sync_order()]
    assert sorted(order) == sorted(ids)
    for job in registry.ALL:
        assert all(order.index(dep) < order.index(job.id) for dep in job.after if dep in ids), job.id
    at = order.index
    assert at("unsubscriber") < at("orders") and at("resubscriber") < at("abandoned_carts")  # feeds first
    assert max(at(j) for j in ("orders", "reviews_and_wishlists", "abandoned_carts")) < at("contacts")
    assert at("contacts") < at("importer") < at("campaigns") < at("cleaner") < at("monitor")
    before, after = registry.split_at_importer()
    assert (
        [job.id for job in registry.batching_jobs()] == [job.id for job in before] == order[: at("importer")]
    )
    assert [job.id for job in after] == [
        "campaigns",
        "sms",
        "automation",
        "cleaner",
        "pending_contacts",
        "monitor",
    ]
    assert isinstance(registry.JOBS["importer"], ImporterJob)
    assert registry.JOBS["importer"].scope is JobScope.ACCOUNT
    # the settings layer cannot import the jobs: its table must agree with their declarations
    assert {
        key: config.DEFAULT_JOB_FREQUENCIES[key] for key in registry.DEFAULT_JOB_FREQUENCIES
    } == registry.DEFAULT_JOB_FREQUENCIES
    assert set(config.DEFAULT_JOB_FREQUENCIES) == set(ids) | set(config.RESERVED_JOB_FREQUENCIES)
    locks = {job.lock_key() for job in registry.ALL}
    assert len(locks) == len(ids)
    assert registry.JOBS["orders"].lock_key("main") == "dotsync:job:orders:main"


def test_sync_order_refuses_a_cycle_and_ignores_a_job_not_registered(monkeypatch):
    import dataclasses

    jobs = list(registry.ALL)
    i = next(n for n, job in enumerate(jobs) if job.id == "unsubscriber")
    jobs[i] = dataclasses.replace(jobs[i], after=("contacts", "automation_not_built_yet"))
    monkeypatch.setattr(registry, "ALL", tuple(jobs))
    with pytest.raises(ValueError, match="cycle"):
        registry.sync_order()  # contacts runs after the unsubscriber, which would run after contacts
    jobs[i] = dataclasses.replace(jobs[i], after=("automation_not_built_yet",))
    monkeypatch.setattr(registry, "ALL", tuple(jobs))
    assert [job.id for job in registry.sync_order()][:2] == ["catalog", "unsubscriber"]


def test_a_job_frequency_comes_from_the_website_settings_else_the_job(scope):
    enable(scope.main, job_frequencies={"orders": 30})
    cfg = get_config(scope.main)
    assert registry.JOBS["orders"].frequency(cfg) == 30
    assert registry.JOBS["importer"].frequency(cfg) == 5


def test_websites_sharing_an_api_user_are_one_account_with_agreed_settings(scope):
    shared = "shared@apiconnector.com"
    enable(scope.main, api_user=shared, extra={"max_active_imports": 8, "timeout": 30, "max_retries": 4})
    enable(scope.outlet, api_user=shared, extra={"max_active_imports": 3, "timeout": 60, "max_retries": 2})

    ctx = RunContext.resolve()

    assert [w.code for w in ctx.websites] == ["main", "outlet"] and not ctx.problems
    (account,) = ctx.accounts
    assert account.codes == "main, outlet"
    assert account.website_ids == [scope.main.pk, scope.outlet.pk]
    # account-level settings are agreed over its websites, not taken from the first one
    assert (account.import_cap, account.timeout, account.max_retries) == (3, 30.0, 2)
    assert ctx.account_of(scope.outlet.pk) is account
    assert all(w.account is account for w in ctx.websites)
    assert str(account.key) == "https://r1-api.dotdigital.com|shared@apiconnector.com"  # the limiter key
    client = account.client()
    assert client.account_key == str(account.key)
    assert account.client() is client and account.cached_client() is client
    accounts.reset_clients()


def test_a_website_with_problems_is_reported_and_left_out_of_the_accounts(scope):
    enable(scope.main)
    row = enable(scope.outlet, sync_catalog=False)
    row.api_user = ""
    row.save()

    ctx = RunContext.resolve()

    assert [w.code for w in ctx.enabled] == ["main", "outlet"]
    assert [w.code for w in ctx.websites] == ["main"]
    assert any("outlet" in p and "API user" in p for p in ctx.problems)
    assert [a.codes for a in ctx.accounts] == ["main"]
    assert [w.code for w in ctx.websites_where("sync_catalog")] == ["main"]
    with pytest.raises(LookupError):
        ctx.account_of(scope.outlet.pk)
    assert RunContext.resolve("outlet").accounts == []


@pytest.mark.parametrize("batch", [False, True])
def test_sync_all_reads_settings_and_decrypts_passwords_once_per_run(scope, sandbox, monkeypatch, batch):
    configure_websites(sandbox, scope.websites, shared_account=True, max_active_imports=1)
    for i in range(3):  # one import at a time: several importer rounds
        contact_batch(scope.main, contacts(scope.main, [f"a{i}@example.com"]))
        contact_batch(scope.outlet, contacts(scope.outlet, [f"b{i}@example.com"]))
    decrypted = []
    real = crypto.decrypt

    def counting(token: str) -> str:  # a spy: the real decryption runs
        decrypted.append(token)
        return real(token)

    monkeypatch.setattr(crypto, "decrypt", counting)  # WebsiteConfig.get_api_password imports it at call

    summary = runner.sync_all(batch=batch, sleep=lambda _s: None)

    assert summary["drained"] and summary["rounds"] > 1
    assert len(decrypted) == 2  # one per website, for the whole run
    accounts.reset_clients()

"""Model-based: store changes interleaved with partial runs, crashes and platform faults (issue 8 §1).

A hypothesis state machine drives the Oscar shop through its real flows (subscribe, unsubscribe,
delete a subscription, register, edit and delete a customer, place, advance, refund and cancel an
order) and, between them, ``sync all`` runs that stop early (bounded rounds or a short timeout),
runs abandoned at a crash point, and sandbox faults (unfinished imports, 5xx storms). After a final
drain the platform must equal the store, record by record and status by status:

* a subscriber of the pool is in the subscribers address book exactly when subscribed in the store,
  and is not on the platform at all once its subscription is deleted (a subscriber-only contact);
* a customer of the pool is a contact with the store's last name, and gone once deleted;
* an order of the pool is in ``Orders`` with the store's status exactly when that status is synced.

Crashes: in this process a run is abandoned by raising :class:`Crash` (a ``BaseException``, so no
``except Exception`` in dotsync swallows it) at a crash point of :mod:`dotsync.testing.crash`; what
was committed stays committed, as after a SIGKILL. Claims of the abandoned run and retry backoffs
are released by moving the clock (time-machine) before the final drain, never by sleeping. The
SIGKILL variant in a subprocess is bench/soak.py.

CI runs a few bounded examples; ``DOTSYNC_SOAK_EXAMPLES=N`` (``make soak``) runs N.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from dotsync.install.backfill import backfill
from dotsync.jobs.automap import automap
from dotsync.jobs.runner import sync_all
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus
from dotsync.models.newsletter import NewsletterSubscriber, SubscriberStatus
from dotsync.testing import crash
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.shop import make_customer, place_order, set_order_status, subscribe
from tests.e2e.platform_view import view
from tests.e2e.test_order_lifecycle import _refund

pytestmark = pytest.mark.django_db(transaction=False)

SYNC_POINTS = [p for p in crash.POINTS if not p.startswith("campaign_")]
"""The crash points ``sync_all`` of this model can reach (the campaign sends have their own crash test)."""

SOAK = int(os.environ.get("DOTSYNC_SOAK_EXAMPLES", "0") or 0)
EXAMPLES = SOAK or 10
STEPS = 25 if SOAK else 15

SUBSCRIBERS = [f"sub{i}@example.com" for i in range(3)]
SYNCED = ("pending", "processing", "complete")
NEXT_STATUS = {"pending": "processing", "processing": "complete"}
CRASH_MODULES = ("dotsync.jobs.queue", "dotsync.jobs.importer.start", "dotsync.jobs.importer.poll")


class Crash(BaseException):
    """A run abandoned at a crash point (what is committed stays committed, nothing else runs)."""


class CrashAt:
    """Raise :class:`Crash` at the ``nth`` hit of crash point ``point`` (off when ``point`` is None)."""

    def __init__(self) -> None:
        self.point: str | None = None
        self.left = 0

    def __call__(self, name: str) -> None:
        if name != self.point:
            return
        self.left -= 1
        if self.left <= 0:
            self.point = None
            raise Crash(name)


def machine_for(shop: Any, sandbox: Any, crasher: CrashAt, clock: Any, commit: Any) -> type:
    """The state machine class bound to this test's shop, sandbox and clock.

    ``commit()`` runs the observers' on-commit callbacks on exit, as a live shop's commit does.
    """
    store = shop.scope.main_en

    class SyncUnderChange(RuleBasedStateMachine):
        """The shop, the sandbox and dotsync; the store is the model, the platform must follow it."""

        def __init__(self) -> None:
            super().__init__()
            # every example starts from the same shop and an empty platform, so examples replay
            # (and shrink) the same way: the shop's changes are rolled back in teardown
            self.savepoint = transaction.savepoint()
            crasher.point = None
            sandbox.reset()
            sandbox.set_faults(reset=True)
            self.account = configure_websites(sandbox, shop.scope.websites)["main"]
            automap()
            backfill()
            drain(clock)
            # a slow platform: an import needs two status polls, so short runs leave imports in flight
            sandbox.set_faults(import_delay=0, import_polls=2)
            self.n = 0
            self.subs: dict[str, int] = {}  # email -> subscriber status in the store (absent: none)
            self.customers: dict[str, Any] = {}  # email -> user (None once deleted)
            self.orders: list[Any] = []
            self.register()  # a buyer from the start: orders need one

        def live(self) -> list[str]:
            return sorted(e for e, u in self.customers.items() if u is not None)

        # --- store changes, through Oscar's flows; observers run on commit as in a live shop ---

        @rule(email=st.sampled_from(SUBSCRIBERS))
        def subscribe(self, email: str) -> None:
            with commit():
                subscribe(email, store)
            self.subs[email] = SubscriberStatus.SUBSCRIBED

        @precondition(lambda self: self.subs)
        @rule(data=st.data())
        def unsubscribe(self, data: st.DataObject) -> None:
            email = data.draw(st.sampled_from(sorted(self.subs)))
            with commit():
                subscribe(email, store, SubscriberStatus.UNSUBSCRIBED)
            self.subs[email] = SubscriberStatus.UNSUBSCRIBED

        @precondition(lambda self: self.subs)
        @rule(data=st.data())
        def delete_subscription(self, data: st.DataObject) -> None:
            email = data.draw(st.sampled_from(sorted(self.subs)))
            with commit():
                NewsletterSubscriber.objects.get(subscriber_email=email, store=store).delete()
            del self.subs[email]

        @precondition(lambda self: len(self.customers) < 3)
        @rule()
        def register(self) -> None:
            self.n += 1
            email = f"buyer{self.n}@example.com"
            with commit():
                self.customers[email] = make_customer(email, "Buyer", f"No{self.n}")

        @precondition(lambda self: self.live())
        @rule(data=st.data())
        def edit_customer(self, data: st.DataObject) -> None:
            user = self.customers[data.draw(st.sampled_from(self.live()))]
            with commit():
                user.last_name = f"Edited{data.draw(st.integers(0, 99))}"
                user.save()

        @precondition(lambda self: set(self.live()) - {o.email for o in self.orders})
        @rule(data=st.data())
        def delete_customer(self, data: st.DataObject) -> None:
            # customers with orders are kept: their orders stay in the store (and on the platform)
            email = data.draw(st.sampled_from(sorted(set(self.live()) - {o.email for o in self.orders})))
            with commit():
                self.customers[email].delete()
            self.customers[email] = None

        @precondition(lambda self: self.live())
        @rule(data=st.data())
        def place(self, data: st.DataObject) -> None:
            user = self.customers[data.draw(st.sampled_from(self.live()))]
            product = shop.products[data.draw(st.sampled_from(["shirt", "mug"]))]
            with commit():
                self.orders.append(place_order(user, [(product, 1)], store))

        @precondition(lambda self: any(o.status in NEXT_STATUS for o in self.orders))
        @rule(data=st.data())
        def advance(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from([o for o in self.orders if o.status in NEXT_STATUS]))
            with commit():
                set_order_status(order, NEXT_STATUS[order.status])

        @precondition(lambda self: any(o.status in ("pending", "processing") for o in self.orders))
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            open_ = [o for o in self.orders if o.status in ("pending", "processing")]
            order = data.draw(st.sampled_from(open_))
            with commit():
                set_order_status(order, "cancelled")

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def refund(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from(self.orders))
            with commit():
                _refund(order, Decimal("1.00"))

        # --- dotsync runs and platform behaviour ---

        @rule(rounds=st.integers(0, 2))
        def partial_run(self, rounds: int) -> None:
            sync_all(max_rounds=rounds, timeout=5)

        @rule(point=st.sampled_from(SYNC_POINTS), nth=st.integers(1, 3))
        def crashed_run(self, point: str, nth: int) -> None:
            crasher.point, crasher.left = point, nth
            with contextlib.suppress(Crash):
                sync_all(max_rounds=3, timeout=5)
            crasher.point = None

        @rule(polls=st.integers(0, 3), errors=st.sampled_from([0.0, 0.0, 0.2, 0.5]), seed=st.integers(0, 9))
        def platform_faults(self, polls: int, errors: float, seed: int) -> None:
            sandbox.set_faults(import_delay=0, import_polls=polls, error_rate=errors, seed=seed)

        @invariant()
        def no_duplicates(self) -> None:
            acc = view(sandbox, self.account)  # asserts no contact is stored twice
            for collection, records in acc.insight.items():
                assert acc.record_counts[collection] == len(records), f"a {collection} record stored twice"

        def teardown(self) -> None:
            crasher.point = None
            try:
                sandbox.set_faults(reset=True)
                drain(clock)
                self.check()
            finally:
                transaction.savepoint_rollback(self.savepoint)

        def check(self) -> None:
            acc = view(sandbox, self.account)
            subscribed = {
                s.subscriber_email: s.subscriber_status
                for s in NewsletterSubscriber.objects.filter(subscriber_email__in=SUBSCRIBERS, store=store)
            }
            assert subscribed == self.subs  # the store did what the model says
            for email in SUBSCRIBERS:
                status = subscribed.get(email)
                in_book = email in acc.books["subscribers"]
                if status is None:
                    assert email not in acc.contacts, f"{email}: subscription deleted, still on the platform"
                else:
                    assert in_book == (status == SubscriberStatus.SUBSCRIBED), (email, status, in_book)
            for email, user in self.customers.items():
                if user is None:
                    assert email not in acc.contacts, f"{email}: customer deleted, still on the platform"
                else:
                    user.refresh_from_db()
                    fields = acc.contacts[email]["data_fields"]
                    assert fields.get("LASTNAME") == user.last_name, (email, fields.get("LASTNAME"))
            orders = acc.insight.get("Orders", {})
            for order in self.orders:
                order.refresh_from_db()
                number = str(order.number)
                if order.status in SYNCED:
                    assert number in orders, f"order {number} ({order.status}) is not on the platform"
                    assert orders[number]["json"]["orderStatus"] == order.status, number
                else:
                    assert number not in orders, f"order {number} ({order.status}) is still on the platform"

    return SyncUnderChange


def drain(clock: Any) -> None:
    """Run ``sync all`` until the queue is empty, moving the clock past claims and backoffs."""
    for _ in range(6):
        clock.shift(timedelta(minutes=20))  # claims of abandoned runs go stale, backoffs come due
        summary = sync_all(timeout=30)
        live = Importer.objects.filter(import_status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING])
        if summary["drained"] and not live.exists():
            return
    raise AssertionError(f"the queue did not drain: {summary}")


def test_the_platform_follows_the_store_through_partial_runs_crashes_and_faults(
    shop, sandbox, django_capture_on_commit_callbacks, monkeypatch
):
    crasher = CrashAt()
    for module in CRASH_MODULES:
        monkeypatch.setattr(f"{module}.crashpoint", crasher)
    subscribe("zoe@example.com", shop.scope.main_fr)  # as tests/e2e/conftest.py's ``accounts``
    with time_machine.travel(timezone.now(), tick=True) as clock:
        machine = machine_for(
            shop,
            sandbox,
            crasher,
            clock,
            lambda: django_capture_on_commit_callbacks(execute=True),
        )
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=not SOAK,
                database=None,
            ),
        )

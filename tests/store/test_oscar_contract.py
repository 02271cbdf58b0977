"""The store-adapter contract, run against the django-oscar adapter on a real Oscar shop.

The expectations below are written out by hand from the shop's layout (see
``dotsync.testing.shop.Shop``), not computed with the adapter.
"""

from __future__ import annotations

from dotsync.models.newsletter import SubscriberStatus as S
from dotsync.store.oscar import OscarAdapter
from dotsync.testing.contract import ContractShop, StoreAdapterContract
from dotsync.testing.scope import Scope
from dotsync.testing.shop import build_shop


def oscar_contract_shop(scope: Scope) -> ContractShop:
    shop = build_shop(scope)
    main, outlet = scope.main.pk, scope.outlet.pk
    en, fr, out = scope.main_en.pk, scope.main_fr.pk, scope.outlet_en.pk
    c, o, b, w, r, s, p = (
        shop.customers,
        shop.orders,
        shop.baskets,
        shop.wishlists,
        shop.reviews,
        shop.subscribers,
        shop.products,
    )
    cid = {k: v.pk for k, v in c.items()}
    emails = {k: v.email for k, v in c.items()}

    def contact(store, customer=None, guest=False, subscriber=None):
        status, sub = (subscriber, subscriber == S.SUBSCRIBED) if subscriber else (None, False)
        return {
            "store_id": store,
            "customer_id": customer,
            "is_guest": guest,
            "is_subscriber": sub,
            "subscriber_status": status,
        }

    def scoped(store, website, **extra):
        return {"store_id": store, "website_id": website, **extra}

    history = {
        "email_contact": {
            # alice: last order in main_fr; subscribed in main_en wins over unconfirmed in main_fr
            ("alice@example.com", main): contact(fr, cid["alice"], subscriber=S.SUBSCRIBED),
            ("bob@example.com", outlet): contact(out, cid["bob"], subscriber=S.UNSUBSCRIBED),
            # no orders -> default website and store
            ("carol@example.com", main): contact(en, cid["carol"]),
            # last order on a site no store is bound to -> default
            ("dave@example.com", main): contact(en, cid["dave"]),
            ("guest@example.com", main): contact(en, guest=True),
            ("guest@example.com", outlet): contact(out, guest=True),
            ("gast@example.com", main): contact(fr, guest=True),
            ("erin@example.com", main): contact(en, subscriber=S.SUBSCRIBED),
            ("frank@example.com", outlet): contact(out, subscriber=S.SUBSCRIBED),
        },
        "email_order": {
            o["alice_en"].pk: scoped(en, main, email="alice@example.com", order_status="complete"),
            o["alice_fr"].pk: scoped(fr, main, email="alice@example.com", order_status="processing"),
            o["bob_outlet"].pk: scoped(out, outlet, email="bob@example.com", customer_id=cid["bob"]),
            o["guest_main"].pk: scoped(en, main, email="guest@example.com", customer_id=None),
            o["guest_outlet"].pk: scoped(out, outlet, email="guest@example.com"),
            o["guest_fr"].pk: scoped(fr, main, email="gast@example.com"),
            o["dave_storeless"].pk: scoped(en, main, email="dave@example.com"),
        },
        # owned baskets with lines: the submitted ones behind customer orders, and the open ones
        "email_quote": {
            o["alice_en"].basket_id: scoped(fr, main, is_active=False, item_count=2),
            o["alice_fr"].basket_id: scoped(fr, main, is_active=False),
            o["bob_outlet"].basket_id: scoped(out, outlet, is_active=False),
            o["dave_storeless"].basket_id: scoped(en, main),
            b["alice_open"].pk: scoped(fr, main, is_active=True, email="alice@example.com", item_count=1),
            b["bob_abandoned"].pk: scoped(out, outlet, is_active=True, item_count=1),
            b["carol_open"].pk: scoped(en, main, is_active=True, item_count=2),
        },
        "email_wishlist": {
            w["alice"].pk: scoped(fr, main, item_count=2, customer_id=cid["alice"]),
            w["carol"].pk: scoped(en, main, item_count=1),
            w["bob_empty"].pk: scoped(out, outlet, item_count=0),
        },
        # approved reviews only; anonymous -> default store
        "email_review": {
            r["alice_shirt"].pk: scoped(fr, main, customer_id=cid["alice"]),
            r["bob_mug"].pk: scoped(out, outlet),
            r["anon_shirt"].pk: scoped(en, main, customer_id=None),
        },
        "email_catalog": {product.pk: {} for product in p.values()},
    }
    all_baskets = {basket.pk: (basket.owner.email if basket.owner_id else "") for basket in b.values()}
    for order in o.values():
        all_baskets[order.basket_id] = order.user.email if order.user_id else ""
    return ContractShop(
        customers={cid[k]: emails[k] for k in c},
        subscribers={sub.pk: sub.subscriber_email for sub in s.values()},
        orders={order.pk: order.email for order in o.values()},
        quotes=all_baskets,
        wishlists={wl.pk: wl.owner.email for wl in w.values()},
        reviews={rv.pk: (rv.user.email if rv.user_id else rv.email) for rv in r.values()},
        products={product.pk: product.get_title() for product in p.values()},
        history=history,
        guests={main: {"guest@example.com": en, "gast@example.com": fr}, outlet: {"guest@example.com": out}},
        sites={scope.main_en.site_id: en, scope.main_fr.site_id: fr, o["dave_storeless"].site_id: None},
        website_stores={main: [en, fr], outlet: [out]},
    )


class TestOscarContract(StoreAdapterContract):
    def make_adapter(self):
        return OscarAdapter()

    def build_shop(self, scope):
        return oscar_contract_shop(scope)

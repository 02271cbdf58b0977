"""Build a real django-oscar shop for the demo and the tests, through Oscar's own code paths.

The demo seeds with these builders; :mod:`dotsync.testing.shop` re-exports them for the tests.

Every builder goes through the same code a live shop runs: products get stock records and
categories, orders are placed with Oscar's ``OrderCreator`` (offers and vouchers applied by
Oscar's ``Applicator``, status moved along ``OSCAR_ORDER_STATUS_PIPELINE`` with ``set_status``),
baskets are filled with ``Basket.add_product``, wishlists with ``WishList.add``. Builders that
Oscar would run inside a request (basket additions, reviews) can also send the matching Oscar
signal with a request for a store's site, so store-capturing observers see what they see live.

Models are resolved with :func:`oscar.core.loading.get_model`, so forked Oscar apps work too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from dotsync.demo.scope import Scope
from dotsync.jobs.consent import record_consent
from dotsync.models import NewsletterSubscriber, Store
from dotsync.models.newsletter import SubscriberStatus

ProductLike = Any
"""An Oscar ``catalogue.Product`` instance (Oscar's models are resolved at run time)."""

ProductLines = Sequence[ProductLike | tuple[ProductLike, int]]
"""Products to put in a basket or order: a product (quantity 1) or a ``(product, quantity)`` pair."""

DEFAULT_ADDRESS: dict[str, str] = {
    "line1": "1 King Road",
    "line4": "London",
    "state": "",
    "postcode": "SW1 9RE",
    "country": "GB",
    "phone_number": "+442071234567",
}
"""The address used when a builder is not given one."""

COUNTRIES: dict[str, str] = {"GB": "United Kingdom", "FR": "France", "US": "United States", "DE": "Germany"}
"""Countries the builders can create addresses in (ISO 3166-1 alpha-2 to name)."""

PAYMENT_METHODS: tuple[str, ...] = ("Credit card", "PayPal", "Bank transfer")
"""Payment source type names the demo spreads orders across."""

_sku_counter = itertools.count(1)


# --- helpers ----------------------------------------------------------------------------------------


def user_model() -> Any:
    """The project's user model (Django's ``get_user_model()``)."""
    return get_user_model()


def _lines(products: ProductLines) -> list[tuple[ProductLike, int]]:
    return [item if isinstance(item, tuple) else (item, 1) for item in products]


def country(code: str) -> Any:
    """The Oscar ``address.Country`` for an ISO code, created on first use."""
    Country = get_model("address", "Country")
    name = COUNTRIES.get(code.upper(), code.upper())
    return Country._default_manager.get_or_create(
        iso_3166_1_a2=code.upper(),
        defaults={"printable_name": name, "name": name, "is_shipping_country": True},
    )[0]


def store_request(store: Store | None, user: Any = None, path: str = "/") -> HttpRequest:
    """A GET request to ``path`` on the store's site, as a live shop would receive it.

    Args:
        store: the store whose Django ``Site`` domain becomes the request host (``None``: the
            default ``testserver`` host).
        user: the request's user; anonymous when ``None``.
        path: the request path.
    """
    from django.contrib.auth.models import AnonymousUser

    host = store.site.domain if store is not None and store.site is not None else "testserver"
    request = RequestFactory().get(path, HTTP_HOST=host)
    request.user = user if user is not None else AnonymousUser()
    return request


# --- customers, catalogue, vouchers -----------------------------------------------------------------


def make_customer(
    email: str,
    first_name: str = "",
    last_name: str = "",
    *,
    address: dict[str, str] | None = None,
    with_address: bool = True,
    joined_at: datetime | None = None,
) -> Any:
    """Create a registered customer (Oscar's user model) with a default address.

    The password is unusable: hashing real passwords would dominate test and demo time.

    Args:
        email: the login email.
        first_name: first name.
        last_name: last name.
        address: address fields (``line1``, ``line4`` (city), ``state``, ``postcode``,
            ``country`` ISO code, ``phone_number``); :data:`DEFAULT_ADDRESS` when omitted.
        with_address: create a default shipping and billing ``address.UserAddress``.
        joined_at: the account creation time (now when omitted).

    Returns:
        The saved user.
    """
    User = user_model()
    fields: dict[str, Any] = {"email": email, "first_name": first_name, "last_name": last_name}
    if any(f.name == "username" for f in User._meta.get_fields()):
        fields["username"] = email[:150]
    if joined_at is not None:
        fields["date_joined"] = joined_at
    user = User(**fields)
    user.set_unusable_password()
    user.save()
    if with_address:
        add_address(user, **(address or {}))
    return user


def add_address(user: Any, **fields: str) -> Any:
    """Add a default shipping and billing ``address.UserAddress`` to a customer."""
    UserAddress = get_model("address", "UserAddress")
    data = {**DEFAULT_ADDRESS, **fields}
    return UserAddress._default_manager.create(
        user=user,
        first_name=user.first_name,
        last_name=user.last_name,
        line1=data["line1"],
        line4=data["line4"],
        state=data["state"],
        postcode=data["postcode"],
        country=country(data["country"]),
        phone_number=data["phone_number"],
        is_default_for_shipping=True,
        is_default_for_billing=True,
    )


def make_category(breadcrumbs: str) -> Any:
    """The Oscar category at the end of ``"Clothing > Shirts"``, creating the path as needed."""
    create_from_breadcrumbs = get_class("catalogue.categories", "create_from_breadcrumbs")
    return create_from_breadcrumbs(breadcrumbs)


def make_product(
    title: str,
    price: Decimal | str | None = "10.00",
    stock: int | None = 100,
    categories: Iterable[str] = (),
    *,
    sku: str | None = None,
    parent: Any = None,
    structure: str = "standalone",
    product_class: str = "Clothing",
    image: str | None = None,
    is_public: bool = True,
    partner: str = "Dotsync Partner",
) -> Any:
    """Create a catalogue product with a stock record, categories and optionally an image.

    Args:
        title: the product title.
        price: the stock record price (excl. tax); ``None`` for no stock record (a parent product).
        stock: units in stock.
        categories: breadcrumb paths such as ``"Clothing > Shirts"``; a child product inherits its
            parent's categories, as in Oscar.
        sku: the partner SKU (a unique one is made up when omitted).
        parent: the parent product; makes this product a ``child`` variant.
        structure: ``standalone`` or ``parent`` (ignored when ``parent`` is given).
        product_class: the product class name.
        image: an image path stored as the product's primary ``ProductImage`` (no file is written).
        is_public: whether the product is public.
        partner: the fulfilment partner's name.

    Returns:
        The saved product.
    """
    from oscar.test.factories import create_product  # Oscar's own test helper, shipped in the package

    kwargs: dict[str, Any] = {"is_public": is_public}
    if parent is not None:
        kwargs["parent"] = parent
    elif structure != "standalone":
        kwargs["structure"] = structure
    if price is not None:
        kwargs.update(
            price=Decimal(price),
            num_in_stock=stock,
            partner_name=partner,
            partner_sku=sku or f"SKU-{next(_sku_counter):06d}",
        )
    product = create_product(title=title, product_class=product_class, upc=None, **kwargs)
    if parent is None:
        for path in categories:
            product.categories.add(make_category(path))
    if image:
        ProductImage = get_model("catalogue", "ProductImage")
        ProductImage._default_manager.create(product=product, original=image, caption=title, display_order=0)
    return product


def make_voucher(code: str, percent: int = 10, *, name: str | None = None) -> Any:
    """A multi-use voucher giving ``percent`` off every product, valid for a year."""
    Range = get_model("offer", "Range")
    Condition = get_model("offer", "Condition")
    Benefit = get_model("offer", "Benefit")
    ConditionalOffer = get_model("offer", "ConditionalOffer")
    Voucher = get_model("voucher", "Voucher")
    product_range = Range._default_manager.get_or_create(
        name="All products (dotsync)", defaults={"includes_all_products": True}
    )[0]
    conditions, benefits = Condition._default_manager, Benefit._default_manager
    condition = conditions.get_or_create(range=product_range, type=Condition.COUNT, value=1)[0]
    benefit = benefits.get_or_create(range=product_range, type=Benefit.PERCENTAGE, value=percent)[0]
    now = timezone.now()
    offer = ConditionalOffer._default_manager.create(
        name=f"Voucher offer {code}",
        offer_type=ConditionalOffer.VOUCHER,
        condition=condition,
        benefit=benefit,
        start_datetime=now - timedelta(days=365),
        end_datetime=now + timedelta(days=365),
    )
    voucher = Voucher._default_manager.create(
        name=name or f"Voucher {code}",
        code=code,
        usage=Voucher.MULTI_USE,
        start_datetime=now - timedelta(days=365),
        end_datetime=now + timedelta(days=365),
    )
    voucher.offers.add(offer)
    return voucher


# --- baskets and orders -----------------------------------------------------------------------------


def _new_basket(owner: Any, products: ProductLines) -> Any:
    Basket = get_model("basket", "Basket")
    Selector = get_class("partner.strategy", "Selector")
    basket = Basket._default_manager.create(owner=owner)
    basket.strategy = Selector().strategy(user=owner)
    for product, quantity in _lines(products):
        basket.add_product(product, quantity)
    return basket


def _order_address(
    model_name: str, user: Any, guest_name: tuple[str, str], address: dict[str, str] | None
) -> Any:
    model = get_model("order", model_name)
    data = dict(DEFAULT_ADDRESS)
    first, last = guest_name
    if user is not None:
        default = user.addresses.filter(is_default_for_shipping=True).select_related("country").first()
        if default is not None:
            data.update(
                line1=default.line1,
                line4=default.line4,
                state=default.state,
                postcode=default.postcode,
                country=default.country.iso_3166_1_a2,
                phone_number=str(default.phone_number or ""),
            )
        first, last = user.first_name, user.last_name
    data.update(address or {})
    fields: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "line1": data["line1"],
        "line4": data["line4"],
        "state": data["state"],
        "postcode": data["postcode"],
        "country": country(data["country"]),
    }
    if model_name == "ShippingAddress":
        fields["phone_number"] = data["phone_number"]
    return model._default_manager.create(**fields)


def status_path(target: str, start: str | None = None) -> list[str]:
    """The statuses to pass through, after ``start``, to reach ``target`` in the order pipeline.

    Raises:
        ValueError: when ``target`` cannot be reached from ``start`` in
            ``OSCAR_ORDER_STATUS_PIPELINE``.
    """
    pipeline: dict[str, Sequence[str]] = getattr(settings, "OSCAR_ORDER_STATUS_PIPELINE", {})
    start = start if start is not None else getattr(settings, "OSCAR_INITIAL_ORDER_STATUS", "")
    paths: dict[str, list[str]] = {start: []}
    queue = [start]
    while queue:
        current = queue.pop(0)
        if current == target:
            return paths[current]
        for nxt in pipeline.get(current, ()):
            if nxt not in paths:
                paths[nxt] = [*paths[current], nxt]
                queue.append(nxt)
    raise ValueError(
        f"Order status {target!r} is not reachable from {start!r} in OSCAR_ORDER_STATUS_PIPELINE."
    )


def set_order_status(order: Any, status: str, *, at: datetime | None = None) -> None:
    """Move an order to ``status`` through the pipeline with Oscar's ``set_status``.

    Each step records an ``OrderStatusChange`` and fires ``order_status_changed``, as the dashboard
    does. With ``at``, the recorded changes are back-dated to one hour apart ending at ``at``.
    """
    steps = status_path(status, order.status)
    for step in steps:
        order.set_status(step)
    if at is not None and steps:
        changes = list(order.status_changes.order_by("-id")[: len(steps)])
        for offset, change in enumerate(changes):
            type(change)._default_manager.filter(pk=change.pk).update(
                date_created=at - timedelta(hours=offset)
            )


def place_order(
    customer: Any,
    products: ProductLines,
    store: Store | None = None,
    *,
    status: str | None = None,
    voucher: Any = None,
    payment_method: str = "Credit card",
    refunded: Decimal | str = "0",
    placed_at: datetime | None = None,
    status_at: datetime | None = None,
    address: dict[str, str] | None = None,
    guest_name: tuple[str, str] = ("Guest", "Shopper"),
    shipping_charge: Decimal | str = "4.95",
    site: Any = None,
) -> Any:
    """Place an order with Oscar's ``OrderCreator``, as checkout does.

    Args:
        customer: a user, or a guest email string for a guest checkout (``Order.guest_email``).
        products: what to buy.
        store: the store whose Django ``Site`` the order is placed on (``Order.site``); Oscar's
            current site (Site 1) when omitted.
        status: the final status, reached through the pipeline with ``set_status``.
        voucher: an Oscar voucher to apply (recorded as an ``OrderDiscount`` with its code).
        payment_method: the payment ``SourceType`` name.
        refunded: the amount refunded on the payment source.
        placed_at: ``Order.date_placed`` (now when omitted); the basket is back-dated too.
        status_at: when the last status change happened (defaults to ``placed_at``).
        address: shipping/billing address fields; the customer's default address otherwise.
        guest_name: first and last name on a guest's addresses.
        shipping_charge: the fixed shipping charge.
        site: a Django ``Site`` to place the order on instead of the store's.

    Returns:
        The placed order.
    """
    OrderCreator = get_class("order.utils", "OrderCreator")
    OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
    SurchargeApplicator = get_class("checkout.applicator", "SurchargeApplicator")
    Applicator = get_class("offer.applicator", "Applicator")
    FixedPrice = get_class("shipping.methods", "FixedPrice")

    from django.contrib.auth.models import AnonymousUser

    user = None if isinstance(customer, str) else customer
    # a guest checks out as the anonymous request user, as in Oscar's checkout views
    checkout_user = user if user is not None else AnonymousUser()
    basket = _new_basket(user, products)
    if voucher is not None:
        basket.vouchers.add(voucher)
    Applicator().apply(basket, checkout_user)
    charge = Decimal(shipping_charge)
    method = FixedPrice(charge_excl_tax=charge, charge_incl_tax=charge)
    method.name, method.code = "Standard delivery", "standard"
    shipping = method.calculate(basket)
    surcharges = SurchargeApplicator().get_applicable_surcharges(basket)
    total = OrderTotalCalculator().calculate(basket, shipping, surcharges)
    extra: dict[str, Any] = {}
    if site is not None:
        extra["site"] = site
    elif store is not None and store.site is not None:
        extra["site"] = store.site
    if user is None:
        extra["guest_email"] = customer
    if placed_at is not None:
        extra["date_placed"] = placed_at
    order = OrderCreator().place_order(
        basket=basket,
        total=total,
        shipping_method=method,
        shipping_charge=shipping,
        user=checkout_user,
        shipping_address=_order_address("ShippingAddress", user, guest_name, address),
        billing_address=_order_address("BillingAddress", user, guest_name, address),
        surcharges=surcharges,
        **extra,
    )
    basket.set_as_submitted()
    if placed_at is not None:
        type(basket)._default_manager.filter(pk=basket.pk).update(
            date_created=placed_at, date_submitted=placed_at
        )
    _add_payment(order, payment_method, Decimal(refunded))
    if status:
        set_order_status(order, status, at=status_at or placed_at)
    return order


def _add_payment(order: Any, method: str, refunded: Decimal) -> None:
    SourceType = get_model("payment", "SourceType")
    Source = get_model("payment", "Source")
    source_type = SourceType._default_manager.get_or_create(name=method)[0]
    Source._default_manager.create(
        order=order,
        source_type=source_type,
        currency=order.currency,
        amount_allocated=order.total_incl_tax,
        amount_debited=order.total_incl_tax,
        amount_refunded=refunded,
        reference=order.number,
    )


def make_basket(
    owner: Any,
    products: ProductLines,
    store: Store | None = None,
    *,
    updated_at: datetime | None = None,
) -> Any:
    """An open basket owned by ``owner`` (``None`` for an anonymous basket) holding ``products``.

    Args:
        owner: the basket owner, or ``None``.
        products: what to add, with Oscar's ``Basket.add_product``.
        store: when given, Oscar's ``basket_addition`` signal is sent for each product with a
            request on the store's site, as ``BasketAddView`` does.
        updated_at: back-date the basket and its lines' ``date_updated`` (an abandoned basket).

    Returns:
        The basket, with its pricing strategy assigned.
    """
    basket = _new_basket(owner, products)
    if store is not None:
        basket_addition = get_class("basket.signals", "basket_addition")
        request = store_request(store, owner, "/basket/add/")
        for product, _quantity in _lines(products):
            basket_addition.send(sender=None, product=product, user=owner, request=request)
    if updated_at is not None:
        backdate_basket(basket, updated_at)
    return basket


def backdate_basket(basket: Any, at: datetime) -> None:
    """Set a basket's creation time and its lines' ``date_updated`` to ``at`` (bypassing ``auto_now``)."""
    type(basket)._default_manager.filter(pk=basket.pk).update(date_created=at)
    basket.lines.update(date_created=at, date_updated=at)


def make_wishlist(owner: Any, products: Iterable[ProductLike], *, name: str = "Default") -> Any:
    """A private wishlist of ``owner`` with ``products`` added by Oscar's ``WishList.add``."""
    WishList = get_model("wishlists", "WishList")
    wishlist = WishList._default_manager.create(owner=owner, name=name)
    for product in products:
        wishlist.add(product)
    return wishlist


def make_review(
    product: ProductLike,
    user: Any,
    score: int = 5,
    *,
    title: str = "Great",
    body: str = "Really pleased with it.",
    email: str = "",
    name: str = "",
    status: int | None = None,
    store: Store | None = None,
    created_at: datetime | None = None,
) -> Any:
    """A product review by ``user`` (or an anonymous one with ``email``/``name`` when ``user`` is None).

    Args:
        product: the reviewed product.
        user: the reviewer, or ``None`` for an anonymous review.
        score: 0 to 5.
        title: review title.
        body: review text.
        email: an anonymous reviewer's email.
        name: an anonymous reviewer's name.
        status: moderation status (Oscar's default when omitted: approved unless moderated).
        store: when given, Oscar's ``review_added`` signal is sent with a request on the store's
            site, as ``CreateProductReview`` does.
        created_at: back-date the review.

    Returns:
        The saved review.
    """
    ProductReview = get_model("reviews", "ProductReview")
    fields: dict[str, Any] = {"product": product, "user": user, "score": score, "title": title, "body": body}
    if user is None:
        fields.update(email=email, name=name or "Anonymous")
    if status is not None:
        fields["status"] = status
    review = ProductReview._default_manager.create(**fields)
    if created_at is not None:
        ProductReview._default_manager.filter(pk=review.pk).update(date_created=created_at)
        review.date_created = created_at
    if store is not None:
        review_added = get_class("catalogue.reviews.signals", "review_added")
        request = store_request(store, user, "/catalogue/review/")
        review_added.send(sender=None, review=review, user=user, request=request, response=None)
    return review


def subscribe(
    email: str,
    store: Store,
    status: int = SubscriberStatus.SUBSCRIBED,
    *,
    customer: Any = None,
    at: datetime | None = None,
    confirm_code: str = "",
    request: HttpRequest | None = None,
) -> NewsletterSubscriber:
    """Create or update the ``newsletter_subscriber`` row of ``email`` in ``store``.

    With ``request`` (the subscribe form's request), the consent given is recorded as a storefront
    does (:func:`dotsync.jobs.consent.record_consent`: when the store's consent is on).
    """
    subscriber, _ = NewsletterSubscriber.objects.update_or_create(
        subscriber_email=email,
        store=store,
        defaults={
            "subscriber_status": int(status),
            "customer_id": customer.pk if customer is not None else None,
            "change_status_at": at or timezone.now(),
            "subscriber_confirm_code": confirm_code,
        },
    )
    if request is not None:
        record_consent(email, store, request=request, at=at)
    return subscriber


# --- a small shop for tests ------------------------------------------------------------------------


@dataclass
class Shop:
    """A small but complete shop across every store of a :class:`~dotsync.testing.scope.Scope`.

    Attributes:
        scope: the websites and stores.
        products: ``shirt``, ``mug``, ``hoodie`` (parent), ``hoodie_m`` (its child), ``poster``
            (private, no categories).
        customers: ``alice`` (orders in main_en and main_fr), ``bob`` (outlet_en), ``carol`` (no
            orders), ``dave`` (one order on a site with no store).
        orders: keyed by name; ``guest_main`` and ``guest_outlet`` are guest orders by
            ``guest@example.com`` in both websites; ``guest_fr`` by ``gast@example.com`` in main_fr.
        baskets: ``alice_open`` (fresh), ``bob_abandoned`` (lines two days old), ``carol_open``,
            ``empty`` (owner, no lines) and ``anonymous`` (lines, no owner).
        wishlists: ``alice`` (two items), ``carol`` (one item), ``bob_empty`` (no items).
        reviews: ``alice_shirt`` (approved), ``bob_mug`` (approved), ``anon_shirt`` (anonymous,
            approved), ``carol_pending`` (awaiting moderation).
        subscribers: ``alice_en`` (subscribed), ``alice_fr`` (unconfirmed), ``bob`` (unsubscribed),
            ``erin`` (subscribed, no account, main_en), ``frank`` (subscribed, outlet_en).
        voucher: the ``SAVE10`` voucher used by ``alice_en``.
    """

    scope: Scope
    products: dict[str, Any] = field(default_factory=dict)
    customers: dict[str, Any] = field(default_factory=dict)
    orders: dict[str, Any] = field(default_factory=dict)
    baskets: dict[str, Any] = field(default_factory=dict)
    wishlists: dict[str, Any] = field(default_factory=dict)
    reviews: dict[str, Any] = field(default_factory=dict)
    subscribers: dict[str, NewsletterSubscriber] = field(default_factory=dict)
    voucher: Any = None


def build_shop(scope: Scope) -> Shop:
    """Build the small :class:`Shop` on top of ``scope`` (about 40 ms of Oscar writes on SQLite)."""
    from django.contrib.sites.models import Site

    shop = Shop(scope)
    p = shop.products
    p["shirt"] = make_product("Oxford Shirt", "25.00", 50, ["Clothing > Shirts"], image="products/shirt.jpg")
    p["mug"] = make_product("Coffee Mug", "8.50", 200, ["Home > Kitchen"])
    p["hoodie"] = make_product("Hoodie", None, None, ["Clothing > Hoodies"], structure="parent")
    p["hoodie_m"] = make_product("Hoodie (M)", "40.00", 10, parent=p["hoodie"])
    p["poster"] = make_product("Poster", "5.00", 3, is_public=False)
    c = shop.customers
    c["alice"] = make_customer("alice@example.com", "Alice", "Archer")
    c["bob"] = make_customer("bob@example.com", "Bob", "Baker", address={"country": "FR", "line4": "Paris"})
    c["carol"] = make_customer("carol@example.com", "Carol", "Clark")
    c["dave"] = make_customer("dave@example.com", "Dave", "Dunn", with_address=False)
    shop.voucher = make_voucher("SAVE10", 10)
    now = timezone.now()
    o = shop.orders
    o["alice_en"] = place_order(
        c["alice"],
        [(p["shirt"], 2), p["mug"]],
        scope.main_en,
        status="complete",
        voucher=shop.voucher,
        placed_at=now - timedelta(days=10),
    )
    o["alice_fr"] = place_order(
        c["alice"],
        [p["hoodie_m"]],
        scope.main_fr,
        status="processing",
        payment_method="PayPal",
        refunded="10.00",
        placed_at=now - timedelta(days=3),
    )
    o["bob_outlet"] = place_order(c["bob"], [p["mug"]], scope.outlet_en, placed_at=now - timedelta(days=5))
    o["guest_main"] = place_order("guest@example.com", [p["shirt"]], scope.main_en, status="cancelled")
    o["guest_outlet"] = place_order("guest@example.com", [p["mug"]], scope.outlet_en)
    o["guest_fr"] = place_order("gast@example.com", [p["mug"]], scope.main_fr, status="complete")
    storeless = Site.objects.get_or_create(domain="storeless.example.com", defaults={"name": "No store"})[0]
    o["dave_storeless"] = place_order(c["dave"], [p["mug"]], site=storeless)
    b = shop.baskets
    b["alice_open"] = make_basket(c["alice"], [p["shirt"]])
    b["bob_abandoned"] = make_basket(c["bob"], [(p["mug"], 3)], updated_at=now - timedelta(days=2))
    b["carol_open"] = make_basket(c["carol"], [p["hoodie_m"], p["mug"]])
    b["empty"] = make_basket(c["carol"], [])
    b["anonymous"] = make_basket(None, [p["shirt"]])
    shop.wishlists["alice"] = make_wishlist(c["alice"], [p["mug"], p["hoodie_m"]])
    shop.wishlists["carol"] = make_wishlist(c["carol"], [p["shirt"]])
    shop.wishlists["bob_empty"] = make_wishlist(c["bob"], [], name="Later")
    r = shop.reviews
    r["alice_shirt"] = make_review(p["shirt"], c["alice"], 5)
    r["bob_mug"] = make_review(p["mug"], c["bob"], 3, title="OK")
    r["anon_shirt"] = make_review(p["shirt"], None, 4, email="anon@example.com", name="Anon")
    r["carol_pending"] = make_review(p["mug"], c["carol"], 1, status=0)
    s = shop.subscribers
    s["alice_en"] = subscribe("alice@example.com", scope.main_en, customer=c["alice"])
    s["alice_fr"] = subscribe(
        "alice@example.com",
        scope.main_fr,
        SubscriberStatus.UNCONFIRMED,
        customer=c["alice"],
        confirm_code="abc123",
    )
    s["bob"] = subscribe("bob@example.com", scope.outlet_en, SubscriberStatus.UNSUBSCRIBED, customer=c["bob"])
    s["erin"] = subscribe("erin@example.com", scope.main_en)
    s["frank"] = subscribe("frank@example.com", scope.outlet_en)
    return shop

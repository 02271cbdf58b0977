"""Property tests: every payload builder and the CSV writer, over any value the store can hold.

Text of any kind (control characters, unicode, huge strings, a leading ``= + - @``, tab or CR),
amounts (negative, beyond the platform's range, far beyond a column's digits) and dates (year 1 to
9999) either give a record the platform accepts, or a quarantine reason (``insight.problem``,
``datafields.problem``, ``contact_csv.email_problem``), never an exception that would stop a run.
Pure functions: no database, no sandbox; bounded example counts keep the suite fast.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dotsync.jobs.payloads import contact_csv, datafields, insight
from dotsync.jobs.payloads.order import order_record
from dotsync.jobs.payloads.product import product_record
from dotsync.jobs.payloads.quote import quote_record
from dotsync.jobs.payloads.review import review_record
from dotsync.jobs.payloads.values import NUMBER_LIMIT, TEXT_LIMIT, money
from dotsync.jobs.payloads.wishlist import wishlist_record
from dotsync.store.records import (
    Address,
    Customer,
    Order,
    OrderLine,
    Product,
    Quote,
    QuoteLine,
    Review,
    SalesData,
    Wishlist,
    WishlistItem,
)

BOUNDED = settings(max_examples=100, deadline=None)

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# --- what a store can hold ----------------------------------------------------------------------------
formula = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "=cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"])
texts = st.one_of(
    st.text(max_size=40),
    st.tuples(formula, st.text(max_size=20)).map("".join),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40),  # every C0 control and DEL
    st.builds(lambda c, n: c * n, st.characters(), st.integers(990, 1300)),  # past the limits
)
FINITE = {"allow_nan": False, "allow_infinity": False}
amounts = st.one_of(
    st.decimals(min_value=Decimal("-1e10"), max_value=Decimal("1e10"), places=2, **FINITE),  # a column
    st.decimals(min_value=Decimal("-1e308"), max_value=Decimal("1e308"), **FINITE),  # a REAL on SQLite
)
dates = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC))
ids = st.integers(min_value=1, max_value=2**63 - 1)
qtys = st.integers(min_value=0, max_value=2**31 - 1)
emails = st.one_of(
    st.emails(),
    st.tuples(formula, st.emails()).map("".join),
    texts,
)
addresses = st.builds(
    Address, first_name=texts, last_name=texts, line1=texts, city=texts, postcode=texts, telephone=texts
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _assert_insight(record: dict[str, Any]) -> None:
    """Valid for the platform, or quarantined by the job with a reason."""
    email = record.get("contactIdentity", {}).get("value")
    if email is not None and contact_csv.email_problem(email):
        return  # the jobs quarantine a record keyed to an email the platform would refuse
    problem = insight.record_problem(record)
    if problem:
        assert isinstance(problem, str) and problem
        return
    json.dumps(record, allow_nan=False)  # no NaN or infinity: strict JSON
    for s in _strings(record):
        assert not CONTROL.search(s), repr(s)
    for value in _numbers(record["json"]):
        assert abs(value) < NUMBER_LIMIT


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, float | int):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


# --- insight builders ---------------------------------------------------------------------------------
order_lines = st.builds(
    OrderLine,
    product_id=st.none() | ids,
    sku=texts,
    name=texts,
    qty=qtys,
    price=amounts,
    price_inc_tax=amounts,
    parent_name=texts,
    categories=st.lists(texts, max_size=3).map(tuple),
    brand=texts,
)
orders = st.builds(
    Order,
    id=ids,
    number=texts,
    email=emails,
    store_id=st.none() | ids,
    status=texts,
    placed_at=dates,
    currency=texts,
    subtotal=amounts,
    discount=amounts,
    shipping_total=amounts,
    total=amounts,
    total_refunded=amounts,
    shipping_method=texts,
    payment_method=texts,
    coupon_codes=st.lists(texts, max_size=2).map(tuple),
    billing_address=st.none() | addresses,
    lines=st.lists(order_lines, max_size=3).map(tuple),
)


@BOUNDED
@given(orders, texts, texts)
def test_order_records_are_valid_or_quarantined(order, store_name, website_name):
    record = order_record(order, store_name=store_name, website_name=website_name)
    _assert_insight(record)
    body = record["json"]
    if not insight.record_problem(record):
        assert body["orderTotal"] == money(order.total - order.total_refunded)  # the sign is kept
        assert ISO.match(body["purchaseDate"])
        assert all(len(p["name"]) <= 255 for p in body["products"])


@BOUNDED
@given(
    st.builds(
        Quote,
        id=ids,
        store_id=st.none() | ids,
        status=texts,
        is_active=st.booleans(),
        currency=texts,
        subtotal=amounts,
        total=amounts,
        created_at=st.none() | dates,
        updated_at=st.none() | dates,
        lines=st.lists(
            st.builds(
                QuoteLine,
                product_id=st.none() | ids,
                sku=texts,
                name=texts,
                qty=qtys,
                price=amounts,
                price_inc_tax=amounts,
                url=texts,
                image_url=texts,
            ),
            max_size=3,
        ).map(tuple),
    ),
    emails,
)
def test_quote_records_are_valid_or_quarantined(quote, email):
    _assert_insight(quote_record(quote, email=email, store_name="s", website_name="w"))


@BOUNDED
@given(
    st.builds(
        Review,
        id=ids,
        product_id=st.none() | ids,
        product_name=texts,
        product_sku=texts,
        score=st.integers(0, 5),
        title=texts,
        body=texts,
        approved=st.booleans(),
        created_at=dates,
        store_id=st.none() | ids,
    ),
    emails,
)
def test_review_records_are_valid_or_quarantined(review, email):
    record = review_record(review, email=email, store_name="s", website_name="w")
    _assert_insight(record)
    assert len(record["json"].get("detail", "")) <= TEXT_LIMIT
    assert len(record["json"].get("title", "")) <= 255


@BOUNDED
@given(
    st.builds(
        Wishlist,
        id=ids,
        customer_id=ids,
        email=emails,
        store_id=st.none() | ids,
        created_at=st.none() | dates,
        items=st.lists(
            st.builds(
                WishlistItem, product_id=st.none() | ids, sku=texts, name=texts, qty=qtys, price=amounts
            ),
            max_size=3,
        ).map(tuple),
    ),
)
def test_wishlist_records_are_valid_or_quarantined(wishlist):
    _assert_insight(wishlist_record(wishlist, email=wishlist.email, store_name="s", website_name="w"))


@BOUNDED
@given(
    st.builds(
        Product,
        id=ids,
        sku=texts,
        name=texts,
        type=texts,
        is_public=st.booleans(),
        price=st.none() | amounts,
        price_incl_tax=st.none() | amounts,
        currency=texts,
        stock=st.none() | qtys,
        categories=st.lists(texts, max_size=3).map(tuple),
        url=texts,
        image_url=texts,
        description=texts,
        brand=texts,
        created_at=st.none() | dates,
        updated_at=st.none() | dates,
        attributes=st.dictionaries(texts, texts, max_size=3),
    ),
    st.none() | st.sampled_from(["shop.example", "x.test"]),
)
def test_product_records_are_valid_or_quarantined(product, domain):
    _assert_insight(product_record(product, domain=domain))


# --- the contact CSV ----------------------------------------------------------------------------------
sales = st.builds(
    SalesData,
    email=emails,
    number_of_orders=qtys,
    total_spend=amounts,
    average_order_value=amounts,
    total_refund=amounts,
    last_order_id=st.none() | ids,
    last_increment_id=texts,
    last_order_date=st.none() | dates,
    most_freq_pur_day=texts,
    most_freq_pur_mon=texts,
    most_pur_category=texts,
    most_pur_brand=texts,
    first_category_pur=texts,
    last_category_pur=texts,
    first_brand_pur=texts,
    last_brand_pur=texts,
    review_count=qtys,
    last_review_date=st.none() | dates,
    last_quote_id=st.none() | ids,
)
customers = st.builds(
    Customer,
    id=ids,
    email=emails,
    first_name=texts,
    last_name=texts,
    title=texts,
    group=texts,
    created_at=st.none() | dates,
    last_login=st.none() | dates,
    billing_address=st.none() | addresses,
    delivery_address=st.none() | addresses,
)
ALL = {key: key.upper() for key in datafields.CUSTOMER_KEYS}
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@BOUNDED
@given(customers, st.none() | sales, texts, texts, st.none() | st.integers(1, 4))
def test_contact_csv_rows_are_safe_and_parse_back(customer, sales_data, website, store, status):
    values = datafields.customer_values(
        customer, sales=sales_data, website_name=website, store_name=store, subscriber_status=status
    )
    cols = datafields.columns(datafields.CUSTOMER_KEYS, ALL)
    if datafields.problem(values, cols) or contact_csv.email_problem(customer.email):
        return  # quarantined by the contacts job with this reason
    fields = datafields.data_fields(values, cols)
    head = contact_csv.header([n for _, n in cols], opt_in=True)
    cells = contact_csv.row(customer.email, list(fields.values()), opt_in_type=contact_csv.OPT_IN_DOUBLE)
    text = contact_csv.document(head, [contact_csv.line(cells)])
    assert _parse(text) == [head, cells]  # quoting is right: one row, every cell back as written
    for (key, name), cell in zip(cols, fields.values(), strict=True):
        assert not CONTROL.search(cell), (name, cell)
        assert len(cell) <= TEXT_LIMIT, name
        if cell.startswith(contact_csv.FORMULA_START):
            # only a number in a numeric field may start with "-"
            assert datafields.datafield_type(key) == datafields.NUMERIC and NUMBER.match(cell), (name, cell)
        if datafields.datafield_type(key) == datafields.DATE and cell:
            assert ISO.match(cell), (name, cell)
    assert not customer.email.startswith(contact_csv.FORMULA_START)


@BOUNDED
@given(st.lists(texts, min_size=1, max_size=6))
def test_the_csv_writer_round_trips_and_neutralises_any_cell(values):
    cells = [contact_csv.neutralise(v) for v in values]
    line = contact_csv.line(cells)
    assert line.endswith("\r\n")
    assert _parse(line) == [cells]
    for cell in cells:
        assert not cell.startswith(contact_csv.FORMULA_START), cell
        if cell.startswith("'"):
            assert '"' + cell.replace('"', '""') + '"' in line  # a neutralised cell is always quoted
    assert [contact_csv.neutralise(c) for c in cells] == cells  # idempotent


@BOUNDED
@given(
    st.decimals(
        min_value=Decimal("-1e12"),
        max_value=Decimal("-0.01"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_negative_amounts_stay_numbers_in_numeric_fields(amount):
    cell = datafields.format_value("total_spend", Decimal(amount))
    assert cell.startswith("-") and NUMBER.match(cell)
    assert datafields.format_value("firstname", str(amount)).startswith("'-")  # text is neutralised

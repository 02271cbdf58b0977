"""The newsletter pages (see :mod:`dotsync.storefront.newsletter`); they look like the shop's pages.

They extend Oscar's ``oscar/layout.html`` when the host routes Oscar's shop URLs, else a plain page on
Oscar's base template and styles (:func:`layout`). Posts are CSRF-protected; the subscribe form allows
:data:`RATE_LIMIT` posts per client (``REMOTE_ADDR``) in :data:`RATE_WINDOW` seconds (Django's cache:
give a multi-process shop a shared cache), then answers 429.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from dotsync.config import get_config
from dotsync.models import Store
from dotsync.models.newsletter import SubscriberStatus
from dotsync.models.sync import canonical_email
from dotsync.storefront.newsletter import service, tokens
from dotsync.storefront.newsletter.forms import PreferencesForm, SubscribeForm
from dotsync.storefront.newsletter.service import Outcome
from dotsync.storefront.passcode import client_ip
from dotsync.storefront.ratelimit import over_limit

RATE_LIMIT = 10
"""Subscribe posts a client may make in :data:`RATE_WINDOW` seconds."""
RATE_WINDOW = 600
MAIL_FAILED = "We could not send the confirmation email. Please try again later."
OSCAR_LAYOUT = "oscar/layout.html"
PLAIN_LAYOUT = "dotsync/newsletter/layout.html"


def layout() -> str:
    """Oscar's layout when Oscar's shop URLs are routed (its navigation links them), else a plain one."""
    try:
        reverse("catalogue:index")
    except NoReverseMatch:
        return PLAIN_LAYOUT
    return OSCAR_LAYOUT


def _page(request: HttpRequest, template: str, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("layout", layout())
    return render(request, f"dotsync/newsletter/{template}", context, status=status)


def _store(request: HttpRequest) -> Store:
    store = service.request_store(request)
    if store is None:
        raise Http404("no store is configured")
    return store


@csrf_protect
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """``dotsync/newsletter/subscribe/``: the form; a post subscribes or mails a confirmation link."""
    store = _store(request)
    consent = service.consent_text(store)
    form = SubscribeForm(request.POST or None, consent_text=consent)
    if request.method == "POST":
        if over_limit("newsletter", client_ip(request), limit=RATE_LIMIT, window=RATE_WINDOW):
            return _page(request, "subscribe.html", 429, form=form, limited=True)
        if form.is_valid():
            user = request.user
            email = form.cleaned_data["email"]
            own = user.is_authenticated and canonical_email(user.email) == canonical_email(email)
            outcome = service.subscribe(
                request,
                email,
                store,
                customer_id=user.pk if own else None,
                consent=bool(consent),
            )
            if outcome is Outcome.MAIL_FAILED:
                return _page(request, "subscribe.html", 503, form=form, problem=MAIL_FAILED)
            # the page follows the store's rule, not the outcome: it never tells whether the email was known
            return _page(request, "subscribed.html", confirm=store.requires_confirmation)
        return _page(request, "subscribe.html", 400, form=form)
    return _page(request, "subscribe.html", form=form)


@require_http_methods(["GET"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """``dotsync/newsletter/confirm/<token>/``: a valid, unexpired, unused link subscribes."""
    store = _store(request)
    claim = tokens.read_confirm(token, get_config(store.website).newsletter_confirm_max_age * 3600)
    outcome = service.confirm(claim) if claim is not None else Outcome.REFUSED
    status = 400 if outcome is Outcome.REFUSED else 200
    return _page(request, "confirmed.html", status, outcome=outcome.value)


@csrf_protect
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """``dotsync/newsletter/unsubscribe/<token>/``: GET shows a button, POST unsubscribes."""
    claim = tokens.read_unsubscribe(token)
    if claim is None:
        return _page(request, "unsubscribe.html", 400, outcome=Outcome.REFUSED.value)
    if request.method == "POST":
        outcome = service.unsubscribe(claim.subscriber_id, claim.email)
        status = 400 if outcome is Outcome.REFUSED else 200
        return _page(request, "unsubscribe.html", status, outcome=outcome.value)
    return _page(request, "unsubscribe.html", outcome="")


@csrf_protect
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """``dotsync/newsletter/preferences/``: a logged-in customer's subscription, books and data fields."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    store = _store(request)
    cfg = get_config(store.website)
    if not cfg.newsletter_preferences:
        raise Http404("the newsletter preferences page is off")
    user: Any = request.user
    row = service.subscription(user.email, store)
    status = row.subscriber_status if row is not None else None
    chosen = service.book_choices(store.website, user.email)
    initial: dict[str, Any] = {
        "subscribed": status in (SubscriberStatus.SUBSCRIBED, SubscriberStatus.UNCONFIRMED),
        **{f"book_{book}": chosen.get(book, False) for book, _ in cfg.newsletter_books},
        **{f"field_{key}": getattr(user, attr) for key, attr in service.USER_ATTRIBUTES.items()},
    }
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        books=cfg.newsletter_books,
        fields=cfg.newsletter_fields,
        consent_text=service.consent_text(store),
    )
    if request.method == "POST" and form.is_valid():
        if form.subscribing():
            outcome = service.subscribe(
                request, user.email, store, customer_id=user.pk, consent=bool(form.consent_text)
            )
            if outcome is Outcome.MAIL_FAILED:
                messages.error(request, MAIL_FAILED)
        elif not form.cleaned_data["subscribed"] and row is not None and initial["subscribed"]:
            service.unsubscribe(row.subscriber_id, row.subscriber_email)
        service.set_books(store.website, user.email, form.wanted_books())
        service.set_fields(user, form.field_values())
        messages.success(request, "Your newsletter preferences have been saved.")
        return redirect("dotsync-newsletter-preferences")
    awaiting = status == SubscriberStatus.UNCONFIRMED
    return _page(request, "preferences.html", 400 if form.is_bound else 200, form=form, awaiting=awaiting)

"""The storefront's public URLs: ``path("", include("dotsync.storefront.urls"))``.

Dynamic content (every view needs ``?code=<passcode>``):

- ``dotsync/edc/<website>/basket/<basket_id>/``
- ``dotsync/edc/<website>/review/<order_id>/``
- ``dotsync/edc/<website>/wishlist/<customer_id>/``
- ``dotsync/edc/<website>/<related|upsell|crosssell>/<order|basket|wishlist>/<id>/`` (wishlist: a customer id)
- ``dotsync/edc/<website>/bestsellers/`` and ``mostviewed/`` (``?period=D|W|M``, ``?category_id=``)
- ``dotsync/edc/<website>/recentlyviewed/<customer_id>/``
- ``dotsync/edc/<website>/push/``
- ``dotsync/edc/<website>/coupon/<offer_id>/`` (``&code_email=@EMAIL@`` and the reference's ``code_prefix``,
  ``code_suffix``, ``code_format``, ``code_expires_after``, ``code_allow_resend``, ``code_cancel_send``):
  a unique Oscar voucher code per email (:mod:`dotsync.storefront.vouchers`)

Cart restore: ``dotsync/cart/<website>/<token>/`` (built by :func:`dotsync.links.restore_url`).

Newsletter (:mod:`dotsync.storefront.newsletter`): ``dotsync/newsletter/subscribe/``, ``confirm/<token>/``,
``unsubscribe/<token>/`` and ``preferences/``.

Easy email capture: ``POST dotsync/capture/email/`` (:mod:`dotsync.storefront.capture`).
"""

from __future__ import annotations

from django.urls import path, re_path

from dotsync import links
from dotsync.storefront.capture import capture_email
from dotsync.storefront.edc.basket import basket
from dotsync.storefront.edc.coupon import coupon
from dotsync.storefront.edc.push import push
from dotsync.storefront.edc.recommended import recommended
from dotsync.storefront.edc.reports import bestsellers, most_viewed
from dotsync.storefront.edc.review import review
from dotsync.storefront.edc.viewed import recently_viewed
from dotsync.storefront.edc.wishlist import wishlist
from dotsync.storefront.newsletter import views as newsletter
from dotsync.storefront.restore import restore

EDC = "dotsync/edc/<slug:website>/"

urlpatterns = [
    path(EDC + "basket/<int:basket_id>/", basket, name="dotsync-edc-basket"),
    path(EDC + "review/<int:order_id>/", review, name="dotsync-edc-review"),
    path(EDC + "wishlist/<int:customer_id>/", wishlist, name="dotsync-edc-wishlist"),
    re_path(
        r"^dotsync/edc/(?P<website>[-\w]+)/(?P<kind>related|upsell|crosssell)/(?P<source>order|basket|wishlist)/(?P<source_id>[0-9]+)/$",
        recommended,
        name="dotsync-edc-recommended",
    ),
    path(EDC + "bestsellers/", bestsellers, name="dotsync-edc-bestsellers"),
    path(EDC + "mostviewed/", most_viewed, name="dotsync-edc-mostviewed"),
    path(EDC + "recentlyviewed/<int:customer_id>/", recently_viewed, name="dotsync-edc-recentlyviewed"),
    path(EDC + "push/", push, name="dotsync-edc-push"),
    path(EDC + "coupon/<int:offer_id>/", coupon, name="dotsync-edc-coupon"),
    path(links.RESTORE_PREFIX + "<slug:website>/<str:token>/", restore, name="dotsync-cart-restore"),
    path("dotsync/capture/email/", capture_email, name="dotsync-capture-email"),
]

urlpatterns += [
    path("dotsync/newsletter/subscribe/", newsletter.subscribe, name="dotsync-newsletter-subscribe"),
    path("dotsync/newsletter/confirm/<str:token>/", newsletter.confirm, name="dotsync-newsletter-confirm"),
    path(
        "dotsync/newsletter/unsubscribe/<str:token>/",
        newsletter.unsubscribe,
        name="dotsync-newsletter-unsubscribe",
    ),
    path("dotsync/newsletter/preferences/", newsletter.preferences, name="dotsync-newsletter-preferences"),
]

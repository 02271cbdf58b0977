"""The storefront: public URLs a shop serves for dotdigital and its shoppers (issue 12).

- External dynamic content (``edc/``): small, email-safe HTML fragments dotdigital fetches while it builds
  an email (basket, review, wishlist, recommendations, bestsellers, most and recently viewed, product
  push), every one behind the same passcode check (:mod:`.passcode`) with a per-client lockout
  (:mod:`.lockout`) and an optional IP allow-list.
- Cart-restore links (:mod:`.restore`): signed, expiring tokens (:mod:`dotsync.links`) that bring a basket
  back into the shopper's session.
- Product views (:mod:`.product_views`): time-stamped rows for the most and recently viewed content.

Mounted by :mod:`dotsync.urls` (standalone); a host shop adds
``path("", include("dotsync.storefront.urls"))``.
"""

"""Subscription forms for an Oscar shop (issue 12 §5; reference §4.8 consent, §4.9 preferences).

Oscar has no newsletter, so dotsync gives it one. Every page writes ``newsletter_subscriber`` (and
``email_contact_book`` for address-book choices); the observers and jobs take it from there:

- ``dotsync/newsletter/subscribe/``: the subscribe form (CSRF, rate-limited per client). A store that
  requires confirmation (``Store.requires_confirmation``) keeps the row unconfirmed and mails a signed,
  expiring confirmation link; consent text and capture when the store's ``consent_enabled`` is on.
- ``dotsync/newsletter/confirm/<token>/``: the confirmation link subscribes.
- ``dotsync/newsletter/unsubscribe/<token>/``: the signed unsubscribe link (GET asks, POST unsubscribes).
- ``dotsync/newsletter/preferences/``: logged-in customers subscribe or unsubscribe, join or leave the
  website's ``newsletter_books`` and edit its ``newsletter_fields``.

Modules: :mod:`.tokens` (signed links), :mod:`.service` (the writes), :mod:`.forms`, :mod:`.views`.
"""

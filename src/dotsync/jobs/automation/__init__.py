"""Marketing automation jobs: campaign sends, abandoned carts, review requests, enrolments, cleaner.

Shared helpers live here too: ``contact_ids`` (get or create the platform contact id, cached on
``email_contact``) is used by every job that sends to or enrols a contact.
"""

"""The external dynamic content views, one module per concern, each behind one access rule.

The rule is :func:`~dotsync.storefront.passcode.edc_view`.
"""

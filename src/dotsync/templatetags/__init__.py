"""dotsync's template tags (``{% load dotsync_tracking %}``)."""

"""Django management commands of dotsync (``python manage.py dotsync ...`` in a host shop)."""

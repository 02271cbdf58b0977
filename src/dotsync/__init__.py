"""dotsync: keeps a Python e-commerce store in sync with the dotdigital email marketing platform.

The package is a Django app. Its two ports are :mod:`dotsync.store` (the shop) and
:mod:`dotsync.platform` (dotdigital and its local sandbox); the jobs in :mod:`dotsync.jobs` move
data between them through the sync tables in :mod:`dotsync.models`.
"""

__version__ = "0.1.0"

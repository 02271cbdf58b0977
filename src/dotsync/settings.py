"""Standalone Django settings, so the ``dotsync`` command works with no host project.

Reads ``DATABASE_URL``, ``SECRET_KEY`` and ``DOTSYNC_*`` from the environment. The default database
is a SQLite file under ``./var``. When django-oscar is installed (the ``oscar`` extra) the Oscar
apps are installed too, so the reference store adapter has a real shop to read.

A host shop does not use this module: it adds ``"dotsync"`` to its own ``INSTALLED_APPS``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dotsync.crypto import DEFAULT_SECRET_KEY

VAR_DIR = Path(os.environ.get("DOTSYNC_VAR_DIR", "var")).resolve()
DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'dotsync.sqlite3'}"


def _var_dir() -> None:
    """Create VAR_DIR when it is named or holds the default database; say what to do if that fails."""
    if "DOTSYNC_VAR_DIR" not in os.environ and "DATABASE_URL" in os.environ:
        return
    try:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"DOTSYNC_VAR_DIR {VAR_DIR} does not exist and cannot be created ({exc.strerror}); "
            "set DOTSYNC_VAR_DIR to a writable directory"
        ) from None


def _database(url: str) -> dict[str, Any]:
    """``DATABASE_URL`` parsed.

    A malformed one is an error that never repeats the URL (it may hold a password).
    """
    scheme = url.split("://", 1)[0] if "://" in url else ""
    try:
        parsed: dict[str, Any] = dict(dj_database_url.parse(url))
    except (ValueError, KeyError, TypeError) as exc:  # UnknownSchemeError is a ValueError
        what = f"has the unknown scheme {scheme!r}" if scheme else "is not a URL"
        raise ImproperlyConfigured(
            f"DATABASE_URL {what}; use postgres://USER:PASSWORD@HOST:PORT/NAME, mysql://... or "
            "sqlite:////absolute/path.sqlite3 (or unset it for ./var/dotsync.sqlite3)"
        ) from exc
    if not parsed.get("ENGINE") or (
        parsed["ENGINE"] != "django.db.backends.sqlite3" and not parsed.get("NAME")
    ):
        raise ImproperlyConfigured(
            "DATABASE_URL names no database; use postgres://USER:PASSWORD@HOST:PORT/NAME or "
            "sqlite:////absolute/path.sqlite3"
        )
    return parsed


_var_dir()

SECRET_KEY = os.environ.get("SECRET_KEY") or DEFAULT_SECRET_KEY  # refused for passwords: see dotsync.crypto
DEBUG = os.environ.get("DOTSYNC_DEBUG", "") == "1"
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
SITE_ID = 1
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

DATABASES = {"default": _database(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)}
# seconds a request's thread keeps its connection for the next request (checked before reuse).
# `dotsync serve` sets 60: its threads are reused (dotsync.wsgi), and opening a connection cost 2.4 ms
# on SQLite and 4.4 ms on PostgreSQL. Elsewhere 0, Django's default: jobs' threads close theirs.
_conn_max_age = os.environ.get("DOTSYNC_CONN_MAX_AGE") or "0"
if not _conn_max_age.isdigit():
    raise ImproperlyConfigured(f"DOTSYNC_CONN_MAX_AGE must be a number of seconds, not {_conn_max_age!r}")
DATABASES["default"]["CONN_MAX_AGE"] = int(_conn_max_age)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # a transaction takes the write lock when it begins, waiting up to the timeout: a deferred
            # one that read first fails at once ("database is locked") when another process (the shop,
            # dotsync run) wrote since, which the fast path's concurrent writers made common
            "transaction_mode": "IMMEDIATE",
        }
    )

try:
    import oscar  # noqa: F401

    HAVE_OSCAR = True
except ImportError:  # pragma: no cover - the oscar extra is always installed in tests
    HAVE_OSCAR = False

if HAVE_OSCAR:
    from oscar import INSTALLED_APPS as OSCAR_APPS
    from oscar.defaults import *  # noqa: F403

    # dotsync first: its templates/oscar/ overrides (tracking tags) extend Oscar's templates of the same name
    INSTALLED_APPS = ["dotsync", *OSCAR_APPS]
    HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
    HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"
    OSCAR_INITIAL_ORDER_STATUS = "pending"
    OSCAR_INITIAL_LINE_STATUS = "pending"
    OSCAR_ORDER_STATUS_PIPELINE = {
        "pending": ("processing", "cancelled", "holded"),
        "processing": ("complete", "cancelled", "holded", "closed"),
        "holded": ("processing", "cancelled"),
        "complete": ("closed",),
        "closed": (),
        "cancelled": (),
    }
    OSCAR_LINE_STATUS_PIPELINE = OSCAR_ORDER_STATUS_PIPELINE
    AUTHENTICATION_BACKENDS = (
        "oscar.apps.customer.auth_backends.EmailBackend",
        "django.contrib.auth.backends.ModelBackend",
    )
else:  # pragma: no cover
    INSTALLED_APPS = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "django.contrib.sites",
        "dotsync",
    ]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
if HAVE_OSCAR:
    MIDDLEWARE.append("oscar.apps.basket.middleware.BasketMiddleware")

ROOT_URLCONF = "dotsync.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
if HAVE_OSCAR:  # the standalone project serves Oscar's shop too (dotsync.urls): its pages need these
    TEMPLATES[0]["OPTIONS"]["context_processors"] += [  # type: ignore[index]
        "oscar.apps.search.context_processors.search_form",
        "oscar.apps.checkout.context_processors.checkout",
        "oscar.apps.communication.notifications.context_processors.notifications",
        "oscar.core.context_processors.metadata",
        "dotsync.storefront.tracking.context",  # dotsync_tracking: the website's tracking settings, lazily
    ]
STATIC_URL = "/static/"

# Mail, for the monitor job's alert emails: Django's settings, from environment variables of the same names.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = int(os.environ["EMAIL_PORT"]) if os.environ.get("EMAIL_PORT", "").isdigit() else 25
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "").strip().lower() in ("1", "true", "yes")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "dotsync@localhost"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "dotsync": {"handlers": ["console"], "level": os.environ.get("DOTSYNC_LOG_LEVEL", "WARNING")},
        # a 500 under `dotsync serve` leaves its traceback on stderr (Django logs it only when DEBUG)
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# dotsync's own defaults; every key can be overridden per website in the admin (WebsiteConfig).
DOTSYNC: dict[str, object] = {}

"""Encryption of secrets at rest, and constant-time comparison.

The key comes from ``DOTSYNC_ENCRYPTION_KEY`` (any string) or, failing that, Django's
``SECRET_KEY``; it is stretched with SHA-256 into a Fernet key. Plain secrets are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.fernet import Fernet, InvalidToken

from dotsync.exceptions import ConfigurationError

_PREFIX = "fernet:"


def _fernet() -> Fernet:
    from django.conf import settings

    secret = os.environ.get("DOTSYNC_ENCRYPTION_KEY") or settings.SECRET_KEY
    key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
    return Fernet(key)


def encrypt(plain: str) -> str:
    """Encrypt ``plain`` for storage; the result is prefixed so it is recognisable."""
    return _PREFIX + _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a value made by :func:`encrypt`.

    Raises:
        ConfigurationError: the value was encrypted with another key (SECRET_KEY changed).
    """
    if not token.startswith(_PREFIX):
        raise ConfigurationError(["stored secret is not encrypted by dotsync; set the API password again"])
    try:
        return _fernet().decrypt(token[len(_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ConfigurationError(
            [
                "stored API password cannot be decrypted: SECRET_KEY or DOTSYNC_ENCRYPTION_KEY "
                "changed; set the password again"
            ]
        ) from exc


def secrets_equal(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())

"""Encryption of secrets at rest, and constant-time comparison.

The key comes from ``DOTSYNC_ENCRYPTION_KEY`` (any string) or, failing that, Django's
``SECRET_KEY``; it is stretched with SHA-256 into a Fernet key. Plain secrets are never logged.

:data:`DEFAULT_SECRET_KEY` (the standalone settings' fallback) is public, so :func:`encrypt` refuses
to use it unless a caller allows it explicitly with :func:`allow_default_key` (the demo, and sandbox
accounts on loopback, whose passwords protect nothing). :func:`reencrypt` serves ``dotsync rotate-key``.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import hashlib
import hmac
import os
from collections.abc import Iterator

from cryptography.fernet import Fernet, InvalidToken

from dotsync.exceptions import ConfigurationError

_PREFIX = "fernet:"

DEFAULT_SECRET_KEY = "dotsync-insecure-development-key-change-me"
"""The standalone settings' SECRET_KEY when none is set: public, so it protects nothing."""

SET_KEY_HINT = (
    "set SECRET_KEY (or DOTSYNC_ENCRYPTION_KEY) in the environment to a long random value, e.g. "
    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`; passwords stored before are moved "
    "to it with `dotsync rotate-key` (see the README)"
)
"""What to do about the default key (in errors and warnings)."""

_default_key_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "default_key_allowed", default=False
)


def current_key() -> str:
    """The secret that keys encryption now: ``DOTSYNC_ENCRYPTION_KEY``, else ``SECRET_KEY``."""
    from django.conf import settings

    return os.environ.get("DOTSYNC_ENCRYPTION_KEY") or str(settings.SECRET_KEY)


def uses_default_key() -> bool:
    """Whether secrets are encrypted with the public :data:`DEFAULT_SECRET_KEY`."""
    return current_key() == DEFAULT_SECRET_KEY


def default_key_warning() -> str | None:
    """A one-line warning while the default key is in use, else None."""
    if not uses_default_key():
        return None
    return "API passwords are encrypted with dotsync's public default SECRET_KEY: " + SET_KEY_HINT


@contextlib.contextmanager
def allow_default_key() -> Iterator[None]:
    """Let :func:`encrypt` use the default key inside this block (the demo's sandbox accounts only)."""
    token = _default_key_allowed.set(True)
    try:
        yield
    finally:
        _default_key_allowed.reset(token)


def _fernet(secret: str | None = None) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256((secret or current_key()).encode()).digest())
    return Fernet(key)


def encrypt(plain: str) -> str:
    """Encrypt ``plain`` for storage; the result is prefixed so it is recognisable.

    Raises:
        ConfigurationError: the key is the public default and no :func:`allow_default_key` is active.
    """
    if uses_default_key() and not _default_key_allowed.get():
        raise ConfigurationError(
            ["refusing to store a password encrypted with the public default SECRET_KEY: " + SET_KEY_HINT]
        )
    return _PREFIX + _fernet().encrypt(plain.encode()).decode()


def reencrypt(token: str, old_key: str) -> str | None:
    """``token`` decrypted with ``old_key`` and encrypted with the current key.

    Returns:
        The new token, or None when ``token`` already decrypts with the current key.

    Raises:
        ConfigurationError: ``token`` decrypts with neither key, or the current key is the default.
    """
    if not token.startswith(_PREFIX):
        raise ConfigurationError(["a stored secret is not encrypted by dotsync; set the API password again"])
    body = token[len(_PREFIX) :].encode()
    try:
        plain = _fernet(old_key).decrypt(body).decode()
    except InvalidToken:
        try:
            _fernet().decrypt(body)
        except InvalidToken:
            raise ConfigurationError(
                ["a stored API password decrypts with neither the old key given nor the current key"]
            ) from None
        return None
    return encrypt(plain)


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
                "changed; move it to the new key with `dotsync rotate-key`, or set the password again"
            ]
        ) from exc


def secrets_equal(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())

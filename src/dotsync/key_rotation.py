"""Move every stored API password from an old encryption key to the current one (``dotsync rotate-key``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from dotsync.crypto import SET_KEY_HINT, current_key, reencrypt, uses_default_key
from dotsync.exceptions import ConfigurationError


@dataclass
class Rotation:
    """What :func:`rotate_key` did, by website code (no secret in it)."""

    rotated: list[str] = field(default_factory=list)
    already_current: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable form: counts and website codes."""
        return {
            "rotated": len(self.rotated),
            "already_current": len(self.already_current),
            "websites": {"rotated": self.rotated, "already_current": self.already_current},
        }


def rotate_key(old_key: str) -> Rotation:
    """Re-encrypt every stored API password from ``old_key`` to the current key, all or nothing.

    A password that already decrypts with the current key is left as it is (a second run is harmless).

    Raises:
        ConfigurationError: the current key is the public default or equals ``old_key``, or a
            password decrypts with neither key; nothing is changed then.
    """
    from dotsync.models import WebsiteConfig

    if not old_key:
        raise ConfigurationError(["the old key is empty; give the key the passwords were stored with"])
    if uses_default_key():
        raise ConfigurationError(
            ["the current key is dotsync's public default, nothing to rotate to: " + SET_KEY_HINT]
        )
    if old_key == current_key():
        raise ConfigurationError(
            [
                "the old key is the current key; set SECRET_KEY (or DOTSYNC_ENCRYPTION_KEY) to the new "
                "key first"
            ]
        )
    out = Rotation()
    failed: list[str] = []
    with transaction.atomic():
        rows = (
            WebsiteConfig.objects.select_for_update()
            .exclude(api_password_encrypted="")
            .select_related("website")
            .order_by("pk")
        )
        for row in rows:
            try:
                token = reencrypt(row.api_password_encrypted, old_key)
            except ConfigurationError:
                failed.append(row.website.code)
                continue
            if token is None:
                out.already_current.append(row.website.code)
                continue
            row.api_password_encrypted = token
            row.save(update_fields=["api_password_encrypted", "updated_at"])
            out.rotated.append(row.website.code)
        if failed:  # raised inside the transaction: nothing is changed
            raise ConfigurationError(
                [
                    f"website {code}'s stored API password decrypts with neither the old key nor the "
                    "current one; nothing was changed. Check the old key, or set that website's password "
                    "again in the admin and run rotate-key again"
                    for code in failed
                ]
            )
    return out

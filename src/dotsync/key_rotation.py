"""Move every stored secret (API passwords, dynamic-content passcodes) to the current key (rotate-key)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from dotsync.crypto import SET_KEY_HINT, current_key, reencrypt, uses_default_key
from dotsync.exceptions import ConfigurationError

SECRET_COLUMNS: dict[str, str] = {
    "api_password_encrypted": "API password",
    "edc_passcode_encrypted": "dynamic-content passcode",
}
"""The encrypted columns of ``dotsync_website_config`` and what each holds."""


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
    failed: list[tuple[str, str]] = []
    with transaction.atomic():
        rows = (
            WebsiteConfig.objects.select_for_update()
            .exclude(Q(api_password_encrypted="") & Q(edc_passcode_encrypted=""))
            .select_related("website")
            .order_by("pk")
        )
        for row in rows:
            changed: list[str] = []
            row_failed = False
            for column, what in SECRET_COLUMNS.items():
                stored = getattr(row, column)
                if not stored:
                    continue
                try:
                    token = reencrypt(stored, old_key)
                except ConfigurationError:
                    failed.append((row.website.code, what))
                    row_failed = True
                    continue
                if token is not None:
                    setattr(row, column, token)
                    changed.append(column)
            if row_failed:
                continue
            if not changed:
                out.already_current.append(row.website.code)
                continue
            row.save(update_fields=[*changed, "updated_at"])
            out.rotated.append(row.website.code)
        if failed:  # raised inside the transaction: nothing is changed
            raise ConfigurationError(
                [
                    f"website {code}'s stored {what} decrypts with neither the old key nor the "
                    f"current one; nothing was changed. Check the old key, or set that website's {what} "
                    "again in the admin and run rotate-key again"
                    for code, what in failed
                ]
            )
    return out

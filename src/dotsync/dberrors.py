"""Name the default database in messages, without credentials (used by the CLI and the demo)."""

from __future__ import annotations


def database_label() -> str:
    """Where the default database is, without credentials (for messages)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "sqlite" in db["ENGINE"]:
        return str(db["NAME"])
    return f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}"

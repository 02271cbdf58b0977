"""Sandbox account passwords: stored as salted scrypt hashes, compared in constant time.

A stored value reads ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``. Databases written by older sandboxes
hold plain passwords; :func:`migrate` hashes them when the store is opened.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading

PREFIX = "scrypt$"
N, R, P = 2**14, 8, 1
_verified: set[tuple[str, bytes]] = set()
_lock = threading.Lock()


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)


def hash_password(password: str) -> str:
    """A new salted hash of ``password``."""
    salt = os.urandom(16)
    return f"{PREFIX}{N}${R}${P}${salt.hex()}${_derive(password, salt, N, R, P).hex()}"


def is_hashed(stored: str) -> bool:
    """Whether ``stored`` is a hash made by :func:`hash_password` (else an old plain password)."""
    return stored.startswith(PREFIX) and stored.count("$") == 5


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (constant-time comparison).

    Every API call authenticates, and scrypt is slow on purpose, so successful checks are remembered in
    memory (keyed by the stored hash and a digest of the password) for the life of the process.
    """
    if not is_hashed(stored):
        return False
    memo = (stored, hashlib.sha256(password.encode("utf-8")).digest())
    with _lock:
        if memo in _verified:
            return True
    try:
        _, n, r, p, salt, digest = stored.split("$")
        ok = hmac.compare_digest(_derive(password, bytes.fromhex(salt), int(n), int(r), int(p)).hex(), digest)
    except ValueError:
        return False
    if ok:
        with _lock:
            if len(_verified) > 10_000:  # resets make new hashes; keep the memo small
                _verified.clear()
            _verified.add(memo)
    return ok


def migrate(conn: sqlite3.Connection) -> int:
    """Hash every plain password left by an older sandbox; returns how many were hashed."""
    rows = conn.execute("SELECT id, password FROM accounts").fetchall()
    plain = [(hash_password(str(pw)), account_id) for account_id, pw in rows if not is_hashed(str(pw))]
    if plain:
        conn.executemany("UPDATE accounts SET password = ? WHERE id = ?", plain)
    return len(plain)

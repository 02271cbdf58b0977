"""What ``dotsync status`` and the admin warn about in the configuration."""

from __future__ import annotations

from dotsync.accounts import RunContext
from dotsync.config import global_problems
from dotsync.crypto import default_key_warning


def configuration_warnings() -> list[str]:
    """One line per warning: the public default encryption key, and every problem of the global settings.

    Also the problems of each website the jobs would run for, which they refuse until fixed.
    """
    out = [w for w in (default_key_warning(),) if w]
    out += [f"every website is refused until this is fixed: {p}" for p in global_problems()]
    for website in RunContext.resolve().enabled:
        cfg = website.cfg
        out += [f"website {cfg.website_code} is refused: {p}" for p in cfg.problems(include_global=False)]
    return out

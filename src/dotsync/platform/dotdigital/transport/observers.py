"""Call observers: how layers above the platform client count its calls without it knowing them.

The transport tells every registered :class:`CallObserver` about each request it sends (with the
answer's status), each retry and each wait the rate limiter imposed. ``dotsync.web.metrics`` registers
one that feeds Prometheus counters; the platform package itself imports nothing of Prometheus or of
dotsync's other layers (import-linter's ``platform-pure`` contract).

An observer that raises is logged and otherwise ignored: counting never breaks a call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

logger = logging.getLogger(__name__)

UNREACHABLE = "unreachable"
"""The status reported for a request that got no HTTP answer (connect error, timeout...)."""


class CallObserver(Protocol):
    """What the transport reports. Implementations must be cheap and thread-safe."""

    def call(self, operation: str, status: str) -> None:
        """One request sent for ``operation``, answered with HTTP ``status`` (or :data:`UNREACHABLE`)."""

    def retry(self, operation: str) -> None:
        """One retry of ``operation`` scheduled."""

    def rate_limit_wait(self, operation: str, seconds: float) -> None:
        """The rate limiter held ``operation`` back for ``seconds`` before sending it."""


_observers: list[CallObserver] = []


def add_observer(observer: CallObserver) -> None:
    """Register ``observer`` (once: registering the same object again does nothing)."""
    if observer not in _observers:
        _observers.append(observer)


def remove_observer(observer: CallObserver) -> None:
    """Unregister ``observer`` if it is registered."""
    if observer in _observers:
        _observers.remove(observer)


def _each(method: str, *args: object) -> None:
    for observer in list(_observers):
        try:
            getattr(observer, method)(*args)
        except Exception:  # counting never breaks a call
            logger.exception("call observer %r failed in %s", observer, method)


def notify_call(operation: str, status: str, local: Sequence[CallObserver] = ()) -> None:
    """Tell every observer that a request for ``operation`` was answered with ``status``.

    ``local`` are one transport's own observers (:attr:`Transport.observers`, e.g. the per-account
    usage counter ``dotsync.usage`` registers); they are told after the process-wide ones.
    """
    if _observers:
        _each("call", operation, status)
    for observer in local:
        try:
            observer.call(operation, status)
        except Exception:  # counting never breaks a call
            logger.exception("call observer %r failed in call", observer)


def notify_retry(operation: str) -> None:
    """Tell every observer that ``operation`` will be retried."""
    if _observers:
        _each("retry", operation)


def notify_rate_limit_wait(operation: str, seconds: float) -> None:
    """Tell every observer that the rate limiter held ``operation`` back for ``seconds``."""
    if _observers and seconds > 0:
        _each("rate_limit_wait", operation, seconds)

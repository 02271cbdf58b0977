"""What an import mode is: the :class:`Operation` dataclass the importer dispatches on.

One :class:`Operation` per ``email_importer.import_mode`` (the declarations are in :mod:`.operations`)
says everything the importer needs to know about the mode: the shape of its payload, how a row is
started, how its import is polled and confirmed, which platform limit it counts against, and whether
a rejected batch can be split. :mod:`.start`, :mod:`.poll`, :mod:`.bisect` and :mod:`.fairness` read
only this, never the mode's string.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from dotsync.config import WebsiteSettings
    from dotsync.jobs.queue import Envelope
    from dotsync.models import Importer
    from dotsync.platform.dotdigital import DotdigitalClient

P = TypeVar("P")


class Kind(StrEnum):
    """What a row of the mode is on the platform, and so which cap it counts against."""

    CONTACT_IMPORT = "contact"
    """A bulk contact import (the platform runs at most 25 per account)."""
    INSIGHT_IMPORT = "insight"
    """A bulk insight import (at most 5 per account)."""
    CALL = "single"
    """One or two synchronous calls: no import to poll, no cap."""


@dataclass(frozen=True)
class Started:
    """What a start returned: a bulk import's id, or a call's note (the call is then settled at once)."""

    import_id: str = ""
    note: str = ""


@dataclass(frozen=True)
class Progress:
    """A bulk import's state on the platform, as one poll saw it.

    Attributes:
        status: the platform's status string.
        finished: the import is done (its records are to be settled).
        failed: the platform failed the whole import (a new one is started later, up to a limit).
        detail: what the mode's ``confirm`` needs from the status answer (insight: its failures).
    """

    status: str
    finished: bool = False
    failed: bool = False
    detail: Any = None


Start = Callable[["DotdigitalClient", "Importer", "WebsiteSettings"], Started]
"""Send a claimed row: ``(client, row, the row's website settings) -> Started``. Raise on failure."""


@dataclass(frozen=True)
class Operation(Generic[P]):
    """One import mode, declared once.

    Attributes:
        mode: the ``import_mode`` value stored on the row.
        payload: the payload's ``TypedDict`` (declared in :mod:`.operations`).
        kind: contact import, insight import or call.
        platform_cap: the platform's concurrent-import limit per account for this kind (None: calls).
        start: how a claimed row is sent. A start reads the row's payload itself: an insight batch is
            sent as the stored text, without building its records as objects.
        progress: how a started import is polled (None: calls, settled when they return).
        confirm: settle a finished import's row and source rows; True when imported.
        count: how many records a payload holds (None: one).
        split: cut a rejected batch's envelope in two halves (None: it cannot be split).
        waits_for_carrier: a row is not started while an import it names in its payload's ``after``
            is unsettled (a delete or an email change of a record that import is still creating).
    """

    mode: str
    payload: type[P]
    kind: Kind
    start: Start
    platform_cap: int | None = None
    progress: Callable[[Importer, DotdigitalClient], Progress] | None = None
    confirm: Callable[[Importer, DotdigitalClient, Progress], bool] | None = None
    count: Callable[[dict[str, Any]], int] | None = None
    split: Callable[[Envelope], tuple[Envelope, Envelope]] | None = None
    waits_for_carrier: bool = False

    @property
    def splittable(self) -> bool:
        """True when a rejected batch of this mode is bisected rather than failed."""
        return self.split is not None

    @property
    def is_import(self) -> bool:
        """True for bulk imports (polled, capped); False for calls."""
        return self.kind is not Kind.CALL

"""Cards an area sends unasked (a unit's window, a life event, an announcement): what each kind
of outbox row reads when it is sent, and how its card looks. Delivery takes them from the areas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.i18n import Texts
from bot.notifications.delivery import AfterSending, Lookup

Card = dict[str, Any]
Found = TypeVar("Found")


@dataclass(frozen=True)
class Unasked(Generic[Found]):
    """One kind of outbox row: a domain lookup (None: nothing to tell any more), the area's card
    for what it found, and what the domain records once it has been sent."""

    lookup: Lookup[Found]
    card: Callable[[Texts, Found], Card]
    after_sending: AfterSending | None = None


class KindClaimedTwice(ValueError):
    """Two areas would render the same kind of outbox row."""


def unasked_by_kind(areas: Iterable[Mapping[str, Unasked[Any]]]) -> dict[str, Unasked[Any]]:
    """Every area's kinds in one table, each kind owned by one area."""
    found: dict[str, Unasked[Any]] = {}
    for area in areas:
        for kind, unasked in area.items():
            if kind in found:
                raise KindClaimedTwice(f"two areas send {kind!r} cards")
            found[kind] = unasked
    return found

"""Which area a message opens, and with what: each area declares it, the router asks them all.

A message that opens an area leaves whatever conversation was going on; a message that opens
nothing belongs to the dialog waiting for it. The one exception is declared by the area itself:
a card of its own flow, pressed while that flow waits, goes to the flow (`unless_waiting`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.dialogs.actions import VERB_KEY, Verb
from bot.dialogs.intents import Intent


@dataclass(frozen=True)
class Opening:
    """The area a message opens (by the verb of its menu button) and what the area is told."""

    verb: Verb
    options: dict[str, Any] | None = None
    # The id of the area's dialog that takes the message itself when it is the one waiting.
    unless_waiting: str | None = None

    def menu_options(self) -> dict[str, Any]:
        """What the main menu is started with when the area has no dialog of its own."""
        return {VERB_KEY: self.verb.value}


Opens = Callable[[Intent], Opening | None]


class Router:
    """Asks each area in turn whether a message opens it; the first that says so wins."""

    def __init__(self, openings: Iterable[Opens]) -> None:
        self._openings = tuple(openings)
        if not self._openings:
            raise ValueError("a router without areas opens nothing")

    def opening(self, intent: Intent, waiting: str | None = None) -> Opening | None:
        """The area the message opens, or None: it belongs to the dialog that is waiting."""
        for opens in self._openings:
            opening = opens(intent)
            if opening is not None:
                return None if waiting and opening.unless_waiting == waiting else opening
        return None

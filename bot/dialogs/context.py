"""Per-turn values the handler prepares for dialogs."""

from __future__ import annotations

from botbuilder.core import TurnContext

from bot.i18n import Texts, texts

TEXTS_KEY = "puhelinbotti.texts"
CONTACT_KEY = "puhelinbotti.contact"


def texts_of(turn_context: TurnContext) -> Texts:
    """The texts of the language resolved for this turn (Finnish if none was)."""
    found = turn_context.turn_state.get(TEXTS_KEY)
    return found if isinstance(found, Texts) else texts(turn_context.activity.locale)

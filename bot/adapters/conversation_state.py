"""ConversationState that takes its item from the turn's first query and encodes it once.

Upstream `BotState` (botbuilder-core 4.17.1) reads the item with a query of its own, then hashes
the state with a jsonpickle `Pickler` on load, again to see whether it changed and again after
saving, and the storage encodes it a fourth time. Here the item can be handed over from the
query that starts the turn, and a change is seen by comparing the text we would store with the
text we read, so a turn encodes its state once and writes it only if that text differs.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.bot_state import CachedBotState

from bot.adapters.state_storage import SqlStorage, decode_item, encode_item


class _StoredState(CachedBotState):
    """The turn's state and the exact text it was stored as ("" when there was none)."""

    def __init__(self, state: dict[str, Any], stored_text: str) -> None:
        self.state = state
        self.stored_text = stored_text
        self.hash = stored_text

    @property
    def is_changed(self) -> bool:
        return encode_item(self.state) != self.stored_text


class TurnConversationState(ConversationState):
    """Conversation state on `SqlStorage`, preloadable and encoded once per save."""

    def __init__(self, storage: SqlStorage) -> None:
        super().__init__(storage)
        self._sql = storage

    def preload(self, turn_context: TurnContext, etag: str | None, data: str | None) -> None:
        """Hand over the stored row (or its absence) so `load` needs no query of its own."""
        state = decode_item(data, etag) if data is not None and etag is not None else {}
        turn_context.turn_state[self._context_service_key] = _StoredState(state, data or "")

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        if isinstance(cached, _StoredState) and not force:
            return
        key = self.get_storage_key(turn_context)
        stored = await self._sql.read_stored(key)
        etag, data = stored if stored else (None, None)
        self.preload(turn_context, etag, data)

    async def save_changes(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        if cached is None:
            return
        text = encode_item(cached.state)
        if not force and isinstance(cached, _StoredState) and text == cached.stored_text:
            return
        await self._sql.write_encoded(self.get_storage_key(turn_context), cached.state, text)
        turn_context.turn_state[self._context_service_key] = _StoredState(cached.state, text)

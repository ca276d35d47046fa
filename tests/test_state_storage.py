"""Contract of the database-backed Bot Framework storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from botbuilder.core import ConversationState, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from sqlalchemy import text

from bot.adapters.conversation_state import TurnConversationState
from bot.adapters.state_storage import EtagConflictError, SqlStorage, UntrustedStateError
from bot.db.engine import create_session_factory
from tests.support.clock import TEST_NOW


@pytest.fixture
def storage(engine):
    return SqlStorage(create_session_factory(engine), lambda: TEST_NOW)


async def test_reading_nothing_returns_nothing(storage):
    assert await storage.read([]) == {}
    assert await storage.read(["missing"]) == {}


async def test_written_item_comes_back_with_an_etag(storage):
    await storage.write({"user/1": {"name": "Maija", "count": 1}})
    item = (await storage.read(["user/1"]))["user/1"]
    assert item["name"] == "Maija" and item["count"] == 1
    assert item["e_tag"]


async def test_write_with_current_etag_succeeds_and_changes_etag(storage):
    await storage.write({"k": {"v": 1}})
    first = (await storage.read(["k"]))["k"]
    original_etag = first["e_tag"]
    first["v"] = 2
    await storage.write({"k": first})
    second = (await storage.read(["k"]))["k"]
    assert second["v"] == 2
    assert second["e_tag"] != original_etag
    assert first["e_tag"] == second["e_tag"], "writer's item carries the new eTag after a write"


async def test_two_saves_in_one_turn_do_not_conflict_with_themselves(storage):
    await storage.write({"k": {"v": 1}})
    item = (await storage.read(["k"]))["k"]
    item["v"] = 2
    await storage.write({"k": item})
    item["v"] = 3
    await storage.write({"k": item})
    assert (await storage.read(["k"]))["k"]["v"] == 3


async def test_stale_etag_is_a_conflict_and_changes_nothing(storage):
    await storage.write({"k": {"v": 1}})
    mine = (await storage.read(["k"]))["k"]
    theirs = (await storage.read(["k"]))["k"]
    theirs["v"] = "theirs"
    await storage.write({"k": theirs})
    mine["v"] = "mine"
    with pytest.raises(EtagConflictError):
        await storage.write({"k": mine})
    assert (await storage.read(["k"]))["k"]["v"] == "theirs"


async def test_conflict_in_a_batch_rolls_back_the_whole_batch(storage):
    await storage.write({"a": {"v": 1}, "b": {"v": 1}})
    stale = (await storage.read(["b"]))["b"]
    await storage.write({"b": {"v": 2, "e_tag": "*"}})
    with pytest.raises(EtagConflictError):
        await storage.write({"a": {"v": "new"}, "b": stale})
    assert (await storage.read(["a"]))["a"]["v"] == 1


async def test_wildcard_etag_overwrites(storage):
    await storage.write({"k": {"v": 1}})
    await storage.write({"k": {"v": 2, "e_tag": "*"}})
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_concurrent_writers_with_the_same_etag_exactly_one_wins(storage):
    await storage.write({"k": {"n": 0}})
    readers = [(await storage.read(["k"]))["k"] for _ in range(8)]
    for index, item in enumerate(readers):
        item["n"] = index + 1

    async def attempt(item):
        try:
            await storage.write({"k": item})
            return True
        except EtagConflictError:
            return False

    results = await asyncio.gather(*(attempt(item) for item in readers))
    assert results.count(True) == 1
    winner = readers[results.index(True)]["n"]
    assert (await storage.read(["k"]))["k"]["n"] == winner


async def test_concurrent_first_writes_with_etags_detect_each_other(storage):
    async def attempt(value):
        try:
            await storage.write({"new": {"v": value, "e_tag": "from-elsewhere"}})
            return True
        except EtagConflictError:
            return False

    results = await asyncio.gather(*(attempt(n) for n in range(4)))
    assert results.count(True) >= 1
    assert len(await storage.read(["new"])) == 1


async def test_delete_removes_items_and_ignores_missing(storage):
    await storage.write({"a": {"v": 1}, "b": {"v": 2}})
    await storage.delete(["a", "missing"])
    assert set(await storage.read(["a", "b"])) == {"b"}


async def test_store_item_objects_round_trip(storage):
    await storage.write({"obj": StoreItem(count=3)})
    item = (await storage.read(["obj"]))["obj"]
    assert item.count == 3 and item.e_tag


async def test_dialog_state_objects_round_trip(storage):
    state = DialogState([DialogInstance("main", {"values": {"step": 1}})])
    await storage.write({"dialog": {"DialogState": state}})
    restored = (await storage.read(["dialog"]))["dialog"]["DialogState"]
    assert isinstance(restored, DialogState)
    assert restored.dialog_stack[0].id == "main"


async def test_state_naming_a_foreign_class_is_refused(storage, engine):
    await storage.write({"evil": {"v": 1}})
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE bot_state SET data = :d WHERE key = 'evil'"),
            {"d": '{"x": {"py/object": "subprocess.Popen"}}'},
        )
    with pytest.raises(UntrustedStateError):
        await storage.read(["evil"])


async def test_conversation_state_saves_through_the_storage(storage):
    adapter = TestAdapter()
    activity = Activity(
        type="message",
        channel_id="msteams",
        conversation=ConversationAccount(id="conv-1"),
        from_property=ChannelAccount(id="user-1"),
        recipient=ChannelAccount(id="bot"),
    )
    state = ConversationState(storage)
    counter = state.create_property("counter")
    for expected in (1, 2):
        context = TurnContext(adapter, activity)
        value = await counter.get(context, lambda: {"n": 0})
        await counter.set(context, {"n": value["n"] + 1})
        await state.save_changes(context)
        assert value["n"] + 1 == expected
    keys = await storage.read(["msteams/conversations/conv-1"])
    assert keys["msteams/conversations/conv-1"]["counter"] == {"n": 2}


def turn_of(conversation_id: str) -> TurnContext:
    return TurnContext(
        TestAdapter(),
        Activity(
            type="message",
            channel_id="msteams",
            conversation=ConversationAccount(id=conversation_id),
            from_property=ChannelAccount(id="user-1"),
            recipient=ChannelAccount(id="bot"),
        ),
    )


async def count_increments(state: TurnConversationState, context: TurnContext) -> None:
    counter = state.create_property("counter")
    value = await counter.get(context, lambda: {"n": 0})
    await counter.set(context, {"n": value["n"] + 1})
    await state.save_changes(context)


async def test_turn_state_counts_across_turns_and_reads_what_upstream_wrote(storage):
    upstream = ConversationState(storage)
    ours = TurnConversationState(storage)
    await count_increments(upstream, turn_of("c"))
    for _ in range(2):
        await count_increments(ours, turn_of("c"))
    await count_increments(upstream, turn_of("c"))
    stored = await storage.read(["msteams/conversations/c"])
    assert stored["msteams/conversations/c"]["counter"] == {"n": 4}


async def test_an_unchanged_turn_state_is_not_written(storage, engine):
    state = TurnConversationState(storage)
    await count_increments(state, turn_of("c"))
    etag = (await storage.read_stored("msteams/conversations/c"))[0]
    context = turn_of("c")
    await state.create_property("counter").get(context, lambda: {"n": 0})
    await state.save_changes(context)
    assert (await storage.read_stored("msteams/conversations/c"))[0] == etag


async def test_preloaded_turn_state_needs_no_read_and_keeps_its_etag(storage):
    state = TurnConversationState(storage)
    await count_increments(state, turn_of("c"))
    etag, data = await storage.read_stored("msteams/conversations/c")
    context = turn_of("c")
    state.preload(context, etag, data)
    await count_increments(state, context)
    assert (await storage.read(["msteams/conversations/c"]))["msteams/conversations/c"][
        "counter"
    ] == {"n": 2}


async def test_two_turns_racing_on_one_conversation_one_state_write_loses(storage):
    state = TurnConversationState(storage)
    await count_increments(state, turn_of("c"))
    first, second = turn_of("c"), turn_of("c")
    for context in (first, second):
        await state.load(context)
    await count_increments(state, first)
    with pytest.raises(EtagConflictError):
        await count_increments(state, second)
    stored = await storage.read(["msteams/conversations/c"])
    assert stored["msteams/conversations/c"]["counter"] == {"n": 2}


async def test_cleared_turn_state_is_written_when_forced(storage):
    state = TurnConversationState(storage)
    await count_increments(state, turn_of("c"))
    context = turn_of("c")
    await state.load(context)
    await state.clear_state(context)
    await state.save_changes(context, force=True)
    stored = await storage.read(["msteams/conversations/c"])
    assert "counter" not in stored["msteams/conversations/c"]

"""Our reading of incoming activities gives exactly what msrest's `Activity().deserialize()` gives,
and fails exactly where it fails."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from botbuilder.schema import Activity
from hypothesis import given, settings
from hypothesis import strategies as st
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot.adapters.botframework.wire import deserialize_activity
from tests.support import activities
from tests.support.activities import TeamsUser

URL = "https://smba.trafficmanager.net/emea/"
USER = TeamsUser("00000000-0000-4000-8000-000000000001", "Aino Ääkkönen")
OTHER = TeamsUser("00000000-0000-4000-8000-000000000002", "Olli")


def state(value: Any) -> Any:
    """Everything an object holds, recursively, with its type: equal states, equal objects."""
    if isinstance(value, Model):
        return (type(value).__name__, {name: state(item) for name, item in vars(value).items()})
    if isinstance(value, dict):
        return {key: state(item) for key, item in value.items()}
    if isinstance(value, list):
        return [state(item) for item in value]
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), str(value.tzinfo))
    return (type(value).__name__, value)


def with_extras() -> dict[str, Any]:
    activity = activities.channel_message(USER, URL, "<at>Puhelinbotti</at> tukikanava", "19:t")
    activity.update(
        {
            "localTimestamp": "2026-11-26T12:00:00.123+02:00",
            "timestamp": "2026-11-26T10:00:00.1234567Z",
            "replyToId": "1795731813119",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {"type": "AdaptiveCard", "body": [{"text": "x", "n": 1.5}]},
                }
            ],
            "suggestedActions": {"to": ["29:a"], "actions": [{"type": "imBack", "value": "x"}]},
            "textFormat": "plain",
            "somethingNew": {"nested": [1, None, True]},
            "value": {"list": [None, 1, 2.5, "x", {"deep": False}], "none": None},
        }
    )
    return activity


CORPUS = {
    "message": activities.message(USER, URL, "hei"),
    "card submit": activities.message(USER, URL, "", {"verb": "area.helpdesk", "n": 3}),
    "installation": activities.installation_added(USER, URL),
    "conversation update": activities.bot_added(USER, URL),
    "members event": activities.team_members_event(USER, URL, "19:t", added=(OTHER,)),
    "action execute": activities.card_action(USER, URL, "ticket.take", {"ticket": 1}),
    "channel action": activities.channel_card_action(
        USER,
        URL,
        "ticket.reply",
        {"ticket_reply": "ok"},
        team_id="19:t",
        channel_id="19:c",
        thread_id="19:c;messageid=1",
    ),
    "everything": with_extras(),
}


@pytest.mark.parametrize("name", CORPUS)
def test_reads_as_msrest_does(name: str) -> None:
    body = CORPUS[name]
    ours = deserialize_activity(copy.deepcopy(body))
    theirs = Activity().deserialize(copy.deepcopy(body))
    assert state(ours) == state(theirs)


def test_a_mention_keeps_its_text_where_msrest_puts_it() -> None:
    activity = deserialize_activity(CORPUS["everything"])
    assert activity.entities[0].type == "mention"
    assert activity.entities[0].additional_properties["text"] == "<at>Puhelinbotti</at>"
    assert activity.additional_properties == {"somethingNew": {"nested": [1, None, True]}}


def test_values_are_copied_not_shared() -> None:
    body = CORPUS["card submit"]
    activity = deserialize_activity(body)
    activity.value["n"] = 99
    assert body["value"]["n"] == 3


UNUSUAL = {
    "number as text": {"text": 5},
    "text as bool": {"text": True},
    "flag as string": {"conversation": {"id": "a", "isGroup": "true"}},
    "number as float": {"channelData": {"x": 1}, "attachments": [{"contentType": 1}]},
}
MALFORMED = {
    "attachments not a list": {"attachments": "x"},
    "from not an object": {"from": "29:a"},
    "a bad date": {"timestamp": "yesterday"},
    "entities of strings": {"entities": ["mention"]},
}


@pytest.mark.parametrize("name", UNUSUAL)
def test_unusual_values_are_read_as_msrest_reads_them(name: str) -> None:
    body = {**activities.message(USER, URL, "hei"), **UNUSUAL[name]}
    assert state(deserialize_activity(copy.deepcopy(body))) == state(
        Activity().deserialize(copy.deepcopy(body))
    )


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_activities_fail_as_msrest_fails(name: str) -> None:
    body = {**activities.message(USER, URL, "hei"), **MALFORMED[name]}
    with pytest.raises(DeserializationError):
        Activity().deserialize(copy.deepcopy(body))
    with pytest.raises(DeserializationError):
        deserialize_activity(copy.deepcopy(body))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from(
    ["text", "value", "channelData", "entities", "from", "conversation", "attachments", "name"]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=4))
def test_any_json_in_any_field_reads_or_fails_as_msrest(fields: dict[str, Any]) -> None:
    body = {**activities.message(USER, URL, "hei"), **fields}
    try:
        theirs = Activity().deserialize(copy.deepcopy(body))
    except DeserializationError:
        with pytest.raises(DeserializationError):
            deserialize_activity(copy.deepcopy(body))
        return
    assert state(deserialize_activity(copy.deepcopy(body))) == state(theirs)


def test_ordinary_activities_never_need_msrest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cause of 0.3 ms per turn: msrest's Deserializer built and walked for every activity."""

    def refuse(cls: type, data: Any, content_type: str | None = None) -> None:
        raise AssertionError("fell back to msrest")

    monkeypatch.setattr(Activity, "deserialize", classmethod(refuse))
    for body in CORPUS.values():
        assert deserialize_activity(copy.deepcopy(body)).type

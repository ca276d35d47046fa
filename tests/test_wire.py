"""Our serialisation of schema models gives exactly what msrest's `Model.serialize()` gives."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import botbuilder.schema
import botbuilder.schema.teams
import pytest
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    SuggestedActions,
)
from botbuilder.schema.teams import TeamInfo, TeamsChannelData, TenantInfo
from hypothesis import given, settings
from hypothesis import strategies as st
from msrest.exceptions import SerializationError
from msrest.serialization import Model

from bot.adapters.botframework.wire import serialize_model
from bot.dialogs.replies import card_activity
from tests.support.card_gallery import every_card

INCOMING = Activity(
    type=ActivityTypes.message,
    id="1",
    channel_id="msteams",
    service_url="https://smba.trafficmanager.net/emea/",
    from_property=ChannelAccount(id="29:a", name="Aino", aad_object_id="aad-1"),
    recipient=ChannelAccount(id="28:bot", name="Puhelinbotti"),
    conversation=ConversationAccount(
        id="a:1", conversation_type="personal", tenant_id="tenant", is_group=False
    ),
    locale="fi-FI",
)


def reply(activity: Activity) -> Activity:
    """An outgoing activity addressed the way the adapter addresses replies."""
    reference = TurnContext.get_conversation_reference(INCOMING)
    return TurnContext.apply_conversation_reference(activity, reference)


@pytest.mark.parametrize("name,card", every_card(), ids=[name for name, _ in every_card()])
def test_every_card_activity_serialises_as_msrest_does(name: str, card: dict[str, Any]) -> None:
    activity = reply(card_activity(card))
    assert serialize_model(activity) == activity.serialize()


class Mood(Enum):
    HAPPY = "happy"


ODD_ACTIVITIES = [
    reply(MessageFactory.text("Hei")),
    reply(MessageFactory.suggested_actions([CardAction(type="imBack", title="A", value="a")])),
    Activity(type="message", timestamp=datetime(2026, 11, 26, 12, 0, tzinfo=UTC)),
    Activity(type=ActivityTypes.invoke_response, value={"status": 200, "body": None}),
    Activity(
        type="message",
        channel_data=TeamsChannelData(team=TeamInfo(id="19:x"), tenant=TenantInfo(id="t")),
        entities=[Entity(type="mention"), None],
        attachments=[Attachment(content_type="x", content=[1, 2.5, True, None, {"a": None}])],
        suggested_actions=SuggestedActions(to=["a", "b"]),
    ),
    Activity(type="message", value={"mood": Mood.HAPPY, "when": datetime(2026, 1, 1)}),
    Activity(type="message", value={"price": Decimal("1.50"), 5: "five"}),
    ConversationReference(activity_id=None, bot=ChannelAccount(id="b"), channel_id="msteams"),
]


@pytest.mark.parametrize("model", ODD_ACTIVITIES)
def test_unusual_values_serialise_as_msrest_does(model: Model) -> None:
    assert serialize_model(model) == model.serialize()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=JSON, text=st.none() | st.text(max_size=20), speak=st.none() | st.text(max_size=5))
def test_any_json_in_an_activity_serialises_as_msrest_does(
    value: Any, text: str | None, speak: str | None
) -> None:
    activity = reply(
        Activity(
            type="message",
            text=text,
            speak=speak,
            value=value,
            attachments=[Attachment(content_type="application/json", content=value)],
        )
    )
    assert serialize_model(activity) == activity.serialize()


def schema_models() -> list[type[Model]]:
    return [
        model
        for module in (botbuilder.schema, botbuilder.schema.teams)
        for _, model in inspect.getmembers(module, inspect.isclass)
        if issubclass(model, Model) and model is not Model
    ]


@pytest.mark.parametrize("model_class", schema_models(), ids=lambda model: model.__name__)
def test_an_empty_model_of_every_schema_class_serialises_as_msrest_does(
    model_class: type[Model],
) -> None:
    try:
        model = model_class()
    except TypeError:
        pytest.skip(f"upstream cannot build an empty {model_class.__name__}")
    try:
        expected = model.serialize()
    except SerializationError:
        pytest.skip(f"msrest cannot serialise an empty {model_class.__name__} either")
    assert serialize_model(model) == expected


def test_a_string_where_a_list_belongs_is_refused_as_msrest_refuses_it() -> None:
    activity = Activity(type="message", attachments="not a list")
    with pytest.raises(SerializationError):
        activity.serialize()
    with pytest.raises(SerializationError):
        serialize_model(activity)

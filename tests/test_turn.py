"""The turn: who wrote and where, read once from the activity, the same for every area."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from botbuilder.schema import Activity

from bot.dialogs.turn import ChannelPlace, read_turn
from bot.i18n import texts
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest, demo_bot
from tests.support.cards import all_text
from tests.support.clock import TEST_NOW

GUEST = TeamsUser("not-used", "Vieras Käyttäjä")


def without_entra_id(activity: dict[str, Any]) -> dict[str, Any]:
    """As Teams sends it for a sender it names no Entra object for (a guest, an odd client)."""
    activity["from"].pop("aadObjectId")
    return activity


def parsed(activity: dict[str, Any]) -> Activity:
    return Activity().deserialize(activity)


def test_a_personal_message_names_its_sender_and_no_team():
    user = TeamsUser.new("Maija Meikäläinen")
    turn = read_turn(
        parsed(activities.message(user, "http://connector", "hei")), language_texts=texts("fi")
    )
    assert turn.personal
    assert not turn.from_bot
    assert turn.sender.aad_object_id == user.aad_object_id
    assert turn.sender.teams_id == user.teams_id
    assert turn.sender.actor.aad_object_id == user.aad_object_id
    assert turn.place == ChannelPlace(None, None, "http://connector", activities.TENANT_ID)


def test_a_channel_post_is_shared_and_names_its_team_and_channel():
    user = TeamsUser.new()
    activity = activities.channel_message(
        user, "http://connector", "hei", team_id="19:t", channel_id="19:c"
    )
    turn = read_turn(parsed(activity), language_texts=texts("fi"))
    assert not turn.personal
    assert (turn.place.team_id, turn.place.channel_id) == ("19:t", "19:c")


def test_a_sender_without_an_entra_id_has_none_and_acts_as_nobody():
    activity = without_entra_id(activities.message(GUEST, "http://connector", "hei"))
    turn = read_turn(parsed(activity), language_texts=texts("fi"))
    assert turn.sender.aad_object_id is None
    assert turn.sender.actor.aad_object_id == ""
    assert turn.sender.name == "Vieras Käyttäjä"


def test_speaking_another_language_keeps_everything_else():
    turn = read_turn(
        parsed(activities.message(TeamsUser.new(), "http://c", "hei")), language_texts=texts("fi")
    )
    english = turn.speaking(texts("en"))
    assert english.texts.language == "en"
    assert english.sender == turn.sender and english.place == turn.place


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with demo_bot(engine, TEST_NOW) as running:
        yield running


@pytest.mark.parametrize(
    ("verb", "key"),
    [
        ("area.my_deductions", "deductions.unknown_person"),
        ("area.helpdesk", "helpdesk.only_personal"),
        ("area.choose_phone", "phone.blocked.not_in_directory"),
    ],
)
async def test_every_area_refuses_a_sender_without_an_entra_id_the_same_way(bot, verb, key):
    """No area falls back to the Teams id: nobody without an Entra id is an employee."""
    press = activities.message(GUEST, bot.service_url, "", {"verb": verb})
    replies = await bot.turn(without_entra_id(press))
    shown = all_text(replies)
    assert " ".join(texts("fi")(key).split()) in " ".join(shown.split())

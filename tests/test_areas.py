"""Every verb a card can carry belongs to exactly one area, and the bot will not start otherwise;
every kind of card sent unasked is rendered by exactly one area."""

from __future__ import annotations

import pytest

from bot.announcements import receipts
from bot.announcements import service as announcements
from bot.deductions import service as deductions
from bot.dialogs.actions import Verb
from bot.dialogs.admin.area import AdminArea
from bot.dialogs.areas import (
    AREA_VERBS,
    UNASKED,
    VerbsNotPartitioned,
    check_partition,
    in_place_routes,
)
from bot.dialogs.helpdesk.dialog import TicketButtons
from bot.dialogs.menu.dialog import MenuInPlace
from bot.dialogs.questions.feedback import FaqFeedback
from bot.dialogs.unasked import KindClaimedTwice, Unasked, unasked_by_kind
from bot.rollout import campaigns
from tests.support.bot import running_bot


def test_the_areas_verbs_partition_every_verb():
    check_partition(AREA_VERBS)
    assert sum(len(verbs) for verbs in AREA_VERBS.values()) == len(Verb)


def test_a_verb_no_area_owns_is_named():
    without_admin = {name: verbs for name, verbs in AREA_VERBS.items() if name != "admin"}
    with pytest.raises(VerbsNotPartitioned, match=r"admin\.waves"):
        check_partition(without_admin)


def test_a_verb_two_areas_claim_is_named():
    twice = {**AREA_VERBS, "elsewhere": frozenset({Verb.MY_TURN})}
    with pytest.raises(VerbsNotPartitioned, match=r"area.my_turn \(rollout, elsewhere\)"):
        check_partition(twice)


def test_each_in_place_verb_is_answered_by_the_area_that_owns_it():
    owners = {
        "menu": MenuInPlace.in_place,
        "questions": FaqFeedback.in_place,
        "helpdesk": TicketButtons.in_place,
        "admin": AdminArea.in_place,
    }
    for area, verbs in owners.items():
        assert verbs <= AREA_VERBS[area], area


def test_two_areas_answering_one_verb_in_place_is_refused():
    with pytest.raises(VerbsNotPartitioned, match=r"menu\.open"):
        in_place_routes([MenuInPlace(), MenuInPlace()])


async def test_the_bot_does_not_start_with_a_verb_no_area_owns(engine, monkeypatch):
    without_rollout = {name: verbs for name, verbs in AREA_VERBS.items() if name != "rollout"}
    monkeypatch.setattr("bot.app.AREA_VERBS", without_rollout)
    with pytest.raises(VerbsNotPartitioned, match=r"area\.my_turn"):
        async with running_bot(engine):
            pass


def test_every_kind_the_domain_plans_has_a_card():
    planned = {
        announcements.ANNOUNCEMENT,
        receipts.ANNOUNCEMENT_REMINDER,
        campaigns.WINDOW_OPEN,
        campaigns.WINDOW_REMINDER,
        deductions.LIFE_EVENT,
    }
    assert set(UNASKED) == planned


def test_two_areas_cannot_render_the_same_kind():
    async def nothing(session, outgoing, now):
        return None

    unasked = Unasked(nothing, lambda t, found: {})
    assert unasked_by_kind([{"a": unasked}, {"b": unasked}]).keys() == {"a", "b"}
    with pytest.raises(KindClaimedTwice, match="'a'"):
        unasked_by_kind([{"a": unasked}, {"a": unasked}])

"""Numbers and ids that a card or a typed field sends, forged: a polite answer, never a 500 or a
lost conversation. Transcripts through the real HTTP app, on SQLite and PostgreSQL.

2**31 is one past PostgreSQL's integer; 10**20 one past SQLite's; "²" passes `str.isdigit` but not
`int`; 5,000 digits pass `isdigit` but are past Python's limit for converting text to a number.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.faq.models import FaqFeedback
from bot.notifications.models import Campaign
from bot.settings import Settings
from tests.support.activities import TeamsUser
from tests.support.bot import MAIJA, BotUnderTest, demo_bot
from tests.support.cards import all_text, buttons, executes

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)  # a Monday, noon in Helsinki
ADMIN = TeamsUser("00000000-0000-4000-8000-0000000000ad", "Iida Ylläpitäjä")
APOLOGY = "Pahoittelen"
TOO_BIG = [2**31, 10**20]
FORGED_NUMBERS = [*TOO_BIG, "²", "9" * 5000, True, -1, 1.5]
ANY_WISH = {"os": "any", "size": "any", "camera": "false"}


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    settings = Settings(_env_file=None, app_id="", ict_admin_ids=ADMIN.aad_object_id)
    async with demo_bot(engine, NOW, settings) as running:
        yield running


async def test_a_forged_monthly_limit_is_ignored_and_the_phone_flow_goes_on(bot):
    menu = await bot.say(MAIJA, "valikko")
    options = await bot.press(MAIJA, buttons(menu)["Valitse puhelin"])
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    for forged in ("²", "9" * 5000, str(2**31), "\uff11\uff10\uff10\uff10"):  # the last: fullwidth
        listed = await bot.press(
            MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANY_WISH, "max_monthly": forged}
        )
        text = all_text(listed)
        assert APOLOGY not in text
        assert "Apple iPhone 17" in text and "Samsung Galaxy A56" in text, "no limit applied"
    details = await bot.press(MAIJA, buttons(listed)["Samsung Galaxy A56"])
    assert "256 Gt" in all_text(details), "the conversation went on where it was"


async def test_a_real_monthly_limit_still_filters(bot):
    menu = await bot.say(MAIJA, "valikko")
    options = await bot.press(MAIJA, buttons(menu)["Valitse puhelin"])
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    listed = await bot.press(
        MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANY_WISH, "max_monthly": "0"}
    )
    text = all_text(listed)
    assert "Samsung Galaxy A56" not in text and "ei maksa sinulle mitään" in text


@pytest.mark.parametrize("question_id", [*FORGED_NUMBERS, "1.0"])
async def test_faq_feedback_with_a_forged_question_id_is_a_clear_400(bot, question_id):
    data = {"question_id": question_id, "topic": "free-choice-cost", "helpful": True}
    status, body = await bot.execute(MAIJA, "faq.feedback", data)
    assert (status, body["statusCode"]) == (200, 400)
    assert "En löytänyt kysymystä" in body["value"]["message"]
    async with bot.components.sessions() as session:
        assert list(await session.scalars(select(FaqFeedback))) == []


@pytest.mark.parametrize("question_id", TOO_BIG)
async def test_a_topic_pressed_with_a_huge_question_id_gets_feedback_that_works(bot, question_id):
    answer = await bot.press(
        MAIJA, {"verb": "faq.topic", "topic": "free-choice-cost", "question_id": question_id}
    )
    assert "Oliko tästä apua?" in all_text(answer)
    verb, data = executes(answer)["👍 Kyllä"]
    assert data["question_id"] != question_id
    status, body = await bot.execute(MAIJA, verb, data)
    assert (status, body["statusCode"]) == (200, 200)


@pytest.mark.parametrize("wave", FORGED_NUMBERS)
async def test_remind_later_with_a_forged_wave_says_it_cannot(bot, wave):
    replies = await bot.press(MAIJA, {"verb": "notify.later", "wave": wave})
    assert "en muistuta enää" in all_text(replies)
    assert APOLOGY not in all_text(replies)


@pytest.mark.parametrize("ticket", FORGED_NUMBERS)
async def test_an_answer_to_a_forged_ticket_number_is_not_yours(bot, ticket):
    replies = await bot.press(
        MAIJA, {"verb": "ticket.answer", "ticket": ticket, f"ticket_answer.{ticket}": "Hei"}
    )
    assert "ei löytynyt omista tukipyynnöistäsi" in all_text(replies)


@pytest.mark.parametrize(
    "value",
    [
        {"verb": "admin.announce_cancel", "campaign": 10**20},
        {"verb": "admin.announce_cancel", "campaign": 2**31},
        {"verb": "admin.announce_delete", "draft": 10**20},
        {"verb": "admin.announce_delete", "draft": 2**31},
        {"verb": "admin.announce_send", "token": "x", "draft": 10**20},
        {"verb": "admin.announce_send", "token": "x", "draft": 2**31},
    ],
)
async def test_forged_campaign_and_draft_numbers_show_the_announcements(bot, value):
    replies = await bot.press(ADMIN, value)
    assert "Tiedotteet" in all_text(replies)
    assert APOLOGY not in all_text(replies)
    async with bot.components.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize("draft", TOO_BIG)
async def test_editing_a_forged_draft_number_opens_an_empty_form(bot, draft):
    replies = await bot.press(ADMIN, {"verb": "admin.announce", "draft": draft})
    assert "Uusi tiedote" in all_text(replies)
    assert APOLOGY not in all_text(replies)


@pytest.mark.parametrize("waves", ["²", "9" * 5000, str(2**31), str(10**20), "1,²", "-1"])
async def test_an_announcement_to_a_forged_wave_is_a_problem_in_the_form(bot, waves):
    composed = await bot.say(ADMIN, "tiedote")
    form = {"title_fi": "Otsikko", "text_fi": "Teksti", "waves": waves}
    replies = await bot.press(ADMIN, {**buttons(composed)["Esikatsele"], **form})
    assert "tuntematon aalto" in all_text(replies)
    assert APOLOGY not in all_text(replies)

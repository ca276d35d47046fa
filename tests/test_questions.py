"""Questions in the chat: the three confidence bands, 👍/👎 in place, and ICT's report."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.faq.models import FaqFeedback, FaqQuestion
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest, running_bot
from tests.support.cards import all_text, buttons, executes

ADAPTIVE = "application/vnd.microsoft.card.adaptive"
SURE = "paljonko vapaavalintainen puhelin maksaa minulle?"
UNSURE = "mitä kahden vuoden jälkeen tapahtuu"
OFF_TOPIC = "mikä on lounaslista?"


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with running_bot(engine) as running:
        yield running


@pytest.fixture
def user() -> TeamsUser:
    return TeamsUser.new("Maija Meikäläinen")


async def questions(bot: BotUnderTest) -> list[FaqQuestion]:
    async with bot.components.sessions() as session:
        return list(await session.scalars(select(FaqQuestion).order_by(FaqQuestion.id)))


async def feedback(bot: BotUnderTest) -> list[FaqFeedback]:
    async with bot.components.sessions() as session:
        return list(await session.scalars(select(FaqFeedback)))


def invoke_text(body: dict) -> str:
    return all_text([{"attachments": [{"contentType": ADAPTIVE, "content": body["value"]}]}])


async def test_a_sure_answer_with_next_steps_and_feedback_in_place(bot, user):
    await bot.say(user, "hei")
    replies = await bot.say(user, SURE)
    assert "perusmallin" in all_text(replies)
    assert "Valitse puhelin" in buttons(replies)
    assert "Oliko tästä apua?" in all_text(replies)
    verb, data = executes(replies)["👍 Kyllä"]

    status, body = await bot.execute(user, verb, data)
    assert (status, body["statusCode"]) == (200, 200)
    assert "Kiitos palautteesta!" in invoke_text(body)
    assert "perusmallin" in invoke_text(body), "the answer stays on the card"
    assert "Oliko tästä apua?" not in invoke_text(body)

    verb, data = executes(replies)["👎 Ei"]
    await bot.execute(user, verb, data)  # a change of mind, or the old card pressed again
    (stored,) = await feedback(bot)
    assert (stored.topic_id, stored.helpful) == ("free-choice-cost", False)
    (asked,) = await questions(bot)
    assert (asked.band, asked.topic_id, asked.text) == ("answer", "free-choice-cost", SURE)


async def test_unsure_offers_the_closest_questions(bot, user):
    await bot.say(user, "hei")
    replies = await bot.say(user, UNSURE)
    assert "Tarkoititko jotain näistä?" in all_text(replies)
    offered = buttons(replies)
    assert "Ota yhteyttä tukeen" in offered
    suggestions = [data for data in offered.values() if data["verb"] == "faq.topic"]
    assert 2 <= len(suggestions) <= 3

    answer = await bot.press(user, suggestions[0])
    assert "Oliko tästä apua?" in all_text(answer)
    verb, data = executes(answer)["👍 Kyllä"]
    asked, picked = await questions(bot)
    assert asked.band == "suggest"
    assert (picked.band, picked.topic_id) == ("chosen", suggestions[0]["topic"])
    assert data["question_id"] == picked.id, "feedback belongs to the topic the asker picked"
    status, body = await bot.execute(user, verb, data)
    assert (status, body["statusCode"]) == (200, 200)


async def test_off_the_program_says_it_does_not_know_and_offers_a_person(bot, user):
    await bot.say(user, "hei")
    replies = await bot.say(user, OFF_TOPIC)
    text = all_text(replies)
    assert "En osaa vastata tähän varmasti" in text
    assert "Kysyit: mikä on lounaslista?" in text
    assert "Ota yhteyttä tukeen" in buttons(replies)
    assert "Oliko tästä apua?" not in text


async def test_english_questions_get_english_answers(bot):
    user = TeamsUser.new("James Walker", locale="en-US")
    await bot.say(user, "hello")
    replies = await bot.say(user, "how long are the salary deductions?")
    assert "Was this helpful?" in all_text(replies)
    assert "24" in all_text(replies)


async def test_typed_markdown_is_shown_back_as_plain_text(bot, user):
    await bot.say(user, "hei")
    replies = await bot.say(user, "[klikkaa](https://evil.example) lounas?")
    text = all_text(replies)
    assert "](" not in text and "[klikkaa" not in text


async def test_forged_or_stale_feedback_is_refused(bot, user):
    await bot.say(user, "hei")
    status, body = await bot.execute(
        user, "faq.feedback", {"question_id": 999, "topic": "catalog", "helpful": True}
    )
    assert (status, body["statusCode"]) == (200, 404)
    status, body = await bot.execute(
        user, "faq.feedback", {"question_id": 1, "topic": "no-such-topic", "helpful": True}
    )
    assert (status, body["statusCode"]) == (200, 404)
    status, body = await bot.execute(
        user, "faq.feedback", {"question_id": True, "topic": "catalog", "helpful": True}
    )
    assert (status, body["statusCode"]) == (200, 400)
    assert await feedback(bot) == []


async def test_feedback_on_someone_elses_answer_is_refused_and_changes_nothing(bot, user):
    await bot.say(user, "hei")
    verb, data = executes(await bot.say(user, SURE))["👍 Kyllä"]
    other = TeamsUser.new("Ville Vieras")
    await bot.say(other, "hei")
    status, body = await bot.execute(other, verb, {**data, "helpful": False})
    assert (status, body["statusCode"]) == (200, 403)
    assert body["value"]["message"] == "Palautetta voi antaa vain vastauksista omiin kysymyksiisi."
    # Guessing the topic tells the other person nothing: the same answer whatever the topic.
    for guess in ("rollout-schedule", data["topic"]):
        status, body = await bot.execute(other, verb, {**data, "topic": guess})
        assert (status, body["statusCode"]) == (200, 403)
    assert await feedback(bot) == []
    status, body = await bot.execute(user, verb, data)
    assert (status, body["statusCode"]) == (200, 200), "the asker's own press still counts"
    (asked,) = await questions(bot)
    assert asked.asker_aad == user.aad_object_id


async def test_feedback_for_a_topic_other_than_the_one_answered_is_refused(bot, user):
    await bot.say(user, "hei")
    verb, data = executes(await bot.say(user, SURE))["👍 Kyllä"]
    status, body = await bot.execute(user, verb, {**data, "topic": "rollout-schedule"})
    assert (status, body["statusCode"]) == (200, 404)
    assert body["value"]["message"].startswith("En löytänyt kysymystä")
    assert await feedback(bot) == []


async def test_a_copied_suggestion_gives_feedback_on_ones_own_question_only(bot, user):
    await bot.say(user, "hei")
    suggestions = [
        data
        for data in buttons(await bot.say(user, UNSURE)).values()
        if data["verb"] == "faq.topic"
    ]
    other = TeamsUser.new("Ville Vieras")
    await bot.say(other, "hei")
    verb, data = executes(await bot.press(other, suggestions[0]))["👎 Ei"]
    status, body = await bot.execute(other, verb, data)
    assert (status, body["statusCode"]) == (200, 200)
    (given,) = await feedback(bot)
    asked = {question.id: question for question in await questions(bot)}
    assert asked[given.question_id].asker_aad == other.aad_object_id
    assert asked[given.question_id].band == "chosen"


async def test_a_forged_topic_press_gets_the_ask_card_not_an_error(bot, user):
    await bot.say(user, "hei")
    for forged in ({"topic": ["catalog"]}, {"topic": "catalog", "question_id": True}):
        replies = await bot.press(user, {"verb": "faq.topic", **forged})
        assert "Pahoittelen" not in all_text(replies)


async def test_feedback_on_two_suggested_topics_is_kept_apart(bot, user):
    await bot.say(user, "hei")
    suggestions = [
        data
        for data in buttons(await bot.say(user, UNSURE)).values()
        if data["verb"] == "faq.topic"
    ]
    for data, helpful in ((suggestions[0], "👎 Ei"), (suggestions[1], "👍 Kyllä")):
        verb, payload = executes(await bot.press(user, data))[helpful]
        await bot.execute(user, verb, payload)
    assert sorted(row.helpful for row in await feedback(bot)) == [False, True]


async def test_the_questions_area_invites_a_question(bot, user):
    menu = await bot.say(user, "valikko")
    replies = await bot.press(user, buttons(menu)["Kysymykset ja vastaukset"])
    assert "Kirjoita kysymyksesi omin sanoin" in all_text(replies)
    common = [data for data in buttons(replies).values() if data["verb"] == "faq.topic"]
    answer = await bot.press(user, common[0])
    assert "Oliko tästä apua?" in all_text(answer)
    (chosen,) = await questions(bot)
    assert chosen.band == "chosen"


async def test_the_report_lists_what_the_bot_could_not_answer_most_asked_first(
    sqlite_engine, user, monkeypatch, capsys
):
    async with running_bot(sqlite_engine) as bot:
        await bot.say(user, "hei")
        for question in (OFF_TOPIC, "Mikä on lounaslista", OFF_TOPIC, "pikkujoulut?", SURE):
            await bot.say(user, question)
    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    assert await asyncio.to_thread(main, ["faq", "report"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "lounaslista" in line or "pikkujoulut" in line]
    assert "3 ×" in lines[0] and "lounaslista" in lines[0].casefold()
    assert "pikkujoulut" in lines[1]
    assert SURE not in out

"""Transcripts of a person's first conversation with the bot, through the real HTTP endpoint."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.conversations.models import ConversationReferenceRecord
from bot.directory.models import Employee
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.cards import all_text, buttons, cards, executes


async def test_new_user_who_greets_gets_welcome_then_menu(bot):
    user = TeamsUser.new("Maija Meikäläinen")
    replies = await bot.say(user, "hei")
    assert "Hei Maija, olen Puhelinbotti!" in all_text(replies)
    assert "Mitä haluat tehdä?" in all_text(replies)
    assert "En ymmärtänyt" not in all_text(replies)
    assert set(buttons(replies)) >= {
        "Valitse puhelin",
        "Kysymykset ja vastaukset",
        "Omat vähennykset",
        "Yksikköni vuoro",
        "Ota yhteyttä tukeen",
    }


async def test_welcome_is_sent_only_once(bot):
    user = TeamsUser.new()
    await bot.say(user, "hei")
    replies = await bot.say(user, "hei")
    assert "olen Puhelinbotti" not in all_text(replies)
    assert "Mitä haluat tehdä?" in all_text(replies)


async def test_installing_the_app_sends_welcome_and_menu(bot):
    user = TeamsUser.new("Pekka Virtanen")
    replies = await bot.turn(activities.installation_added(user, bot.service_url))
    assert "Hei Pekka" in all_text(replies)
    assert "Mitä haluat tehdä?" in all_text(replies)
    again = await bot.turn(activities.bot_added(user, bot.service_url))
    assert again == [], "the conversationUpdate that follows an install must not welcome twice"


async def test_every_menu_area_is_built(bot):
    user = TeamsUser.new()
    menu = await bot.say(user, "valikko")
    for area in (
        "Valitse puhelin",
        "Kysymykset ja vastaukset",
        "Omat vähennykset",
        "Yksikköni vuoro",
        "Ota yhteyttä tukeen",
    ):
        replies = await bot.press(user, buttons(menu)[area])
        assert replies, area
        assert "tulossa pian" not in all_text(replies), area


async def test_menu_button_from_an_old_card_works_without_an_active_dialog(bot):
    user = TeamsUser.new()
    menu = await bot.say(user, "valikko")
    await bot.press(user, buttons(menu)["Ota yhteyttä tukeen"])
    replies = await bot.press(user, buttons(menu)["Kysymykset ja vastaukset"])
    assert "Kysy minulta" in all_text(replies)


async def test_a_question_off_the_program_gets_no_guess_but_the_helpdesk(bot):
    user = TeamsUser.new()
    await bot.say(user, "hei")
    replies = await bot.say(user, "mikä on lounaslista?")
    text = all_text(replies)
    assert "En osaa vastata tähän varmasti" in text
    assert "Kysyit: mikä on lounaslista?" in text
    assert {"Ota yhteyttä tukeen", "Päävalikko"} <= set(buttons(replies))


async def test_text_while_the_menu_waits_is_taken_as_a_question(bot):
    user = TeamsUser.new()
    await bot.say(user, "valikko")
    replies = await bot.say(user, "blaa blaa")
    assert "En osaa vastata tähän varmasti" in all_text(replies)
    assert len(cards(replies)) == 1


async def test_teams_locale_chooses_english(bot):
    user = TeamsUser.new("Anna Smith", locale="en-US")
    replies = await bot.say(user, "hello")
    assert "Hi Anna, I'm Puhelinbotti!" in all_text(replies)
    assert "Choose a phone" in buttons(replies)


async def test_switching_language_is_remembered(bot):
    user = TeamsUser.new("Maija Meikäläinen", locale="fi-FI")
    await bot.say(user, "hei")
    replies = await bot.say(user, "in English")
    assert "I'll speak English" in all_text(replies)
    assert "What would you like to do?" in all_text(replies)
    later = await bot.say(user, "menu")
    assert "What would you like to do?" in all_text(later)
    back = await bot.say(user, "Suomeksi!")
    assert "puhun nyt suomea" in all_text(back)


async def test_language_card_switches_to_swedish_in_place(bot):
    user = TeamsUser.new()
    menu = await bot.say(user, "valikko")
    picker = await bot.press(user, buttons(menu)["In English / På svenska"])
    verb, data = executes(picker)["Svenska"]
    status, body = await bot.execute(user, verb, data)
    assert status == 200
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "jag talar svenska" in all_text([{"attachments": [_adaptive(body["value"])]}])
    later = await bot.say(user, "meny")
    assert "Välj telefon" in buttons(later)


async def test_unknown_universal_action_gets_an_error_the_client_can_show(bot):
    user = TeamsUser.new()
    await bot.say(user, "hei")
    status, body = await bot.execute(user, "tickets.take", {"ticket": 1})
    assert status == 200
    assert body["statusCode"] == 400
    assert body["type"] == "application/vnd.microsoft.error"
    assert "En tunnista" in body["value"]["message"]


async def test_a_failing_universal_action_answers_with_an_apology(bot):
    user = TeamsUser.new()
    await bot.say(user, "hei")

    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    bot.components.handler._store_language = broken  # type: ignore[method-assign]
    status, body = await bot.execute(user, "language.set", {"language": "en"})
    assert status == 200
    assert body["statusCode"] == 500
    assert body["value"]["message"].startswith("Pahoittelen")


def _adaptive(content):
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}


async def test_forged_language_value_is_not_stored(bot):
    user = TeamsUser.new()
    replies = await bot.press(user, {"verb": "language.set", "language": "xx"})
    assert "Valitse kieli" in all_text(replies)
    async with bot.components.sessions() as session:
        employee = await session.get(Employee, user.aad_object_id)
    assert employee is not None and employee.chosen_language is None


async def test_unknown_card_payload_is_treated_as_not_understood(bot):
    user = TeamsUser.new()
    await bot.say(user, "hei")
    replies = await bot.press(user, {"verb": "tickets.take", "ticket": 1})
    assert "Mitä haluat tehdä?" in all_text(replies)


async def test_channel_message_gets_pointed_to_a_personal_chat(bot):
    user = TeamsUser.new()
    replies = await bot.turn(
        activities.channel_message(user, bot.service_url, "<at>Puhelinbotti</at> hei")
    )
    assert "kahden kesken" in all_text(replies)
    async with bot.components.sessions() as session:
        assert await session.get(Employee, user.aad_object_id) is None


async def test_conversation_reference_is_stored_and_kept_current(bot):
    user = TeamsUser.new()
    await bot.say(user, "hei")
    moved = dict(activities.message(user, bot.service_url, "valikko"))
    moved["serviceUrl"] = bot.service_url + "/"
    await bot.post(moved)
    async with bot.components.sessions() as session:
        records = (await session.scalars(select(ConversationReferenceRecord))).all()
    assert len(records) == 1
    record = records[0]
    assert record.aad_object_id == user.aad_object_id
    assert record.conversation_type == "personal"
    assert record.tenant_id == activities.TENANT_ID
    assert record.service_url == bot.service_url + "/"
    assert record.reference["serviceUrl"] == bot.service_url + "/"
    assert "activityId" not in record.reference


async def test_a_failing_turn_apologises_once_with_a_correlation_id(bot, caplog):
    user = TeamsUser.new()
    await bot.say(user, "hei")

    async def broken(*args, **kwargs):
        raise RuntimeError("database exploded")

    bot.components.handler._switch_language = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="bot.turn"):
        replies = await bot.say(user, "in English")
    assert len(replies) == 1
    assert replies[0]["text"].startswith("Pahoittelen, jotain meni vikaan")
    logged = [r for r in caplog.records if r.name == "bot.turn"]
    assert len(logged) == 1
    correlation_id = logged[0].args[0]
    assert correlation_id in replies[0]["text"]
    after = await bot.say(user, "valikko")
    assert "Mitä haluat tehdä?" in all_text(after)


async def test_a_double_tap_that_races_keeps_the_winners_state(bot):
    import asyncio

    user = TeamsUser.new()
    menu = await bot.say(user, "valikko")
    tap = buttons(menu)["Ota yhteyttä tukeen"]
    first, second = await asyncio.gather(bot.press(user, tap), bot.press(user, tap))
    texts = all_text(first) + all_text(second)
    assert "Kerro lyhyesti, mistä on kyse" in texts
    assert "Pahoittelen" not in texts
    after = await bot.say(user, "valikko")
    assert "Mitä haluat tehdä?" in all_text(after)


async def test_directory_language_wins_over_an_english_teams_client(bot):
    from bot.directory.models import Employee as EmployeeRow

    user = TeamsUser.new("Anna Lindqvist", locale="en-US")
    async with bot.components.sessions() as session, session.begin():
        session.add(EmployeeRow(aad_object_id=user.aad_object_id, directory_language="sv-FI"))
    replies = await bot.say(user, "hej")
    assert "Hej Anna, jag är Puhelinbotti!" in all_text(replies)


async def test_uninstall_is_recorded_and_a_new_message_restores_the_reference(bot):
    user = TeamsUser.new()
    await bot.say(user, "hei")
    await bot.turn(activities.installation_removed(user, bot.service_url))

    async def installed() -> bool:
        async with bot.components.sessions() as session:
            record = await session.scalar(select(ConversationReferenceRecord))
            assert record is not None
            return record.installed

    assert not await installed()
    await bot.say(user, "valikko")
    assert await installed()

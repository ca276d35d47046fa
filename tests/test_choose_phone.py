"""Transcripts of choosing a phone, through the real HTTP endpoint, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from bot.catalog.models import PhoneModel
from bot.choices.models import ChoiceStatus, PhoneChoice
from bot.faq.facts import FIRST_DEDUCTION_TIMING
from bot.rollout.models import RolloutWave, RolloutWaveUnit
from tests.support.activities import TeamsUser
from tests.support.bot import MAIJA, BotUnderTest, demo_bot
from tests.support.cards import all_text, buttons
from tests.support.facts import all_unconfirmed, use_facts, with_confirmed

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)  # not today: proves the clock is used
ANDROID_ONLY = {"os": "android", "max_monthly": "any", "size": "any", "camera": "false"}


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with demo_bot(engine, NOW) as running:
        yield running


async def choices(bot: BotUnderTest) -> list[PhoneChoice]:
    async with bot.components.sessions() as session:
        return list(await session.scalars(select(PhoneChoice).order_by(PhoneChoice.id)))


async def open_phone_flow(bot: BotUnderTest) -> list[dict]:
    menu = await bot.say(MAIJA, "valikko")
    return await bot.press(MAIJA, buttons(menu)["Valitse puhelin"])


async def to_summary(bot: BotUnderTest, model: str = "Samsung Galaxy A56") -> list[dict]:
    options = await open_phone_flow(bot)
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    details = await bot.press(MAIJA, buttons(listed)[model])
    return await bot.press(MAIJA, buttons(details)["Valitse tämä"])


async def test_free_choice_from_start_to_end(bot, monkeypatch):
    use_facts(monkeypatch, all_unconfirmed())
    options = await open_phone_flow(bot)
    text = all_text(options)
    assert "Free Choice" in text and "Pori-puhelin" in text

    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    assert "Mikä sinulle on tärkeää?" in all_text(wishes)

    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    listing = all_text(listed)
    assert "Samsung Galaxy A56" in listing and "Apple" not in listing
    assert "Hinta 449,00\u00a0€ · sinun osuutesi 250,00\u00a0€ · 10,41\u00a0€/kk" in listing
    assert "ei maksa sinulle mitään" in listing  # the base model

    details = await bot.press(MAIJA, buttons(listed)["Samsung Galaxy A56"])
    assert "256 Gt" in all_text(details)

    summary = await bot.press(MAIJA, buttons(details)["Valitse tämä"])
    breakdown = all_text(summary)
    assert "24 erää: 1. erä 10,57\u00a0€, sitten 23 × 10,41\u00a0€" in breakdown
    assert "Ensimmäisen palkanvähennyksen ajankohdan ICT vahvistaa vielä." in breakdown
    assert "2027" not in breakdown and "2029" not in breakdown, "no month before ICT confirms"

    accept = buttons(summary)["Hyväksyn ja valitsen"]
    refused = await bot.press(MAIJA, {**accept, "consent": "false"})
    assert "Hyväksy ensin palkanvähennys rastittamalla ruutu" in all_text(refused)
    assert await choices(bot) == []

    done = await bot.press(MAIJA, {**accept, "consent": "true"})
    assert "Valintasi on tallennettu" in all_text(done)
    steps = all_text(done)
    assert "ICT vahvistaa vielä, miten saat verkkokaupan tunnukset." in steps
    assert "ICT vahvistaa vielä, miten puhelin toimitetaan sinulle." in steps
    assert "Ensimmäisen palkanvähennyksen ajankohdan ICT vahvistaa vielä." in steps
    assert "sähköpostiisi" not in steps and "työpaikallesi" not in steps

    [choice] = await choices(bot)
    assert choice.status == ChoiceStatus.CHOSEN
    assert (choice.price_cents, choice.city_share_cents, choice.employee_share_cents) == (
        44900,
        19900,
        25000,
    )
    assert (choice.instalment_count, choice.first_instalment_cents, choice.instalment_cents) == (
        24,
        1057,
        1041,
    )
    assert choice.first_deduction_month == date(2027, 5, 1)
    assert choice.consented_at is not None and choice.consent_language == "fi"
    assert choice.consent_summary["employee_share_cents"] == 25000
    assert choice.consent_summary["model"] == "Samsung Galaxy A56"


async def test_pori_phone_in_three_taps(bot):
    menu = await bot.say(MAIJA, "valikko")
    options = await bot.press(MAIJA, buttons(menu)["Valitse puhelin"])  # 1
    confirm = await bot.press(MAIJA, buttons(options)["Pori-puhelin"])  # 2
    done = await bot.press(MAIJA, buttons(confirm)["Vahvista Pori-puhelin"])  # 3
    assert "Valitsit: **Pori-puhelin**" in all_text(done)
    [choice] = await choices(bot)
    assert choice.option == "pori_phone" and choice.employee_share_cents == 0


async def test_changing_a_choice_replaces_it(bot):
    summary = await to_summary(bot)
    await bot.press(MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"})
    current = await open_phone_flow(bot)
    assert "Nykyinen valintasi: **Samsung Galaxy A56**" in all_text(current)
    options = await bot.press(MAIJA, buttons(current)["Muuta valintaa"])
    confirm = await bot.press(MAIJA, buttons(options)["Pori-puhelin"])
    await bot.press(MAIJA, buttons(confirm)["Vahvista Pori-puhelin"])
    old, new = await choices(bot)
    assert old.status == ChoiceStatus.CHANGED and old.closed_at is not None
    assert new.status == ChoiceStatus.CHOSEN and new.option == "pori_phone"


async def test_withdrawing_a_choice(bot):
    options = await open_phone_flow(bot)
    confirm = await bot.press(MAIJA, buttons(options)["Pori-puhelin"])
    await bot.press(MAIJA, buttons(confirm)["Vahvista Pori-puhelin"])
    current = await open_phone_flow(bot)
    replies = await bot.press(MAIJA, buttons(current)["Peru valintani"])
    assert "Valintasi on peruttu" in all_text(replies)
    [choice] = await choices(bot)
    assert choice.status == ChoiceStatus.CANCELLED


async def test_cancel_back_and_start_over(bot):
    options = await open_phone_flow(bot)
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    details = await bot.press(MAIJA, buttons(listed)["Google Pixel 9a"])
    back = await bot.press(MAIJA, buttons(details)["Takaisin"])
    assert "Sinulle sopivat puhelimet" in all_text(back)
    again = await bot.press(MAIJA, buttons(back)["Muuta toiveita"])
    assert "Mikä sinulle on tärkeää?" in all_text(again)
    restart = await bot.press(MAIJA, buttons(again)["Aloita alusta"])
    assert "Free Choice" in all_text(restart)
    cancelled = await bot.press(MAIJA, buttons(restart)["Peruuta"])
    assert "Mitään ei muutettu" in all_text(cancelled)
    assert await choices(bot) == []


async def test_free_text_opens_the_phone_choice(bot):
    replies = await bot.say(MAIJA, "Haluan valita puhelimen")
    assert "Free Choice" in all_text(replies) and "Pori-puhelin" in all_text(replies)


async def test_typing_inside_the_flow_points_to_the_buttons(bot):
    await open_phone_flow(bot)
    replies = await bot.say(MAIJA, "mikä näistä on paras?")
    assert "Käytä kortin painikkeita" in all_text(replies)


async def test_closed_window_blocks_choosing(bot):
    await _wave(bot, date(2026, 10, 1), date(2026, 10, 31))
    replies = await open_phone_flow(bot)
    assert "valinta-aika päättyi 31.10.2026" in all_text(replies)


async def test_window_not_yet_open_says_when(bot):
    await _wave(bot, date(2027, 4, 10), date(2027, 4, 30))
    replies = await open_phone_flow(bot)
    assert "valinta-aika alkaa 10.4.2027" in all_text(replies)


async def test_open_window_shows_its_last_day(bot):
    await _wave(bot, date(2027, 3, 1), date(2027, 3, 31))
    replies = await open_phone_flow(bot)
    assert "Valinta-aikaa on 31.3.2027 asti." in all_text(replies)


async def test_unpaid_free_choice_blocks_a_new_choice(bot):
    summary = await to_summary(bot)
    await bot.press(MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"})
    async with bot.components.sessions() as session, session.begin():
        await session.execute(update(PhoneChoice).values(status=ChoiceStatus.DELIVERED.value))
    replies = await open_phone_flow(bot)
    assert "Maksat vielä nykyistä Free Choice -puhelintasi" in all_text(replies)


async def test_model_withdrawn_after_the_card_was_shown(bot):
    options = await open_phone_flow(bot)
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    async with bot.components.sessions() as session, session.begin():
        await session.execute(
            update(PhoneModel).where(PhoneModel.sku == "DEMO-S25").values(available=False)
        )
    replies = await bot.press(MAIJA, buttons(listed)["Samsung Galaxy S25"])
    assert "poistunut valikoimasta" in all_text(replies)
    assert "Samsung Galaxy S25" not in all_text(replies)


async def test_model_withdrawn_between_summary_and_consent(bot):
    summary = await to_summary(bot)
    async with bot.components.sessions() as session, session.begin():
        await session.execute(
            update(PhoneModel).where(PhoneModel.sku == "DEMO-A56").values(available=False)
        )
    replies = await bot.press(
        MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"}
    )
    assert "poistunut valikoimasta" in all_text(replies)
    assert await choices(bot) == []


async def test_price_change_before_consent_shows_the_new_figures(bot):
    summary = await to_summary(bot)
    async with bot.components.sessions() as session, session.begin():
        await session.execute(
            update(PhoneModel).where(PhoneModel.sku == "DEMO-A56").values(price_cents=46900)
        )
    replies = await bot.press(
        MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"}
    )
    assert "hinta on muuttunut" in all_text(replies)
    assert "270,00\u00a0€" in all_text(replies)
    assert await choices(bot) == []


async def test_double_clicked_consent_is_recorded_once(bot):
    summary = await to_summary(bot)
    accept = {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"}
    await bot.press(MAIJA, accept)
    again = await bot.press(MAIJA, accept)
    assert "jo tallennettu" in all_text(again)
    assert len(await choices(bot)) == 1


async def test_simultaneous_consent_clicks_record_once(bot):
    summary = await to_summary(bot)
    accept = {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"}
    await asyncio.gather(*(bot.press(MAIJA, accept) for _ in range(3)))
    assert len(await choices(bot)) == 1


async def test_stale_card_from_an_ended_flow_starts_fresh(bot):
    options = await open_phone_flow(bot)
    await bot.press(MAIJA, buttons(options)["Peruuta"])
    replies = await bot.press(MAIJA, buttons(options)["Free Choice"])
    assert "Kortti on vanhentunut" in all_text(replies)
    assert "Pori-puhelin" in all_text(replies)


async def test_card_from_an_earlier_flow_is_not_acted_on(bot):
    first = await open_phone_flow(bot)
    await open_phone_flow(bot)
    replies = await bot.press(MAIJA, buttons(first)["Pori-puhelin"])
    assert "Kortti on vanhentunut" in all_text(replies)
    assert await choices(bot) == []


async def test_forged_payloads_change_nothing(bot):
    summary = await to_summary(bot)
    accept = buttons(summary)["Hyväksyn ja valitsen"]
    forged = {**accept, "consent": "true", "model_id": 1, "consent_token": "made-up"}
    replies = await bot.press(MAIJA, forged)
    assert "vanhentunut" in all_text(replies)
    assert await choices(bot) == []


async def test_junk_wishes_are_ignored_not_trusted(bot):
    options = await open_phone_flow(bot)
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    junk = {"os": "symbian", "max_monthly": "-5", "size": "<at>x</at>", "camera": "yes"}
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **junk})
    text = all_text(listed)
    assert "Apple iPhone 17" in text and "Samsung Galaxy A56" in text, "no filter applied"


async def test_a_crafted_model_id_gets_a_polite_answer(bot):
    options = await open_phone_flow(bot)
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    data = buttons(listed)["Samsung Galaxy A56"]
    for forged in (2**64, True, " 7", "\u0667", -1):  # the fourth: Arabic-Indic 7
        replies = await bot.press(MAIJA, {**data, "model_id": forged})
        assert "poistunut valikoimasta" in all_text(replies)
        assert "Pahoittelen" not in all_text(replies)


async def test_accepting_an_older_summary_card_records_nothing(bot):
    summary = await to_summary(bot)
    old_accept = {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"}
    async with bot.components.sessions() as session, session.begin():
        await session.execute(
            update(PhoneModel).where(PhoneModel.sku == "DEMO-A56").values(price_cents=54900)
        )
    details = await bot.press(MAIJA, buttons(summary)["Takaisin"])
    fresh = await bot.press(MAIJA, buttons(details)["Valitse tämä"])
    assert "350,00\u00a0€" in all_text(fresh)
    replies = await bot.press(MAIJA, old_accept)
    assert "vanhentunut" in all_text(replies)
    assert await choices(bot) == []


async def test_old_consent_pressed_again_later_says_already_saved(bot):
    summary = await to_summary(bot)
    accept = {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"}
    await bot.press(MAIJA, accept)
    await bot.say(MAIJA, "valikko")
    replies = await bot.press(MAIJA, accept)
    assert "jo tallennettu" in all_text(replies)
    assert len(await choices(bot)) == 1


async def test_withdrawing_after_the_window_closed_is_refused(bot):
    wave = await _wave(bot, date(2027, 3, 1), date(2027, 3, 31))
    options = await open_phone_flow(bot)
    confirm = await bot.press(MAIJA, buttons(options)["Pori-puhelin"])
    await bot.press(MAIJA, buttons(confirm)["Vahvista Pori-puhelin"])
    current = await open_phone_flow(bot)
    async with bot.components.sessions() as session, session.begin():
        await session.execute(
            update(RolloutWave).where(RolloutWave.id == wave).values(closes_on=date(2027, 3, 14))
        )
    replies = await bot.press(MAIJA, buttons(current)["Peru valintani"])
    assert "valinta-aika päättyi 14.3.2027" in all_text(replies)
    [choice] = await choices(bot)
    assert choice.status == ChoiceStatus.CHOSEN


async def test_closed_window_still_shows_the_recorded_choice(bot):
    wave = await _wave(bot, date(2027, 3, 1), date(2027, 3, 31))
    options = await open_phone_flow(bot)
    confirm = await bot.press(MAIJA, buttons(options)["Pori-puhelin"])
    await bot.press(MAIJA, buttons(confirm)["Vahvista Pori-puhelin"])
    async with bot.components.sessions() as session, session.begin():
        await session.execute(
            update(RolloutWave).where(RolloutWave.id == wave).values(closes_on=date(2027, 3, 14))
        )
    replies = await open_phone_flow(bot)
    assert "Nykyinen valintasi: **Pori-puhelin** (tallennettu 15.3.2027)" in all_text(replies)


async def test_ordered_choice_cannot_be_changed(bot):
    options = await open_phone_flow(bot)
    confirm = await bot.press(MAIJA, buttons(options)["Pori-puhelin"])
    await bot.press(MAIJA, buttons(confirm)["Vahvista Pori-puhelin"])
    async with bot.components.sessions() as session, session.begin():
        await session.execute(update(PhoneChoice).values(status=ChoiceStatus.ORDERED.value))
    replies = await open_phone_flow(bot)
    assert "on jo tilattu" in all_text(replies)


async def test_someone_not_in_the_directory_cannot_choose(bot):
    stranger = TeamsUser.new("Vieras Käyttäjä")
    await bot.say(stranger, "hei")
    menu = await bot.say(stranger, "valikko")
    replies = await bot.press(stranger, buttons(menu)["Valitse puhelin"])
    assert "En löydä sinua kaupungin henkilöstöhakemistosta" in all_text(replies)


async def test_welcome_start_button_opens_the_menu(bot):
    newcomer = TeamsUser("00000000-0000-4000-8000-000000000004", "Pekka Virtanen")
    first = await bot.say(newcomer, "moi")
    replies = await bot.press(newcomer, buttons(first)["Aloita"])
    assert "Mitä haluat tehdä?" in all_text(replies)
    assert "En saanut" not in all_text(replies)


async def test_newcomer_who_asks_for_a_phone_gets_welcome_then_the_choice(bot):
    newcomer = TeamsUser("00000000-0000-4000-8000-000000000004", "Pekka Virtanen")
    replies = await bot.say(newcomer, "haluan valita puhelimen")
    text = all_text(replies)
    assert "Hei Pekka" in text and "Free Choice" in text and "Pori-puhelin" in text


async def test_confirmed_deduction_start_shows_the_months_and_puts_them_in_the_consent(
    bot, monkeypatch
):
    use_facts(monkeypatch, with_confirmed(FIRST_DEDUCTION_TIMING))
    summary = await to_summary(bot)
    breakdown = all_text(summary)
    assert "Ensimmäinen vähennys: toukokuu 2027" in breakdown
    assert "Viimeinen vähennys: huhtikuu 2029" in breakdown
    assert (
        "(1. erä 10,57\u00a0€, muut 10,41\u00a0€). Ensimmäinen palkanvähennys tehdään "
        "toukokuussa 2027." in breakdown
    ), "the month is part of what is consented to"
    assert "ICT vahvistaa" not in breakdown
    done = await bot.press(MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"})
    assert "Ensimmäinen palkanvähennys tehdään toukokuussa 2027." in all_text(done)


async def test_english_speaker_sees_english_figures(bot, monkeypatch):
    use_facts(monkeypatch, with_confirmed(FIRST_DEDUCTION_TIMING))
    await bot.say(MAIJA, "in English")
    menu = await bot.say(MAIJA, "menu")
    options = await bot.press(MAIJA, buttons(menu)["Choose a phone"])
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    listed = await bot.press(MAIJA, {**buttons(wishes)["Show phones"], **ANDROID_ONLY})
    details = await bot.press(MAIJA, buttons(listed)["Samsung Galaxy A56"])
    summary = await bot.press(MAIJA, buttons(details)["Choose this one"])
    text = all_text(summary)
    assert "24 instalments: 1st 10,57\u00a0€, then 23 × 10,41\u00a0€" in text
    assert "The first salary deduction is made in May 2027." in text


async def _wave(bot: BotUnderTest, opens: date, closes: date) -> int:
    async with bot.components.sessions() as session, session.begin():
        wave = RolloutWave(name="Aalto 1", opens_on=opens, closes_on=closes)
        wave.units = [RolloutWaveUnit(unit_code="SIVISTYS")]
        session.add(wave)
        await session.flush()
        return wave.id


async def test_a_reimported_catalog_keeps_the_flow_going_with_the_same_sku(bot):
    from bot.catalog.importer import import_catalog, parse_catalog_file
    from bot.demo.loader import demo_data

    summary = await to_summary(bot)
    rows = parse_catalog_file(_demo_catalog_file(bot, demo_data()))
    async with bot.components.sessions() as session, session.begin():
        await import_catalog(session=session, rows=rows, source="re-import")
    done = await bot.press(MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"})
    assert "Valintasi on tallennettu" in all_text(done)
    [choice] = await choices(bot)
    assert choice.consent_summary["catalog_version_id"] == 2


def _demo_catalog_file(bot: BotUnderTest, data: dict):
    import tempfile
    from pathlib import Path

    import yaml

    path = Path(tempfile.mkdtemp()) / "catalog.yaml"
    path.write_text(yaml.safe_dump({"models": data["catalog"]["models"]}), encoding="utf-8")
    return path


async def test_a_sure_question_inside_the_flow_is_answered_and_the_flow_waits(bot):
    options = await open_phone_flow(bot)
    replies = await bot.say(MAIJA, "paljonko vapaavalintainen puhelin maksaa minulle?")
    assert "Oliko tästä apua?" in all_text(replies)
    assert "Käytä kortin painikkeita" not in all_text(replies)
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    assert "vanhentunut" not in all_text(wishes)
    assert "Näytä puhelimet" in buttons(wishes)

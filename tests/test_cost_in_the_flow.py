"""Cost figures through the real HTTP app: small shares, models under the base price, and the
monthly limit, as the employee sees them from the list to the deduction and the next choice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.catalog.models import PhoneModel
from bot.choices.models import ChoiceStatus, PhoneChoice
from bot.db.engine import create_session_factory
from bot.deductions.models import DeductionPlan
from bot.deductions.payroll.parse import parse_payroll_bytes
from bot.deductions.payroll.post import import_payroll
from bot.deductions.service import deliver_choice
from bot.demo.loader import load_demo_data
from bot.faq.facts import FIRST_DEDUCTION_TIMING
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest, running_bot
from tests.support.cards import all_text, buttons
from tests.support.facts import use_facts, with_confirmed

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
MAIJA = TeamsUser("00000000-0000-4000-8000-000000000001", "Maija Meikäläinen")
ANDROID_ONLY = {"os": "android", "max_monthly": "any", "size": "any", "camera": "false"}
BASE = 199_00  # the demo catalog's base model
EXTRA_MODELS = [
    # (sku, name, price): 0,23 € over the base, 50 € under it, and 240,23 € over it.
    ("TEST-MINI", "Mini", BASE + 23),
    ("TEST-BUDGET", "Budget", BASE - 50_00),
    ("TEST-TEN", "Ten", BASE + 240_23),  # 24 instalments: 10,23 € first, then 23 × 10,00 €
]


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
        version = await session.scalar(select(PhoneModel.catalog_version_id).limit(1))
        for sku, name, price in EXTRA_MODELS:
            session.add(
                PhoneModel(
                    catalog_version_id=version,
                    sku=sku,
                    brand="Testi",
                    name=name,
                    price_cents=price,
                    storage_gb=128,
                    screen_inches=6.5,
                    camera_mp=50,
                    os="android",
                )
            )
    async with running_bot(engine, clock=lambda: NOW) as running:
        await running.say(MAIJA, "hei")
        yield running


def plain(replies: list[dict]) -> str:
    return all_text(replies).replace("\u00a0", " ")


async def open_flow(bot: BotUnderTest) -> list[dict]:
    menu = await bot.say(MAIJA, "valikko")
    return await bot.press(MAIJA, buttons(menu)["Valitse puhelin"])


async def model_list(bot: BotUnderTest, wishes: dict[str, str]) -> list[dict]:
    options = await open_flow(bot)
    preferences = await bot.press(MAIJA, buttons(options)["Free Choice"])
    return await bot.press(MAIJA, {**buttons(preferences)["Näytä puhelimet"], **wishes})


async def test_a_small_share_is_one_deduction_and_then_a_new_choice_is_open(
    bot, engine, monkeypatch
):
    use_facts(monkeypatch, with_confirmed(FIRST_DEDUCTION_TIMING))
    listed = await model_list(bot, ANDROID_ONLY)
    assert "Hinta 199,23 € · sinun osuutesi 0,23 € · vähennetään kerralla" in plain(listed)

    details = await bot.press(MAIJA, buttons(listed)["Testi Mini"])
    assert "Palkanvähennykset: yksi erä, 0,23 €" in plain(details)
    summary = await bot.press(MAIJA, buttons(details)["Valitse tämä"])
    text = plain(summary)
    assert "Palkanvähennykset: yksi erä, 0,23 €" in text
    assert "Vähennyskuukausi: toukokuu 2027" in text
    assert "Viimeinen vähennys" not in text and "0,00 €" not in text
    assert (
        "Hyväksyn, että palkastani vähennetään 0,23 € yhtenä eränä. "
        "Ensimmäinen palkanvähennys tehdään toukokuussa 2027." in text
    )

    await bot.press(MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"})
    async with bot.components.sessions() as session, session.begin():
        choice = await session.scalar(select(PhoneChoice))
        assert choice is not None
        assert (
            choice.instalment_count,
            choice.first_instalment_cents,
            choice.instalment_cents,
        ) == (
            1,
            23,
            23,
        )
        plan = await deliver_choice(session=session, choice_id=choice.id, now=NOW)
        assert plan is not None and (plan.instalment_count, plan.total_cents) == (1, 23)

    blocked = await open_flow(bot)
    assert "Maksat vielä nykyistä Free Choice -puhelintasi" in plain(blocked)

    payroll = parse_payroll_bytes(b"henkilonumero;palkkakausi;summa\n100001;2027-05;0,23\n")
    async with create_session_factory(engine)() as session, session.begin():
        result = await import_payroll(
            session=session, payroll_file=payroll, file_name="touko.csv", now=NOW
        )
        assert len(result.paid_off_plan_ids) == 1
        assert await session.scalar(select(DeductionPlan.instalment_count)) == 1

    # One deduction later the phone is hers, and she may choose again.
    again = await model_list(bot, ANDROID_ONLY)
    assert "Maksat vielä" not in plain(again)
    assert "Sinulle sopivat puhelimet" in plain(again)
    async with bot.components.sessions() as session:
        assert await session.scalar(select(PhoneChoice.status)) == ChoiceStatus.PAID_OFF


async def test_a_model_under_the_base_price_says_the_city_pays_its_whole_price(bot):
    listed = await model_list(bot, ANDROID_ONLY)
    assert "Hinta 149,00 € · ei maksa sinulle mitään" in plain(listed)
    details = await bot.press(MAIJA, buttons(listed)["Testi Budget"])
    assert "Kaupunki maksaa: 149,00 € (koko hinta)" in plain(details)
    summary = await bot.press(MAIJA, buttons(details)["Valitse tämä"])
    text = plain(summary)
    assert "Kaupungin osuus: 149,00 € (koko hinta)" in text
    assert "perusmallin hinta" not in text
    assert "Tämä malli ei maksa sinulle mitään" in text


async def test_a_model_over_the_base_price_says_the_city_pays_the_base_price(bot):
    listed = await model_list(bot, ANDROID_ONLY)
    details = await bot.press(MAIJA, buttons(listed)["Samsung Galaxy A56"])
    summary = await bot.press(MAIJA, buttons(details)["Valitse tämä"])
    assert "Kaupungin osuus: 199,00 € (perusmallin hinta)" in plain(summary)


async def test_the_monthly_limit_is_the_regular_instalment_the_list_shows(bot):
    ten_euros = {**ANDROID_ONLY, "max_monthly": "1000"}
    listed = await model_list(bot, ten_euros)
    text = plain(listed)
    # 10,00 € a month is within "at most 10 €", and its first instalment is shown beside it.
    assert "Testi Ten" in text
    assert "sinun osuutesi 240,23 € · 10,00 €/kk, 24 kk (1. erä 10,23 €)" in text
    assert "sinun osuutesi 0,23 € · vähennetään kerralla" in text
    assert "Samsung Galaxy A56" not in text  # 10,41 € a month

    preferences = await bot.press(MAIJA, buttons(listed)["Muuta toiveita"])
    assert "Raja koskee säännöllistä kuukausierää." in plain(preferences)


async def test_only_free_models_means_no_deduction_at_all(bot):
    listed = await model_list(bot, {**ANDROID_ONLY, "max_monthly": "0"})
    text = plain(listed)
    assert "Testi Budget" in text and "Galaxy A16" in text
    assert "Testi Mini" not in text  # 0,23 € is still a deduction


async def test_the_options_card_says_at_most_24_instalments_of_at_least_the_minimum(bot):
    options = await open_flow(bot)
    assert (
        "enintään 24 kuukausierässä, vähintään 5,00 € kuukaudessa (tätä pienempi osuus kerralla)"
        in plain(options)
    )

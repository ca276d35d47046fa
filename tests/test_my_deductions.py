"""Transcripts of 'my deductions', through the real HTTP endpoint, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.choices.models import ChoiceStatus, PhoneChoice
from bot.db.engine import create_session_factory
from bot.deductions.models import DeductionPlan, PayrollImport, PayrollPosting, PendingNotice
from bot.deductions.service import DeliveryError, deliver_choice
from bot.demo.loader import load_demo_data
from bot.faq.facts import FIRST_DEDUCTION_TIMING, MISSED_DEDUCTION_MOVES_END
from tests.support import activities
from tests.support.bot import MAIJA, BotUnderTest, demo_bot
from tests.support.cards import all_text, buttons
from tests.support.facts import all_unconfirmed, use_facts, with_confirmed

NOW = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
ANNA = "00000000-0000-4000-8000-000000000002"
FIRST = date(2027, 1, 1)


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with demo_bot(engine, NOW) as running:
        yield running


async def free_choice(
    bot: BotUnderTest, aad: str = MAIJA.aad_object_id, *, deliver: bool = True
) -> int | None:
    """A recorded Free Choice of 250,00 € (10,57 € + 23 × 10,41 €), delivered if asked."""
    async with bot.components.sessions() as session, session.begin():
        choice = PhoneChoice(
            aad_object_id=aad,
            option="free_choice",
            status=ChoiceStatus.ORDERED.value,
            model_name="Samsung Galaxy A56",
            price_cents=44900,
            city_share_cents=19900,
            employee_share_cents=25000,
            instalment_count=24,
            first_instalment_cents=1057,
            instalment_cents=1041,
            first_deduction_month=FIRST,
            consent_token=f"consent-{aad}",
        )
        session.add(choice)
        await session.flush()
        if not deliver:
            return None
        plan = await deliver_choice(session=session, choice_id=choice.id, now=NOW)
        assert plan is not None
        return plan.id


async def post(bot: BotUnderTest, plan_id: int, amounts: dict[date, int]) -> None:
    async with bot.components.sessions() as session, session.begin():
        batch = PayrollImport(
            file_name="test.csv", sha256="0" * 64, rows=len(amounts), added=0, corrected=0
        )
        session.add(batch)
        await session.flush()
        for period, amount in amounts.items():
            session.add(
                PayrollPosting(
                    plan_id=plan_id, period=period, amount_cents=amount, import_id=batch.id
                )
            )


def months(*numbers: int) -> list[date]:
    return [date(2027, number, 1) for number in numbers]


async def my_card(bot: BotUnderTest) -> str:
    menu = await bot.say(MAIJA, "valikko")
    return all_text(await bot.press(MAIJA, buttons(menu)["Omat vähennykset"]))


async def test_on_schedule(bot):
    plan = await free_choice(bot)
    await post(bot, plan, {FIRST: 1057, date(2027, 2, 1): 1041})
    text = await my_card(bot)
    assert "Puhelin: Samsung Galaxy A56" in text
    assert "Osuutesi yhteensä: 250,00\u00a0€" in text
    assert "Maksettu: 20,98\u00a0€" in text and "Jäljellä: 229,02\u00a0€" in text
    assert "Eriä jäljellä: 22" in text
    assert "Seuraava vähennys: maaliskuu 2027" in text
    assert "Puhelin on sinun: tammikuu 2029" in text
    assert "8 % maksettu" in text
    assert "jäi tekemättä" not in text


async def test_a_missed_month_is_told_and_its_effect_left_to_ict_until_confirmed(bot, monkeypatch):
    use_facts(monkeypatch, all_unconfirmed())
    plan = await free_choice(bot)
    await post(bot, plan, {FIRST: 1057, date(2027, 3, 1): 1041})
    text = await my_card(bot)
    assert (
        "Vähennys jäi tekemättä: 2/2027. "
        "ICT vahvistaa vielä, miten väliin jäänyt vähennys hoidetaan." in text
    )
    assert "siirty" not in text and "Puhelin on sinun" not in text and "2029" not in text


async def test_a_missed_month_moves_the_end_and_says_so_once_confirmed(bot, monkeypatch):
    use_facts(monkeypatch, with_confirmed(MISSED_DEDUCTION_MOVES_END))
    plan = await free_choice(bot)
    await post(bot, plan, {FIRST: 1057, date(2027, 3, 1): 1041})
    text = await my_card(bot)
    assert (
        "Vähennys jäi tekemättä: 2/2027. Jos vähennys jää jonakin kuukautena tekemättä, viimeinen "
        "vähennys siirtyy kuukaudella myöhemmäksi. Viimeinen vähennys tehdään siis tammikuussa "
        "2029." in text
    )
    assert "Puhelin on sinun: helmikuu 2029" in text


async def test_paid_off(bot):
    plan = await free_choice(bot)
    payments = {
        date(2027 + (n // 12), n % 12 + 1, 1): (1057 if n == 0 else 1041) for n in range(24)
    }
    await post(bot, plan, payments)
    text = await my_card(bot)
    assert "Samsung Galaxy A56 on maksettu, ja puhelin on nyt sinun omasi" in text


async def test_no_choice_yet(bot):
    text = await my_card(bot)
    assert "Et ole vielä valinnut puhelinta" in text


async def test_chosen_but_not_delivered(bot, monkeypatch):
    use_facts(monkeypatch, all_unconfirmed())
    await free_choice(bot, deliver=False)
    text = await my_card(bot)
    assert "Olet valinnut puhelimen Samsung Galaxy A56." in text
    assert "Ensimmäisen palkanvähennyksen ajankohdan ICT vahvistaa vielä." in text
    assert "2027" not in text


async def test_chosen_but_not_delivered_once_the_start_is_confirmed(bot, monkeypatch):
    use_facts(monkeypatch, with_confirmed(FIRST_DEDUCTION_TIMING))
    await free_choice(bot, deliver=False)
    text = await my_card(bot)
    assert "tai myöhemmin, jos puhelimen toimitus viivästyy" in text
    assert "Ensimmäinen vähennys on suunniteltu: tammikuu 2027." in text


async def test_free_text_question_gets_the_card(bot):
    plan = await free_choice(bot)
    await post(bot, plan, {FIRST: 1057})
    replies = await bot.say(MAIJA, "Paljonko puhelimesta on vielä maksamatta?")
    assert "Jäljellä: 239,43\u00a0€" in all_text(replies)


async def test_never_in_a_group_chat(bot):
    plan = await free_choice(bot)
    await post(bot, plan, {FIRST: 1057})
    for conversation_type in ("groupChat", "channel", None):
        group = activities.message(MAIJA, bot.service_url, "omat vähennykset")
        group["conversation"] = {"id": "19:group@thread.v2", "conversationType": conversation_type}
        text = all_text(await bot.turn(group))
        assert "250,00" not in text and "Jäljellä" not in text
        assert "kahden kesken" in text


async def test_a_payload_naming_another_employee_is_refused(bot, caplog):
    await post(bot, await free_choice(bot), {FIRST: 1057})
    anna_plan = await free_choice(bot, ANNA)
    await post(bot, anna_plan, {FIRST: 1057, date(2027, 2, 1): 1041})
    forged = [
        {"verb": "area.my_deductions", "aad_object_id": ANNA},
        {"verb": "area.my_deductions", "data": {"employee": {"id": ANNA}}},
        {"verb": "area.my_deductions", "employee_number": ["100002"]},
    ]
    with caplog.at_level(logging.DEBUG):
        for value in forged:
            text = all_text(await bot.press(MAIJA, value))
            assert "Voin näyttää vain sinun omat tietosi" in text
            assert "Jäljellä" not in text and "Pahoittelen" not in text
    assert not any("229,02" in r.getMessage() or "239,43" in r.getMessage() for r in caplog.records)
    own = all_text(await bot.press(MAIJA, {"verb": "area.my_deductions"}))
    assert "Jäljellä: 239,43\u00a0€" in own


async def test_delivering_creates_the_plan_from_the_accepted_figures(bot):
    plan_id = await free_choice(bot)
    async with bot.components.sessions() as session:
        plan = await session.get(DeductionPlan, plan_id)
        assert plan is not None
        assert (plan.total_cents, plan.first_instalment_cents, plan.instalment_cents) == (
            25000,
            1057,
            1041,
        )
        assert plan.first_month == FIRST and plan.source == "choice"
        choice = await session.get(PhoneChoice, plan.choice_id)
        assert choice is not None and choice.status == ChoiceStatus.DELIVERED.value
    async with bot.components.sessions() as session, session.begin():
        with pytest.raises(DeliveryError) as again:
            await deliver_choice(session=session, choice_id=plan.choice_id, now=NOW)
    assert again.value.problems == [
        ("not_deliverable", {"choice": str(plan.choice_id), "status": "delivered"})
    ]


async def test_a_paid_off_notice_is_told_once_at_the_next_message(bot):
    async with bot.components.sessions() as session, session.begin():
        session.add(
            PendingNotice(
                aad_object_id=MAIJA.aad_object_id,
                kind="phone_paid_off",
                payload={"model_name": "Samsung Galaxy A56"},
            )
        )
    first = all_text(await bot.say(MAIJA, "valikko"))
    assert "Hyviä uutisia: Samsung Galaxy A56 on maksettu" in first
    again = all_text(await bot.say(MAIJA, "valikko"))
    assert "Hyviä uutisia" not in again


async def test_deliver_command_is_all_or_nothing(tmp_path, monkeypatch, capsys):
    import asyncio

    from sqlalchemy import select

    from bot.cli import main
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade

    database = f"sqlite+aiosqlite:///{tmp_path / 'deliver.sqlite3'}"
    engine = create_engine(database)
    await upgrade(engine)
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
        for number, option in ((1, "free_choice"), (2, "pori_phone")):
            session.add(
                PhoneChoice(
                    id=number,
                    aad_object_id=f"00000000-0000-4000-8000-00000000000{number}",
                    option=option,
                    status=ChoiceStatus.ORDERED.value,
                    model_name="Samsung Galaxy A56" if number == 1 else None,
                    employee_share_cents=25000 if number == 1 else 0,
                    instalment_count=24 if number == 1 else 0,
                    first_instalment_cents=1057 if number == 1 else 0,
                    instalment_cents=1041 if number == 1 else 0,
                    first_deduction_month=FIRST if number == 1 else None,
                    consent_token=f"c{number}",
                )
            )
    monkeypatch.setenv("DATABASE_URL", database)
    assert await asyncio.to_thread(main, ["choices", "deliver", "1", "99"]) == 1
    refused = capsys.readouterr().err
    assert refused == "phonebot: valintaa 99 ei ole; mitään ei merkitty toimitetuksi\n"
    async with create_session_factory(engine)() as session:
        assert (await session.scalars(select(DeductionPlan))).all() == []
    assert await asyncio.to_thread(main, ["choices", "deliver", "1", "2"]) == 0
    assert capsys.readouterr().out == "2 valintaa merkitty toimitetuksi, 1 vähennyssuunnitelma\n"
    async with create_session_factory(engine)() as session:
        assert len((await session.scalars(select(DeductionPlan))).all()) == 1
    await engine.dispose()


async def test_a_late_delivery_moves_the_first_deduction_month(bot):
    async with bot.components.sessions() as session, session.begin():
        choice = PhoneChoice(
            aad_object_id=MAIJA.aad_object_id,
            option="free_choice",
            status=ChoiceStatus.ORDERED.value,
            model_name="Samsung Galaxy A56",
            employee_share_cents=25000,
            instalment_count=24,
            first_instalment_cents=1057,
            instalment_cents=1041,
            first_deduction_month=FIRST,
            consent_token="late",
        )
        session.add(choice)
        await session.flush()
        late = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
        plan = await deliver_choice(session=session, choice_id=choice.id, now=late)
        assert plan is not None and plan.first_month == date(2027, 4, 1)

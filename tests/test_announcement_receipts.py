"""Announcements that ask to be acknowledged, through the real HTTP app, on SQLite and
PostgreSQL: the press counts once and the card updates in place; nobody else's press counts;
one reminder, in working hours, to those who have not acknowledged after the chosen days."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.announcements.models import AnnouncementReceipt
from bot.announcements.receipts import ANNOUNCEMENT_REMINDER, plan_receipt_reminders
from bot.db.engine import create_session_factory
from bot.demo.loader import load_demo_data
from bot.notifications.export import write_recipients_csv
from bot.notifications.models import Campaign, Notification
from bot.settings import Settings
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest, running_bot
from tests.support.cards import all_text, buttons, cards, executes
from tests.test_announcements import ADMIN, ANNOUNCEMENT, JAMES, MAIJA, SARI, preview

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday, 10.00 in Helsinki
ACKNOWLEDGE = "Kuittaa luetuksi"
ASKING = {**ANNOUNCEMENT, "receipt": "true", "remind_days": "3"}


class Clock:
    """The suite's moment, moved on by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(engine, clock) -> AsyncIterator[BotUnderTest]:
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
    settings = Settings(
        app_id="",
        ict_admin_ids=ADMIN.aad_object_id,
        notify_working_hours="08:00-16:00",
        notify_public_holidays=False,
    )
    async with running_bot(engine, settings, clock=clock) as running:
        for someone in (MAIJA, JAMES, SARI):
            await running.say(someone, "hei")
        yield running


async def send_and_deliver(bot: BotUnderTest) -> None:
    shown = await preview(bot, ASKING)
    assert "Kuittaamattomille lähtee yksi muistutus 3 päivän kuluttua" in all_text(shown)
    await bot.press(ADMIN, buttons(shown)["Lähetä"])
    await bot.components.jobs.dispatcher.run_until_idle()


async def receipts(bot: BotUnderTest) -> int:
    async with bot.components.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AnnouncementReceipt)))


async def test_a_recipient_acknowledges_once_and_the_card_says_when(bot):
    await send_and_deliver(bot)
    got = bot.connector.delivered_to(MAIJA.conversation_id)
    verb, data = executes(got)[ACKNOWLEDGE]
    assert "Lähettäjä pyytää kuittaamaan tämän tiedotteen luetuksi." in all_text(got)

    status, answer = await bot.execute(MAIJA, verb, data)
    assert (status, answer["statusCode"]) == (200, 200)
    updated = str(answer["value"])
    assert "✓ Kuitattu luetuksi 26.11.2026 10.00" in updated
    assert ACKNOWLEDGE not in updated
    _, again = await bot.execute(MAIJA, verb, data)
    assert again["statusCode"] == 200 and await receipts(bot) == 1  # twice counts once
    assert "✓ Kuitattu luetuksi 26.11.2026 10.00" in str(again["value"])


async def test_someone_it_was_not_sent_to_cannot_acknowledge_it(bot):
    await send_and_deliver(bot)
    verb, data = executes(bot.connector.delivered_to(MAIJA.conversation_id))[ACKNOWLEDGE]
    outsider = TeamsUser("00000000-0000-4000-8000-0000000000ff", "Olli Ulkopuolinen")
    status, answer = await bot.execute(outsider, verb, data)
    assert (status, answer["statusCode"]) == (200, 403)
    assert "Voit kuitata vain itsellesi lähetetyn tiedotteen" in str(answer)
    for forged in ({"campaign": 99999}, {"campaign": "x"}, {}):
        status, answer = await bot.execute(MAIJA, verb, forged)
        assert answer["statusCode"] in (400, 404) and "ei pyydä kuittausta" in str(answer)
    assert await receipts(bot) == 0


async def test_one_reminder_after_the_days_to_those_who_have_not(bot, clock):
    await send_and_deliver(bot)
    verb, data = executes(bot.connector.delivered_to(MAIJA.conversation_id))[ACKNOWLEDGE]
    await bot.execute(MAIJA, verb, data)
    planner = bot.components.jobs
    async with bot.components.sessions() as session, session.begin():
        assert await plan_receipt_reminders(session=session, now=clock.now) == 0  # too soon

    clock.now = NOW + timedelta(days=3, hours=1)  # Sunday 29.11. 11.00: outside working days
    async with bot.components.sessions() as session, session.begin():
        added = await plan_receipt_reminders(session=session, now=clock.now)
    async with bot.components.sessions() as session:
        reminded = set(
            await session.scalars(
                select(Notification.recipient)
                .join(Campaign)
                .where(Campaign.kind == ANNOUNCEMENT_REMINDER)
            )
        )
    # Elina, who never opened a chat, could not be reached (no tenant here): nothing to remind.
    assert added == len(reminded) == 2 and MAIJA.aad_object_id not in reminded
    assert JAMES.aad_object_id in reminded
    before = len(bot.connector.delivered_to(JAMES.conversation_id))
    await planner.dispatcher.run_until_idle()
    assert len(bot.connector.delivered_to(JAMES.conversation_id)) == before  # waits for Monday

    # Sari acknowledges on Sunday: her reminder, waiting for Monday, is no longer needed.
    assert SARI.aad_object_id in reminded
    _, answer = await bot.execute(SARI, verb, data)
    assert answer["statusCode"] == 200

    clock.now = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # Monday 9.00 in Helsinki
    await planner.dispatcher.run_until_idle()
    async with bot.components.sessions() as session:
        outcomes = dict(
            (
                await session.execute(
                    select(Notification.recipient, Notification.outcome)
                    .join(Campaign)
                    .where(Campaign.kind == ANNOUNCEMENT_REMINDER)
                )
            ).all()
        )
    assert outcomes[SARI.aad_object_id] == "skipped"
    assert outcomes[JAMES.aad_object_id] != "skipped"
    reminder = bot.connector.delivered_to(JAMES.conversation_id)[before:]
    assert len(cards(reminder)) == 1
    assert "Reminder: please acknowledge this announcement as read." in all_text(reminder)
    assert "Acknowledge as read" in executes(reminder)

    async with bot.components.sessions() as session, session.begin():
        assert await plan_receipt_reminders(session=session, now=clock.now) == 0  # only once


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"remind_days": "0"}, "muistutuspäivien määrä on 1–30"),
        ({"remind_days": "31"}, "muistutuspäivien määrä on 1–30"),
        ({"remind_days": "kolme"}, "muistutuspäivien määrä on 1–30"),
        ({"receipt": "false"}, "muistutus lähtee vain, kun pyydät kuittausta"),
    ],
)
async def test_the_form_refuses_a_reminder_it_cannot_send(bot, change, problem):
    shown = await preview(bot, {**ASKING, **change})
    assert problem in all_text(shown) and "Lähetä" not in buttons(shown)


async def test_ict_sees_who_acknowledged_in_the_chat_and_the_export(bot):
    await send_and_deliver(bot)
    verb, data = executes(bot.connector.delivered_to(MAIJA.conversation_id))[ACKNOWLEDGE]
    await bot.execute(MAIJA, verb, data)

    listed = await bot.say(ADMIN, "tiedotteet")
    assert "kuitannut luetuksi 1 / 3" in all_text(listed)

    async with bot.components.sessions() as session:
        campaign_id = await session.scalar(
            select(Campaign.id).where(Campaign.kind == "announcement")
        )
        buffer = io.StringIO()
        await write_recipients_csv(session=session, campaign_id=campaign_id, stream=buffer)
    rows = {line.split(";")[0]: line.split(";") for line in buffer.getvalue().splitlines()[1:]}
    assert rows["Maija Meikäläinen"][-1] == "26.11.2026 10.00"
    assert rows["James Walker"][-1] == ""

"""A unit's turn told to every member, through the outbox, the dispatcher and the fake Teams.

Maija has chatted with the bot (a stored conversation is continued), Sari never has and has no app
(it is installed through Graph's stand-in, then a chat is opened), Olli's account is disabled and
Leena has left (neither is told), Pekka's unit is not in the wave.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.botframework.connector import BotConnectorClient
from bot.adapters.botframework.fake_connector import FakeBotConnector
from bot.adapters.botframework.proactive import ProactiveSender
from bot.adapters.botframework.tokens import NoTokenProvider
from bot.backoff import RetryPolicy
from bot.choices.models import ChoiceOption, PhoneChoice
from bot.conversations import service as conversations
from bot.conversations.models import ConversationReferenceRecord
from bot.db.engine import create_session_factory
from bot.deductions.models import PendingNotice
from bot.deductions.service import mark_notice_sent, pending_notices, plan_life_event_notices
from bot.delivery import TeamsDeliverer
from bot.demo.loader import load_demo_data
from bot.dialogs.areas import UNASKED
from bot.directory.models import Employee
from bot.notifications import outbox
from bot.notifications.dispatcher import Dispatcher
from bot.notifications.models import Notification
from bot.notifications.quiet_hours import WorkingHours
from bot.notifications.rate_limit import RateLimiter
from bot.rollout.campaigns import (
    WINDOW_OPEN,
    WINDOW_REMINDER,
    Later,
    LaterReminders,
    plan_rollout_campaigns,
)
from bot.rollout.service import schedule_wave
from tests.support.cards import all_text, buttons

TENANT = "tenant-pori"
TUESDAY_10 = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)  # 10.00 in Pori
MAIJA = "00000000-0000-4000-8000-000000000001"  # SIVISTYS, has chatted
SARI = "00000000-0000-4000-8000-000000000007"  # SIVISTYS, never opened the bot
PEKKA = "00000000-0000-4000-8000-000000000004"  # TEKNINEN
OLLI = "00000000-0000-4000-8000-0000000000a1"  # SIVISTYS, account disabled
LEENA = "00000000-0000-4000-8000-0000000000a2"  # SIVISTYS, has left
MAIJA_CHAT = "a:maija-chat"


@dataclass
class InstallerFake:
    connector: FakeBotConnector
    installs: list[str] = field(default_factory=list)

    async def install_app_for_user(self, user_id: str, teams_app_id: str) -> str:
        self.installs.append(user_id)
        self.connector.mark_installed(user_id)
        return "installed"


@dataclass
class Rollout:
    sessions: async_sessionmaker[AsyncSession]
    connector: FakeBotConnector
    installer: InstallerFake
    deliverer: TeamsDeliverer
    now: datetime = TUESDAY_10

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            self.sessions,
            self.deliverer,
            quiet_hours=WorkingHours(),
            clock=lambda: self.now,
            rate=RateLimiter(rate=1000),
            worker_id="test",
        )

    async def plan(self) -> dict[str, int]:
        async with self.sessions() as session, session.begin():
            planned = await plan_rollout_campaigns(session=session, now=self.now, reminder_days=3)
        return {item.kind: item.added for item in planned}

    async def rows(self) -> dict[tuple[str, str], Notification]:
        async with self.sessions() as session:
            found = await session.execute(
                select(Notification, outbox.Campaign.kind).join(outbox.Campaign)
            )
            return {(kind, row.recipient): row for row, kind in found}


@pytest.fixture
async def rollout(engine: AsyncEngine) -> AsyncIterator[Rollout]:
    sessions = create_session_factory(engine)
    connector = FakeBotConnector(installed={MAIJA})
    server = TestServer(connector.app())
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    async with sessions() as session, session.begin():
        await load_demo_data(session=session)
        session.add(Employee(aad_object_id=OLLI, unit_code="SIVISTYS", account_enabled=False))
        session.add(Employee(aad_object_id=LEENA, unit_code="SIVISTYS", left_at=TUESDAY_10))
        await schedule_wave(
            session=session,
            name="Kevät 1",
            opens_on=date(2027, 1, 11),
            closes_on=date(2027, 1, 29),
            unit_codes=["SIVISTYS"],
        )
        await conversations.remember(
            session=session,
            facts=conversations.ConversationFacts(
                MAIJA_CHAT, "personal", "msteams", url, TENANT, MAIJA, None
            ),
            reference={"conversation": {"id": MAIJA_CHAT}, "serviceUrl": url},
            now=TUESDAY_10,
        )
    async with aiohttp.ClientSession() as http:
        client = BotConnectorClient(http, NoTokenProvider(), policy=RetryPolicy(max_attempts=1))
        installer = InstallerFake(connector)
        sender = ProactiveSender(client, bot_id="28:bot", teams_app_id="app", installer=installer)
        rollout = Rollout(sessions, connector, installer, None)  # type: ignore[arg-type]
        rollout.deliverer = TeamsDeliverer(
            sessions,
            sender,
            default_language="fi",
            tenant_id=TENANT,
            service_url=url,
            unasked=UNASKED,
            clock=lambda: rollout.now,
        )
        yield rollout
    await server.close()


def sent_to(connector: FakeBotConnector, conversation_id: str) -> list[dict[str, Any]]:
    return connector.delivered_to(conversation_id)


async def test_every_active_member_is_told_once(rollout):
    assert await rollout.plan() == {WINDOW_OPEN: 2}
    assert await rollout.plan() == {WINDOW_OPEN: 0}

    stats = await rollout.dispatcher().run_until_idle()
    assert stats.delivered == 2

    rows = await rollout.rows()
    assert {recipient for _, recipient in rows} == {MAIJA, SARI}
    assert rows[WINDOW_OPEN, MAIJA].outcome == "continued"
    assert rows[WINDOW_OPEN, SARI].outcome == "installed"
    assert rollout.installer.installs == [SARI]
    maija = sent_to(rollout.connector, MAIJA_CHAT)
    text = all_text(maija)
    assert "Yksikkösi vuoro on nyt!" in text
    assert "Sivistystoimiala: voit nyt valita työpuhelimesi, ja valinta-aikaa on 29.1.2027" in text
    assert list(buttons(maija)) == ["Valitse puhelin", "Kysymyksiä", "Muistuta myöhemmin"]
    assert buttons(maija)["Muistuta myöhemmin"]["wave"] > 0
    sari_chat = rows[WINDOW_OPEN, SARI].conversation_id
    assert sari_chat and len(sent_to(rollout.connector, sari_chat)) == 1

    assert (await rollout.dispatcher().run_until_idle()).delivered == 0
    assert len(rollout.connector.activities) == 2


async def test_a_chat_the_bot_opened_is_continued_next_time(rollout):
    await rollout.plan()
    await rollout.dispatcher().run_until_idle()
    async with rollout.sessions() as session:
        stored = await session.scalar(
            select(ConversationReferenceRecord).where(
                ConversationReferenceRecord.aad_object_id == SARI
            )
        )
    assert stored is not None and stored.tenant_id == TENANT

    rollout.now = datetime(2027, 1, 26, 9, 0, tzinfo=UTC)
    assert await rollout.plan() == {WINDOW_OPEN: 0, WINDOW_REMINDER: 2}
    await rollout.dispatcher().run_until_idle()
    rows = await rollout.rows()
    assert rows[WINDOW_REMINDER, SARI].outcome == "continued"
    assert rollout.installer.installs == [SARI]


async def test_the_reminder_goes_only_to_those_who_have_not_chosen(rollout):
    async with rollout.sessions() as session, session.begin():
        session.add(
            PhoneChoice(aad_object_id=MAIJA, option=ChoiceOption.PORI_PHONE.value, status="chosen")
        )
    assert await rollout.plan() == {WINDOW_OPEN: 2}
    rollout.now = datetime(2027, 1, 26, 9, 0, tzinfo=UTC)
    assert await rollout.plan() == {WINDOW_OPEN: 0, WINDOW_REMINDER: 1}
    await rollout.dispatcher().run_until_idle()
    rows = await rollout.rows()
    assert (WINDOW_REMINDER, MAIJA) not in rows
    reminder = sent_to(rollout.connector, rows[WINDOW_REMINDER, SARI].conversation_id or "")
    assert "Muistutus: valinta-aika päättyy 29.1.2027" in all_text(reminder)


async def test_a_reminder_is_skipped_for_someone_who_chose_after_it_was_planned(rollout):
    await rollout.plan()
    await rollout.dispatcher().run_until_idle()
    rollout.now = datetime(2027, 1, 26, 9, 0, tzinfo=UTC)
    await rollout.plan()
    async with rollout.sessions() as session, session.begin():
        session.add(PhoneChoice(aad_object_id=MAIJA, option="pori_phone", status="chosen"))
    await rollout.dispatcher().run_until_idle()
    rows = await rollout.rows()
    assert rows[WINDOW_REMINDER, MAIJA].outcome == "skipped"
    texts = [all_text([activity]) for activity in sent_to(rollout.connector, MAIJA_CHAT)]
    assert not any("Muistutus" in text for text in texts)


async def test_language_is_the_recipients_own(rollout):
    async with rollout.sessions() as session, session.begin():
        sari = await session.get(Employee, SARI)
        assert sari is not None
        sari.chosen_language = "en"
    await rollout.plan()
    await rollout.dispatcher().run_until_idle()
    rows = await rollout.rows()
    english = sent_to(rollout.connector, rows[WINDOW_OPEN, SARI].conversation_id or "")
    assert "It's your unit's turn now!" in all_text(english)
    assert "Education and Culture" in all_text(english)
    assert list(buttons(english)) == ["Choose a phone", "Questions", "Remind me later"]


@pytest.mark.parametrize(("blocked", "reason"), [(True, "blocked"), (False, "not_found")])
async def test_blocked_and_vanished_chats_fail_at_once_with_the_reason(rollout, blocked, reason):
    if blocked:
        rollout.connector.blocked.add(MAIJA_CHAT)
    else:
        rollout.connector.unknown_conversations.add(MAIJA_CHAT)
    await rollout.plan()
    await rollout.dispatcher().run_until_idle()
    row = (await rollout.rows())[WINDOW_OPEN, MAIJA]
    assert (row.state, row.reason, row.attempts) == ("failed", reason, 1)
    assert row.last_status == (403 if blocked else 404)
    async with rollout.sessions() as session:
        report = await outbox.campaign_report(session=session, campaign_id=row.campaign_id)
    assert report is not None
    assert report.counts["delivered"] == 1
    assert report.counts["failed"] == 1


async def test_nothing_is_sent_at_night(rollout):
    rollout.now = datetime(2027, 1, 12, 20, 30, tzinfo=UTC)  # 22.30 in Pori
    await rollout.plan()
    assert (await rollout.dispatcher().run_until_idle()).delivered == 0
    assert rollout.connector.activities == []
    rollout.now = datetime(2027, 1, 13, 6, 0, tzinfo=UTC)  # 8.00 the next morning
    assert (await rollout.dispatcher().run_until_idle()).delivered == 2


async def test_remind_me_later_comes_the_next_working_morning(rollout):
    await rollout.plan()
    friday = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    reminders = LaterReminders(rollout.sessions, lambda: friday, WorkingHours())
    rows = await rollout.rows()
    wave_id = 0
    async with rollout.sessions() as session:
        campaign = await session.get(outbox.Campaign, rows[WINDOW_OPEN, MAIJA].campaign_id)
        assert campaign is not None
        wave_id = int(campaign.payload["wave_id"])
    answer, at = await reminders.schedule(aad_object_id=MAIJA, wave_id=wave_id)
    assert (answer, at) == (Later.SCHEDULED, datetime(2027, 1, 18, 6, 0, tzinfo=UTC))  # Mon 8.00
    assert await reminders.schedule(aad_object_id=MAIJA, wave_id=wave_id) == (answer, at)
    not_his = await reminders.schedule(aad_object_id=PEKKA, wave_id=wave_id)
    assert not_his[0] is Later.NOT_POSSIBLE
    assert (await reminders.schedule(aad_object_id=MAIJA, wave_id=wave_id + 99))[0] is (
        Later.NOT_POSSIBLE
    )
    closing_day = LaterReminders(
        rollout.sessions, lambda: datetime(2027, 1, 29, 9, 0, tzinfo=UTC), WorkingHours()
    )
    assert (await closing_day.schedule(aad_object_id=MAIJA, wave_id=wave_id))[0] is (Later.TOO_LATE)

    rollout.now = friday
    await rollout.dispatcher().run_until_idle()
    later = [key for key in await rollout.rows() if key == (WINDOW_REMINDER, MAIJA)]
    assert later == [(WINDOW_REMINDER, MAIJA)]
    before = len(sent_to(rollout.connector, MAIJA_CHAT))
    rollout.now = at
    assert (await rollout.dispatcher().run_until_idle()).delivered == 1
    assert len(sent_to(rollout.connector, MAIJA_CHAT)) == before + 1


async def test_a_paid_off_phone_is_told_without_waiting_for_a_message(rollout):
    async with rollout.sessions() as session, session.begin():
        told_in_chat = PendingNotice(
            aad_object_id=SARI, kind="phone_paid_off", payload={}, sent_at=TUESDAY_10
        )
        session.add_all(
            [
                PendingNotice(
                    aad_object_id=MAIJA,
                    kind="phone_paid_off",
                    payload={"model_name": "Samsung Galaxy A56"},
                ),
                told_in_chat,
            ]
        )
    async with rollout.sessions() as session, session.begin():
        assert await plan_life_event_notices(session=session, now=TUESDAY_10) == 1
    async with rollout.sessions() as session, session.begin():
        assert await plan_life_event_notices(session=session, now=TUESDAY_10) == 0
    await rollout.dispatcher().run_until_idle()
    told = sent_to(rollout.connector, MAIJA_CHAT)
    assert "Samsung Galaxy A56 on maksettu, ja puhelin on nyt sinun omasi" in all_text(told)
    async with rollout.sessions() as session:
        assert await pending_notices(session=session, aad_object_id=MAIJA) == []
        assert await plan_life_event_notices(session=session, now=TUESDAY_10) == 0


async def test_a_notice_told_in_chat_first_is_not_sent_again(rollout):
    async with rollout.sessions() as session, session.begin():
        session.add(PendingNotice(aad_object_id=MAIJA, kind="phone_paid_off", payload={}))
    async with rollout.sessions() as session, session.begin():
        await plan_life_event_notices(session=session, now=TUESDAY_10)
        (notice,) = await pending_notices(session=session, aad_object_id=MAIJA)
        await mark_notice_sent(session=session, notice_id=notice.id, now=TUESDAY_10)
    await rollout.dispatcher().run_until_idle()
    assert sent_to(rollout.connector, MAIJA_CHAT) == []
    assert {row.outcome for row in (await rollout.rows()).values()} == {"skipped"}


async def test_a_cancelled_campaign_stays_cancelled_and_planning_goes_on(rollout):
    await rollout.plan()
    rows = await rollout.rows()
    async with rollout.sessions() as session, session.begin():
        await outbox.cancel_campaign(
            session=session,
            campaign_id=rows[WINDOW_OPEN, MAIJA].campaign_id,
            now=TUESDAY_10,
        )
        session.add(PendingNotice(aad_object_id=MAIJA, kind="phone_paid_off", payload={}))
        session.add(Employee(aad_object_id="late-joiner", unit_code="SIVISTYS"))
    rollout.now = datetime(2027, 1, 26, 9, 0, tzinfo=UTC)
    # The opening stays cancelled (not even the newcomer is added); the reminder still goes.
    assert await rollout.plan() == {WINDOW_OPEN: 0, WINDOW_REMINDER: 3}
    async with rollout.sessions() as session, session.begin():
        assert await plan_life_event_notices(session=session, now=TUESDAY_10) == 1


async def test_a_cancelled_life_event_campaign_does_not_stop_planning(rollout):
    async with rollout.sessions() as session, session.begin():
        session.add(PendingNotice(aad_object_id=MAIJA, kind="phone_paid_off", payload={}))
    async with rollout.sessions() as session, session.begin():
        assert await plan_life_event_notices(session=session, now=TUESDAY_10) == 1
    rows = await rollout.rows()
    async with rollout.sessions() as session, session.begin():
        await outbox.cancel_campaign(
            session=session,
            campaign_id=rows["life_event", MAIJA].campaign_id,
            now=TUESDAY_10,
        )
    async with rollout.sessions() as session, session.begin():
        session.add(PendingNotice(aad_object_id=SARI, kind="phone_paid_off", payload={}))
    assert await rollout.plan() == {WINDOW_OPEN: 2}
    async with rollout.sessions() as session, session.begin():
        assert (
            await plan_life_event_notices(session=session, now=TUESDAY_10) == 1
        )  # Sari's; Maija's stays off


async def test_a_late_joiner_is_not_reminded_the_day_they_were_told(rollout):
    rollout.now = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
    await rollout.plan()
    async with rollout.sessions() as session, session.begin():
        session.add(Employee(aad_object_id="late-joiner", unit_code="SIVISTYS"))
    rollout.now = datetime(2027, 1, 26, 9, 0, tzinfo=UTC)
    planned = await rollout.plan()
    assert planned == {WINDOW_OPEN: 1, WINDOW_REMINDER: 2}  # Maija and Sari, not the newcomer
    rollout.now = datetime(2027, 1, 27, 9, 0, tzinfo=UTC)
    assert await rollout.plan() == {WINDOW_OPEN: 0, WINDOW_REMINDER: 1}


async def test_a_card_for_a_window_that_is_over_or_not_theirs_is_skipped(rollout):
    await rollout.plan()
    async with rollout.sessions() as session, session.begin():
        sari = await session.get(Employee, SARI)
        assert sari is not None
        sari.unit_code = "TEKNINEN"  # moved to a unit that is not in this wave
    await rollout.dispatcher().run_until_idle()
    rows = await rollout.rows()
    assert rows[WINDOW_OPEN, SARI].outcome == "skipped"
    assert rows[WINDOW_OPEN, MAIJA].outcome == "continued"


async def test_a_card_for_a_window_that_has_closed_is_skipped(rollout):
    await rollout.plan()
    rollout.now = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)  # the Monday after it closed
    await rollout.dispatcher().run_until_idle()
    assert {row.outcome for row in (await rollout.rows()).values()} == {"skipped"}
    assert rollout.connector.activities == []


async def test_a_failed_send_leaves_the_life_event_to_tell(rollout):
    rollout.connector.blocked.add(MAIJA_CHAT)
    async with rollout.sessions() as session, session.begin():
        session.add(PendingNotice(aad_object_id=MAIJA, kind="phone_paid_off", payload={}))
    async with rollout.sessions() as session, session.begin():
        await plan_life_event_notices(session=session, now=TUESDAY_10)
    await rollout.dispatcher().run_until_idle()
    async with rollout.sessions() as session:
        assert len(await pending_notices(session=session, aad_object_id=MAIJA)) == 1


async def test_a_failure_after_the_send_does_not_send_again(rollout, monkeypatch):
    async def broken(**_: object) -> bool:
        raise RuntimeError("database is locked")

    monkeypatch.setattr("bot.delivery.conversations.remember", broken)
    await rollout.plan()
    await rollout.dispatcher().run_until_idle()
    rows = await rollout.rows()
    assert rows[WINDOW_OPEN, SARI].state == "delivered"
    assert rows[WINDOW_OPEN, SARI].outcome == "installed"
    assert len(rollout.connector.activities) == 2

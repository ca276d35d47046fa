"""A Bot Connector outage in the middle of a campaign: everyone still gets their message.

The dispatcher, the Teams deliverer and the Bot Connector client run as in production against the
fake Bot Connector. Time is fake and moves only when the dispatcher waits for the tenant rate or
the test moves it, so ten minutes of outage take seconds and no wall clock is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.adapters.botframework.connector import BotConnectorClient
from bot.adapters.botframework.fake_connector import FakeBotConnector, Outage
from bot.adapters.botframework.proactive import ProactiveSender
from bot.adapters.botframework.tokens import NoTokenProvider
from bot.backoff import RetryPolicy
from bot.clock import HELSINKI
from bot.conversations.models import ConversationReferenceRecord
from bot.db.engine import create_session_factory
from bot.delivery import TeamsDeliverer
from bot.dialogs.unasked import Unasked
from bot.i18n import Texts
from bot.notifications import outbox
from bot.notifications.delivery import Outgoing
from bot.notifications.dispatcher import Dispatcher
from bot.notifications.models import Notification
from bot.notifications.quiet_hours import WorkingHours
from bot.notifications.rate_limit import ConversationLimiter, RateLimiter
from bot.notifications.testing import FakeTime

RECIPIENTS = 1000
CONCURRENCY = 50
OUTAGE = 600.0  # seconds of fake time
TENANT = "tenant-pori"
NOTICE = "notice"
TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=HELSINKI).astimezone(UTC)
PEOPLE = [f"00000000-0000-4000-a000-{number:012d}" for number in range(RECIPIENTS)]


async def the_notice(session: AsyncSession, outgoing: Outgoing, now: datetime) -> str:
    return "x"


def notice_card(t: Texts, text: str) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": text}]}


@pytest.fixture
def time() -> FakeTime:
    return FakeTime(TUESDAY_MORNING)


@pytest.fixture
async def connector(time: FakeTime) -> AsyncIterator[tuple[FakeBotConnector, str]]:
    fake = FakeBotConnector(clock=time.monotonic)
    async with TestServer(fake.app()) as server:
        yield fake, str(server.make_url("")).rstrip("/")


async def seed(engine: AsyncEngine, service_url: str, now: datetime) -> int:
    """Everyone has chatted with the bot, so each message is one call to the connector."""
    async with create_session_factory(engine)() as session, session.begin():
        await session.execute(
            insert(ConversationReferenceRecord),
            [
                {
                    "conversation_id": f"a:chat-{person}",
                    "conversation_type": "personal",
                    "channel_id": "msteams",
                    "service_url": service_url,
                    "tenant_id": TENANT,
                    "aad_object_id": person,
                    "reference": {},
                }
                for person in PEOPLE
            ],
        )
        campaign = await outbox.create_campaign(
            session=session, key="announcement-1", kind=NOTICE, now=now
        )
        await outbox.enqueue(session=session, campaign_id=campaign.id, recipients=PEOPLE, now=now)
        return campaign.id


def dispatcher(
    engine: AsyncEngine, http: aiohttp.ClientSession, service_url: str, time: FakeTime
) -> Dispatcher:
    """As `phonebot serve` builds it: one attempt per send on the wire, at Teams' 50/s."""
    sessions = create_session_factory(engine)
    client = BotConnectorClient(http, NoTokenProvider(), policy=RetryPolicy(max_attempts=1))
    sender = ProactiveSender(client, bot_id="28:bot", teams_app_id="app")
    deliverer = TeamsDeliverer(
        sessions,
        sender,
        default_language="fi",
        tenant_id=TENANT,
        service_url=service_url,
        unasked={NOTICE: Unasked(the_notice, notice_card)},
        clock=time.now,
    )
    return Dispatcher(
        sessions,
        deliverer,
        quiet_hours=WorkingHours(),
        worker_id="test",
        rate=RateLimiter(50, clock=time.monotonic, sleep=time.sleep_together),
        per_conversation=ConversationLimiter(clock=time.monotonic),
        clock=time.now,
        sleep=time.sleep_together,
        concurrency=CONCURRENCY,
        batch=CONCURRENCY,
        flush_interval=0.01,
        poll_interval=0.05,
    )


async def states(engine: AsyncEngine) -> dict[str, int]:
    async with create_session_factory(engine)() as session:
        found = await session.execute(
            select(Notification.state, func.count()).group_by(Notification.state)
        )
        return {state: count for state, count in found.all()}


async def test_a_ten_minute_outage_mid_campaign_loses_nothing(engine, connector, time):
    fake, service_url = connector
    await seed(engine, service_url, time.now())
    start = time.monotonic()
    # 50 sends a second: after 10 s about half the campaign is out, then the connector goes down.
    fake.outage = Outage(start + 10, start + 10 + OUTAGE, statuses=(500, 503))
    async with aiohttp.ClientSession() as http:
        sending = dispatcher(engine, http, service_url, time)
        await sending.run_until_idle()
        assert 0 < len(fake.deliveries) < RECIPIENTS
        give_up_at = time.now() + timedelta(hours=2)
        while (await states(engine)).get("delivered") != RECIPIENTS and time.now() < give_up_at:
            time.advance(5)
            await sending.run_until_idle()

    assert await states(engine) == {"delivered": RECIPIENTS}
    reached = fake.deliveries_by_recipient()
    assert len(reached) == RECIPIENTS
    assert sum(count - 1 for count in reached.values()) <= CONCURRENCY
    # The dispatcher stopped trying while the connector was down instead of burning rows on it.
    assert fake.down <= 3 * CONCURRENCY

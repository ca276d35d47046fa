"""Transcripts of "omat tietoni" through the real HTTP app, on SQLite and PostgreSQL: the card
lists the asker's own data, the link downloads their copy once logged, an expired or unknown
link tells so, and a payload naming someone else is refused and logged."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.privacy.models import AuditEvent
from tests.support import activities
from tests.support.bot import MAIJA, BotUnderTest, demo_bot
from tests.support.cards import all_text, cards

NOW = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
ANNA = "00000000-0000-4000-8000-000000000002"


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with demo_bot(engine, NOW) as running:
        yield running


async def audit(bot: BotUnderTest) -> list[tuple[str, str, str, str | None, str]]:
    async with bot.components.sessions() as session:
        rows = await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.actor, e.channel, e.action, e.subject, e.outcome) for e in rows]


def download_url(replies: list[dict]) -> str:
    (card,) = cards(replies)
    (url,) = [a["url"] for a in card["actions"] if "/privacy/copy/" in a["url"]]
    return url


async def test_my_data_lists_own_data_and_the_link_downloads_the_copy_once_logged(bot):
    replies = await bot.say(MAIJA, "Omat tietoni")
    text = all_text(replies)
    assert "Omat tietoni" in text
    assert "Henkilötietosi hakemistosta" in text and "Keskustelusi botin kanssa" in text
    assert "anonymisoidaan 12 kuukautta" in text
    assert "Maija" not in text  # the card tells kinds and counts, not the data itself
    url = download_url(replies)
    assert url.startswith("http://127.0.0.1:")
    assert await audit(bot) == [
        (MAIJA.aad_object_id, "chat", "privacy.my_data", MAIJA.aad_object_id, "shown")
    ]

    response = await bot.client.get("/" + url.split("/", 3)[3])
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    copy = json.loads(await response.text())
    assert copy["person"] == MAIJA.aad_object_id
    (me,) = copy["tables"]["employee"]
    assert me["display_name"] == MAIJA.name
    assert ANNA not in json.dumps(copy)
    assert (await audit(bot))[-1] == (
        MAIJA.aad_object_id,
        "link",
        "privacy.download",
        MAIJA.aad_object_id,
        "shown",
    )
    # The link is spent: a second use (or anyone it leaked to) gets nothing.
    again = await bot.client.get("/" + url.split("/", 3)[3])
    assert again.status == 404 and len(await audit(bot)) == 2


async def test_an_unknown_or_expired_link_is_told_and_shows_nothing(bot):
    url = download_url(await bot.say(MAIJA, "my data"))
    path = "/" + url.split("/", 3)[3]
    unknown = await bot.client.get("/privacy/copy/not-a-token")
    assert unknown.status == 404 and "vanhentunut" in await unknown.text()
    head = await bot.client.head(path)
    assert head.status == 405  # a HEAD would spend the link without a download
    before = len(await audit(bot))
    async with bot.components.sessions() as session, session.begin():
        from bot.privacy.models import CopyLink

        for link in await session.scalars(select(CopyLink)):
            link.expires_at = NOW - timedelta(seconds=1)
    expired = await bot.client.get(path)
    assert expired.status == 404 and "expired" in await expired.text()
    assert len(await audit(bot)) == before  # nothing was shown, so nothing to log


@pytest.mark.parametrize("key", ["person", "aad_object_id", "employee"])
async def test_a_payload_naming_someone_else_is_refused_and_logged(bot, key):
    forged = {"verb": "area.my_data", key: ANNA}
    replies = await bot.press(MAIJA, forged)
    assert "vain sinun omat tietosi" in all_text(replies)
    assert not cards(replies)
    assert await audit(bot) == [(MAIJA.aad_object_id, "chat", "area.my_data", ANNA, "refused")]


async def test_a_forged_payload_for_another_area_is_logged_too(bot):
    replies = await bot.press(MAIJA, {"verb": "area.my_deductions", "aad_object_id": ANNA})
    assert "vain sinun omat tietosi" in all_text(replies)
    assert await audit(bot) == [
        (MAIJA.aad_object_id, "chat", "area.my_deductions", ANNA, "refused")
    ]


async def test_my_data_is_not_shown_in_a_channel(bot):
    replies = await bot.turn(
        activities.channel_message(MAIJA, bot.service_url, "<at>Puhelinbotti</at> omat tietoni")
    )
    assert not cards(replies)
    assert "kahden kesken" in all_text(replies)
    assert await audit(bot) == []

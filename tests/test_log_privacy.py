"""The logs of a whole employee's transcript, in the JSON format operators ship: every line
carries its turn's correlation id, and none names the person, their figures, what they typed,
their download link or a token.

The transcript runs through the real HTTP app over the demo data, with every logger at DEBUG
(more than production writes) rendered by the same handler `phonebot` installs.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.telemetry.correlation import CorrelationFilter
from bot.telemetry.log_format import JsonFormatter
from bot.telemetry.web import CORRELATION_HEADER
from tests.support.activities import message
from tests.support.bot import MAIJA, OUTGOING_TOKEN, demo_bot
from tests.support.cards import buttons, cards

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
ANDROID_ONLY = {"os": "android", "max_monthly": "any", "size": "any", "camera": "false"}
QUESTION = "Asun osoitteessa Satakunnankatu 9 B 12, paljonko puhelin maksaa minulle?"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged, as `LOG_FORMAT=json` writes it."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield written
    root.removeHandler(handler)
    root.setLevel(level)


def lines(written: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in written.getvalue().splitlines() if line.strip()]


async def test_a_whole_transcript_logs_nothing_personal_and_every_line_is_correlated(
    engine, json_log
):
    secrets: list[str] = [
        MAIJA.name,
        *MAIJA.name.split(),
        MAIJA.aad_object_id,
        QUESTION,
        "Satakunnankatu",
    ]
    async with demo_bot(engine, NOW) as bot:
        menu = await bot.say(MAIJA, "valikko")
        options = await bot.press(MAIJA, buttons(menu)["Valitse puhelin"])
        wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
        listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
        details = await bot.press(MAIJA, buttons(listed)["Samsung Galaxy A56"])
        summary = await bot.press(MAIJA, buttons(details)["Valitse tämä"])
        await bot.press(MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"})
        await bot.say(MAIJA, "omat vähennykset")
        await bot.say(MAIJA, QUESTION)
        my_data = await bot.say(MAIJA, "omat tietoni")
        (link,) = [
            action["url"]
            for action in cards(my_data)[0]["actions"]
            if "/privacy/copy/" in action["url"]
        ]
        token = link.rsplit("/", 1)[1]
        secrets.append(token)
        response = await bot.client.get(f"/privacy/copy/{token}")
        assert response.status == 200
        reply = await bot.post(message(MAIJA, bot.service_url, "hei"))
        assert reply.headers[CORRELATION_HEADER]
    secrets += [OUTGOING_TOKEN, "250,00", "10,41", "10,57", "25000", "1041"]

    logged = lines(json_log)
    text = json_log.getvalue()
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], f"logged: {leaked}"
    assert {"time", "level", "logger", "message", "correlation_id"} <= set(logged[0])
    turns = [line for line in logged if line["logger"] == "aiohttp.access"]
    assert len(turns) >= 12, "every request of the transcript was logged"
    assert all(line["correlation_id"] != "-" for line in turns)
    assert len({line["correlation_id"] for line in turns}) == len(turns), "one id per request"


async def test_a_failed_turns_apology_header_and_log_line_share_one_id(engine, json_log):
    """What the employee reads to the helpdesk finds the turn's lines, stack included."""
    async with demo_bot(engine, NOW) as bot:

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("the database went away")

        bot.components.handler._switch_language = broken  # type: ignore[method-assign]
        before = len(bot.connector.activities)
        response = await bot.post(message(MAIJA, bot.service_url, "in English"))
        (apology,) = bot.connector.activities[before:]
    correlation = response.headers[CORRELATION_HEADER]
    assert correlation in apology["text"]
    (failed,) = [line for line in lines(json_log) if line["message"].startswith("turn failed")]
    assert failed["correlation_id"] == correlation
    assert failed["exception"]["type"] == "RuntimeError"  # type: ignore[index]
    assert "the database went away" in failed["exception"]["stack"]  # type: ignore[index]

"""ICT's announcements as transcripts: compose, preview, send now or later, delivery in each
recipient's language, and a non-admin refused at every step (a copied payload included)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db.engine import create_session_factory
from bot.demo.loader import demo_data, load_demo_data
from bot.notifications.models import Campaign, Notification
from bot.settings import Settings
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest, running_bot
from tests.support.cards import ADAPTIVE, all_text, buttons, cards, executes

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday, 10.00 in Helsinki
PEOPLE = {person["name"]: person for person in demo_data()["employees"]}
ADMIN = TeamsUser("00000000-0000-4000-8000-0000000000ad", "Iida Ylläpitäjä")


def person(name: str) -> TeamsUser:
    found = PEOPLE[name]
    locale = "en-US" if found["language"].startswith("en") else "fi-FI"
    return TeamsUser(found["aad_object_id"], found["name"], locale)


MAIJA, JAMES, SARI = person("Maija Meikäläinen"), person("James Walker"), person("Sari Heikkilä")
ANNOUNCEMENT = {
    "title_fi": "Puhelinten jakelu alkaa",
    "text_fi": "Jakelu alkaa **maanantaina**. Lue [ohje](https://intra.pori.fi/puhelin).",
    "title_en": "Phone delivery begins",
    "text_en": "Delivery begins on **Monday**.",
    "link_title": "Verkkokauppa",
    "link_url": "https://www.tiera.fi/",
    "link2_title": "Ohje",
    "link2_url": "https://intra.pori.fi/puhelin",
    "units": "SIVISTYS,SINFONIETTA",
}


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
    settings = Settings(
        app_id="",
        ict_admin_ids=ADMIN.aad_object_id,
        notify_working_hours="08:00-16:00",
        notify_public_holidays=False,
    )
    async with running_bot(engine, settings, clock=lambda: NOW) as running:
        for someone in (MAIJA, JAMES, SARI):
            await running.say(someone, "hei")  # their chats exist, so they can be reached
        yield running


async def preview(bot: BotUnderTest, form: dict[str, str], user: TeamsUser = ADMIN) -> list[Any]:
    composed = await bot.say(user, "tiedote")
    return await bot.press(user, {**buttons(composed)["Esikatsele"], **form})


async def campaigns(bot: BotUnderTest) -> list[tuple[Campaign, int]]:
    async with bot.components.sessions() as session:
        rows = await session.execute(
            select(Campaign, func.count(Notification.id))
            .outerjoin(Notification, Notification.campaign_id == Campaign.id)
            .where(Campaign.kind == "announcement")
            .group_by(Campaign.id)
        )
        return [(campaign, count) for campaign, count in rows.all()]


async def test_compose_preview_and_send_to_two_units(bot):
    shown = await preview(bot, ANNOUNCEMENT)
    previews = cards(shown)
    assert len(previews) == 3, "Finnish, English, then the controls"
    assert all_text(shown[:1]).startswith("Puhelinten jakelu alkaa")
    assert "Delivery begins on **Monday**." in all_text(shown[1:2])
    assert "Vastaanottajia: 4" in all_text(shown[2:]), "two in each unit"
    assert "Lähtee heti" in all_text(shown[2:])

    assert "Tiedote on tallessa luonnoksena" in all_text(shown[2:])
    sent = await bot.press(ADMIN, buttons(shown)["Lähetä"])
    assert "on lähetysjonossa, ja se lähtee 4 vastaanottajalle" in all_text(sent)
    again = await bot.press(ADMIN, buttons(shown)["Lähetä"])
    assert "lähetysjonossa" not in all_text(again), "the second press finds it sent"
    [(campaign, recipients)] = await campaigns(bot)
    assert (campaign.title, campaign.created_by, recipients) == (
        "Puhelinten jakelu alkaa",
        ADMIN.aad_object_id,
        4,
    ), "pressing Send twice queues it once"


async def test_each_recipient_reads_it_in_their_language(bot):
    shown = await preview(bot, ANNOUNCEMENT)
    await bot.press(ADMIN, buttons(shown)["Lähetä"])
    before = {
        user: len(bot.connector.delivered_to(user.conversation_id)) for user in (MAIJA, JAMES)
    }
    await bot.components.jobs.dispatcher.run_until_idle()
    maija = bot.connector.delivered_to(MAIJA.conversation_id)[before[MAIJA] :]
    james = bot.connector.delivered_to(JAMES.conversation_id)[before[JAMES] :]
    assert "Jakelu alkaa **maanantaina**" in all_text(maija)
    assert "Delivery begins on **Monday**." in all_text(james)
    link = next(
        action for action in cards(maija)[0]["actions"] if action["type"] == "Action.OpenUrl"
    )
    assert link == {
        "type": "Action.OpenUrl",
        "title": "Verkkokauppa",
        "url": "https://www.tiera.fi/",
    }


async def test_an_announcement_for_later_waits_for_its_time(bot):
    later = {**ANNOUNCEMENT, "send_date": "2026-11-30", "send_time": "09:00"}
    shown = await preview(bot, later)
    assert "Lähtee 30.11.2026 09.00" in all_text(shown)
    await bot.press(ADMIN, buttons(shown)["Lähetä"])
    [(campaign, _)] = await campaigns(bot)
    assert campaign.not_before is not None
    stats = await bot.components.jobs.dispatcher.run_until_idle()
    assert stats.delivered == 0


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"title_fi": ""}, "otsikko ja teksti suomeksi puuttuvat"),
        ({"text_en": ""}, "englanniksi tarvitaan sekä otsikko että teksti"),
        ({"link_url": "http://www.tiera.fi/"}, "ei ole https-osoite"),
        ({"link2_url": "javascript:alert(1)"}, "ei ole https-osoite"),
        ({"link2_title": ""}, "linkkipainikkeeseen tarvitaan sekä teksti että osoite"),
        ({"image_url": "javascript:alert(1)"}, "ei ole https-osoite"),
        ({"units": "EIOLE"}, "tuntematon yksikkö EIOLE"),
        ({"units": "", "upns": "ei.ketaan@demo.pori.fi"}, "ei löydy hakemistosta"),
        ({"units": "", "upns": "ei sähköposti"}, "ei ole sähköpostiosoite"),
        ({"units": ""}, "valitse yksiköt, henkilöt tai kaikki"),
        ({"send_date": "2026-11-25"}, "lähetysaika on jo mennyt"),
        ({"title_fi": "x" * 121}, "otsikko on liian pitkä"),
    ],
)
async def test_problems_come_back_on_the_form_and_nothing_is_queued(bot, change, problem):
    shown = await preview(bot, {**ANNOUNCEMENT, **change})
    assert problem in all_text(shown)
    assert "Esikatsele" in buttons(shown), "the form again, with what was typed"
    assert await campaigns(bot) == []


async def test_people_by_address_and_everyone(bot):
    by_address = {
        **ANNOUNCEMENT,
        "units": "",
        "upns": "MAIJA.meikalainen@demo.pori.fi\nsari.heikkila@demo.pori.fi",
    }
    assert "Vastaanottajia: 2" in all_text(await preview(bot, by_address))
    everyone = {**ANNOUNCEMENT, "units": "", "everyone": "true"}
    # The directory's people; not the admin, whom the bot knows only from their chat.
    assert f"Vastaanottajia: {len(PEOPLE)}" in all_text(await preview(bot, everyone))


async def test_mentions_and_html_the_author_typed_never_reach_anyone(bot):
    sneaky = {**ANNOUNCEMENT, "text_fi": "<at>Kaikki</at> huomio <script>x</script>**nyt**"}
    shown = await preview(bot, sneaky)
    text = all_text(shown[:1])
    assert "<at>" not in text and "<script>" not in text
    assert "Kaikki huomio x**nyt**" in text


async def test_someone_who_is_not_an_admin_is_refused_at_every_step(bot, caplog):
    shown = await preview(bot, ANNOUNCEMENT)
    copied_send = buttons(shown)["Lähetä"]  # carries the draft's number and the preview's token
    caplog.set_level(logging.WARNING)
    for attempt in (
        lambda: bot.say(MAIJA, "tiedote"),
        lambda: bot.press(MAIJA, {"verb": "admin.announce"}),
        lambda: bot.press(MAIJA, {"verb": "admin.announce_preview", **ANNOUNCEMENT}),
        lambda: bot.press(MAIJA, copied_send),
    ):
        replies = await attempt()
        assert "Tämä toiminto on vain ICT:n ylläpitäjille" in all_text(replies)
        assert "Vastaanottajia" not in all_text(replies)
    assert caplog.text.count("refused an admin action by") == 4
    assert await campaigns(bot) == []


async def test_the_clock_decides_what_counts_as_past(bot):
    tomorrow = (NOW + timedelta(days=1)).date().isoformat()
    shown = await preview(bot, {**ANNOUNCEMENT, "send_date": tomorrow})
    assert "Lähtee 27.11.2026 08.00" in all_text(shown)


async def test_announcements_are_listed_with_their_delivery_and_refreshed_in_place(bot):
    shown = await preview(bot, ANNOUNCEMENT)
    await bot.press(ADMIN, buttons(shown)["Lähetä"])
    listed = await bot.say(ADMIN, "tiedotteet")
    assert "Puhelinten jakelu alkaa" in all_text(listed)
    assert "Toimitettu 0/4" in all_text(listed)
    assert "Pysäytä tämä tiedote" in buttons(listed)

    await bot.components.jobs.dispatcher.run_until_idle()
    verb, data = executes(listed)["Päivitä"]
    status, body = await bot.execute(ADMIN, verb, data)
    assert (status, body["statusCode"]) == (200, 200)
    refreshed = all_text([{"attachments": [{"contentType": ADAPTIVE, "content": body["value"]}]}])
    # Elina (Sinfonietta) has never chatted and no tenant is set here to open a chat with her.
    assert "Toimitettu 3/4" in refreshed
    assert "epäonnistui 1" in refreshed
    assert "Epäonnistumisen syyt: tenanttia ei ole asetettu 1" in refreshed
    [bar] = [node for node in body["value"]["body"] if node["type"] == "ColumnSet"]
    assert [(column["width"], column["style"]) for column in bar["columns"]] == [
        ("3", "good"),
        ("1", "attention"),
    ], "delivered and failed, drawn to scale"


async def test_a_scheduled_announcement_can_be_stopped_and_nothing_goes_out(bot):
    later = {**ANNOUNCEMENT, "send_date": "2026-11-30", "send_time": "09:00"}
    shown = await preview(bot, later)
    await bot.press(ADMIN, buttons(shown)["Lähetä"])
    listed = await bot.say(ADMIN, "tiedotteet")
    assert "Ajastettu: 30.11.2026 09.00" in all_text(listed)
    stopped = await bot.press(ADMIN, buttons(listed)["Pysäytä tämä tiedote"])
    assert "Tiedote on pysäytetty, ja 4 lähettämätöntä viestiä peruttiin." in all_text(stopped)
    assert "Pysäytä tämä tiedote" not in buttons(stopped)
    [(campaign, _)] = await campaigns(bot)
    assert campaign.state == "cancelled"


async def test_only_admins_list_stop_or_refresh(bot):
    shown = await preview(bot, ANNOUNCEMENT)
    await bot.press(ADMIN, buttons(shown)["Lähetä"])
    listed = await bot.say(ADMIN, "tiedotteet")
    refused = await bot.say(MAIJA, "tiedotteet")
    assert "vain ICT:n ylläpitäjille" in all_text(refused)
    refused = await bot.press(MAIJA, buttons(listed)["Pysäytä tämä tiedote"])
    assert "vain ICT:n ylläpitäjille" in all_text(refused)
    verb, data = executes(listed)["Päivitä"]
    _, body = await bot.execute(MAIJA, verb, data)
    assert body["statusCode"] == 403
    [(campaign, _)] = await campaigns(bot)
    assert campaign.state == "active"


async def test_stopping_something_that_is_not_an_announcement_changes_nothing(bot):
    from bot.notifications import outbox

    async with bot.components.sessions() as session, session.begin():
        other = await outbox.create_campaign(
            session=session,
            key="wave-1-window_open",
            kind="window_open",
            now=NOW,
        )
        other_id = other.id
    replies = await bot.press(ADMIN, {"verb": "admin.announce_cancel", "campaign": other_id})
    assert "Tiedotteet" in all_text(replies)
    async with bot.components.sessions() as session:
        assert (await session.get(Campaign, other_id)).state == "active"


async def test_per_recipient_results_export_for_excel(sqlite_engine, monkeypatch, capsys, tmp_path):
    import asyncio

    from bot.cli import main

    async with create_session_factory(sqlite_engine)() as session, session.begin():
        await load_demo_data(session=session)
    settings = Settings(app_id="", ict_admin_ids=ADMIN.aad_object_id, notify_public_holidays=False)
    async with running_bot(sqlite_engine, settings, clock=lambda: NOW) as running:
        await running.say(MAIJA, "hei")
        shown = await preview(running, ANNOUNCEMENT)
        await running.press(ADMIN, buttons(shown)["Lähetä"])
        await running.components.jobs.dispatcher.run_until_idle()
        [(campaign, _)] = await campaigns(running)
    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    target = tmp_path / "tulokset.csv"
    args = ["campaigns", "export", str(campaign.id), "-o", str(target)]
    assert await asyncio.to_thread(main, args) == 0
    lines = target.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()
    assert lines[0] == "henkilö;käyttäjätunnus;yksikkö;tila;syy;yrityksiä;lähetetty;tapa;kuitattu"
    by_name = {line.split(";")[0]: line.split(";") for line in lines[1:]}
    assert set(by_name) == {"Elina Järvinen", "James Walker", "Maija Meikäläinen", "Sari Heikkilä"}
    assert by_name["Maija Meikäläinen"][3:6] == ["delivered", "", "1"]
    assert by_name["Maija Meikäläinen"][6] == "26.11.2026 10.00"
    assert by_name["Sari Heikkilä"][3:5] == ["failed", "no_tenant"]


async def test_a_rollout_wave_as_the_audience(bot):
    from bot.rollout.service import schedule_wave

    async with bot.components.sessions() as session, session.begin():
        wave = await schedule_wave(
            session=session,
            name="Kevät",
            opens_on=NOW.date() + timedelta(days=30),
            closes_on=NOW.date() + timedelta(days=40),
            unit_codes=["SINFONIETTA", "KONSERNI"],
        )
        wave_id = wave.id
    composed = await bot.say(ADMIN, "tiedote")
    assert any(node.get("id") == "waves" for node in cards(composed)[0]["body"])
    by_wave = {**ANNOUNCEMENT, "units": "", "waves": str(wave_id)}
    assert "Vastaanottajia: 4" in all_text(await preview(bot, by_wave))
    unknown = {**ANNOUNCEMENT, "units": "", "waves": str(wave_id + 99)}
    assert "tuntematon aalto" in all_text(await preview(bot, unknown))


async def test_a_draft_is_saved_unfinished_listed_reopened_and_gone_once_sent(bot):
    composed = await bot.say(ADMIN, "tiedote")
    unfinished = {"title_fi": "Jakelu", "text_fi": ""}
    saved = await bot.press(ADMIN, {**buttons(composed)["Tallenna luonnokseksi"], **unfinished})
    assert "Luonnos Jakelu on tallennettu." in all_text(saved)
    assert "Luonnos: Jakelu · tallennettu 26.11.2026 10.00" in all_text(saved)

    reopened = await bot.press(ADMIN, buttons(saved)["Avaa"])
    fields = {node["id"]: node.get("value") for node in cards(reopened)[0]["body"] if "id" in node}
    assert fields["title_fi"] == "Jakelu"
    finished = {**ANNOUNCEMENT, "title_fi": "Jakelu"}
    shown = await bot.press(ADMIN, {**buttons(reopened)["Esikatsele"], **finished})
    edited = await bot.press(ADMIN, buttons(shown)["Muokkaa"])
    fields = {node["id"]: node.get("value") for node in cards(edited)[0]["body"] if "id" in node}
    assert fields["text_fi"] == ANNOUNCEMENT["text_fi"], "the previewed form, kept in the draft"
    shown = await bot.press(ADMIN, {**buttons(edited)["Esikatsele"], **finished})
    listed = await bot.say(ADMIN, "tiedotteet")
    assert all_text(listed).count("Luonnos: Jakelu") == 1, "one draft, updated in place"

    sent = await bot.press(ADMIN, buttons(shown)["Lähetä"])
    assert "Luonnos: Jakelu" not in all_text(sent), "a sent draft is a draft no more"
    assert "Jakelu · 26.11.2026 10.00" in all_text(sent)


async def test_a_draft_can_be_deleted_and_only_by_an_admin(bot):
    composed = await bot.say(ADMIN, "tiedote")
    saved = await bot.press(ADMIN, {**buttons(composed)["Tallenna luonnokseksi"], **ANNOUNCEMENT})
    refused = await bot.press(MAIJA, buttons(saved)["Poista"])
    assert "vain ICT:n ylläpitäjille" in all_text(refused)
    refused = await bot.press(MAIJA, buttons(saved)["Avaa"])
    assert "Puhelinten jakelu alkaa" not in all_text(refused)
    deleted = await bot.press(ADMIN, buttons(saved)["Poista"])
    assert "Luonnos poistettu." in all_text(deleted)
    assert "Luonnos:" not in all_text(deleted)


def test_the_fullest_form_still_fits_in_a_teams_message():
    """Teams refuses messages over about 28 KB: the form shown again with everything typed."""
    import json

    from bot.dialogs.admin.announcement_cards import compose_card
    from bot.dialogs.admin.cards import UnitOption
    from bot.i18n import texts

    form = {
        "title_fi": "Ö" * 120,
        "text_fi": "Ä" * 2000,
        "title_en": "T" * 120,
        "text_en": "E" * 2000,
        "image_url": "https://" + "i" * 492,
        "link_title": "L" * 80,
        "link_url": "https://" + "l" * 492,
        "link2_title": "K" * 80,
        "link2_url": "https://" + "k" * 492,
        "upns": "x" * 12000,
    }
    units = [UnitOption(f"U{number}", f"Yksikkö {number}") for number in range(40)]
    waves = [UnitOption(str(number), f"Aalto {number}") for number in range(10)]
    problems = [texts("fi")("announce.problem.no_audience")] * 5
    content = compose_card(texts("fi"), units, form, problems, waves=waves, draft_id=7)
    assert len(json.dumps(content, ensure_ascii=False).encode()) < 28_000


def test_tags_are_removed_but_comparisons_are_not():
    from bot.announcements.service import clean

    assert clean("<at>Kaikki</at> huomio <b>nyt</b>") == "Kaikki huomio nyt"
    assert clean("jos a < b ja c > d") == "jos a < b ja c > d"
    assert clean("<script src=x>alert(1)</script>") == "alert(1)"

"""ICT's tab through the real HTTP app: Teams sign-in, the role, and the figures it shows.

Sign-in tokens are signed by the local OpenID server standing in for Entra ID, for the suite's
fixed moment; forged ones (another key, expired, another tenant, audience or issuer) get 401.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.fake_openid import FakeOpenIdServer
from bot.announcements.models import AnnouncementReceipt
from bot.db.base import as_utc
from bot.db.engine import create_session_factory
from bot.faq.models import FaqFeedback, FaqQuestion
from bot.notifications import outbox
from bot.notifications.models import Notification
from bot.privacy.models import AuditEvent
from bot.settings import Settings
from tests.support.activities import TENANT_ID
from tests.support.bot import BotUnderTest, running_bot
from tests.support.rollout import NOW, scripted_rollout
from tests.support.tickets import add_ticket

APP_ID = "3c9a1f2e-7b4d-4e6a-9c8b-1d2e3f4a5b6c"
AUDIENCE = f"api://puhelinbotti.example.pori.fi/{APP_ID}"
ADMIN = "ict-admin-oid"
OTHER = "a1"  # an employee of unit A, not an admin
ISSUER = f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"
NAMES = ("Dan Dahl", "Aino Aalto", "Gustav Gran")


def tab_settings(metadata_url: str, **changes: Any) -> Settings:
    settings = Settings(
        app_id=APP_ID,
        teams_tenant_id=TENANT_ID,
        entra_openid_metadata_url=metadata_url,
        ict_admin_ids=ADMIN,
    )
    return settings.model_copy(update=changes)


def sign_in(server: FakeOpenIdServer, person: str = ADMIN, **kwargs: Any) -> dict[str, str]:
    extra = {"tid": TENANT_ID, "oid": person, "name": "Ilona ICT", **kwargs.pop("extra", {})}
    token = server.sign(
        app_id=kwargs.pop("audience", AUDIENCE),
        issuer=kwargs.pop("issuer", ISSUER),
        now=kwargs.pop("now", NOW).timestamp(),
        extra=extra,
        **kwargs,
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def tab(
    sqlite_engine: AsyncEngine, openid_server: FakeOpenIdServer
) -> AsyncIterator[BotUnderTest]:
    await scripted_rollout(sqlite_engine)
    settings = tab_settings(openid_server.metadata_url)
    async with running_bot(sqlite_engine, settings, clock=lambda: NOW) as running:
        yield running


async def get(
    bot: BotUnderTest, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    response = await bot.client.get(path, headers=headers or {})
    return response.status, await response.text()


async def test_the_page_itself_holds_no_data_and_may_be_framed_by_teams_only(tab):
    response = await tab.client.get("/tabs/ict")
    html = await response.text()
    assert response.status == 200
    assert '<html lang="fi">' in html and "Puhelinohjelma – ICT" in html
    assert not any(name in html for name in NAMES)
    assert 'data-start="/tabs/ict/start"' in html
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://teams.microsoft.com" in policy
    assert "script-src 'self'" in policy
    english = await (await tab.client.get("/tabs/ict?lang=en-GB")).text()
    assert '<html lang="en">' in english and "Phone program – ICT" in english


async def test_an_admin_sees_each_units_figures_as_the_database_has_them(tab, openid_server):
    status, html = await get(tab, "/tabs/ict/progress", sign_in(openid_server))
    assert status == 200, html
    assert "Helmikuu" in html and "Maaliskuu" in html
    assert '<a href="/tabs/ict/progress" data-fragment aria-current="page">' in html
    assert '<a href="/tabs/ict/uploads/catalog" data-fragment>Puhelinluettelo</a>' in html
    # Unit A: 4 people, 2 Free Choice, 1 Pori-phone, 1 not yet, 2 ordered, 1 delivered.
    row_a = html[html.index('data-unit="A"') : html.index('data-unit="B"')]
    cells = [
        cell.split("</td>")[0].split(">")[-1] for cell in row_a.split('<td class="number">')[1:]
    ]
    assert cells[:3] == ["4", "2", "1"] and cells[-2:] == ["2", "1"]
    assert '/tabs/ict/units/A/waiting" data-fragment>1<span' in row_a  # not yet: who
    assert "3 / 5 on valinnut puhelimen, 2 ei vielä." in html
    assert "auki" in html and "alkaa myöhemmin" in html
    assert '<svg class="chart"' in html and 'role="img"' in html
    assert "Valinneita yhteensä" in html  # the chart's table alternative
    assert not any(name in html for name in NAMES)  # names only in a unit's list


async def test_a_units_list_of_who_has_not_chosen_and_its_csv(tab, openid_server):
    status, html = await get(tab, "/tabs/ict/units/A/waiting?lang=en", sign_in(openid_server))
    assert status == 200, html
    assert "Unit A: not chosen yet" in html and "Dan Dahl" in html and "a4@pori.fi" in html
    assert "Aino Aalto" not in html
    assert "The choice window closes on 14.2.2027." in html

    response = await tab.client.get("/tabs/ict/units/A/waiting.csv", headers=sign_in(openid_server))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="ei-valinneet-A.csv"' in response.headers["Content-Disposition"]
    body = (await response.read()).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows == [["Nimi", "Sähköposti", "Henkilönumero"], ["Dan Dahl", "a4@pori.fi", ""]]
    # Each page and download with names wrote one audit row: who, what, when, how many.
    async with tab.components.sessions() as session:
        logged = [
            (event.actor, event.channel, event.action, event.rows, event.at)
            for event in await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert [entry[:4] for entry in logged] == [
        (ADMIN, "tab", "tab.waiting", 1),
        (ADMIN, "tab", "tab.waiting_csv", 1),
    ]
    assert all(as_utc(entry[4]) == NOW for entry in logged)


async def test_an_unknown_unit_is_not_found(tab, openid_server):
    for path in ("/tabs/ict/units/EI-OLE/waiting", "/tabs/ict/units/EI-OLE/waiting.csv"):
        status, html = await get(tab, path, sign_in(openid_server))
        assert status == 404 and "Yksikköä ei löytynyt" in html


async def test_someone_without_the_role_gets_a_polite_403_and_no_names(tab, openid_server):
    for path in (
        "/tabs/ict/progress",
        "/tabs/ict/units/A/waiting",
        "/tabs/ict/units/A/waiting.csv",
    ):
        status, html = await get(tab, path, sign_in(openid_server, OTHER))
        assert status == 403
        assert "Tämä sivu on ICT:n ylläpitäjille" in html
        assert not any(name in html for name in NAMES)


@pytest.mark.parametrize(
    "forgery",
    [
        {"now": NOW - timedelta(hours=3)},  # expired an hour and more ago
        {"now": NOW + timedelta(hours=1)},  # not valid yet
        {"audience": APP_ID + "-other"},
        {"issuer": "https://login.microsoftonline.com/another-tenant/v2.0"},
        {"extra": {"tid": "another-tenant"}},
        {"omit": ("oid",)},
        {"key_id": "unknown-key"},
    ],
    ids=["expired", "not-yet", "audience", "issuer", "tenant", "nobody", "unknown-key"],
)
async def test_a_forged_or_stale_token_gets_401(tab, openid_server, forgery):
    status, html = await get(tab, "/tabs/ict/progress", sign_in(openid_server, **forgery))
    assert status == 401 and "Kirjautuminen ei onnistunut" in html


async def test_a_token_signed_with_another_key_gets_401(tab, openid_server):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    status, _ = await get(tab, "/tabs/ict/progress", sign_in(openid_server, private_key=stranger))
    assert status == 401


@pytest.mark.parametrize(
    "authorization", ["", "Bearer", "Basic abc", "Bearer not.a.token", "Bearer a.b"]
)
async def test_a_missing_or_malformed_header_gets_401(tab, authorization):
    status, html = await get(tab, "/tabs/ict/progress?lang=en", {"Authorization": authorization})
    assert status == 401 and "Signing in did not succeed" in html


async def test_a_v1_token_for_the_app_id_uri_is_accepted(tab, openid_server):
    headers = sign_in(openid_server, issuer=f"https://sts.windows.net/{TENANT_ID}/")
    assert (await get(tab, "/tabs/ict/progress", headers))[0] == 200


async def test_without_the_citys_tenant_nobody_signs_in(sqlite_engine, openid_server):
    settings = tab_settings(openid_server.metadata_url, teams_tenant_id="")
    async with running_bot(sqlite_engine, settings, clock=lambda: NOW) as bot:
        assert (await get(bot, "/tabs/ict/progress", sign_in(openid_server)))[0] == 401


async def test_with_authentication_off_the_local_user_is_signed_in(sqlite_engine):
    await scripted_rollout(sqlite_engine)
    local = Settings(app_id="", ict_admin_ids=ADMIN, tab_local_user_id=ADMIN)
    async with running_bot(sqlite_engine, local, clock=lambda: NOW) as bot:
        status, html = await get(bot, "/tabs/ict/progress")
        assert status == 200 and "Helmikuu" in html
    nobody = Settings(app_id="", ict_admin_ids=ADMIN)
    async with running_bot(sqlite_engine, nobody, clock=lambda: NOW) as bot:
        assert (await get(bot, "/tabs/ict/progress"))[0] == 401


async def test_the_tabs_own_script_and_style_are_served_and_nothing_else(tab):
    for name, kind in (("tab.js", "javascript"), ("tab.css", "text/css")):
        response = await tab.client.get(f"/tabs/static/{name}")
        assert response.status == 200 and kind in response.headers["Content-Type"]
    for name in ("../ict.py", "tab.py", "%2e%2e%2fict.py"):
        assert (await tab.client.get(f"/tabs/static/{name}")).status == 404


async def test_the_channel_tabs_configuration_page_needs_no_data(tab):
    response = await tab.client.get("/tabs/ict/configure?lang=en")
    html = await response.text()
    assert response.status == 200 and "Only ICT&#39;s admins see its figures" in html
    assert "/tabs/static/configure.js" in html
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]


async def _campaign_sending(engine: AsyncEngine) -> None:
    """An announcement to four: two delivered, one failed (blocked the bot), one waiting."""
    async with create_session_factory(engine)() as session, session.begin():
        campaign = await outbox.create_campaign(
            session=session,
            key="tiedote-1",
            kind="announcement",
            title="Huoltokatko",
            payload={"ask_receipt": True},
            now=NOW,
        )
        session.add(
            AnnouncementReceipt(campaign_id=campaign.id, aad_object_id="a1", acknowledged_at=NOW)
        )
        await outbox.enqueue(
            session=session, campaign_id=campaign.id, recipients=["a1", "a2", "a3", "b1"], now=NOW
        )
        states = {
            "a1": ("delivered", None),
            "a2": ("delivered", None),
            "a3": ("failed", "blocked"),
            "b1": ("pending", "throttled"),
        }
        for minute, row in enumerate(await session.scalars(select(Notification))):
            row.state, row.reason = states[row.recipient]
            row.attempts = 1
            if row.state == "delivered":
                row.sent_at = NOW + timedelta(minutes=minute)


async def test_campaigns_show_delivery_and_refresh_while_one_is_sending(
    tab, sqlite_engine, openid_server
):
    await _campaign_sending(sqlite_engine)
    status, html = await get(tab, "/tabs/ict/campaigns", sign_in(openid_server))
    assert status == 200, html
    row = html[html.index('data-campaign="') :]
    assert "Huoltokatko" in row and "tiedote" in row
    cells = [cell.split("</td>")[0] for cell in row.split('<td class="number">')[1:]]
    assert cells == ["4", "2", "1", "1", "1 / 2"]  # recipients, delivered, waiting, failed, read
    assert "epäonnistui: estänyt botin 1; odottaa: ruuhka 1" in row
    assert 'data-refresh="15"' in html
    # The newest campaign's deliveries over time, as a picture and as a table.
    assert "Huoltokatko: toimitetut viestit ajan mittaan, 2 / 4" in html
    assert '<polyline class="line"' in html
    assert "Puolet vastaanottajista tavoitettu</th><td>3.2.2027 12.00" in html
    assert "Toimitettu tähän mennessä</th><td>2 / 4" in html


async def test_settled_campaigns_are_not_refreshed_and_none_is_said_so(
    tab, sqlite_engine, openid_server
):
    status, html = await get(tab, "/tabs/ict/campaigns?lang=en", sign_in(openid_server))
    assert status == 200 and "No campaign or announcement has been sent yet." in html
    assert "data-refresh" not in html
    status, _ = await get(tab, "/tabs/ict/campaigns", sign_in(openid_server, OTHER))
    assert status == 403


async def test_helpdesk_view_has_times_unanswered_questions_and_feedback_but_no_names(
    tab, sqlite_engine, openid_server
):
    await add_ticket(
        sqlite_engine,
        NOW - timedelta(hours=5),
        taken_after=timedelta(hours=1),
        replied_after=timedelta(hours=2),
    )
    async with create_session_factory(sqlite_engine)() as session, session.begin():
        for text in ("saako puhelimeen pelejä", "Saako puhelimeen pelejä?", "mikä on PUK"):
            session.add(
                FaqQuestion(
                    text=text,
                    language="fi",
                    band="unknown",
                    score=0.1,
                    asked_at=NOW,
                    asker_aad="a1",
                )
            )
        answered = FaqQuestion(
            text="paljonko maksaa",
            language="fi",
            band="answer",
            topic_id="free-choice-cost",
            score=0.9,
            asked_at=NOW,
            asker_aad="a2",
        )
        session.add(answered)
        await session.flush()
        session.add(
            FaqFeedback(question_id=answered.id, topic_id="free-choice-cost", helpful=False)
        )

    status, html = await get(tab, "/tabs/ict/helpdesk", sign_in(openid_server))
    assert status == 200, html
    assert "avoinna 0, käsittelyssä 0, ratkaistu 1." in html
    week = html[html.index('data-week="2027-02-01"') :]
    cells = [cell.split("</td>")[0] for cell in week.split('<td class="number">')[1:5]]
    assert cells == ["1", "1,0 h", "1,0 h", "2,0 h"]
    assert html.index("pelejä") < html.index("mikä on PUK")  # asked twice: first
    assert '<td class="number">2</td>' in html
    assert "Paljonko Free Choice -puhelin maksaa minulle?" in html  # the topic's title
    assert "Aino Aalto" not in html and "a1" not in html


async def test_a_database_that_does_not_answer_gets_a_polite_503(
    tab, sqlite_engine, openid_server, caplog
):
    async with sqlite_engine.begin() as connection:
        await connection.execute(text("DROP TABLE rollout_wave_unit"))
    status, html = await get(tab, "/tabs/ict/progress", sign_in(openid_server))
    assert status == 503 and "Välilehti ei ole nyt käytettävissä" in html
    assert "rollout_wave_unit" not in html
    assert "OperationalError" in caplog.text and "Dan Dahl" not in caplog.text

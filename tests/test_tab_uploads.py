"""Uploads in ICT's tab through the real HTTP app: payroll's file by payroll, the catalog by ICT,
checked, then imported once; bad files, bad requests and people without the role refused."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.fake_openid import FakeOpenIdServer
from bot.deductions.models import PayrollPosting
from bot.ict.uploads import MAX_UPLOAD_BYTES
from tests.support.bot import BotUnderTest, running_bot
from tests.test_file_uploads import BAD, CATALOG, NOW, OCTOBER, count, seed
from tests.test_ict_tab import ADMIN, sign_in, tab_settings

PAYROLL = "payroll-oid"
FROM_TAB = {"X-Puhelinbotti-Tab": "1"}


@pytest.fixture
async def tab(
    sqlite_engine: AsyncEngine, openid_server: FakeOpenIdServer
) -> AsyncIterator[BotUnderTest]:
    await seed(sqlite_engine)
    settings = tab_settings(openid_server.metadata_url, payroll_admin_ids=PAYROLL)
    async with running_bot(sqlite_engine, settings, clock=lambda: NOW) as running:
        yield running


def as_person(server: FakeOpenIdServer, person: str) -> dict[str, str]:
    return sign_in(server, person, now=NOW)


async def upload(
    bot: BotUnderTest, kind: str, name: str, data: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(data), filename=name, content_type="text/csv")
    response = await bot.client.post(f"/tabs/ict/uploads/{kind}", data=form, headers=headers)
    return response.status, await response.text()


async def post(bot: BotUnderTest, path: str, headers: dict[str, str]) -> tuple[int, str]:
    response = await bot.client.post(path, headers=headers)
    return response.status, await response.text()


def upload_id(html: str) -> int:
    return int(html.split('data-upload="')[1].split('"')[0])


async def test_payroll_checks_a_file_then_imports_it_once(tab, sqlite_engine, openid_server):
    headers = {**as_person(openid_server, PAYROLL), **FROM_TAB}
    status, html = await upload(tab, "payroll", "palkat_2026-10.csv", OCTOBER.read_bytes(), headers)
    assert status == 200, html
    assert "5 riviä:" in html and "mitään ole vielä muutettu" in html
    assert 'data-state="checked"' in html and "Tuo tiedosto" in html
    assert await count(sqlite_engine, PayrollPosting) == 0
    number = upload_id(html)

    status, html = await post(tab, f"/tabs/ict/uploads/payroll/{number}/confirm", headers)
    assert status == 200 and "Tiedosto on tuotu." in html and 'data-state="imported"' in html
    imported = await count(sqlite_engine, PayrollPosting)
    assert imported > 0

    status, html = await post(tab, f"/tabs/ict/uploads/payroll/{number}/confirm", headers)
    assert status == 200 and "oli jo käsitelty: tuotu" in html
    assert await count(sqlite_engine, PayrollPosting) == imported
    # Who sent it and when is listed; the uploader's id stands where the directory has no name.
    assert "palkat_2026-10.csv" in html and PAYROLL in html and "5.12.2026 12.00" in html


async def test_payroll_sees_only_its_own_view(tab, openid_server):
    headers = as_person(openid_server, PAYROLL)
    start = await tab.client.get("/tabs/ict/start?lang=en", headers=headers)
    assert start.status == 200 and start.url.path == "/tabs/ict/uploads/payroll"
    html = await start.text()
    assert "Payroll&#39;s deductions file" in html
    assert "/tabs/ict/progress" not in html and "/tabs/ict/uploads/catalog" not in html
    for path in ("/tabs/ict/progress", "/tabs/ict/uploads/catalog", "/tabs/ict/helpdesk"):
        assert (await tab.client.get(path, headers=headers)).status == 403
    status, _ = await upload(
        tab, "catalog", "luettelo.csv", CATALOG.read_bytes(), {**headers, **FROM_TAB}
    )
    assert status == 403


async def test_ict_starts_at_the_progress_and_may_upload_both(tab, openid_server):
    headers = as_person(openid_server, ADMIN)
    start = await tab.client.get("/tabs/ict/start", headers=headers)
    assert start.url.path == "/tabs/ict/progress"
    status, html = await upload(
        tab, "catalog", "luettelo.csv", CATALOG.read_bytes(), {**headers, **FROM_TAB}
    )
    assert status == 200 and "perusmalli" in html and 'data-state="checked"' in html
    status, html = await post(
        tab, f"/tabs/ict/uploads/catalog/{upload_id(html)}/discard", {**headers, **FROM_TAB}
    )
    assert status == 200 and "Tiedosto hylättiin" in html


async def test_a_broken_file_lists_every_problem_by_row_and_column(
    tab, sqlite_engine, openid_server
):
    headers = {**as_person(openid_server, PAYROLL), **FROM_TAB}
    status, html = await upload(tab, "payroll", "virheellinen.csv", BAD.read_bytes(), headers)
    assert status == 200 and 'data-state="refused"' in html
    assert "Tiedostoa ei tuotu, eikä mitään muutettu." in html
    assert "rivi 4, sarake &#34;summa&#34;" in html
    assert "Tuo tiedosto" not in html
    assert await count(sqlite_engine, PayrollPosting) == 0


async def test_a_post_not_from_the_tab_or_without_a_file_changes_nothing(tab, openid_server):
    headers = as_person(openid_server, PAYROLL)
    status, html = await upload(tab, "payroll", "palkat.csv", OCTOBER.read_bytes(), headers)
    assert status == 400 and "Pyyntö ei tullut välilehdeltä" in html
    response = await tab.client.post(
        "/tabs/ict/uploads/payroll", data=b"x", headers={**headers, **FROM_TAB}
    )
    assert response.status == 400 and "Valitse ensin tiedosto." in await response.text()
    status, html = await upload(tab, "payroll", "tyhja.csv", b"", {**headers, **FROM_TAB})
    assert status == 400
    for number in ("999", "abc", "99999999999999999999"):
        status, html = await post(
            tab, f"/tabs/ict/uploads/payroll/{number}/confirm", {**headers, **FROM_TAB}
        )
        assert status == 404 and "Tiedostoa ei löytynyt" in html
    assert (await tab.client.get("/tabs/ict/uploads/other", headers=headers)).status == 404


async def test_a_file_over_the_limit_is_refused_before_it_is_read_whole(tab, openid_server):
    headers = {**as_person(openid_server, PAYROLL), **FROM_TAB}
    status, html = await upload(tab, "payroll", "iso.csv", b"1" * (MAX_UPLOAD_BYTES + 1), headers)
    assert status == 400 and "Tiedosto on liian suuri: enintään 5 Mt." in html


async def test_nobody_else_may_upload(tab, openid_server):
    headers = {**as_person(openid_server, "someone-else"), **FROM_TAB}
    status, html = await upload(tab, "payroll", "palkat.csv", OCTOBER.read_bytes(), headers)
    assert status == 403 and "Tämä sivu on ICT:n ylläpitäjille" in html
    status, _ = await upload(tab, "payroll", "palkat.csv", OCTOBER.read_bytes(), FROM_TAB)
    assert status == 401

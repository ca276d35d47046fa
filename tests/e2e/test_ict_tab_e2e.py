"""ICT's tab in headless Chromium with authentication on: the page's requests carry a sign-in
token from the local stand-in for Entra ID, as Teams' single sign-on would give it.

Teams hands the page its token through teams-js, which needs the Teams client around the page;
here the browser adds the same header to every request the page makes instead. The figures are
compared with what the scripted rollout put in the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.fake_openid import FakeOpenIdServer
from tests.e2e.conftest import _require
from tests.e2e.playground_page import CHROMIUM, CHROMIUM_ARGS
from tests.support.bot import BotUnderTest, running_bot
from tests.support.rollout import NOW, scripted_rollout
from tests.test_ict_tab import OTHER, sign_in, tab_settings

pytestmark = pytest.mark.e2e
CHROMIUM_INSTALLED = Path(CHROMIUM).exists()


@pytest.fixture
async def tab(
    sqlite_engine: AsyncEngine, openid_server: FakeOpenIdServer
) -> AsyncIterator[BotUnderTest]:
    await scripted_rollout(sqlite_engine)
    async with running_bot(
        sqlite_engine, tab_settings(openid_server.metadata_url), clock=lambda: NOW
    ) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    _require(CHROMIUM_INSTALLED, "Debian's chromium is needed (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def open_tab(browser: Browser, tab: BotUnderTest, headers: dict[str, str]):
    context = await browser.new_context(extra_http_headers=headers)
    page = await context.new_page()
    await page.goto(str(tab.client.make_url("/tabs/ict")))
    return page


async def test_an_admin_with_a_token_sees_the_figures_of_the_database(browser, tab, openid_server):
    page = await open_tab(browser, tab, sign_in(openid_server))
    row = page.locator('tr[data-unit="A"]')
    await row.wait_for(timeout=20_000)
    cells = [cell.split("–")[0].strip() for cell in await row.locator("td").all_inner_texts()]
    assert cells == ["4", "2", "1", "1", "2", "1"]
    await row.locator("a").click()
    await page.locator("h2", has_text="Yksikkö A: ei vielä valinnut").wait_for(timeout=20_000)
    assert await page.locator("tbody td:first-child").all_inner_texts() == ["Dan Dahl"]


@pytest.mark.parametrize(
    ("who", "said"),
    [
        ({"person": OTHER}, "Tämä sivu on ICT:n ylläpitäjille"),
        ({"now": NOW.replace(year=2026)}, "Kirjautuminen ei onnistunut"),  # expired long ago
        ({"audience": "api://elsewhere/app"}, "Kirjautuminen ei onnistunut"),
    ],
    ids=["not-an-admin", "expired", "forged-audience"],
)
async def test_others_see_why_and_no_figures(browser, tab, openid_server, who, said):
    page = await open_tab(browser, tab, sign_in(openid_server, **who))
    await page.get_by_text(said).wait_for(timeout=20_000)
    assert await page.locator("table").count() == 0
    assert "Dan Dahl" not in await page.content()

"""End-to-end fixtures: the bot on a real port, the Playground in front of it, headless Chromium."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import async_playwright

from bot.app import COMPONENTS, Components, create_app
from bot.demo.loader import demo_data
from bot.demo.playground import Playground, node_available, playground_config
from bot.demo.runner import prepare_database
from bot.settings import Settings
from tests.e2e.playground_page import CHROMIUM, CHROMIUM_ARGS, ChatPage

pytestmark = pytest.mark.e2e
PLAYGROUND_USER = demo_data()["employees"][0]["aad_object_id"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if "CI" in os.environ:
        pytest.fail(f"{reason} (CI is set, so end-to-end tests must run)", pytrace=False)
    pytest.skip(reason)


@dataclass
class DemoStack:
    playground: Playground
    settings: Settings
    app: web.Application

    @property
    def components(self) -> Components:
        return self.app[COMPONENTS]


@pytest.fixture
async def demo_stack(tmp_path: Path) -> AsyncIterator[DemoStack]:
    _require(node_available(), "Node.js is needed for the Agents Playground")
    _require(_chromium_installed(), "Debian's chromium is needed (apt-get install chromium)")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}",
        app_id="",
        notify_working_hours="00:00-24:00",  # the suite may run at night,
        notify_working_days="mon-sun",  # at the weekend
        notify_public_holidays=False,  # or on a public holiday
        background_jobs=False,  # tests plan and send when the chat is open (see the test)
        ict_admin_ids=PLAYGROUND_USER,  # as in `phonebot demo`: the one who chats is ICT too
    )
    await prepare_database(settings)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    playground = Playground(
        bot_endpoint=f"http://127.0.0.1:{port}/api/messages",
        config=playground_config(demo_data()["employees"]),
        workdir=tmp_path / "playground",
        port=_free_port(),
    ).start()
    try:
        yield DemoStack(playground, settings, app)
    finally:
        playground.stop()
        await runner.cleanup()


@pytest.fixture
async def chat(demo_stack: DemoStack, tmp_path: Path) -> AsyncIterator[ChatPage]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        chat_page = ChatPage(page)
        try:
            await chat_page.open(demo_stack.playground.url)
            yield chat_page
        finally:
            await page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
            await browser.close()

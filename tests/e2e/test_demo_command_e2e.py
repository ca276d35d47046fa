"""`./scripts/demo` as a newcomer runs it: `phonebot demo` from the repository root, defaults only.

The other end-to-end tests build their stack in a temporary folder with absolute paths; this one
starts the real command in a subprocess, as the README says, so a path that only works from
elsewhere (the Playground once read its configuration from `var/playground/var/playground`) fails
here. It then chats in the Playground the command started and checks who is chatting.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, Route, async_playwright
from sqlalchemy import select

from bot.choices.models import PhoneChoice
from bot.cli.common import say
from bot.db.engine import create_engine, create_session_factory
from bot.demo.loader import demo_data
from bot.demo.playground import node_available
from bot.directory.models import Employee
from bot.privacy.models import AuditEvent
from tests.e2e.conftest import _require
from tests.e2e.playground_page import CHROMIUM, CHROMIUM_ARGS, ChatPage
from tests.support.npm import require_npm_package

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
VAR = REPO_ROOT / "var"
DEMO_DATABASE = VAR / "puhelinbotti.sqlite3"
PLAYGROUND_CONFIG = VAR / "playground" / ".m365agentsplayground.yml"
BOT_PORT = 3978  # what `./scripts/demo` uses
MAIJA = demo_data()["employees"][0]
STARTUP_SECONDS = 180  # npm and the Playground's first start on a cold machine
CHROMIUM_INSTALLED = Path(CHROMIUM).exists()
# The line that gives the Playground's address, as the catalog words it in the commands' language.
OPEN_LINE = re.compile(
    re.escape(say("cli.demo.running", url="URL").strip()).replace(
        "URL", r"(http://127\.0\.0\.1:\d+/)"
    )
)
# The line that gives ICT's tab's address.
TAB_LINE = re.compile(
    re.escape(say("cli.demo.ict_tab", url="URL").strip()).replace(
        "URL", r"(http://127\.0\.0\.1:\d+/tabs/ict)"
    )
)
SCREENSHOTS = REPO_ROOT / "test-results" / "screenshots"
CATALOG_FILE = REPO_ROOT / "tests" / "data" / "catalog" / "esimerkki_puolipiste.csv"


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _run_only_on_a_fresh_demo() -> None:
    """A developer's own demo is theirs: this test would chat in it, so it needs a fresh one."""
    if DEMO_DATABASE.exists():
        _require(False, f"{DEMO_DATABASE} exists; this test runs the demo of a fresh clone")
    if _port_taken(BOT_PORT):
        _require(False, f"port {BOT_PORT} is taken (a demo running?)")


def _demo_files() -> set[Path]:
    return set(VAR.rglob("*")) | {VAR} if VAR.exists() else set()


def _remove_what_the_demo_made(before: set[Path]) -> None:
    """The next `./scripts/demo` (or this test) starts as fresh as this one did."""
    for path in sorted(_demo_files() - before, key=lambda path: len(path.parts), reverse=True):
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()


class DemoCommand:
    """`phonebot demo` in its own process group; what it prints is kept for failures."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []

    async def playground_url(self) -> str:
        assert self.process.stdout is not None
        async with asyncio.timeout(STARTUP_SECONDS):
            while line := (await self.process.stdout.readline()).decode(errors="replace"):
                self.output.append(line)
                if found := OPEN_LINE.search(line):
                    asyncio.get_running_loop().create_task(self._keep_reading())
                    return found.group(1)
        raise AssertionError("phonebot demo ended without a Playground:\n" + "".join(self.output))

    async def printed(self, pattern: re.Pattern[str]) -> str:
        """The first group of the first line printed so far, or soon, that matches."""
        async with asyncio.timeout(10):
            while True:
                for line in self.output:
                    if found := pattern.search(line):
                        return found.group(1)
                await asyncio.sleep(0.1)

    async def _keep_reading(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.output.append(line.decode(errors="replace"))

    async def stop(self) -> None:
        if self.process.returncode is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            async with asyncio.timeout(20):
                await self.process.wait()
        except TimeoutError:
            os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


@pytest.fixture
async def demo_command() -> AsyncIterator[DemoCommand]:
    _require(node_available(), "Node.js is needed for the Agents Playground")
    _require(CHROMIUM_INSTALLED, "Debian's chromium is needed (apt-get install chromium)")
    _run_only_on_a_fresh_demo()
    before = _demo_files()
    phonebot = Path(sys.executable).parent / "phonebot"
    process = await asyncio.create_subprocess_exec(
        str(phonebot),
        "demo",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    command = DemoCommand(process)
    try:
        yield command
    finally:
        await command.stop()
        _remove_what_the_demo_made(before)


async def _bot_ready() -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(STARTUP_SECONDS):
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{BOT_PORT}/readyz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


async def test_the_demo_command_chats_as_maija_and_a_phone_can_be_chosen(demo_command):
    url = await demo_command.playground_url()
    await _bot_ready()
    assert PLAYGROUND_CONFIG.exists(), "the Playground's configuration is not where it reads it"
    assert not (VAR / "playground" / "var").exists()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            chat = ChatPage(await browser.new_page(viewport={"width": 1280, "height": 900}))
            await chat.open(url)
            # Maija (Finnish, in the directory), not the Playground's default English user.
            first_name = MAIJA["name"].split(" ")[0]
            await chat.wait_for_bot_text(f"Hei {first_name}, olen Puhelinbotti!", 60_000)
            await chat.wait_for_bot_text("Mitä haluat tehdä?")
            await chat.press("Valitse puhelin")
            await chat.wait_for_bot_text("Pori-puhelin")
            await chat.press("Pori-puhelin")
            await chat.press("Vahvista Pori-puhelin")
            await chat.wait_for_bot_text("Valintasi on tallennettu")

            choices, unit = await _demo_database()
            assert [(choice.aad_object_id, choice.option) for choice in choices] == [
                (MAIJA["aad_object_id"], "pori_phone")
            ], "".join(demo_command.output)

            # My data: what the bot keeps about Maija, and its link downloads her whole copy.
            await chat.send("omat tietoni")
            await chat.wait_for_bot_text("Puhelinvalintasi ja suostumuksesi")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await chat.page.screenshot(path=str(SCREENSHOTS / "my-data-card.png"))
            # The button opens the link in a new window, which downloads the file (once: the
            # link is spent); the test reads the same response on its way to that window.
            copies: list[Any] = []

            async def keep_copy(route: Route) -> None:
                response = await route.fetch()
                copies.append((response.headers, await response.json()))
                await route.fulfill(response=response)

            await chat.page.context.route("**/privacy/copy/**", keep_copy)
            await chat.page.get_by_text("Lataa kopio (JSON)").last.click()
            for _ in range(100):
                if copies:
                    break
                await asyncio.sleep(0.1)
            (headers, copy), *_ = copies
            assert "attachment" in headers["content-disposition"]
            assert copy["person"] == MAIJA["aad_object_id"]
            assert [row["option"] for row in copy["tables"]["phone_choice"]] == ["pori_phone"]
            assert await _audited() == ["privacy.my_data", "privacy.download"]

            # ICT's tab at the address the command printed, signed in as Maija (ICT here too).
            tab = await browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
            await tab.goto(await demo_command.printed(TAB_LINE))
            row = tab.locator(f'tr[data-unit="{MAIJA["unit"]}"]')
            await row.wait_for(timeout=20_000)
            # A figure that links to a list says so to a screen reader after it: "1 – Näytä, …".
            cells = [
                cell.split("–")[0].strip() for cell in await row.locator("td").all_inner_texts()
            ]
            # People, Free Choice, Pori-phone, not yet, ordered, delivered: as the database has it.
            assert cells == [str(len(unit)), "0", "1", str(len(unit) - 1), "0", "0"]
            await _check_page(tab, "ict-tab-progress")

            await row.locator("a").click()
            await tab.locator("h2", has_text="ei vielä valinnut").wait_for(timeout=20_000)
            waiting = await tab.locator("tbody td:first-child").all_inner_texts()
            assert sorted(waiting) == sorted(n for n in unit if n != MAIJA["name"])
            await _check_page(tab, "ict-tab-not-chosen")

            await tab.get_by_role("link", name="Kampanjat ja tiedotteet").click()
            await tab.locator("h2", has_text="Kampanjat ja tiedotteet").wait_for(timeout=20_000)
            await _check_page(tab, "ict-tab-campaigns")

            await tab.get_by_role("link", name="Tukipalvelu ja kysymykset").click()
            await tab.locator("h2", has_text="Tukipalvelu ja kysymykset").wait_for(timeout=20_000)
            await _check_page(tab, "ict-tab-helpdesk")

            # A new catalog: checked first, imported when confirmed, listed with who sent it.
            await tab.get_by_role("link", name="Puhelinluettelo").click()
            await tab.get_by_label("Valitse tiedosto").set_input_files(CATALOG_FILE)
            await tab.get_by_role("button", name="Tarkista tiedosto").click()
            await tab.get_by_role("button", name="Tuo tiedosto").wait_for(timeout=20_000)
            await _check_page(tab, "ict-tab-catalog-checked")
            await tab.get_by_role("button", name="Tuo tiedosto").click()
            await tab.get_by_text("Tiedosto on tuotu.").wait_for(timeout=20_000)
            row = tab.locator("tbody tr", has_text=CATALOG_FILE.name)
            assert MAIJA["name"] in await row.inner_text()
            await _check_page(tab, "ict-tab-catalog-imported")
        finally:
            await browser.close()


async def _demo_database() -> tuple[list[PhoneChoice], list[str]]:
    """The choices in the demo's database, and the names of the people in Maija's unit."""
    engine = create_engine(f"sqlite+aiosqlite:///{DEMO_DATABASE}")
    try:
        async with create_session_factory(engine)() as session:
            choices = list(await session.scalars(select(PhoneChoice)))
            names = list(
                await session.scalars(
                    select(Employee.display_name).where(
                        Employee.unit_code == MAIJA["unit"],
                        Employee.account_enabled.is_(True),
                        Employee.left_at.is_(None),
                    )
                )
            )
    finally:
        await engine.dispose()
    return choices, names


async def _audited() -> list[str]:
    """The audit log's actions about Maija, oldest first."""
    engine = create_engine(f"sqlite+aiosqlite:///{DEMO_DATABASE}")
    try:
        async with create_session_factory(engine)() as session:
            actions = await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.subject == MAIJA["aad_object_id"])
                .order_by(AuditEvent.id)
            )
            return list(actions)
    finally:
        await engine.dispose()


async def _check_page(page: Page, name: str) -> None:
    """A screenshot into test-results/, and no serious or critical finding by axe-core."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    await page.add_script_tag(path=str(require_npm_package("axe-core") / "axe.min.js"))
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious

"""The Agents Playground's chat page, driven with Playwright like a person would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from playwright.async_api import Locator, Page, Route

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OFFICE_CDN = "https://res-1.cdn.office.net/**"
INVOKE = "**/_conversation/v1/invoke"
HELPDESK_CHANNEL = "Porin kaupunki - ICT - Tukipalvelu"  # the Playground's "<team> - <channel>"
_BOT_MESSAGES = """() => Array.from(document.querySelectorAll('[aria-label="Message header"]'))
  .filter(h => h.querySelector('[aria-label="Message author"]'))
  .map(h => h.nextElementSibling ? h.nextElementSibling.innerText : '')"""


class ChatPage:
    """The personal chat with the bot."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def open(self, url: str) -> None:
        await self.page.route(OFFICE_CDN, lambda route: route.abort())
        await self.page.goto(url)
        await self.message_box.wait_for(timeout=60_000)

    @property
    def message_box(self) -> Locator:
        return self.page.locator("[data-lexical-editor=true]").first

    async def bot_messages(self) -> list[str]:
        messages: list[str] = await self.page.evaluate(_BOT_MESSAGES)
        return messages

    async def wait_for_bot_text(self, text: str, timeout_ms: float = 20_000) -> None:
        await self.page.wait_for_function(
            f"({_BOT_MESSAGES})().some(m => m.includes({text!r}))", timeout=timeout_ms
        )

    async def wait_for_count(self, count: int, timeout_ms: float = 20_000) -> list[str]:
        """Wait until the bot has sent `count` messages in all; returns them."""
        await self.page.wait_for_function(
            f"({_BOT_MESSAGES})().length >= {count}", timeout=timeout_ms
        )
        return await self.bot_messages()

    async def send(self, text: str) -> None:
        await self.message_box.click()
        await self.page.keyboard.type(text)
        await self.page.keyboard.press("Enter")

    def last_card(self) -> Locator:
        return self.page.locator(".ac-adaptiveCard").last

    async def press(self, button: str) -> None:
        await self.last_card().get_by_role("button", name=button).click()

    async def cards_text(self) -> Any:
        return await self.page.locator(".ac-adaptiveCard").all_inner_texts()

    async def open_channel(self, name: str = HELPDESK_CHANNEL) -> None:
        await self.page.get_by_role("treeitem", name=name).click()

    async def open_personal_chat(self) -> None:
        await self.page.get_by_role("treeitem", name="Personal Chat").click()

    async def post_mentioning_bot(self, text: str) -> None:
        """A new channel post that @mentions the bot (in a channel it hears nothing else)."""
        await self.message_box.click()
        await self.page.keyboard.type("@Puh")
        await self.page.get_by_role("menuitem", name="Puhelinbotti").click()
        await self.page.keyboard.type(f" {text}")
        await self.page.keyboard.press("Enter")

    def card_with(self, text: str) -> Locator:
        return self.page.locator(".ac-adaptiveCard", has_text=text).first

    async def wait_for_card(self, text: str, timeout_ms: float = 20_000) -> Locator:
        card = self.card_with(text)
        await card.wait_for(timeout=timeout_ms)
        return card

    @asynccontextmanager
    async def acting_as(self, teams_id: str) -> AsyncIterator[None]:
        """Card presses come from another user: the Playground has one user, so the press it
        sends is rewritten, as its server builds the invoke from the request's `from.id`."""

        async def rewrite(route: Route) -> None:
            request = route.request
            if request.method == "POST" and request.post_data:
                body = json.loads(request.post_data)
                body.setdefault("from", {})["id"] = teams_id
                await route.continue_(post_data=json.dumps(body))
                return
            await route.continue_()

        await self.page.route(INVOKE, rewrite)
        try:
            yield
        finally:
            await self.page.unroute(INVOKE, rewrite)

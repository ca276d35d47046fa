"""Messages the bot starts: continue a stored 1:1 chat, or open one, installing the app first.

botbuilder's `continue_conversation` / `create_conversation` go through msrest (no retry on POST,
a blocking transport, a turn context we do not need). A proactive send is one Bot Connector call,
so this talks to the connector directly. Each call is a single attempt: the outbox decides when
to try again, so a retry survives a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from bot.adapters.botframework.connector import BotConnectorClient, ConnectorError

log = logging.getLogger(__name__)

CONTINUED = "continued"
CREATED = "created"
INSTALLED = "installed"


class AppInstaller(Protocol):
    """Installs the bot's Teams app for a user (Graph `teamwork/installedApps`)."""

    async def install_app_for_user(self, user_id: str, teams_app_id: str) -> Any: ...


@dataclass(frozen=True)
class Address:
    """Where one employee can be reached; `conversation_id` is None if they never chatted."""

    aad_object_id: str
    tenant_id: str
    service_url: str
    conversation_id: str | None = None


@dataclass(frozen=True)
class Sent:
    outcome: str  # continued | created | installed
    conversation_id: str
    activity_id: str | None


class NotInstalledError(Exception):
    """The app is not installed for the user and could not be installed here."""


class ProactiveSender:
    """Sends one activity to one employee by the cheapest route that works."""

    def __init__(
        self,
        connector: BotConnectorClient,
        *,
        bot_id: str,
        teams_app_id: str,
        installer: AppInstaller | None = None,
    ) -> None:
        self._connector = connector
        self._bot_id = bot_id
        self._teams_app_id = teams_app_id
        self._installer = installer

    async def send(self, address: Address, activity: dict[str, Any]) -> Sent:
        """Raises ConnectorError (with its status) or NotInstalledError when it cannot."""
        outcome = CONTINUED
        conversation_id = address.conversation_id
        if conversation_id is None:
            conversation_id, outcome = await self._open_conversation(address)
        answer = await self._connector.send_to_conversation(
            address.service_url, conversation_id, activity
        )
        return Sent(outcome, conversation_id, answer.get("id"))

    async def _open_conversation(self, address: Address) -> tuple[str, str]:
        try:
            return await self._create(address), CREATED
        except ConnectorError as error:
            # Teams refuses to open a chat with someone who does not have the app.
            if error.status != 403:
                raise
            if self._installer is None:
                raise NotInstalledError(address.aad_object_id) from error
        log.info("installing the app for a user who does not have it")
        await self._installer.install_app_for_user(address.aad_object_id, self._teams_app_id)
        return await self._create(address), INSTALLED

    async def _create(self, address: Address) -> str:
        parameters = {
            "isGroup": False,
            "bot": {"id": self._bot_id},
            "members": [{"id": address.aad_object_id}],
            "tenantId": address.tenant_id,
            "channelData": {"tenant": {"id": address.tenant_id}},
        }
        answer = await self._connector.create_conversation(address.service_url, parameters)
        conversation_id = answer.get("id")
        if not isinstance(conversation_id, str) or not conversation_id:
            raise ConnectorError(None, "create conversation answered without an id")
        return conversation_id

"""Turns one outbox row into a Teams message for its recipient, in their language.

The dispatcher (bot/notifications) knows nothing of Teams; this is its Deliverer: it finds where
the employee can be reached, renders the card the campaign's kind calls for, makes one attempt
through the proactive sender, and says what happened in the outbox's terms. The areas say how
each kind of row reads and looks (bot/dialogs/unasked.py); the composition root hands them over.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.botframework.connector import ConnectorError
from bot.adapters.botframework.proactive import (
    CONTINUED,
    Address,
    NotInstalledError,
    ProactiveSender,
    Sent,
)
from bot.adapters.botframework.tokens import TokenError
from bot.adapters.graph.client import AppCatalogUnreadable, AppNotPublished, GraphError
from bot.backoff import is_retryable
from bot.clock import Clock
from bot.conversations import service as conversations
from bot.conversations.models import ConversationReferenceRecord
from bot.dialogs.unasked import Card, Unasked
from bot.directory.models import Employee
from bot.i18n import Texts, resolve_language, texts
from bot.notifications.delivery import (
    INSTALL_FORBIDDEN,
    AfterSending,
    ConfigurationError,
    Delivered,
    DeliveryFailed,
    InstallForbidden,
    Outgoing,
)
from bot.notifications.outbox import SKIPPED

log = logging.getLogger(__name__)

PERSONAL = "personal"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass(frozen=True)
class Reach:
    """Where Teams has the employee, as far as this database knows."""

    address: Address | None
    language: str
    removed_app: bool


class TeamsDeliverer:
    """One attempt per call; the dispatcher decides about the next one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: ProactiveSender,
        *,
        default_language: str,
        tenant_id: str,
        service_url: str,
        unasked: Mapping[str, Unasked[Any]],
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._sender = sender
        self._default_language = default_language
        self._tenant_id = tenant_id
        self._service_url = service_url
        self._unasked = unasked
        self._clock = clock

    async def deliver(self, outgoing: Outgoing) -> Delivered:
        kind = self._unasked.get(outgoing.kind)
        if kind is None:
            raise DeliveryFailed(
                "unknown_kind", final=True, message=outgoing.kind, reached_connector=False
            )
        async with self._sessions() as session:
            reach = await self._reach(session, outgoing.recipient)
            found = await kind.lookup(session, outgoing, self._clock())
        if found is None:
            return Delivered(SKIPPED, reached_connector=False)
        delivered = await self._send(reach, kind.card(texts(reach.language), found))
        if kind.after_sending is not None:
            await self._after_sending(
                f"record {outgoing.kind} as told",
                self._in_transaction(kind.after_sending),
                outgoing,
            )
        return delivered

    async def send_card_to(
        self,
        aad_object_id: str,
        card_for: Callable[[Texts], Card],
        *,
        language_hint: str | None = None,
    ) -> Delivered:
        """One card to one employee outside any campaign (the helpdesk's updates), in their
        language, else the one they last spoke; raises DeliveryFailed like `deliver`."""
        async with self._sessions() as session:
            reach = await self._reach(session, aad_object_id, language_hint)
        return await self._send(reach, card_for(texts(reach.language)))

    async def _send(self, reach: Reach, card: Card) -> Delivered:
        if reach.removed_app:
            raise DeliveryFailed("app_removed", final=True, reached_connector=False)
        if reach.address is None:
            raise DeliveryFailed(
                "no_tenant",
                final=True,
                message="set TEAMS_TENANT_ID to open chats with people",
                reached_connector=False,
            )
        try:
            sent = await self._sender.send(reach.address, _message(card))
        except Exception as error:
            raise _failure(error) from error
        if sent.outcome != CONTINUED:
            await self._after_sending("store the chat opened", self._store_reference, reach, sent)
        return Delivered(sent.outcome, sent.conversation_id, sent.activity_id)

    async def _after_sending(
        self, what: str, step: Callable[..., Awaitable[None]], *arguments: Any
    ) -> None:
        """After the send, a failure is logged, never raised: the outbox would send it again."""
        try:
            await step(*arguments)
        except Exception:
            log.exception("sent, but could not %s", what)

    def _in_transaction(self, step: AfterSending) -> Callable[[Outgoing], Awaitable[None]]:
        async def run(outgoing: Outgoing) -> None:
            async with self._sessions() as session, session.begin():
                await step(session, outgoing, self._clock())

        return run

    async def _reach(
        self, session: AsyncSession, aad_object_id: str, language_hint: str | None = None
    ) -> Reach:
        employee = await session.get(Employee, aad_object_id)
        language = resolve_language(
            employee.chosen_language if employee else None,
            employee.directory_language if employee else None,
            language_hint,
            default=self._default_language,
        )
        record = await session.scalar(
            select(ConversationReferenceRecord)
            .where(
                ConversationReferenceRecord.aad_object_id == aad_object_id,
                ConversationReferenceRecord.conversation_type == PERSONAL,
            )
            .order_by(ConversationReferenceRecord.updated_at.desc())
            .limit(1)
        )
        if record is not None and not record.installed:
            return Reach(None, language, removed_app=True)
        tenant = (record.tenant_id if record else None) or self._tenant_id
        if record is not None:
            # Continuing a chat needs only its address; the tenant is for opening new ones.
            address = Address(aad_object_id, tenant, record.service_url, record.conversation_id)
        elif tenant:
            address = Address(aad_object_id, tenant, self._service_url)
        else:
            return Reach(None, language, removed_app=False)
        return Reach(address, language, removed_app=False)

    async def _store_reference(self, reach: Reach, sent: Sent) -> None:
        """A conversation we opened is continued next time, not opened again."""
        assert reach.address is not None
        address, conversation_id = reach.address, sent.conversation_id
        reference = {
            "conversation": {
                "id": conversation_id,
                "conversationType": PERSONAL,
                "tenantId": address.tenant_id,
            },
            "user": {"id": address.aad_object_id, "aadObjectId": address.aad_object_id},
            "channelId": "msteams",
            "serviceUrl": address.service_url,
        }
        facts = conversations.ConversationFacts(
            conversation_id=conversation_id,
            conversation_type=PERSONAL,
            channel_id="msteams",
            service_url=address.service_url,
            tenant_id=address.tenant_id,
            aad_object_id=address.aad_object_id,
            team_id=None,
        )
        async with self._sessions() as session, session.begin():
            await conversations.remember(
                session=session, facts=facts, reference=reference, now=self._clock()
            )


_REASONS = {403: "blocked", 404: "not_found", 412: "precondition", 429: "throttled"}


def _message(card: Card) -> dict[str, Any]:
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}]}


def _failure(error: Exception) -> DeliveryFailed:
    """One attempt's error in the outbox's terms; retried only where Teams says it may help."""
    if isinstance(error, TokenError):
        if error.refused:
            return ConfigurationError(
                "credentials",
                message=f"Entra ID refused the bot's credential ({error}): check "
                "MicrosoftAppPassword, MICROSOFT_APP_CERTIFICATE_PATH or the managed identity",
                reached_connector=False,
            )
        return DeliveryFailed("token", message=str(error)[:300], reached_connector=False)
    if isinstance(error, NotInstalledError):
        return DeliveryFailed("not_installed", final=True)
    if isinstance(error, AppNotPublished | AppCatalogUnreadable) or (
        isinstance(error, GraphError) and error.status == 401
    ):
        return ConfigurationError(
            "install_failed",
            status=error.status,
            message=_set_up_hint(error),
            reached_connector=False,
        )
    if isinstance(error, GraphError) and error.status == 403:
        # Refused for this person (an app policy, say), or for everyone (a missing permission):
        # the dispatcher tells them apart by how many in a row it sees.
        return InstallForbidden(
            INSTALL_FORBIDDEN, status=403, message=_set_up_hint(error), reached_connector=False
        )
    if isinstance(error, GraphError):
        final = error.status in (400, 404)
        return DeliveryFailed(
            "install_failed",
            status=error.status,
            final=final,
            message=str(error)[:300],
            reached_connector=False,
        )
    if not isinstance(error, ConnectorError):
        return DeliveryFailed("error", message=repr(error)[:300], reached_connector=False)
    status = error.status
    if status is None:
        reason = "timeout"
    elif status >= 500:
        reason = "server_error"
    else:
        reason = _REASONS.get(status, "rejected")
    return DeliveryFailed(
        reason,
        status=status,
        retry_after=error.retry_after,
        final=not is_retryable(status),
        message=str(error)[:300],
    )


def _set_up_hint(error: GraphError) -> str:
    """What ICT must fix when Graph will install the app for nobody (Graph's own text is left
    out: it may name the user)."""
    if isinstance(error, AppNotPublished):
        return f"{error}: publish it to the organisation's app catalog (Teams admin center)"
    return (
        f"Microsoft Graph refused to install the Teams app (HTTP {error.status}): grant the app "
        "registration the Graph application permissions AppCatalog.Read.All and "
        "TeamsAppInstallation.ReadWriteSelfForUser.All, with admin consent"
    )

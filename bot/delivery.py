"""Turns one outbox row into a Teams message for its recipient, in their language.

The dispatcher (bot/notifications) knows nothing of Teams; this is its Deliverer: it finds where
the employee can be reached, renders the card the campaign's kind calls for, makes one attempt
through the proactive sender, and says what happened in the outbox's terms.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.botframework.connector import ConnectorError
from bot.adapters.botframework.proactive import (
    CONTINUED,
    Address,
    NotInstalledError,
    ProactiveSender,
)
from bot.adapters.graph.client import GraphError
from bot.adapters.retry import parse_retry_after
from bot.cards.deductions import notice_card
from bot.cards.notifications import window_open_card, window_reminder_card
from bot.clock import helsinki_today
from bot.conversations import service as conversations
from bot.conversations.models import ConversationReferenceRecord
from bot.db.base import utcnow
from bot.deductions import service as deductions
from bot.directory.models import Employee
from bot.i18n import Texts, resolve_language, texts
from bot.notifications.delivery import Delivered, DeliveryFailed, Outgoing
from bot.notifications.retry import is_retryable
from bot.rollout import campaigns

log = logging.getLogger(__name__)

PERSONAL = "personal"
SKIPPED = "skipped"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

Card = dict[str, Any]
Renderer = Callable[[AsyncSession, Outgoing, Texts], Awaitable[Card | None]]
Claim = Callable[[AsyncSession, Outgoing], Awaitable[bool]]
Release = Callable[[AsyncSession, Outgoing], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class Reach:
    """Where Teams has the employee, as far as this database knows."""

    address: Address | None
    language: str
    removed_app: bool


async def _current_wave(outgoing: Outgoing, session: AsyncSession) -> campaigns.WaveNotice | None:
    """The wave as it is now: None once it is over or the employee has moved to another unit."""
    notice = await campaigns.wave_notice(
        session=session, wave_id=int(outgoing.payload["wave_id"]), aad_object_id=outgoing.recipient
    )
    if notice is None or not notice.in_wave or helsinki_today(utcnow()) > notice.closes_on:
        return None
    return notice


async def _window_open(session: AsyncSession, outgoing: Outgoing, t: Texts) -> Card | None:
    notice = await _current_wave(outgoing, session)
    if notice is None:
        return None
    unit = notice.unit_name_en if t.language == "en" and notice.unit_name_en else None
    return window_open_card(
        t,
        wave_id=notice.wave_id,
        unit=unit or notice.unit_name_fi,
        closes_on=notice.closes_on,
    )


async def _window_reminder(session: AsyncSession, outgoing: Outgoing, t: Texts) -> Card | None:
    notice = await _current_wave(outgoing, session)
    if notice is None or notice.has_open_choice:
        return None  # chose in the meantime: nothing to remind of
    return window_reminder_card(t, wave_id=notice.wave_id, closes_on=notice.closes_on)


async def _life_event(session: AsyncSession, outgoing: Outgoing, t: Texts) -> Card | None:
    notice = await deductions.unsent_notice(
        session=session, notice_id=int(outgoing.payload["notice_id"])
    )
    return None if notice is None else notice_card(t, notice)  # None: told in a chat already


async def _claim_notice(session: AsyncSession, outgoing: Outgoing) -> bool:
    """Claimed before sending, as a chat turn claims it, so only one of them tells it."""
    return await deductions.mark_notice_sent(
        session=session, notice_id=int(outgoing.payload["notice_id"]), now=utcnow()
    )


async def _release_notice(session: AsyncSession, outgoing: Outgoing) -> None:
    await deductions.release_notice(session=session, notice_id=int(outgoing.payload["notice_id"]))


RENDERERS: dict[str, Renderer] = {
    campaigns.WINDOW_OPEN: _window_open,
    campaigns.WINDOW_REMINDER: _window_reminder,
    deductions.LIFE_EVENT: _life_event,
}
ONCE_ONLY: dict[str, tuple[Claim, Release]] = {
    deductions.LIFE_EVENT: (_claim_notice, _release_notice),
}


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
        renderers: dict[str, Renderer] | None = None,
    ) -> None:
        self._sessions = sessions
        self._sender = sender
        self._default_language = default_language
        self._tenant_id = tenant_id
        self._service_url = service_url
        self._renderers = renderers or RENDERERS

    async def deliver(self, outgoing: Outgoing) -> Delivered:
        render = self._renderers.get(outgoing.kind)
        if render is None:
            raise DeliveryFailed("unknown_kind", final=True, message=outgoing.kind)
        async with self._sessions() as session:
            reach = await self._reach(session, outgoing.recipient)
            card = await render(session, outgoing, texts(reach.language))
        if card is None:
            return Delivered(SKIPPED)
        if reach.removed_app:
            raise DeliveryFailed("app_removed", final=True)
        if reach.address is None:
            raise DeliveryFailed(
                "no_tenant", final=True, message="set TEAMS_TENANT_ID to open chats with people"
            )
        once_only = ONCE_ONLY.get(outgoing.kind)
        if once_only is not None and not await self._in_transaction(once_only[0], outgoing):
            return Delivered(SKIPPED)
        try:
            sent = await self._sender.send(reach.address, _message(card))
        except BaseException as error:
            if once_only is not None:
                await self._in_transaction(once_only[1], outgoing)
            if isinstance(error, Exception):
                raise _failure(error) from error
            raise
        if sent.outcome != CONTINUED:
            await self._remember(reach.address, sent.conversation_id)
        return Delivered(sent.outcome, sent.conversation_id, sent.activity_id)

    async def _in_transaction(
        self, step: Callable[[AsyncSession, Outgoing], Awaitable[T]], outgoing: Outgoing
    ) -> T:
        async with self._sessions() as session, session.begin():
            return await step(session, outgoing)

    async def _reach(self, session: AsyncSession, aad_object_id: str) -> Reach:
        employee = await session.get(Employee, aad_object_id)
        language = resolve_language(
            employee.chosen_language if employee else None,
            employee.directory_language if employee else None,
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

    async def _remember(self, address: Address, conversation_id: str) -> None:
        """A conversation we opened is continued next time, not opened again.

        The message has gone out by now: a failure here is logged, never raised, or the outbox
        would send it again. The worst case is opening the same 1:1 chat again next time.
        """
        try:
            await self._store_reference(address, conversation_id)
        except Exception:
            log.exception("could not store the chat opened with a recipient")

    async def _store_reference(self, address: Address, conversation_id: str) -> None:
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
            await conversations.remember(session=session, facts=facts, reference=reference)


_REASONS = {403: "blocked", 404: "not_found", 412: "precondition", 429: "throttled"}


def _message(card: Card) -> dict[str, Any]:
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}]}


def _failure(error: Exception) -> DeliveryFailed:
    """One attempt's error in the outbox's terms; retried only where Teams says it may help."""
    if isinstance(error, NotInstalledError):
        return DeliveryFailed("not_installed", final=True)
    if isinstance(error, GraphError):
        final = error.status in (400, 403, 404)
        return DeliveryFailed(
            "install_failed", status=error.status, final=final, message=str(error)[:300]
        )
    if not isinstance(error, ConnectorError):
        return DeliveryFailed("error", message=repr(error)[:300])
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
        retry_after=parse_retry_after(error.retry_after),
        final=not is_retryable(status),
        message=str(error)[:300],
    )

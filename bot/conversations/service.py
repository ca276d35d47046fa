"""Keep one current conversation reference per conversation, for proactive messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.models import ConversationReferenceRecord
from bot.db.base import utcnow


@dataclass(frozen=True)
class ConversationFacts:
    """The parts of a reference we look conversations up by; the rest stays opaque JSON."""

    conversation_id: str
    conversation_type: str
    channel_id: str
    service_url: str
    tenant_id: str | None
    aad_object_id: str | None
    team_id: str | None


async def remember(
    *, session: AsyncSession, facts: ConversationFacts, reference: dict[str, Any]
) -> bool:
    """Insert or refresh the reference; returns True if anything was written."""
    record = await session.scalar(
        select(ConversationReferenceRecord).where(
            ConversationReferenceRecord.conversation_id == facts.conversation_id
        )
    )
    if record is None:
        session.add(
            ConversationReferenceRecord(
                conversation_id=facts.conversation_id,
                conversation_type=facts.conversation_type,
                channel_id=facts.channel_id,
                service_url=facts.service_url,
                tenant_id=facts.tenant_id,
                aad_object_id=facts.aad_object_id,
                team_id=facts.team_id,
                reference=reference,
                installed=True,
            )
        )
        return True
    changed = (
        record.reference != reference
        or record.service_url != facts.service_url
        or not record.installed
        or (facts.aad_object_id is not None and record.aad_object_id != facts.aad_object_id)
    )
    if changed:
        record.reference = reference
        record.service_url = facts.service_url
        record.tenant_id = facts.tenant_id or record.tenant_id
        record.aad_object_id = facts.aad_object_id or record.aad_object_id
        record.team_id = facts.team_id or record.team_id
        record.installed = True
    return changed


async def mark_uninstalled(*, session: AsyncSession, conversation_id: str) -> None:
    await session.execute(
        update(ConversationReferenceRecord)
        .where(ConversationReferenceRecord.conversation_id == conversation_id)
        .values(installed=False, updated_at=utcnow())
    )


async def personal_reference(*, session: AsyncSession, aad_object_id: str) -> dict[str, Any] | None:
    """The newest installed 1:1 conversation with this person, if the bot has one."""
    return await session.scalar(
        select(ConversationReferenceRecord.reference)
        .where(
            ConversationReferenceRecord.aad_object_id == aad_object_id,
            ConversationReferenceRecord.conversation_type == "personal",
            ConversationReferenceRecord.installed.is_(True),
        )
        .order_by(ConversationReferenceRecord.updated_at.desc())
        .limit(1)
    )

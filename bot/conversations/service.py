"""Keep one current conversation reference per conversation, for proactive messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.models import ConversationReferenceRecord
from bot.db.upsert import upsert


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
    *, session: AsyncSession, facts: ConversationFacts, reference: dict[str, Any], now: datetime
) -> bool:
    """Insert or refresh the reference; returns True if anything was written.

    Teams sends installationUpdate and conversationUpdate at the same moment, so the insert is
    an upsert: two turns creating the same conversation's row both succeed.
    """
    record = await session.scalar(
        select(ConversationReferenceRecord).where(
            ConversationReferenceRecord.conversation_id == facts.conversation_id
        )
    )
    if record is not None and not differs(
        stored=StoredReference(
            reference=record.reference,
            service_url=record.service_url,
            installed=record.installed,
            aad_object_id=record.aad_object_id,
        ),
        facts=facts,
        reference=reference,
    ):
        return False
    await store(session=session, facts=facts, reference=reference, now=now)
    if record is not None:
        await session.refresh(record)
    return True


async def store(
    *, session: AsyncSession, facts: ConversationFacts, reference: dict[str, Any], now: datetime
) -> None:
    """Write the reference, for a caller that already knows it is new or `differs`."""
    values = {
        "conversation_id": facts.conversation_id,
        "conversation_type": facts.conversation_type,
        "channel_id": facts.channel_id,
        "service_url": facts.service_url,
        "reference": reference,
        "installed": True,
        "updated_at": now,
        **_known(
            tenant_id=facts.tenant_id, aad_object_id=facts.aad_object_id, team_id=facts.team_id
        ),
    }
    await upsert(
        session,
        ConversationReferenceRecord,
        values,
        conflict_columns=["conversation_id"],
        update_columns=[column for column in values if column != "conversation_id"],
    )


@dataclass(frozen=True)
class StoredReference:
    """What is stored of a conversation, as far as deciding whether to write it again."""

    reference: dict[str, Any]
    service_url: str
    installed: bool
    aad_object_id: str | None


def differs(
    *, stored: StoredReference, facts: ConversationFacts, reference: dict[str, Any]
) -> bool:
    """Whether this turn's reference or facts would change the stored row."""
    return (
        stored.reference != reference
        or stored.service_url != facts.service_url
        or not stored.installed
        or (facts.aad_object_id is not None and stored.aad_object_id != facts.aad_object_id)
    )


def _known(**values: str | None) -> dict[str, str]:
    """Only the facts this turn knows, so a turn without them never erases them."""
    return {name: value for name, value in values.items() if value is not None}


async def mark_uninstalled(*, session: AsyncSession, conversation_id: str, now: datetime) -> None:
    await session.execute(
        update(ConversationReferenceRecord)
        .where(ConversationReferenceRecord.conversation_id == conversation_id)
        .values(installed=False, updated_at=now)
    )

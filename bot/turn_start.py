"""What a turn needs before its dialog runs: read in one query, written only where it changed.

A turn used to open three database sessions before its dialog began (the conversation
reference, the employee and their notices, then the dialog state), six statements and their
BEGINs and COMMITs. Here one query (autocommit on PostgreSQL) reads all four; only a first
contact, a changed reference or a waiting notice takes a short transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.state_storage import BotStateRecord
from bot.clock import Clock
from bot.conversations import service as conversations
from bot.conversations.models import ConversationReferenceRecord
from bot.db.engine import lone_statements
from bot.deductions import service as deductions
from bot.deductions.models import PendingNotice
from bot.directory import service as directory
from bot.directory.models import Employee


@dataclass(frozen=True)
class Person:
    """The employee writing in a personal chat, as Teams names them."""

    aad_object_id: str
    display_name: str | None


@dataclass(frozen=True)
class StoredState:
    """The dialog state row as stored, decoded by the state layer."""

    etag: str
    data: str


@dataclass
class TurnStart:
    contact: directory.Contact | None = None
    notices: list[deductions.Notice] = field(default_factory=list)
    state: StoredState | None = None


_params = select(
    bindparam("conversation_id", type_=String).label("conversation_id"),
    bindparam("aad_object_id", type_=String).label("aad_object_id"),
    bindparam("state_key", type_=String).label("state_key"),
).subquery("turn")
_reference = ConversationReferenceRecord.__table__
_employee = Employee.__table__
_state = BotStateRecord.__table__
_notice = PendingNotice.__table__

_SNAPSHOT = (
    select(
        _reference.c.conversation_id.label("reference_id"),
        _reference.c.reference,
        _reference.c.service_url,
        _reference.c.installed,
        _reference.c.aad_object_id.label("reference_person"),
        _employee.c.aad_object_id,
        _employee.c.display_name,
        _employee.c.chosen_language,
        _employee.c.directory_language,
        _employee.c.welcomed_at,
        _employee.c.first_seen_at,
        exists()
        .where(_notice.c.aad_object_id == _params.c.aad_object_id, _notice.c.sent_at.is_(None))
        .label("has_notices"),
        _state.c.etag,
        _state.c.data,
    )
    .select_from(_params)
    .outerjoin(_reference, _reference.c.conversation_id == _params.c.conversation_id)
    .outerjoin(_employee, _employee.c.aad_object_id == _params.c.aad_object_id)
    .outerjoin(_state, _state.c.key == _params.c.state_key)
)


class TurnStarter:
    """Reads a turn's reference, contact, notices and dialog state; writes what changed."""

    def __init__(
        self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        self._reader = lone_statements(engine)
        self._sessions = sessions
        self._clock = clock

    async def start(
        self,
        *,
        facts: conversations.ConversationFacts | None,
        reference: dict[str, Any] | None,
        person: Person | None,
        state_key: str,
        wants_notices: bool,
    ) -> TurnStart:
        async with self._reader.connect() as connection:
            row = (
                await connection.execute(
                    _SNAPSHOT,
                    {
                        "conversation_id": facts.conversation_id if facts else "",
                        "aad_object_id": person.aad_object_id if person else "",
                        "state_key": state_key,
                    },
                )
            ).one()
        start = TurnStart(state=StoredState(row.etag, row.data) if row.data is not None else None)
        reference_stale = (
            facts is not None
            and reference is not None
            and (
                row.reference_id is None
                or conversations.differs(
                    stored=conversations.StoredReference(
                        reference=row.reference,
                        service_url=row.service_url,
                        installed=row.installed,
                        aad_object_id=row.reference_person,
                    ),
                    facts=facts,
                    reference=reference,
                )
            )
        )
        employee = row if row.aad_object_id is not None else None
        contact_stale = person is not None and directory.needs_registering(
            employee, person.display_name
        )
        fetch_notices = person is not None and wants_notices and bool(row.has_notices)
        if not (reference_stale or contact_stale or fetch_notices):
            if person is not None:
                start.contact = directory.contact_of(row)
            return start
        now = self._clock()
        async with self._sessions() as session, session.begin():
            if reference_stale and facts is not None and reference is not None:
                await conversations.store(
                    session=session, facts=facts, reference=reference, now=now
                )
            if person is not None:
                start.contact = (
                    await directory.register_contact(
                        session=session,
                        aad_object_id=person.aad_object_id,
                        display_name=person.display_name,
                        now=now,
                    )
                    if contact_stale
                    else directory.contact_of(row)
                )
                if fetch_notices:
                    start.notices = await deductions.pending_notices(
                        session=session, aad_object_id=person.aad_object_id
                    )
        return start

"""A person's own copy of everything the bot keeps about them, read from the inventory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import Base, as_utc
from bot.privacy.inventory import Holding, Kind, Link, personal_holdings


@dataclass(frozen=True)
class PersonCopy:
    """Rows per table, each only the columns about this person; `kinds` counts rows by kind."""

    person: str
    made_at: datetime
    tables: dict[str, list[dict[str, Any]]]
    kinds: dict[Kind, int]

    @property
    def rows(self) -> int:
        return sum(len(rows) for rows in self.tables.values())

    def as_json(self) -> dict[str, Any]:
        """The copy as plain JSON values (times in UTC, ISO 8601)."""
        return {
            "person": self.person,
            "made_at": _plain(self.made_at),
            "tables": {
                table: [{key: _plain(value) for key, value in row.items()} for row in rows]
                for table, rows in self.tables.items()
            },
        }


async def person_copy(*, session: AsyncSession, person: str, now: datetime) -> PersonCopy:
    """Every row that is about `person`, through every link the inventory declares."""
    tables: dict[str, list[dict[str, Any]]] = {}
    kinds: dict[Kind, int] = {}
    for holding in personal_holdings():
        rows = await _rows_of(session, holding, person)
        if rows:
            tables[holding.table] = rows
            kinds[holding.kind] = kinds.get(holding.kind, 0) + len(rows)
    return PersonCopy(person=person, made_at=now, tables=tables, kinds=kinds)


async def _rows_of(session: AsyncSession, holding: Holding, person: str) -> list[dict[str, Any]]:
    table = Base.metadata.tables[holding.table]
    if holding.table == "bot_state":
        return await _dialog_state_of(session, table, person)
    rows: list[dict[str, Any]] = []
    for link in holding.links:
        found = (await session.execute(_query(table, link, person))).mappings()
        for row in found:
            shown = dict(row)
            if link.role != "own":
                shown["as"] = link.role
            rows.append(shown)
    return rows


def _query(table: Table, link: Link, person: str) -> Select[Any]:
    query = select(*(table.c[name] for name in link.shows)).select_from(table)
    current = table
    for step in link.path:
        parent = Base.metadata.tables[step.parent]
        query = query.join(parent, current.c[step.column] == parent.c[step.key])
        current = parent
    return query.where(current.c[link.column] == person).order_by(*table.primary_key.columns)


async def _dialog_state_of(
    session: AsyncSession, table: Table, person: str
) -> list[dict[str, Any]]:
    """Dialog state is stored per conversation: the person's are those of their conversations."""
    conversations = Base.metadata.tables["conversation_reference"]
    keys = [
        dialog_state_key(channel, conversation)
        for channel, conversation in await session.execute(
            select(conversations.c.channel_id, conversations.c.conversation_id).where(
                conversations.c.aad_object_id == person
            )
        )
    ]
    if not keys:
        return []
    # Where the conversation stands, not its raw state: that holds the open form's one-time
    # tokens (a consent's, say), which are the bot's, not facts about the person.
    found = await session.execute(
        select(table.c.key, table.c.updated_at).where(table.c.key.in_(keys))
    )
    return [dict(row) for row in found.mappings()]


def dialog_state_key(channel: str, conversation: str) -> str:
    """Where Bot Framework's ConversationState keeps a conversation's dialog state."""
    return f"{channel}/conversations/{conversation}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value

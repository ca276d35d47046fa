"""Bot Framework `Storage` on our own database, with eTag optimistic concurrency.

Dialog and user state live beside the domain tables, so any number of bot instances can share
them. Each write of an item that carries an eTag succeeds only if the stored eTag still matches;
a lost race raises `EtagConflictError` instead of silently overwriting another instance's turn.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import jsonpickle
from botbuilder.core import Storage
from sqlalchemy import CursorResult, String, Text, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from bot.clock import Clock
from bot.db.base import Base, utcnow
from bot.db.engine import lone_statements
from bot.db.upsert import upsert, upsert_statement

ETAG_KEY = "e_tag"
ANY_ETAG = "*"
_PICKLE_TAGS = ("py/object", "py/type", "py/reduce", "py/function", "py/newobj", "py/mod")
_TRUSTED_MODULE_PREFIXES = ("botbuilder.", "bot.", "datetime", "decimal", "builtins", "uuid")


class EtagConflictError(Exception):
    """Another writer changed the item since it was read."""


class UntrustedStateError(Exception):
    """Stored state names a class outside the modules we allow to be rebuilt."""


class BotStateRecord(Base):
    """One Bot Framework storage item (conversation, user or dialog state)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    etag: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


_UPDATE_IF_UNCHANGED = (
    update(BotStateRecord)
    .where(
        BotStateRecord.key == bindparam("item_key"),
        BotStateRecord.etag == bindparam("expected_etag"),
    )
    .values(etag=bindparam("new_etag"), data=bindparam("new_data"), updated_at=bindparam("now"))
)


class SqlStorage(Storage):
    """Storage backed by the `bot_state` table through SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._lone = lone_statements(session_factory.kw["bind"])

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                select(BotStateRecord.key, BotStateRecord.etag, BotStateRecord.data).where(
                    BotStateRecord.key.in_(list(keys))
                )
            )
            return {key: decode_item(data, etag) for key, etag, data in rows}

    async def write(self, changes: Mapping[str, Any]) -> None:
        if changes is None:
            raise TypeError("changes are required when writing")
        if not changes:
            return
        new_etags = {key: uuid.uuid4().hex for key in changes}
        async with self._sessions() as session, session.begin():
            for key, item in changes.items():
                await _write_one(session, key, item, new_etags[key], self._clock())
        # Callers see the new eTags only after commit, so a second save in one turn is no conflict.
        for key, item in changes.items():
            if _get_etag(item) is not None or isinstance(item, dict):
                _set_etag(item, new_etags[key])

    async def read_stored(self, key: str) -> tuple[str, str] | None:
        """The eTag and stored text of one item, in one statement without a transaction."""
        async with self._lone.connect() as connection:
            row = (
                await connection.execute(
                    select(BotStateRecord.etag, BotStateRecord.data).where(
                        BotStateRecord.key == key
                    )
                )
            ).first()
        return (row.etag, row.data) if row else None

    async def write_encoded(self, key: str, item: Any, data: str) -> None:
        """Write one item already encoded by `encode_item`, in one statement when it can.

        An update guarded by the eTag, or an upsert when there is none, is atomic on its own,
        so it needs no BEGIN and COMMIT; only a missing row with an eTag takes the full path.
        """
        expected = _get_etag(item)
        if expected == "":
            raise ValueError(f"storage item {key!r} has an empty eTag")
        new_etag = uuid.uuid4().hex
        if expected is None or expected == ANY_ETAG:
            async with self._lone.begin() as connection:
                values = {"key": key, "etag": new_etag, "data": data, "updated_at": self._clock()}
                await connection.execute(
                    upsert_statement(
                        connection.dialect.name,
                        BotStateRecord,
                        tuple(values),
                        ("key",),
                        ("etag", "data", "updated_at"),
                    ),
                    values,
                )
        else:
            async with self._lone.begin() as connection:
                updated: CursorResult[Any] = await connection.execute(
                    _UPDATE_IF_UNCHANGED,
                    {
                        "item_key": key,
                        "expected_etag": expected,
                        "new_etag": new_etag,
                        "new_data": data,
                        "now": self._clock(),
                    },
                )
            if updated.rowcount != 1:
                async with self._sessions() as session, session.begin():
                    await _write_one(session, key, item, new_etag, self._clock(), data)
        if expected is not None or isinstance(item, dict):
            _set_etag(item, new_etag)

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if not keys:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(delete(BotStateRecord).where(BotStateRecord.key.in_(keys)))


async def _write_one(
    session: AsyncSession,
    key: str,
    item: Any,
    new_etag: str,
    now: datetime,
    data: str | None = None,
) -> None:
    expected = _get_etag(item)
    if expected == "":
        raise ValueError(f"storage item {key!r} has an empty eTag")
    data = encode_item(item) if data is None else data
    if expected is None or expected == ANY_ETAG:
        # No eTag asks for no concurrency check: the last writer wins, even against an insert.
        await upsert(
            session,
            BotStateRecord,
            {"key": key, "etag": new_etag, "data": data, "updated_at": now},
            conflict_columns=["key"],
            update_columns=["etag", "data", "updated_at"],
        )
        return
    updated: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(BotStateRecord)
        .where(BotStateRecord.key == key, BotStateRecord.etag == expected)
        .values(etag=new_etag, data=data, updated_at=now)
    )
    if updated.rowcount == 1:
        return
    exists = await session.scalar(select(BotStateRecord.etag).where(BotStateRecord.key == key))
    if exists is not None:
        raise EtagConflictError(f"eTag conflict on {key!r}: expected {expected}, found {exists}")
    await _insert(session, key, data, new_etag, now)


async def _insert(session: AsyncSession, key: str, data: str, etag: str, now: datetime) -> None:
    try:
        async with session.begin_nested():
            await session.execute(
                insert(BotStateRecord).values(key=key, etag=etag, data=data, updated_at=now)
            )
    except IntegrityError as error:
        raise EtagConflictError(f"{key!r} was created by another writer") from error


def _get_etag(item: Any) -> str | None:
    if isinstance(item, dict):
        return item.get(ETAG_KEY)
    return getattr(item, ETAG_KEY, None)


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item[ETAG_KEY] = etag
    else:
        setattr(item, ETAG_KEY, etag)


def _with_etag(item: Any, etag: str) -> Any:
    _set_etag(item, etag)
    return item


def encode_item(item: Any) -> str:
    """The stored text of an item, without its eTag; equal items encode alike."""
    if isinstance(item, dict):
        item = {k: v for k, v in item.items() if k != ETAG_KEY}
    return str(jsonpickle.encode(item, make_refs=False))


def decode_item(data: str, etag: str) -> Any:
    """An item as read from a row, carrying the row's eTag."""
    return _with_etag(_decode(data), etag)


def _decode(data: str) -> Any:
    """Rebuild an item, refusing any class outside the bot's and botbuilder's own modules."""
    _check_trusted(json.loads(data))
    return jsonpickle.decode(data)


def _check_trusted(node: Any) -> None:
    if isinstance(node, dict):
        for tag, value in node.items():
            if tag in _PICKLE_TAGS:
                name = value if isinstance(value, str) else json.dumps(value)
                if not name.startswith(_TRUSTED_MODULE_PREFIXES):
                    raise UntrustedStateError(f"refusing to rebuild {name!r} from stored state")
            _check_trusted(value)
    elif isinstance(node, list):
        for value in node:
            _check_trusted(value)

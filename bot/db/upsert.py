"""INSERT … ON CONFLICT for SQLite and PostgreSQL alike, for rows that racing turns may create."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import Base


async def upsert(
    session: AsyncSession,
    model: type[Base],
    values: Mapping[str, Any],
    *,
    conflict_columns: Sequence[str],
    update_columns: Sequence[str] = (),
) -> None:
    """Insert `values`; if the conflict key exists, update `update_columns` (or do nothing)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    await session.execute(
        upsert_statement(
            dialect,
            model,
            values,
            conflict_columns=conflict_columns,
            update_columns=update_columns,
        )
    )


def upsert_statement(
    dialect: str,
    model: type[Base],
    values: Mapping[str, Any],
    *,
    conflict_columns: Sequence[str],
    update_columns: Sequence[str] = (),
) -> Any:
    """The INSERT … ON CONFLICT statement `upsert` runs, for callers on a plain connection."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(model.__table__).values(**values)
    if update_columns:
        return statement.on_conflict_do_update(
            index_elements=list(conflict_columns),
            set_={column: statement.excluded[column] for column in update_columns},
        )
    return statement.on_conflict_do_nothing(index_elements=list(conflict_columns))

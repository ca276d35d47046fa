"""The audit log of personal-data use: written before anything with people in it is shown."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy.models import AuditEvent


class Channel:
    """Where the data was used."""

    CLI = "cli"
    TAB = "tab"
    CHAT = "chat"
    LINK = "link"


@dataclass(frozen=True)
class Use:
    """One use: who, through what, which action, about whom (when one person), how many rows."""

    actor: str
    channel: str
    action: str
    rows: int = 0
    subject: str | None = None
    refused: bool = False


def cli_actor() -> str:
    """A command's user: the operating system account that ran it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def record_use(session: AsyncSession, use: Use, now: datetime) -> None:
    """Add the use to the session's transaction; it lands with whatever the caller commits."""
    session.add(
        AuditEvent(
            at=now,
            actor=use.actor[:128],
            channel=use.channel,
            action=use.action[:64],
            subject=use.subject,
            rows=use.rows,
            outcome="refused" if use.refused else "shown",
        )
    )


async def uses(
    *,
    session: AsyncSession,
    since: datetime | None = None,
    actor: str | None = None,
    limit: int = 1000,
) -> list[AuditEvent]:
    """The newest uses first, from `since` on, of one actor when given."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    return list((await session.scalars(query)).all())

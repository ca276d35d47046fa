"""What ICT's commands, the chat and the download link ask of data protection: a person's copy
(always logged), the retention in words, and the records of processing."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import as_utc
from bot.directory.models import Employee
from bot.i18n import Texts
from bot.privacy.audit import Use, record_use
from bot.privacy.copy import PersonCopy, person_copy
from bot.privacy.inventory import HOLDINGS, Holding, Kind, Rule, personal_holdings
from bot.privacy.models import CopyLink
from bot.privacy.policy import RetentionPolicy

LINK_LIFETIME = timedelta(minutes=15)


async def find_person(*, session: AsyncSession, key: str) -> str | None:
    """An employee's id from their Entra object id, user name or employee number."""
    key = key.strip()
    if not key:
        return None
    return await session.scalar(
        select(Employee.aad_object_id).where(
            or_(
                Employee.aad_object_id == key,
                Employee.user_principal_name == key.lower(),
                Employee.employee_number == key,
            )
        )
    )


async def copy_for(
    sessions: async_sessionmaker[AsyncSession], *, person: str, use: Use, now: datetime
) -> PersonCopy:
    """The person's copy, read in one transaction that also logs who took it."""
    async with sessions() as session, session.begin():
        copy = await person_copy(session=session, person=person, now=now)
        record_use(session, Use(use.actor, use.channel, use.action, copy.rows, person), now)
    return copy


async def new_copy_link(
    sessions: async_sessionmaker[AsyncSession], *, person: str, now: datetime
) -> str:
    """A fresh token for the person's copy; only its hash is stored, and it expires soon."""
    token = secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        session.add(
            CopyLink(
                token_sha256=_hash(token),
                aad_object_id=person,
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        )
    return token


async def person_of_link(
    sessions: async_sessionmaker[AsyncSession], *, token: str, now: datetime
) -> str | None:
    """Whose copy a link's token opens, once: the link is spent by the download. None when it
    is unknown, spent or expired."""
    if not token or len(token) > 128:
        return None
    async with sessions() as session, session.begin():
        spent = await session.execute(
            delete(CopyLink)
            .where(CopyLink.token_sha256 == _hash(token), CopyLink.expires_at > as_utc(now))
            .returning(CopyLink.aad_object_id)
        )
        return spent.scalar_one_or_none()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def retention_words(words: Texts, policy: RetentionPolicy, rule: Rule) -> str:
    """A rule in words with its length, e.g. "poistetaan 24 kuukautta ratkaisun jälkeen"."""
    length = policy.length(rule)
    key = f"privacy.rule.{rule}"
    return words(key, count=length[0]) if length else words(key)


def retention_of_kind(words: Texts, policy: RetentionPolicy, kind: Kind) -> str:
    """Each distinct rule of a kind's tables in words, joined."""
    rules = dict.fromkeys(holding.rule for holding in personal_holdings() if holding.kind is kind)
    return "; ".join(retention_words(words, policy, rule) for rule in rules)


@dataclass(frozen=True)
class RecordLine:
    """One table in the records of processing."""

    holding: Holding
    kind: str
    purpose: str
    retention: str
    readers: str


def records_of_processing(words: Texts, policy: RetentionPolicy) -> str:
    """The data inventory as Markdown: one row per table with personal data, then the rest."""
    lines = [
        f"# {words('privacy.records.title')}",
        "",
        words("privacy.records.intro"),
        "",
        f"| {words('privacy.records.columns')} |",
        "|---|---|---|---|---|---|",
    ]
    for holding in personal_holdings():
        kind = f"privacy.kind.{holding.kind}"
        lines.append(
            "| "
            + " | ".join(
                (
                    f"`{holding.table}`",
                    words(f"{kind}.name"),
                    ", ".join(f"`{column}`" for column in holding.personal),
                    words(f"{kind}.purpose"),
                    retention_words(words, policy, holding.rule),
                    words(f"{kind}.readers"),
                )
            )
            + " |"
        )
    others = [holding.table for holding in HOLDINGS if not holding.personal]
    lines += ["", words("privacy.records.impersonal", tables=", ".join(f"`{t}`" for t in others))]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class MyData:
    """What the chat shows a person: rows per kind, and a fresh link to the whole copy."""

    kinds: dict[Kind, int]
    rows: int
    token: str


class PrivacyDesk:
    """The chat's and the download link's way in: always for the asker alone, always logged."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policy: RetentionPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self.policy = policy
        self._clock = clock

    async def my_data(self, person: str) -> MyData:
        """The asker's own data by kind, logged, with a new download link."""
        now = self._clock()
        copy = await copy_for(
            self._sessions, person=person, use=Use(person, "chat", "privacy.my_data"), now=now
        )
        token = await new_copy_link(self._sessions, person=person, now=now)
        return MyData(kinds=copy.kinds, rows=copy.rows, token=token)

    async def refuse(self, asker: str, asked_for: str, action: str) -> None:
        """A request that named someone else: nothing is shown, and the attempt is logged."""
        async with self._sessions() as session, session.begin():
            use = Use(asker, "chat", action, 0, asked_for[:64], refused=True)
            record_use(session, use, self._clock())

    async def download(self, token: str) -> PersonCopy | None:
        """The copy a link opens (logged), or None when the link is unknown or has expired."""
        now = self._clock()
        person = await person_of_link(self._sessions, token=token, now=now)
        if person is None:
            return None
        use = Use(person, "link", "privacy.download")
        return await copy_for(self._sessions, person=person, use=use, now=now)

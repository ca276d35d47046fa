"""Directory sync: people, their units and leavers from the organisation's directory."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.collector import collector_paused
from bot.db.upsert import upsert
from bot.directory.models import DirectorySyncState, Employee, Unit

log = logging.getLogger(__name__)

T = TypeVar("T")

CHUNK = 999
USER_FIELDS = frozenset(
    {
        "display_name",
        "user_principal_name",
        "employee_number",
        "department",
        "preferred_language",
        "account_enabled",
    }
)
COUNTS = ("seen", "created", "updated", "disabled", "left", "returned", "units_created")
CLAIMED = {"user_principal_name": "user principal name", "employee_number": "employee number"}
DIRECTORY_COLUMNS = (
    "display_name",
    "user_principal_name",
    "employee_number",
    "department",
    "directory_language",
    "account_enabled",
    "unit_code",
    "left_at",
)


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A user as the directory reports them; a delta may report only the fields that changed."""

    aad_object_id: str
    display_name: str | None = None
    user_principal_name: str | None = None
    employee_number: str | None = None
    department: str | None = None
    preferred_language: str | None = None
    account_enabled: bool | None = None
    removed: bool = False
    reported: frozenset[str] = USER_FIELDS


@dataclass(frozen=True)
class DirectoryChanges:
    """Users changed since a delta link, and the link to ask from next time."""

    users: list[DirectoryUser]
    delta_link: str


class DeltaLinkExpired(Exception):
    """The directory no longer knows the stored delta link: only a full sync can follow."""


class SyncConflict(Exception):
    """Another sync stored its results while this one was reading; this one changed nothing."""


class EmptyDirectory(Exception):
    """A full listing with nobody in it: refused rather than marking everyone as left."""


class DirectorySource(Protocol):
    """What the sync needs from a directory (Microsoft Graph in production, a fake in tests)."""

    async def list_users(self) -> list[DirectoryUser]: ...

    async def latest_delta_link(self) -> str: ...

    async def user_changes(self, delta_link: str) -> DirectoryChanges: ...

    async def group_member_ids(self, group_id: str) -> list[str]: ...

    async def aclose(self) -> None: ...


class UnitSource(StrEnum):
    DEPARTMENT = "department"
    GROUPS = "groups"


@dataclass(frozen=True)
class UnitMapping:
    """How a user's unit is found: their department attribute, or the unit group they are in."""

    source: UnitSource = UnitSource.DEPARTMENT
    departments: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)

    def unit_for_department(self, department: str | None) -> str | None:
        """A mapped department's unit code, else the department name itself."""
        if not department:
            return None
        return self._by_department.get(department.casefold(), department)

    @cached_property
    def _by_department(self) -> dict[str, str]:
        return {name.strip().casefold(): code for name, code in self.departments.items()}


def read_department_map(path: Path) -> dict[str, str]:
    """A YAML (or JSON) file of `department name: UNIT_CODE` lines."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected 'department: UNIT_CODE' lines")
    return {str(name).strip(): str(code).strip() for name, code in data.items()}


@dataclass
class SyncCounts:
    """Which employees a sync created, changed, disabled, marked as left, or saw come back."""

    seen: int = 0
    created: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    disabled: set[str] = field(default_factory=set)
    left: set[str] = field(default_factory=set)
    returned: set[str] = field(default_factory=set)
    units_created: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, int]:
        return {"seen": self.seen} | {name: len(getattr(self, name)) for name in COUNTS[1:]}


@dataclass(frozen=True)
class SyncReport:
    """What one run did, for the CLI, the logs and the sync state row."""

    full: bool
    seen: int
    created: int
    updated: int
    disabled: int
    left: int
    returned: int
    units_created: int
    duration_seconds: float

    @classmethod
    def of(cls, counts: SyncCounts, *, full: bool, duration_seconds: float) -> SyncReport:
        return cls(full=full, duration_seconds=duration_seconds, **counts.as_dict())

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


async def apply_users(
    session: AsyncSession,
    users: Iterable[DirectoryUser],
    *,
    mapping: UnitMapping | None = None,
    now: datetime,
    complete: bool = False,
) -> SyncCounts:
    """Upsert what the directory said, page by page; chat-owned columns are never written.

    `complete`: `users` is the whole directory, so anyone missing from it is leaving.
    """
    mapping = mapping or UnitMapping()
    latest = _latest_by_id(users)
    counts = SyncCounts(seen=len(latest))
    settled = await _settle_claims(session, list(latest.values()), complete=complete, now=now)
    for chunk in _chunks(settled, CHUNK):
        await _apply_chunk(session, chunk, mapping, now, counts)
    return counts


async def mark_missing_as_left(
    session: AsyncSession, present: set[str], *, now: datetime, counts: SyncCounts
) -> None:
    """After a full listing: everyone the directory no longer has has left."""
    current = select(Employee.aad_object_id).where(Employee.left_at.is_(None))
    missing = [aad_id for aad_id in await session.scalars(current) if aad_id not in present]
    await _mark_left(session, missing, now, counts)


async def apply_group_units(
    session: AsyncSession,
    unit_by_user: Mapping[str, str],
    *,
    now: datetime,
    counts: SyncCounts,
) -> None:
    """Put every present employee in the unit of the unit group they belong to, or in none."""
    await _ensure_units(session, {code: code for code in unit_by_user.values()}, counts)
    rows = await session.execute(
        select(Employee.aad_object_id, Employee.unit_code).where(Employee.left_at.is_(None))
    )
    moves: dict[str | None, list[str]] = defaultdict(list)
    for aad_id, current in rows:
        target = unit_by_user.get(aad_id)
        if target != current:
            moves[target].append(aad_id)
    for target, ids in moves.items():
        for chunk in _chunks(ids, CHUNK):
            await session.execute(
                update(Employee)
                .where(Employee.aad_object_id.in_(chunk))
                .values(unit_code=target, updated_at=now)
            )
        counts.updated.update(aad_id for aad_id in ids if aad_id not in counts.created)


class DirectorySync:
    """Runs a sync: read the directory first, then apply everything in one transaction."""

    def __init__(
        self,
        source: DirectorySource,
        sessions: async_sessionmaker[AsyncSession],
        *,
        mapping: UnitMapping | None = None,
        name: str = "graph",
        clock: Clock,
    ) -> None:
        self.source = source
        self.sessions = sessions
        self.mapping = mapping or UnitMapping()
        self.name = name
        self.clock = clock

    async def run(self, full: bool = False) -> SyncReport:
        """A delta from the stored link, or a full listing when asked or when there is none."""
        with collector_paused():
            return await self._run(full)

    async def _run(self, full: bool) -> SyncReport:
        started = time.perf_counter()
        generation, link = await self._read_state()
        changes = None
        if not full and link is not None:
            try:
                changes = await self.source.user_changes(link)
            except DeltaLinkExpired:
                log.warning("directory sync %s: delta link expired, listing everyone", self.name)
        full = changes is None
        if changes is None:
            # The link comes first, so changes made while the listing runs come with the next delta.
            next_link = await self.source.latest_delta_link()
            changes = DirectoryChanges(await self.source.list_users(), next_link)
        users = changes.users
        unit_by_user = await self._unit_members()
        now = self.clock()
        async with self.sessions() as session, session.begin():
            state = await self._claim(session, generation)
            counts = await self._apply(session, users, full, now, unit_by_user)
            state.delta_link = changes.delta_link
            state.generation = generation + 1
            state.last_counts = counts.as_dict()
            state.updated_at = now
            if full:
                state.last_full_sync_at = now
            else:
                state.last_delta_sync_at = now
        duration = round(time.perf_counter() - started, 3)
        report = SyncReport.of(counts, full=full, duration_seconds=duration)
        log.info("directory sync %s: %s", self.name, report)
        return report

    async def aclose(self) -> None:
        await self.source.aclose()

    async def _apply(
        self,
        session: AsyncSession,
        users: list[DirectoryUser],
        full: bool,
        now: datetime,
        unit_by_user: dict[str, str] | None,
    ) -> SyncCounts:
        present = {user.aad_object_id for user in users if not user.removed}
        if full and not present:
            known = await session.scalar(
                select(func.count()).select_from(Employee).where(Employee.left_at.is_(None))
            )
            if known:
                raise EmptyDirectory("the directory listed nobody; no one was marked as left")
        counts = await apply_users(session, users, mapping=self.mapping, now=now, complete=full)
        if full:
            await mark_missing_as_left(session, present, now=now, counts=counts)
        if unit_by_user is not None:
            await apply_group_units(session, unit_by_user, now=now, counts=counts)
        return counts

    async def _read_state(self) -> tuple[int, str | None]:
        async with self.sessions() as session, session.begin():
            await upsert(
                session,
                DirectorySyncState,
                {
                    "source": self.name,
                    "generation": 0,
                    "last_counts": {},
                    "updated_at": self.clock(),
                },
                conflict_columns=["source"],
            )
            state = await session.get_one(DirectorySyncState, self.name)
            return state.generation, state.delta_link

    async def _claim(self, session: AsyncSession, generation: int) -> DirectorySyncState:
        """Lock the state row; if another run stored results since we read it, change nothing."""
        state = await session.scalar(
            select(DirectorySyncState)
            .where(DirectorySyncState.source == self.name)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if state is None or state.generation != generation:
            raise SyncConflict(f"another directory sync ({self.name}) finished first")
        return state

    async def _unit_members(self) -> dict[str, str] | None:
        """Group mode: who is in which unit; the first configured group a user is in wins."""
        if self.mapping.source is not UnitSource.GROUPS:
            return None
        unit_by_user: dict[str, str] = {}
        for group_id, unit_code in self.mapping.groups.items():
            for member in await self.source.group_member_ids(group_id):
                unit_by_user.setdefault(member, unit_code)
        return unit_by_user


async def _apply_chunk(
    session: AsyncSession,
    users: Sequence[DirectoryUser],
    mapping: UnitMapping,
    now: datetime,
    counts: SyncCounts,
) -> None:
    ids = [user.aad_object_id for user in users]
    existing = {
        row.aad_object_id: row
        for row in await session.execute(
            select(Employee.aad_object_id, *_columns()).where(Employee.aad_object_id.in_(ids))
        )
    }
    rows: list[dict[str, Any]] = []
    leaving: list[str] = []
    units: dict[str, str] = {}
    for user in users:
        old = existing.get(user.aad_object_id)
        if user.removed:
            if old is not None and old.left_at is None:
                leaving.append(user.aad_object_id)
            continue
        row = _row(user, old, mapping)
        if old is None:
            counts.created.add(user.aad_object_id)
            if not row["account_enabled"]:
                counts.disabled.add(user.aad_object_id)
        elif any(row[column] != getattr(old, column) for column in DIRECTORY_COLUMNS):
            counts.updated.add(user.aad_object_id)
            if old.account_enabled and not row["account_enabled"]:
                counts.disabled.add(user.aad_object_id)
            if old.left_at is not None:
                counts.returned.add(user.aad_object_id)
        else:
            continue
        if mapping.source is UnitSource.DEPARTMENT and row["unit_code"]:
            units.setdefault(row["unit_code"], row["department"])
        row.update(aad_object_id=user.aad_object_id, created_at=now, updated_at=now)
        rows.append(row)
    await _ensure_units(session, units, counts)
    if rows:
        await session.execute(_upsert_statement(session), rows)
    await _mark_left(session, leaving, now, counts)


def _row(user: DirectoryUser, old: Any, mapping: UnitMapping) -> dict[str, Any]:
    """The employee's directory columns: reported fields from the user, the rest as stored."""

    def reported(name: str, column: str) -> Any:
        if name in user.reported:
            return getattr(user, name)
        return getattr(old, column) if old is not None else None

    department = _clean(reported("department", "department"), 64)
    enabled = reported("account_enabled", "account_enabled")
    if mapping.source is UnitSource.DEPARTMENT:
        unit_code = mapping.unit_for_department(department)
    else:
        unit_code = old.unit_code if old is not None else None
    return {
        "display_name": _clean(reported("display_name", "display_name"), 200)
        or (old.display_name if old is not None else ""),
        "user_principal_name": _clean(reported("user_principal_name", "user_principal_name")),
        "employee_number": _clean(reported("employee_number", "employee_number")),
        "department": department,
        "directory_language": _clean(reported("preferred_language", "directory_language"), 16),
        "account_enabled": True if enabled is None else bool(enabled),
        "unit_code": unit_code,
        "left_at": None,
    }


def _clean(value: str | None, length: int | None = None) -> str | None:
    if value is None:
        return None
    value = value.strip()[:length]
    return value or None


def _columns() -> list[Any]:
    return [getattr(Employee, column) for column in DIRECTORY_COLUMNS]


def _upsert_statement(session: AsyncSession) -> Any:
    """One INSERT … ON CONFLICT for a page, sent with all its rows at once."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(Employee.__table__)
    return statement.on_conflict_do_update(
        index_elements=["aad_object_id"],
        set_={column: statement.excluded[column] for column in (*DIRECTORY_COLUMNS, "updated_at")},
    )


async def _settle_claims(
    session: AsyncSession, users: list[DirectoryUser], *, complete: bool, now: datetime
) -> list[DirectoryUser]:
    """One owner per name and number, by the same rule in full and delta syncs.

    Payroll finds people by employee number, so an enabled employee who has not left keeps what
    they hold. What only a leaver or a disabled account holds goes to whom the directory now
    gives it: an enabled user first, then its holder, then the first listed.
    """
    stored = await _stored_rows(session, users)
    batch = {user.aad_object_id: user for user in users}
    order = {aad_id: position for position, aad_id in enumerate(batch)}

    def value(aad_id: str, column: str) -> str | None:
        user = batch.get(aad_id)
        if user is not None and column in user.reported:
            return _clean(getattr(user, column))
        row = stored.get(aad_id)
        return getattr(row, column) if row is not None else None

    def active(aad_id: str) -> bool:
        user, row = batch.get(aad_id), stored.get(aad_id)
        if user is None:
            return not complete and row is not None and row.account_enabled and not row.left_at
        if user.removed:
            return False
        if "account_enabled" in user.reported:
            return user.account_enabled is not False
        return row is None or bool(row.account_enabled)

    dropped: dict[str, set[str]] = defaultdict(set)
    released: dict[str, list[str]] = defaultdict(list)
    for column, label in CLAIMED.items():
        holders = {getattr(row, column): aad_id for aad_id, row in stored.items()}
        wanted: dict[str, list[str]] = defaultdict(list)
        for aad_id, user in batch.items():
            claimed = None if user.removed else value(aad_id, column)
            if claimed:
                wanted[claimed].append(aad_id)
        for claimed, claimants in wanted.items():
            holder = holders.get(claimed)
            if holder is not None and active(holder) and value(holder, column) == claimed:
                owner = holder
            else:
                owner = min(
                    claimants,
                    key=lambda aad_id: (not active(aad_id), aad_id != holder, order[aad_id]),
                )
            for aad_id in claimants:
                if aad_id != owner:
                    dropped[aad_id].add(column)
                if aad_id not in (owner, holder):
                    log.warning(
                        "directory sync: %s is given the %s of %s, who keeps it",
                        aad_id,
                        label,
                        owner,
                    )
            if holder is not None and holder != owner:
                released[column].append(holder)
                log.info("directory sync: the %s of %s moves to %s", label, holder, owner)
    for column, ids in released.items():
        for chunk in _chunks(ids, CHUNK):
            await session.execute(
                update(Employee)
                .where(Employee.aad_object_id.in_(chunk))
                .values({column: None, "updated_at": now})
            )
    return [_without(user, dropped.get(user.aad_object_id)) for user in users]


async def _stored_rows(session: AsyncSession, users: list[DirectoryUser]) -> dict[str, Any]:
    """The stored rows of these users and of whoever holds a name or number given to them."""
    rows: dict[str, Any] = {}
    for chunk in _chunks(users, CHUNK):
        conditions = [Employee.aad_object_id.in_([user.aad_object_id for user in chunk])]
        for column in CLAIMED:
            values = {_clean(getattr(user, column)) for user in chunk if column in user.reported}
            values.discard(None)
            if values:
                conditions.append(getattr(Employee, column).in_(list(values)))
        result = await session.execute(
            select(
                Employee.aad_object_id,
                Employee.user_principal_name,
                Employee.employee_number,
                Employee.account_enabled,
                Employee.left_at,
            ).where(or_(*conditions))
        )
        rows.update((row.aad_object_id, row) for row in result)
    return rows


def _without(user: DirectoryUser, columns: set[str] | None) -> DirectoryUser:
    """The user as reported, but with none of the given columns."""
    if not columns:
        return user
    cleared: dict[str, Any] = dict.fromkeys(columns)
    return replace(user, **cleared, reported=user.reported | columns)


async def _mark_left(
    session: AsyncSession, ids: list[str], now: datetime, counts: SyncCounts
) -> None:
    for chunk in _chunks(ids, CHUNK):
        await session.execute(
            update(Employee)
            .where(Employee.aad_object_id.in_(chunk), Employee.left_at.is_(None))
            .values(left_at=now, account_enabled=False, updated_at=now)
        )
    counts.left.update(ids)


async def _ensure_units(
    session: AsyncSession, names: Mapping[str, str | None], counts: SyncCounts
) -> None:
    """Units the directory names but the database lacks get a row, named as the directory does."""
    if not names:
        return
    existing = set(await session.scalars(select(Unit.code).where(Unit.code.in_(list(names)))))
    for code, name in names.items():
        if code in existing:
            continue
        label = (name or code)[:200]
        await upsert(
            session,
            Unit,
            {"code": code, "name_fi": label, "name_en": label},
            conflict_columns=["code"],
        )
        counts.units_created.add(code)


def _latest_by_id(users: Iterable[DirectoryUser]) -> dict[str, DirectoryUser]:
    """One entry per user: a later report of the same user adds to (or removes) the earlier."""
    latest: dict[str, DirectoryUser] = {}
    for user in users:
        earlier = latest.get(user.aad_object_id)
        if earlier is not None and not user.removed and not earlier.removed:
            merged = {name: getattr(earlier, name) for name in earlier.reported}
            merged.update({name: getattr(user, name) for name in user.reported})
            user = replace(user, **merged, reported=earlier.reported | user.reported)
        latest[user.aad_object_id] = user
    return latest


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

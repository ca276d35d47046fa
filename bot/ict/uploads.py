"""Payroll's monthly file and ICT's catalog, uploaded in the tab: checked first, imported only
when the person who sent it confirms.

The check runs the same importer as `phonebot payroll import` and `phonebot catalog import` in
a transaction that is rolled back, so it finds every problem the real import would, and changes
nothing. The file is kept (bytes and all) until it is confirmed or discarded; the confirmation
claims it with a conditional update, so a second press, or two people at once, import it once.
Who sent what and when, and who decided, stays on the row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.importer import CatalogFileError, import_catalog, read_catalog_bytes
from bot.clock import Clock
from bot.db.base import as_utc
from bot.db.sessions import SessionFactory
from bot.deductions.payroll.parse import PayrollFileError, parse_payroll_bytes
from bot.deductions.payroll.post import import_payroll
from bot.directory.models import Employee
from bot.ict.models import FileUpload, UploadKind, UploadState
from bot.ict.overview import reading
from bot.privacy.audit import Channel, Use, record_use
from bot.spreadsheet import Problem, SpreadsheetError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a month of 6,400 deductions is about 160 kB
PROBLEMS_KEPT = 200
RECENT_SHOWN = 10


@dataclass(frozen=True)
class Upload:
    """One upload as the tab shows it: no bytes, the people by name where the directory knows."""

    id: int
    kind: UploadKind
    file_name: str
    state: UploadState
    summary: Mapping[str, Any]
    uploaded_by: str
    uploaded_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @property
    def problems(self) -> SpreadsheetError | None:
        """What kept the file from being imported, worded by the reader's catalog."""
        stored = self.summary.get("problems")
        if not stored:
            return None
        problems = [
            Problem(item["line"], item["column"], item["key"], item["values"]) for item in stored
        ]
        if self.kind is UploadKind.CATALOG:
            return CatalogFileError(problems, row_label=self.summary.get("row_label", "row"))
        return PayrollFileError(problems)


@dataclass(frozen=True)
class Decision:
    """What a confirmation or discard did: `upload` as it now is; `changed` False when it had
    been decided before (a second press), None when there is no such upload."""

    upload: Upload | None
    changed: bool


class FileUploads:
    """Checks, imports and lists uploaded files; the caller has checked the role."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def check(self, kind: UploadKind, file_name: str, data: bytes, by: str) -> Upload:
        """Try the file without changing anything, and keep it for confirmation if it is fine."""
        now = self._clock()
        file_name = PurePath(file_name.replace("\\", "/")).name[:255] or "-"
        async with self._read() as session:
            transaction = await session.begin()
            try:
                summary = await _import(session, kind, file_name, data, now)
            except SpreadsheetError as error:
                summary = _refusal(error)
            finally:
                await transaction.rollback()
        refused = "problems" in summary
        async with self._read() as session, session.begin():
            row = FileUpload(
                kind=kind.value,
                file_name=file_name,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                content=None if refused else data,
                state=(UploadState.REFUSED if refused else UploadState.CHECKED).value,
                summary=summary,
                uploaded_by=by,
                uploaded_at=now,
            )
            session.add(row)
            if kind is UploadKind.PAYROLL:  # a payroll file names people; a catalog does not
                rows = int(summary.get("rows", 0) or 0)
                record_use(session, Use(by, Channel.TAB, "upload.payroll.check", rows), now)
            await session.flush()
            return (await _uploads(session, select(FileUpload).where(FileUpload.id == row.id)))[0]

    async def confirm(self, kind: UploadKind, upload_id: int, by: str) -> Decision:
        """Import a checked file once; the database may have changed since, so it is checked
        again, and refused then if it no longer fits."""
        now = self._clock()
        async with self._read() as session, session.begin():
            claimed = await _decide(
                session, kind, upload_id, state=UploadState.IMPORTED, by=by, now=now
            )
            row = await session.get(FileUpload, upload_id, populate_existing=True)
            if row is None or row.kind != kind.value:
                return Decision(None, changed=False)
            if not claimed:
                return Decision(await self._one(session, upload_id), changed=False)
            data = row.content or b""
            savepoint = await session.begin_nested()
            try:
                summary = await _import(session, kind, row.file_name, data, now)
            except SpreadsheetError as error:
                await savepoint.rollback()
                summary = _refusal(error)
                row.state = UploadState.REFUSED.value
            row.summary = summary
            row.content = None
            if kind is UploadKind.PAYROLL:
                rows = int(summary.get("rows", 0) or 0)
                record_use(session, Use(by, Channel.TAB, "upload.payroll.import", rows), now)
            await session.flush()
            return Decision(await self._one(session, upload_id), changed=True)

    async def discard(self, kind: UploadKind, upload_id: int, by: str) -> Decision:
        async with self._read() as session, session.begin():
            discarded = await _decide(
                session,
                kind,
                upload_id,
                state=UploadState.DISCARDED,
                by=by,
                now=self._clock(),
                content=None,
            )
            upload = await self._one(session, upload_id)
            if upload is None or upload.kind is not kind:
                return Decision(None, changed=False)
            return Decision(upload, changed=discarded)

    async def recent(self, kind: UploadKind) -> list[Upload]:
        """The newest uploads of a kind, newest first: who sent what and when."""
        async with self._read() as session:
            return await _uploads(
                session,
                select(FileUpload)
                .where(FileUpload.kind == kind.value)
                .order_by(FileUpload.id.desc())
                .limit(RECENT_SHOWN),
            )

    async def _one(self, session: AsyncSession, upload_id: int) -> Upload | None:
        found = await _uploads(session, select(FileUpload).where(FileUpload.id == upload_id))
        return found[0] if found else None

    def _read(self) -> AbstractAsyncContextManager[AsyncSession]:
        return reading(self._sessions)


async def _decide(
    session: AsyncSession,
    kind: UploadKind,
    upload_id: int,
    *,
    state: UploadState,
    by: str,
    now: datetime,
    **values: Any,
) -> bool:
    """Move a checked upload to `state` (with `values`), if it is still checked; True if this
    call did. The condition is the claim: of two presses at once, one finds it decided."""
    result = await session.execute(
        update(FileUpload)
        .where(
            FileUpload.id == upload_id,
            FileUpload.kind == kind.value,
            FileUpload.state == UploadState.CHECKED.value,
        )
        .values(state=state.value, decided_by=by, decided_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _import(
    session: AsyncSession, kind: UploadKind, file_name: str, data: bytes, now: datetime
) -> dict[str, Any]:
    """Run the importer in the caller's transaction; what it did, or SpreadsheetError."""
    if kind is UploadKind.PAYROLL:
        result = await import_payroll(
            session=session,
            payroll_file=parse_payroll_bytes(data),
            file_name=file_name,
            now=now,
        )
        return {
            "rows": result.rows,
            "added": result.added,
            "corrected": result.corrected,
            "unchanged": result.unchanged,
            "paid_off": len(result.paid_off_plan_ids),
            "reopened": len(result.reopened_plan_ids),
            "earlier_import_id": result.earlier_import_id,
            "import_id": result.import_id,
        }
    catalog = read_catalog_bytes(data, PurePath(file_name).suffix.lower())
    version = await import_catalog(
        session=session, rows=catalog.rows, source=catalog.source or file_name
    )
    base = next(row for row in catalog.rows if row.is_base)
    return {
        "models": len(catalog.rows),
        "base": f"{base.brand} {base.name}",
        "base_price_cents": base.price_cents,
        "version_id": version.id,
    }


def _refusal(error: SpreadsheetError) -> dict[str, Any]:
    return {
        "problem_count": len(error.problems),
        "problems": [
            {
                "line": problem.line,
                "column": problem.column,
                "key": problem.key,
                "values": dict(problem.values),
            }
            for problem in error.problems[:PROBLEMS_KEPT]
        ],
        "row_label": getattr(error, "row_label", "row"),
    }


async def _uploads(session: AsyncSession, query: Any) -> list[Upload]:
    rows = list(await session.scalars(query))
    people = {row.uploaded_by for row in rows} | {row.decided_by for row in rows if row.decided_by}
    names = dict(
        (
            await session.execute(
                select(Employee.aad_object_id, Employee.display_name).where(
                    Employee.aad_object_id.in_(people)
                )
            )
        ).all()
    )
    return [
        Upload(
            id=row.id,
            kind=UploadKind(row.kind),
            file_name=row.file_name,
            state=UploadState(row.state),
            summary=row.summary or {},
            uploaded_by=names.get(row.uploaded_by) or row.uploaded_by,
            uploaded_at=as_utc(row.uploaded_at),
            decided_by=(names.get(row.decided_by) or row.decided_by) if row.decided_by else None,
            decided_at=as_utc(row.decided_at) if row.decided_at else None,
        )
        for row in rows
    ]

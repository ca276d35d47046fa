"""Files uploaded in ICT's tab, on SQLite and PostgreSQL: checked first, imported once on
confirmation, refused with every problem by row and column, and who did what kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.catalog.models import CatalogVersion
from bot.db.engine import create_session_factory
from bot.deductions.models import PayrollPosting
from bot.i18n import texts
from bot.ict.models import FileUpload, UploadKind, UploadState
from bot.ict.uploads import FileUploads
from bot.privacy.models import AuditEvent
from tests.test_payroll_import import BAD, OCTOBER, seed

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
CATALOG = Path(__file__).parent / "data" / "catalog" / "esimerkki_puolipiste.csv"
BAD_CATALOG = Path(__file__).parent / "data" / "catalog" / "virheellinen.csv"
PAYROLL_ADMIN = "00000000-0000-4000-8000-000000000002"  # Anna, of the demo data


async def count(engine, model) -> int:
    async with create_session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_payroll_file_is_checked_without_change_then_imported_once(engine):
    await seed(engine)
    uploads = FileUploads(create_session_factory(engine), lambda: NOW)

    checked = await uploads.check(
        UploadKind.PAYROLL, "palkat.csv", OCTOBER.read_bytes(), PAYROLL_ADMIN
    )
    assert checked.state is UploadState.CHECKED and checked.problems is None
    assert checked.summary["rows"] == 5 and checked.summary["added"] > 0
    assert checked.uploaded_by == "Anna Lindqvist"  # named from the directory
    assert await count(engine, PayrollPosting) == 0  # the check changed nothing

    first, second = await asyncio.gather(
        uploads.confirm(UploadKind.PAYROLL, checked.id, PAYROLL_ADMIN),
        uploads.confirm(UploadKind.PAYROLL, checked.id, PAYROLL_ADMIN),
    )
    assert sorted([first.changed, second.changed]) == [False, True]
    done = first.upload if first.changed else second.upload
    assert done is not None and done.state is UploadState.IMPORTED
    assert done.decided_by == "Anna Lindqvist" and done.decided_at == NOW
    assert done.summary["import_id"] is not None
    postings = await count(engine, PayrollPosting)
    assert postings == checked.summary["added"]

    again = await uploads.confirm(UploadKind.PAYROLL, checked.id, PAYROLL_ADMIN)
    assert again.changed is False and again.upload is not None
    assert again.upload.state is UploadState.IMPORTED
    assert await count(engine, PayrollPosting) == postings
    async with create_session_factory(engine)() as session:
        row = await session.get(FileUpload, checked.id)
        assert row is not None and row.content is None  # the bytes go once imported
        logged = [
            (event.actor, event.channel, event.action, event.rows)
            for event in await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    # A payroll file names people: its check and its import are each logged once.
    assert logged == [
        (PAYROLL_ADMIN, "tab", "upload.payroll.check", 5),
        (PAYROLL_ADMIN, "tab", "upload.payroll.import", 5),
    ]


async def test_a_broken_file_is_refused_with_each_problem_by_row_and_column(engine):
    await seed(engine)
    uploads = FileUploads(create_session_factory(engine), lambda: NOW)

    refused = await uploads.check(
        UploadKind.PAYROLL, "../../virheellinen.csv", BAD.read_bytes(), PAYROLL_ADMIN
    )
    assert refused.state is UploadState.REFUSED and refused.file_name == "virheellinen.csv"
    problems = refused.problems
    assert problems is not None and len(problems.problems) == refused.summary["problem_count"]
    worded = [problems.describe(problem, texts("fi")) for problem in problems.problems]
    assert any(line.startswith('rivi 4, sarake "summa"') for line in worded), worded
    assert await count(engine, PayrollPosting) == 0

    confirmed = await uploads.confirm(UploadKind.PAYROLL, refused.id, PAYROLL_ADMIN)
    assert confirmed.changed is False and await count(engine, PayrollPosting) == 0


async def test_a_catalog_becomes_current_only_when_confirmed(engine):
    uploads = FileUploads(create_session_factory(engine), lambda: NOW)
    before = await count(engine, CatalogVersion)

    checked = await uploads.check(UploadKind.CATALOG, "luettelo.csv", CATALOG.read_bytes(), "ict")
    assert checked.state is UploadState.CHECKED and checked.summary["models"] > 1
    assert await count(engine, CatalogVersion) == before

    done = await uploads.confirm(UploadKind.CATALOG, checked.id, "ict")
    assert done.changed and done.upload is not None
    assert await count(engine, CatalogVersion) == before + 1

    bad = await uploads.check(
        UploadKind.CATALOG, "virheellinen.csv", BAD_CATALOG.read_bytes(), "ict"
    )
    assert bad.state is UploadState.REFUSED and bad.problems is not None


async def test_a_discarded_file_cannot_be_confirmed_and_kinds_do_not_mix(engine):
    await seed(engine)
    uploads = FileUploads(create_session_factory(engine), lambda: NOW)
    checked = await uploads.check(
        UploadKind.PAYROLL, "palkat.csv", OCTOBER.read_bytes(), PAYROLL_ADMIN
    )

    assert (await uploads.confirm(UploadKind.CATALOG, checked.id, "ict")).upload is None
    assert (await uploads.discard(UploadKind.CATALOG, checked.id, "ict")).upload is None
    discarded = await uploads.discard(UploadKind.PAYROLL, checked.id, PAYROLL_ADMIN)
    assert discarded.changed and discarded.upload is not None
    assert discarded.upload.state is UploadState.DISCARDED
    assert (await uploads.confirm(UploadKind.PAYROLL, checked.id, PAYROLL_ADMIN)).changed is False
    assert await count(engine, PayrollPosting) == 0
    assert [upload.id for upload in await uploads.recent(UploadKind.PAYROLL)] == [checked.id]
    assert await uploads.recent(UploadKind.CATALOG) == []

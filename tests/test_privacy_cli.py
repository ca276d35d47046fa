"""ICT's privacy and audit commands on a real SQLite file: each command that shows or writes
people writes one audit row first; bad input gets a clear message and changes nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

import bot.cli.choices
import bot.cli.privacy
import bot.cli.tickets
import bot.clock
from bot.cli import main
from bot.db import migrate
from bot.db.base import as_utc
from bot.db.engine import create_engine
from bot.directory.models import Employee
from bot.privacy.inventory import personal_holdings
from bot.privacy.models import AuditEvent
from tests.support.people import add_life, person

LIVED = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
AINO, BERTTA = person(1), person(2)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'privacy.sqlite3'}"

    async def prepare() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await add_life(engine, AINO, at=LIVED, handler=BERTTA)
        await add_life(engine, BERTTA, at=LIVED, left_at=LIVED, paid_months=10)
        await engine.dispose()

    asyncio.run(prepare())
    # The commands read the clock where they start (composition roots): here it stands still.
    for module in (bot.clock, bot.cli.privacy, bot.cli.tickets, bot.cli.choices):
        monkeypatch.setattr(module, "system_clock", lambda: NOW)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("USER", "ilona")
    return url


def audit_rows(url: str) -> list[tuple[str, str, str, str | None, int]]:
    async def read() -> list[tuple[str, str, str, str | None, int]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(
                        AuditEvent.actor,
                        AuditEvent.channel,
                        AuditEvent.action,
                        AuditEvent.subject,
                        AuditEvent.rows,
                    )
                    .where(AuditEvent.action != "choices.export")  # the seeded entries
                    .order_by(AuditEvent.id)
                )
                return [tuple(row) for row in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_an_export_by_user_name_is_the_persons_copy_and_is_logged(database, tmp_path, capsys):
    output = tmp_path / "aino.json"
    assert main(["privacy", "export", AINO.upn, "-o", str(output)]) == 0
    copy = json.loads(output.read_text(encoding="utf-8"))
    assert copy["person"] == AINO.aad
    assert BERTTA.marker not in output.read_text(encoding="utf-8")
    rows = sum(len(table) for table in copy["tables"].values())
    assert f"{rows} riviä" in capsys.readouterr().out
    assert audit_rows(database) == [("cli:ilona", "cli", "privacy.export", AINO.aad, rows)]


def test_an_unknown_employee_is_told_and_nothing_is_logged(database, capsys):
    assert main(["privacy", "export", "ei.ole@pori.fi"]) == 1
    assert "työntekijää ei.ole@pori.fi ei löydy" in capsys.readouterr().err
    assert audit_rows(database) == []


@pytest.mark.parametrize(
    ("argv", "action"),
    [
        (["tickets", "list", "--state", "all"], "tickets.list"),
        (["tickets", "show", "1"], "tickets.show"),
        (["campaigns", "export", "1"], "campaigns.export"),
        (["deductions", "report"], "payroll.reconciliation"),
        (["deductions", "report", "--leavers"], "payroll.leavers"),
    ],
)
def test_each_command_that_shows_people_writes_one_audit_row(database, argv, action, capsys):
    assert main(argv) == 0
    logged = audit_rows(database)
    assert [(actor, channel, what) for actor, channel, what, _, _ in logged] == [
        ("cli:ilona", "cli", action)
    ]


def test_the_audit_list_shows_entries_and_refuses_a_malformed_date(database, capsys):
    main(["tickets", "list", "--state", "all"])
    capsys.readouterr()
    assert main(["audit", "list", "--who", "cli:ilona"]) == 0
    out = capsys.readouterr().out
    assert "cli:ilona | cli | tickets.list" in out
    assert main(["audit", "list", "--since", "2026-13-01"]) == 2
    assert "2026-13-01 ei ole päivämäärä" in capsys.readouterr().err


def test_a_dry_run_counts_and_changes_nothing(database, capsys):
    async def employees() -> int:
        engine = create_engine(database)
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(select(func.count()).select_from(Employee)) or 0)
        finally:
            await engine.dispose()

    assert main(["privacy", "purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Kokeiluajo" in out and "keskusteluviitteet: 1" in out  # the leaver's, at once
    assert asyncio.run(employees()) == 2
    assert main(["privacy", "purge"]) == 0
    assert "keskusteluviitteet: 1" in capsys.readouterr().out


def test_the_audit_rows_carry_the_commands_moment(database):
    assert main(["tickets", "list", "--state", "all"]) == 0

    async def moments() -> list[datetime]:
        engine = create_engine(database)
        try:
            async with engine.connect() as connection:
                found = await connection.scalars(
                    select(AuditEvent.at).where(AuditEvent.action == "tickets.list")
                )
                return [as_utc(moment) for moment in found]
        finally:
            await engine.dispose()

    assert asyncio.run(moments()) == [NOW]


def test_records_and_retention_name_every_personal_table(capsys):
    assert main(["privacy", "records"]) == 0
    records = capsys.readouterr().out
    assert records.startswith("# Seloste käsittelytoimista")
    assert main(["privacy", "retention"]) == 0
    retention = capsys.readouterr().out
    for holding in personal_holdings():
        assert f"| `{holding.table}` |" in records
        assert retention.count(f"{holding.table} |") >= 1
    assert "poistetaan 24 kuukautta ratkaisun jälkeen" in retention

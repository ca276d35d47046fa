"""Importing deduction plans that began before the bot, all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.choices.service import Blocked, eligibility
from bot.db.engine import create_session_factory
from bot.deductions.models import DeductionPlan
from bot.deductions.plans_import import PlanFileError, import_plans, parse_plan_file
from bot.deductions.service import DeductionKind, my_deductions
from bot.demo.loader import load_demo_data
from bot.i18n import texts

DATA = Path(__file__).parent / "data" / "plans"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
JAMES = "00000000-0000-4000-8000-000000000003"
FI = texts("fi")


@pytest.fixture
async def sessions(engine):
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        await load_demo_data(session=session)
    return factory


async def plan_count(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(DeductionPlan)) or 0)


async def test_plans_are_imported_with_the_usual_split(sessions):
    plans = parse_plan_file(DATA / "aiemmat_suunnitelmat.csv")
    async with sessions() as session, session.begin():
        assert await import_plans(session=session, plans=plans, now=NOW) == 2
    async with sessions() as session:
        mine = await my_deductions(session=session, aad_object_id=JAMES)
        assert mine.kind is DeductionKind.PAYING and mine.terms is not None
        assert (mine.terms.total_cents, mine.terms.instalment_cents) == (48000, 2000)
        assert mine.terms.first_month == date(2025, 6, 1)
        allowed = await eligibility(session=session, aad_object_id=JAMES, today=NOW.date())
        assert allowed.blocked is Blocked.PAYING_FOR_PHONE


async def test_a_bad_file_lists_every_problem_and_imports_nothing():
    with pytest.raises(PlanFileError) as raised:
        parse_plan_file(DATA / "virheellinen.csv")
    text = raised.value.worded(FI)
    for expected in (
        'rivi 3, sarake "malli"',
        'rivi 3, sarake "osuus"',
        'rivi 3, sarake "erat"',
        'rivi 3, sarake "ensimmainen_kausi"',
        'rivi 4, sarake "osuus"',
        'rivi 4, sarake "henkilonumero"',
    ):
        assert expected in text


async def test_unknown_employee_or_an_existing_plan_rejects_the_whole_file(sessions, tmp_path):
    good = parse_plan_file(DATA / "aiemmat_suunnitelmat.csv")
    async with sessions() as session, session.begin():
        await import_plans(session=session, plans=good, now=NOW)
    again = tmp_path / "again.csv"
    again.write_text(
        "henkilonumero;malli;osuus;erat;ensimmainen_kausi\n"
        "100006;Esimerkkifoni;100,00;24;2025-06\n"
        "100003;Esimerkkifoni;100,00;24;2025-06\n"
        "999999;Esimerkkifoni;100,00;24;2025-06\n",
        encoding="utf-8",
    )
    with pytest.raises(PlanFileError) as raised:
        async with sessions() as session, session.begin():
            await import_plans(session=session, plans=parse_plan_file(again), now=NOW)
    worded = raised.value.worded(FI)
    assert "rivi 3" in worded and "rivi 4" in worded
    assert await plan_count(sessions) == 2


@pytest.mark.parametrize(
    ("share", "count", "column"),
    [
        ("9" * 5000, "24", "osuus"),
        ("\uff12\uff15\uff10,00", "24", "osuus"),  # fullwidth digits
        ("250,00", "²", "erat"),
        ("250,00", "9" * 5000, "erat"),
        ("250,00", str(2**31), "erat"),
        ("250,00", "\u0661\u0662", "erat"),  # Arabic-Indic digits
    ],
)
def test_a_huge_or_foreign_number_is_a_problem_of_its_row(tmp_path, share, count, column):
    path = tmp_path / "plans.csv"
    path.write_text(
        "henkilonumero;malli;osuus;erat;ensimmainen_kausi\n"
        f"100006;Esimerkkifoni;{share};{count};2025-06\n",
        encoding="utf-8",
    )
    with pytest.raises(PlanFileError) as raised:
        parse_plan_file(path)
    assert [(problem.line, problem.column) for problem in raised.value.problems] == [(2, column)]


def test_header_must_be_the_documented_one(tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("nro;malli\n1;x\n", encoding="utf-8")
    with pytest.raises(PlanFileError) as raised:
        parse_plan_file(wrong)
    assert "otsikkorivin" in raised.value.worded(FI)


async def test_import_plans_command_dry_run_changes_nothing(tmp_path, monkeypatch, capsys):
    import asyncio

    from bot.cli import main
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade

    database = f"sqlite+aiosqlite:///{tmp_path / 'plans.sqlite3'}"
    engine = create_engine(database)
    await upgrade(engine)
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        await load_demo_data(session=session)
    monkeypatch.setenv("DATABASE_URL", database)
    source = str(DATA / "aiemmat_suunnitelmat.csv")
    assert await asyncio.to_thread(main, ["deductions", "import-plans", source, "--dry-run"]) == 0
    assert await plan_count(factory) == 0
    assert await asyncio.to_thread(main, ["deductions", "import-plans", source]) == 0
    assert await plan_count(factory) == 2
    assert await asyncio.to_thread(main, ["deductions", "import-plans", source]) == 1
    assert "henkilöllä on jo suunnitelma" in capsys.readouterr().err
    await engine.dispose()


def test_a_header_written_as_excel_shows_it_is_read(tmp_path):
    path = tmp_path / "suunnitelmat.csv"
    path.write_text(
        "Henkilönumero;Malli;Osuus (€);Erät;Ensimmäinen kausi\n"
        "100003;iPhone 15;480,00;24;2025-06\n",
        encoding="utf-8-sig",
    )
    (plan,) = parse_plan_file(path)
    assert (plan.employee_number, plan.share_cents, plan.instalments) == ("100003", 48000, 24)
    assert plan.first_month == date(2025, 6, 1)

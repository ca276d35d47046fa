"""Payroll's deduction file: every problem reported at once, idempotent, corrections recorded."""

from __future__ import annotations

import asyncio
import codecs
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.choices.models import ChoiceOption, ChoiceStatus, PhoneChoice
from bot.cli import main
from bot.db.base import Base
from bot.db.engine import create_engine, create_session_factory
from bot.deductions import ledger
from bot.deductions.ledger import reconcile
from bot.deductions.models import (
    DeductionPlan,
    PayrollCorrection,
    PayrollImport,
    PayrollPosting,
    PendingNotice,
)
from bot.deductions.payroll.parse import (
    MAX_AMOUNT_CENTS,
    PayrollColumns,
    PayrollFileError,
    Problem,
    parse_amount,
    parse_payroll_bytes,
    parse_payroll_file,
)
from bot.deductions.payroll.post import PayrollResult, import_payroll
from bot.deductions.payroll.report import LeaverLine, leavers_report, reconciliation_report
from bot.demo.loader import load_demo_data
from bot.directory.models import Employee
from bot.i18n import texts

EXAMPLES = Path(__file__).parent / "data" / "payroll"
OCTOBER = EXAMPLES / "palkat_2026-10_utf8_bom.csv"
NOVEMBER = EXAMPLES / "palkat_2026-11_latin1.csv"
DISCREPANCIES = EXAMPLES / "palkat_2027-01_poikkeamat.csv"
BAD = EXAMPLES / "virheellinen.csv"
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
HEADER = "henkilonumero;palkkakausi;summa"
FI = texts("fi")


def month(year: int, number: int) -> date:
    return date(year, number, 1)


def problems_of(content: str | bytes, columns: PayrollColumns | None = None) -> list[Problem]:
    """What the file alone shows: raised at once, or kept in `problems` for import_payroll."""
    data = content.encode() if isinstance(content, str) else content
    with pytest.raises(PayrollFileError) as raised:
        parsed = parse_payroll_bytes(data, columns or PayrollColumns())
        if parsed.problems:
            raise PayrollFileError(parsed.problems)
    return raised.value.problems


def where(problems: list[Problem]) -> list[tuple[int, str]]:
    return [(problem.line, problem.column) for problem in problems]


# --- reading the file ------------------------------------------------------------------------


def test_utf8_with_bom_default_header():
    assert OCTOBER.read_bytes().startswith(b"\xef\xbb\xbf")
    parsed = parse_payroll_file(OCTOBER)
    assert [tuple(row) for row in parsed.rows] == [
        (2, "100001", month(2026, 10), 1057),
        (3, "100002", month(2026, 10), 1466),
        (4, "100004", month(2026, 9), 1000),
        (5, "100004", month(2026, 10), 1000),
        (6, "100005", month(2026, 10), 2216),
    ]
    assert parsed.problems == () and parsed.row_count == 5
    assert parsed.periods == [month(2026, 9), month(2026, 10)]
    assert len(parsed.sha256) == 64


def test_iso_8859_1_header_in_another_case_an_extra_column_and_month_slash_year():
    with pytest.raises(UnicodeDecodeError):
        NOVEMBER.read_bytes().decode("utf-8")
    assert "Henkilönumero".encode("iso-8859-1") in NOVEMBER.read_bytes()
    parsed = parse_payroll_file(NOVEMBER)
    assert parsed.columns == PayrollColumns("Henkilönumero", "Palkkakausi", "Summa")
    assert [(row.employee_number, row.period, row.amount_cents) for row in parsed.rows] == [
        ("100001", month(2026, 11), 1041),
        ("100002", month(2026, 11), 1458),
        ("100004", month(2026, 11), 1000),
        ("100005", month(2026, 11), 2208),
    ]


def test_the_same_content_in_both_encodings_reads_the_same_but_hashes_differently():
    content = "Henkilönumero;palkkakausi;summa\n100001;2026-11;10,41\n"
    utf8 = parse_payroll_bytes(content.encode("utf-8-sig"))
    latin1 = parse_payroll_bytes(content.encode("iso-8859-1"))
    assert utf8.rows == latin1.rows
    assert utf8.sha256 != latin1.sha256


def test_excels_unicode_text_reads_like_the_csv():
    """Excel's "Unicode text": UTF-16 with a BOM, tabs between cells (the catalog takes it too)."""
    content = "Henkilönumero;palkkakausi;summa\n100001;2026-11;10,41\n100002;2026-11;14,58\n"
    unicode_text = content.replace(";", "\t").encode("utf-16")
    assert parse_payroll_bytes(unicode_text).rows == parse_payroll_bytes(content.encode()).rows


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("12,5", 1250),
        ("12", 1200),
        ("0,00", 0),
        (" 10,41 ", 1041),
        ("1 234,50", 123450),
        ("1\u00a0234,50", 123450),
        ("1.234,50", 123450),
        ("12,50 €", 1250),
        ("+12,50", 1250),
    ],
)
def test_amounts_as_payroll_writes_them(amount, cents):
    (row,) = parse_payroll_bytes(f"{HEADER}\n100001;2026-11;{amount}\n".encode()).rows
    assert row.amount_cents == cents


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-12,50", "negatiivinen"),
        ("\u221212,50", "negatiivinen"),
        ("12,505", "enintään 2 desimaalia"),
        ("12,500", "enintään 2 desimaalia"),
        ("1.234", "enintään 2 desimaalia"),
        ("12,5x", "ei ole summa"),
        ("12,50,1", "ei ole summa"),
        ("", "summa puuttuu"),
        ("20 000,00", "epäuskottavan suuri"),
        ("9" * 30, "epäuskottavan suuri"),
        ("9" * 5000, "epäuskottavan suuri"),  # past Python's limit for int("...")
        ("1" * 4300 + ",50", "epäuskottavan suuri"),
        ("\uff11\uff12,50", "ei ole summa"),  # fullwidth digits
        ("\u0661\u0662,50", "ei ole summa"),  # Arabic-Indic digits
    ],
)
def test_amounts_that_are_refused(amount, message):
    (problem,) = problems_of(f"{HEADER}\n100001;2026-11;{amount}\n")
    assert (problem.line, problem.column) == (2, "summa")
    assert message in problem.worded(FI)


@given(
    st.text()
    | st.from_regex(r"[-+]?[0-9 .,]{1,40}( ?€)?", fullmatch=True)
    | st.text(st.characters(categories=["Nd"]) | st.sampled_from(" ,."), min_size=1, max_size=9)
)
def test_any_amount_text_is_cents_in_range_or_a_problem_never_an_exception(raw):
    parsed = parse_amount(raw)
    if isinstance(parsed, int):
        assert 0 <= parsed <= MAX_AMOUNT_CENTS
        assert all(char.isascii() for char in raw if char.isdigit()), "only ASCII digits count"


@pytest.mark.parametrize(
    ("period", "expected"),
    [("2026-11", month(2026, 11)), ("11/2026", month(2026, 11)), ("1/2027", month(2027, 1))],
)
def test_periods(period, expected):
    (row,) = parse_payroll_bytes(f"{HEADER}\n100001;{period};10,41\n".encode()).rows
    assert row.period == expected


@pytest.mark.parametrize(
    "period",
    [
        "2026-13",
        "13/2026",
        "2026/11",
        "2026-1",
        "11.2026",
        "2026-11-01",
        "1926-11",
        "",
        "\uff12\uff10\uff12\uff16-11",  # fullwidth digits
    ],
)
def test_periods_that_are_refused(period):
    (problem,) = problems_of(f"{HEADER}\n100001;{period};10,41\n")
    assert (problem.line, problem.column) == (2, "palkkakausi")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "tiedosto on tyhjä"),
        (b"\n \n", "tiedosto on tyhjä"),
        (b"\xef\xbb\xbf", "tiedosto on tyhjä"),
        (f"{HEADER}\n".encode(), "vain otsikkorivi"),
        (f"{HEADER}\n;;\n\n".encode(), "vain otsikkorivi"),
        (codecs.BOM_UTF16_LE + b"henkil\xf6numero", "UTF-16-muotoiseksi mutta on rikki"),
        (b"\xef\xbb\xbfhenkil\xf6numero;palkkakausi;summa\n", "rikki"),
    ],
)
def test_files_with_nothing_to_import(content, message):
    (problem,) = problems_of(content)
    assert problem.line == 0 and message in problem.worded(FI)


def test_missing_and_repeated_columns_are_reported_on_the_header_line():
    problems = problems_of("henkilonumero;kausi;summa;Summa\n100001;2026-11;10,41;10,41\n")
    assert where(problems) == [(1, "palkkakausi"), (1, "summa")]
    assert "otsikkorivillä: henkilonumero; kausi; summa; Summa" in problems[0].worded(FI)
    assert "monta kertaa" in problems[1].worded(FI)


def test_a_comma_separated_file_is_explained():
    (*_, problem) = problems_of("henkilonumero,palkkakausi,summa\n100001,2026-11,10.41\n")
    assert "puolipiste" in problem.worded(FI)


def test_configured_column_names():
    columns = PayrollColumns(employee_number="Hlö nro", period="kausi", amount="vähennys")
    content = "hlönro;kausi;vähennys\n100001;11/2026;10,41\n".encode("iso-8859-1")
    (row,) = parse_payroll_bytes(content, columns).rows
    assert (row.employee_number, row.amount_cents) == ("100001", 1041)
    assert where(problems_of(content)) == [
        (1, "henkilonumero"),
        (1, "palkkakausi"),
        (1, "summa"),
    ]


def test_blank_lines_are_skipped_and_lines_keep_their_numbers():
    parsed = parse_payroll_bytes(
        f"\n{HEADER}\n\n100001;2026-11;10,41\n;;\n100002;2026-11;1\n".encode()
    )
    assert [row.line for row in parsed.rows] == [4, 6]


def test_a_row_with_too_many_values():
    (problem,) = problems_of(f"{HEADER}\n100001;2026-11;10;41\n")
    assert problem.line == 2 and "4 arvoa" in problem.worded(FI)


def test_the_error_lists_every_problem_in_finnish():
    error = PayrollFileError(
        [Problem(3, "summa", "amount.not_a_sum", {"value": "x"}), Problem(0, "", "file.empty")]
    )
    assert error.worded(FI) == (
        'tiedosto: tiedosto on tyhjä\nrivi 3, sarake "summa": ei ole summa: "x" (muoto 12,50)'
    )


# --- the database ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plans:
    maija: int
    anna: int
    pekka: int
    liisa: int
    jari: int
    maija_choice: int
    pekka_choice: int


async def seed(engine: AsyncEngine) -> Plans:
    """Demo people and their plans; Liisa (100005) has left; James (100003) has no plan."""
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
        people = {
            employee.employee_number: employee.aad_object_id
            for employee in await session.scalars(select(Employee))
        }
        await session.execute(
            update(Employee)
            .where(Employee.employee_number == "100005")
            .values(account_enabled=False)
        )
        choices = {
            number: PhoneChoice(
                aad_object_id=people[number],
                option=ChoiceOption.FREE_CHOICE.value,
                status=ChoiceStatus.DELIVERED.value,
                model_name=model,
            )
            for number, model in (("100001", "Galaxy A56"), ("100004", "Galaxy S25"))
        }
        session.add_all(choices.values())
        await session.flush()

        def plan(number: str, model: str, total: int, count: int, first: date) -> DeductionPlan:
            regular, remainder = divmod(total, count)
            choice = choices.get(number)
            return DeductionPlan(
                aad_object_id=people[number],
                choice_id=choice.id if choice else None,
                source="choice" if choice else "import",
                model_name=model,
                total_cents=total,
                instalment_count=count,
                first_instalment_cents=regular + remainder,
                instalment_cents=regular,
                first_month=first,
            )

        plans = [
            plan("100001", "Galaxy A56", 25000, 24, month(2026, 10)),  # 10,57 then 10,41
            plan("100002", "Pixel 9a", 35000, 24, month(2026, 10)),  # 14,66 then 14,58
            # A short plan keeps the files small: three instalments of 10,00.
            plan("100004", "Galaxy S25", 3000, 3, month(2026, 9)),
            plan("100005", "iPhone 16e", 53000, 24, month(2026, 10)),  # 22,16 then 22,08
            plan("100006", "Galaxy A56", 25000, 24, month(2027, 1)),
        ]
        session.add_all(plans)
        await session.flush()
        maija, anna, pekka, liisa, jari = (item.id for item in plans)
        return Plans(maija, anna, pekka, liisa, jari, choices["100001"].id, choices["100004"].id)


@pytest.fixture
async def plans(engine: AsyncEngine) -> Plans:
    return await seed(engine)


async def run_import(engine: AsyncEngine, path: Path, now: datetime = NOW) -> PayrollResult:
    async with create_session_factory(engine)() as session, session.begin():
        return await import_payroll(
            session=session, payroll_file=parse_payroll_file(path), file_name=path.name, now=now
        )


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, for 'nothing changed'."""
    async with create_session_factory(engine)() as session:
        tables = {}
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return tables


async def postings(engine: AsyncEngine, plan_id: int) -> dict[date, int]:
    async with create_session_factory(engine)() as session:
        result = await session.execute(
            select(PayrollPosting.period, PayrollPosting.amount_cents).where(
                PayrollPosting.plan_id == plan_id
            )
        )
        return {period: amount for period, amount in result}


async def count(engine: AsyncEngine, model: type[Base]) -> int:
    async with create_session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_good_import_posts_every_row(engine, plans):
    result = await run_import(engine, OCTOBER)
    assert (result.rows, result.added, result.corrected, result.unchanged) == (5, 5, 0, 0)
    assert result.changed and result.import_id is not None and result.earlier_import_id is None
    assert result.reconciliation == () and result.paid_off_plan_ids == ()
    assert await postings(engine, plans.maija) == {month(2026, 10): 1057}
    assert await postings(engine, plans.pekka) == {month(2026, 9): 1000, month(2026, 10): 1000}
    async with create_session_factory(engine)() as session:
        record = await session.get(PayrollImport, result.import_id)
    assert record is not None
    assert (record.file_name, record.rows, record.added, record.corrected) == (
        OCTOBER.name,
        5,
        5,
        0,
    )
    assert record.sha256 == parse_payroll_file(OCTOBER).sha256


async def test_the_same_file_twice_changes_nothing(engine, plans):
    first = await run_import(engine, OCTOBER)
    before = await snapshot(engine)
    again = await run_import(engine, OCTOBER, now=datetime(2026, 12, 6, tzinfo=UTC))
    assert await snapshot(engine) == before
    assert not again.changed and again.import_id is None
    assert (again.added, again.corrected, again.unchanged) == (0, 0, 5)
    assert again.earlier_import_id == first.import_id
    assert await count(engine, PayrollImport) == 1


async def test_a_file_with_some_rows_already_stored_adds_only_the_new_ones(engine, plans):
    await run_import(engine, OCTOBER)
    second = await run_import(engine, NOVEMBER)
    assert (second.added, second.corrected, second.unchanged) == (4, 0, 0)
    assert await count(engine, PayrollPosting) == 9
    assert await count(engine, PayrollImport) == 2


async def test_a_corrected_row_replaces_the_posting_and_is_recorded(engine, plans, tmp_path):
    await run_import(engine, OCTOBER)
    november = await run_import(engine, NOVEMBER)
    posting_count = await count(engine, PayrollPosting)
    fix = tmp_path / "korjaus.csv"
    fix.write_text(f"{HEADER}\n100002;11/2026;14,00\n100001;11/2026;10,41\n", encoding="utf-8")
    result = await run_import(engine, fix)
    assert (result.added, result.corrected, result.unchanged) == (0, 1, 1)
    assert await count(engine, PayrollPosting) == posting_count
    assert (await postings(engine, plans.anna))[month(2026, 11)] == 1400
    async with create_session_factory(engine)() as session:
        (correction,) = await session.scalars(select(PayrollCorrection))
        posting = await session.get(PayrollPosting, correction.posting_id)
    assert posting is not None
    assert (posting.plan_id, posting.period, posting.import_id) == (
        plans.anna,
        month(2026, 11),
        result.import_id,
    )
    assert (correction.old_amount_cents, correction.new_amount_cents) == (1458, 1400)
    assert correction.import_id == result.import_id != november.import_id
    assert [
        (line.kind, line.period, line.expected_cents, line.posted_cents)
        for line in result.reconciliation
        if line.plan_id == plans.anna
    ] == [("wrong_amount", month(2026, 11), 1458, 1400)]
    again = await run_import(engine, fix)
    assert not again.changed and await count(engine, PayrollCorrection) == 1


BAD_FILE_PROBLEMS = [
    (3, "henkilonumero", "tuntematon henkilönumero 999999"),
    (4, "summa", 'ei ole summa: "14,5x"'),
    (5, "palkkakausi", 'palkkakausi "2026/12" ei kelpaa'),
    (6, "summa", 'summa ei voi olla negatiivinen, nyt "-22,08"'),
    (7, "", "henkilönumerolla 100001 on kaudelle 2026-12 jo rivi 2"),
    (8, "henkilonumero", "henkilönumerolla 100003 ei ole vähennyssuunnitelmaa"),
    (9, "palkkakausi", "ei ole vähennyssuunnitelmaa tälle kaudelle (ensimmäinen alkaa 2027-01)"),
    (10, "palkkakausi", 'palkkakaudessa "2026-13" ei ole kuukautta 13'),
    (11, "summa", 'summassa saa olla enintään 2 desimaalia, nyt "10,415"'),
    (12, "henkilonumero", "henkilönumero puuttuu"),
]


async def test_a_file_with_bad_rows_reports_every_problem_and_changes_nothing(engine, plans):
    await run_import(engine, OCTOBER)
    before = await snapshot(engine)
    with pytest.raises(PayrollFileError) as raised:
        await run_import(engine, BAD)
    problems = raised.value.problems
    assert [(problem.line, problem.column) for problem in problems] == [
        (line, column) for line, column, _ in BAD_FILE_PROBLEMS
    ]
    for problem, (_, _, message) in zip(problems, BAD_FILE_PROBLEMS, strict=True):
        assert message in problem.worded(FI)
    assert 'rivi 4, sarake "summa": ei ole summa: "14,5x"' in raised.value.worded(FI)
    assert await snapshot(engine) == before


async def test_an_unknown_employee_is_reported_even_when_the_row_has_other_problems(
    engine, plans, tmp_path
):
    path = tmp_path / "p.csv"
    path.write_text(f"{HEADER}\n424242;2026-11;abc\n100001;2026-11;10,41\n", encoding="utf-8")
    with pytest.raises(PayrollFileError) as raised:
        await run_import(engine, path)
    assert where(raised.value.problems) == [(2, "summa"), (2, "henkilonumero")]
    assert await count(engine, PayrollPosting) == 0


async def test_a_row_goes_to_the_newest_plan_that_has_begun(engine, plans, tmp_path):
    async with create_session_factory(engine)() as session, session.begin():
        old = await session.get(DeductionPlan, plans.pekka)
        assert old is not None
        newer = DeductionPlan(
            aad_object_id=old.aad_object_id,
            source="import",
            model_name="Pixel 9a",
            total_cents=2000,
            instalment_count=2,
            first_instalment_cents=1000,
            instalment_cents=1000,
            first_month=month(2027, 2),
        )
        session.add(newer)
    path = tmp_path / "p.csv"
    path.write_text(f"{HEADER}\n100004;2026-11;10,00\n100004;2027-02;10,00\n", encoding="utf-8")
    await run_import(engine, path)
    assert await postings(engine, plans.pekka) == {month(2026, 11): 1000}
    assert await postings(engine, newer.id) == {month(2027, 2): 1000}


async def test_reconciliation_finds_missed_month_wrong_amount_and_deduction_after_payoff(
    engine, plans
):
    await run_import(engine, OCTOBER)
    november = await run_import(engine, NOVEMBER)
    assert november.reconciliation == ()
    result = await run_import(engine, DISCREPANCIES)
    found = [
        (line.employee_number, line.kind, line.period, line.expected_cents, line.posted_cents)
        for line in result.reconciliation
    ]
    assert found == [
        ("100001", "missed", month(2026, 12), 1041, 0),
        ("100002", "wrong_amount", month(2026, 12), 1458, 1400),
        # Nothing for January from Anna yet, while the file reaches January.
        ("100002", "missed", month(2027, 1), 1458, 0),
        ("100004", "after_paid_off", month(2026, 12), 0, 1000),
        # Jari is not in the file at all, but his plan began in January.
        ("100006", "missed", month(2027, 1), 1057, 0),
    ]
    maija = result.reconciliation[0]
    assert (maija.employee_name, maija.model_name) == ("Maija Meikäläinen", "Galaxy A56")
    async with create_session_factory(engine)() as session:
        everything = await reconciliation_report(session=session)
        only_pekka = await reconciliation_report(session=session, plan_ids=[plans.pekka])
    assert everything == list(result.reconciliation)
    assert [line.kind for line in only_pekka] == ["after_paid_off"]


def test_months_after_payoff_are_not_missed_even_before_a_stray_deduction():
    terms = ledger.PlanTerms(3000, 3, 1000, 1000, month(2026, 9))
    posted = {month(2026, 9): 1000, month(2026, 10): 1000, month(2026, 11): 1000}
    stray = {**posted, month(2027, 2): 1000}
    assert [(item.kind, item.period) for item in reconcile(terms, stray)] == [
        ("after_paid_off", month(2027, 2))
    ]
    assert reconcile(terms, posted, through=month(2027, 6)) == []
    unpaid = {month(2026, 9): 1000, month(2026, 10): 0}
    assert [(item.kind, item.period) for item in reconcile(terms, unpaid)] == []
    assert [
        (item.kind, item.period, item.expected_cents, item.posted_cents)
        for item in reconcile(terms, unpaid, through=month(2026, 11))
    ] == [("missed", month(2026, 10), 1000, 0), ("missed", month(2026, 11), 1000, 0)]


async def notices(engine: AsyncEngine) -> list[tuple[str, dict[str, object]]]:
    async with create_session_factory(engine)() as session:
        result = await session.execute(
            select(PendingNotice.kind, PendingNotice.payload).order_by(PendingNotice.id)
        )
        return [(kind, payload) for kind, payload in result]


async def choice_status(engine: AsyncEngine, choice_id: int) -> str:
    async with create_session_factory(engine)() as session:
        choice = await session.get(PhoneChoice, choice_id)
        assert choice is not None
        return choice.status


async def test_the_last_instalment_closes_the_choice_and_queues_one_notice(engine, plans, tmp_path):
    await run_import(engine, OCTOBER)
    assert await notices(engine) == []
    result = await run_import(engine, NOVEMBER)
    assert result.paid_off_plan_ids == (plans.pekka,)
    assert await choice_status(engine, plans.pekka_choice) == ChoiceStatus.PAID_OFF.value
    assert await choice_status(engine, plans.maija_choice) == ChoiceStatus.DELIVERED.value
    expected = [("phone_paid_off", {"model_name": "Galaxy S25", "plan_id": plans.pekka})]
    assert await notices(engine) == expected
    async with create_session_factory(engine)() as session:
        notice = (await session.scalars(select(PendingNotice))).one()
    created = notice.created_at
    assert notice.sent_at is None
    assert (created if created.tzinfo else created.replace(tzinfo=UTC)) == NOW  # SQLite: naive

    again = await run_import(engine, NOVEMBER)
    assert not again.changed and again.paid_off_plan_ids == ()
    # Corrected below the total and back again: still paid off once, told once.
    lower, back = tmp_path / "alempi.csv", tmp_path / "takaisin.csv"
    lower.write_text(f"{HEADER}\n100004;2026-11;5,00\n", encoding="utf-8")
    back.write_text(f"{HEADER}\n100004;2026-11;10,00\n", encoding="utf-8")
    lowered = await run_import(engine, lower)
    assert lowered.reopened_plan_ids == (plans.pekka,)
    assert await choice_status(engine, plans.pekka_choice) == ChoiceStatus.DELIVERED.value
    restored = await run_import(engine, back)
    assert restored.paid_off_plan_ids == (plans.pekka,)
    assert await notices(engine) == expected


async def test_leavers_report_shows_the_balance_for_the_final_pay(engine, plans):
    await run_import(engine, OCTOBER)
    await run_import(engine, NOVEMBER)
    async with create_session_factory(engine)() as session, session.begin():
        # Pekka leaves too, but his phone is paid off: nothing to deduct from his final pay.
        await session.execute(
            update(Employee)
            .where(Employee.employee_number == "100004")
            .values(account_enabled=False)
        )
    async with create_session_factory(engine)() as session:
        leavers = await leavers_report(session=session)
    assert leavers == [
        LeaverLine(
            plan_id=plans.liisa,
            employee_number="100005",
            employee_name="Liisa Korhonen",
            model_name="iPhone 16e",
            total_cents=53000,
            paid_cents=2216 + 2208,
            remaining_cents=53000 - 2216 - 2208,
            last_period=month(2026, 11),
        )
    ]


async def test_a_leaver_has_no_missed_months_after_leaving(engine, plans, tmp_path):
    await run_import(engine, OCTOBER)
    path = tmp_path / "p.csv"
    path.write_text(f"{HEADER}\n100001;2027-03;10,41\n", encoding="utf-8")
    result = await run_import(engine, path)
    assert "100005" not in {line.employee_number for line in result.reconciliation}


# --- the commands ----------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    assert main(["db", "upgrade"]) == 0

    async def fill() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await seed(engine)
        finally:
            await engine.dispose()

    asyncio.run(fill())
    return path


def table_counts(path: Path) -> tuple[int, ...]:
    with sqlite3.connect(path) as connection:
        return tuple(
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "payroll_import",
                "payroll_posting",
                "payroll_correction",
                "pending_notice",
            )
        )


def test_cli_imports_and_reports(database, capsys):
    capsys.readouterr()
    assert main(["payroll", "import", str(OCTOBER)]) == 0
    assert main(["payroll", "import", str(NOVEMBER)]) == 0
    out = capsys.readouterr().out
    assert "tuotu (tuonti 1): 5 riviä: 5 uutta, 0 korjattua, 0 ennallaan." in out
    assert "tuotu (tuonti 2): 4 riviä: 4 uutta" in out
    assert "maksettiin loppuun 1 puhelin; työntekijälle kerrotaan" in out
    assert "Täsmäytys, tiedoston suunnitelmat: ei poikkeamia." in out
    assert table_counts(database) == (2, 9, 0, 1)

    assert main(["payroll", "import", str(NOVEMBER)]) == 0
    out = capsys.readouterr().out
    assert "ei muutoksia: 4 riviä: 0 uutta, 0 korjattua, 4 ennallaan. Mitään ei tallennettu." in out
    assert "Sama tiedosto on tuotu aiemmin (tuonti 2)." in out
    assert table_counts(database) == (2, 9, 0, 1)

    assert main(["payroll", "import", str(DISCREPANCIES)]) == 0
    out = capsys.readouterr().out
    assert "Täsmäytys, tiedoston suunnitelmat: 5 poikkeamaa" in out
    assert (
        "  100002 Anna Lindqvist, Pixel 9a, 12/2026: eri summa kuin suunnitelmassa "
        "(odotettu 14,58\u00a0€, vähennetty 14,00\u00a0€)"
    ) in out
    assert "100004 Pekka Virtanen, Galaxy S25, 12/2026: vähennys jo maksetusta puhelimesta" in out

    assert main(["deductions", "report"]) == 0
    out = capsys.readouterr().out
    assert "Täsmäytys, kaikki suunnitelmat: 5 poikkeamaa" in out
    assert "  100001 Maija Meikäläinen, Galaxy A56, 12/2026: vähennys puuttuu" in out

    assert main(["deductions", "report", "--leavers"]) == 0
    out = capsys.readouterr().out
    assert "Lähteneet, joilla on maksamatta (1)" in out
    assert (
        "  100005 Liisa Korhonen, iPhone 16e: maksamatta 485,76\u00a0€ "
        "(maksettu 44,24\u00a0€ / 530,00\u00a0€, viimeisin vähennys 11/2026)"
    ) in out
    assert "Yhteensä 485,76\u00a0€." in out


def test_cli_reports_every_problem_and_exits_1(database, capsys):
    assert main(["payroll", "import", str(OCTOBER)]) == 0
    before = table_counts(database)
    capsys.readouterr()
    assert main(["payroll", "import", str(BAD)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "palkkatiedostoa ei tuotu, tietokantaa ei muutettu. Korjattavaa (10)" in captured.err
    assert 'rivi 3, sarake "henkilonumero": tuntematon henkilönumero 999999' in captured.err
    assert table_counts(database) == before

    assert main(["payroll", "import", str(EXAMPLES / "puuttuu.csv")]) == 1
    assert "tiedostoa ei voi lukea" in capsys.readouterr().err


def test_cli_dry_run_changes_nothing(database, capsys):
    capsys.readouterr()
    assert main(["payroll", "import", "--dry-run", str(OCTOBER)]) == 0
    out = capsys.readouterr().out
    assert "kunnossa: 5 riviä: 5 uutta" in out and "(--dry-run)" in out
    assert table_counts(database) == (0, 0, 0, 0)
    assert main(["payroll", "import", "--dry-run", str(BAD)]) == 1
    assert table_counts(database) == (0, 0, 0, 0)


def test_cli_column_names(database, tmp_path, capsys):
    path = tmp_path / "omat.csv"
    path.write_bytes("Hlönro;Kausi;Vähennys\n100001;10/2026;10,57\n".encode("iso-8859-1"))
    assert main(["payroll", "import", str(path)]) == 1
    assert 'sarake "henkilonumero": sarake puuttuu' in capsys.readouterr().err
    args = [
        "--employee-column",
        "hlönro",
        "--period-column",
        "kausi",
        "--amount-column",
        "vähennys",
    ]
    assert main(["payroll", "import", *args, str(path)]) == 0
    assert "1 rivi: 1 uusi, 0 korjattua, 0 ennallaan" in capsys.readouterr().out
    assert table_counts(database) == (1, 1, 0, 0)


def test_cli_reports_with_nothing_to_report(database, capsys):
    capsys.readouterr()
    assert main(["deductions", "report"]) == 0
    assert "Täsmäytys, kaikki suunnitelmat: ei poikkeamia." in capsys.readouterr().out
    assert main(["deductions", "report", "--leavers"]) == 0
    out = capsys.readouterr().out
    assert "Lähteneet, joilla on maksamatta (1)" in out
    assert (
        "maksamatta 530,00\u00a0€ (maksettu 0,00\u00a0€ / 530,00\u00a0€, "
        "viimeisin vähennys ei vielä yhtään)"
    ) in out

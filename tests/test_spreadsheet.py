"""What the three importers share about Excel's files (bot/spreadsheet.py)."""

from __future__ import annotations

import ast
import codecs
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.catalog.importer import CatalogFileError, read_catalog_file
from bot.deductions.payroll.parse import PayrollColumns, PayrollFileError, parse_payroll_bytes
from bot.deductions.plans_import import PlanFileError, parse_plan_file
from bot.i18n import SUPPORTED_LANGUAGES, catalog_keys, texts
from bot.refusal import Reason
from bot.spreadsheet import (
    PROBLEM_CATALOG,
    Problem,
    decode_spreadsheet,
    fold_header,
    parse_cents,
    parse_decimal,
    parse_month,
    without_euro_sign,
)

FI = texts("fi")
BOT = Path(__file__).resolve().parents[1] / "bot"
# Where the three importers and what they share say what is wrong in a file.
IMPORTERS = (
    BOT / "spreadsheet.py",
    BOT / "catalog" / "importer.py",
    *sorted((BOT / "deductions" / "payroll").glob("*.py")),
    BOT / "deductions" / "plans_import.py",
)
PROBLEM_KEY = re.compile(r"[a-z_]+\.[a-z_]+")


def said(reason: Reason) -> str:
    """Why a value was refused, as the file's author reads it in Finnish."""
    return FI(f"{PROBLEM_CATALOG}.{reason.key}", **reason.values)


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("Henkilö-numero", "henkilonumero"),
        ("\ufeffhenkilonumero", "henkilonumero"),
        ("Summa (€)", "summa"),
        ("Hinta [eur]", "hinta"),
        ("näytön koko", "naytonkoko"),
        ("price_cents", "pricecents"),
        ("Åland", "aland"),
    ],
)
def test_headers_are_compared_folded(written, folded):
    assert fold_header(written) == folded


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("449", "449"),
        ("449,00", "449.00"),
        ("449.00", "449.00"),
        ("1 299,90", "1299.90"),
        ("1\u00a0299,90", "1299.90"),
        ("1.299,90", "1299.90"),
        ("1,299.90", "1299.90"),
        ("\u221212,50", "-12.50"),
    ],
)
def test_numbers_as_excel_writes_them(written, number):
    assert parse_decimal(written) == Decimal(number)


@pytest.mark.parametrize(
    "written",
    ["", "12,", "1e5", "12,50,1", "\uff11\uff12", "abc", "1 2", "1\n234,50", "1\t234"],
)
def test_what_is_not_a_number(written):
    assert parse_decimal(written) is None


def test_euro_signs_and_words_are_read_past():
    assert [without_euro_sign(text) for text in ("12,50 €", "€12.50", "12,50 euroa")] == [
        "12,50",
        "12.50",
        "12,50",
    ]


@pytest.mark.parametrize(
    ("written", "cents"),
    [
        ("12,50", 1250),
        ("12,5", 1250),
        ("€ 1 234,50", 123450),
        ("-0,00", 0),
        ("- 0", 0),
        ("0", 0),
        ("+ 5", 500),
        ("12,50eur", 1250),
        ("12,50EUR", 1250),
        ("12,50 euroa", 1250),
    ],
)
def test_cents(written, cents):
    assert parse_cents(written, limit_cents=1_000_000) == cents


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("12,500", "enintään 2 desimaalia"),
        ("-1,00", "negatiivinen"),
        ("- 12,50", "negatiivinen"),
        ("10 000,01", "epäuskottavan suuri"),
        ("", "puuttuu"),
        ("kaksi", "ei ole summa"),
    ],
)
def test_cents_refused(written, message):
    problem = parse_cents(written, limit_cents=1_000_000)
    assert isinstance(problem, Reason) and message in said(problem)


def test_months():
    assert parse_month("2026-11") == parse_month(" 11/2026 ") == date(2026, 11, 1)
    refused = [parse_month(written) for written in ("2026-13", "1999-01", "")]
    assert all(isinstance(reason, Reason) for reason in refused)
    thirteenth, old, empty = (said(reason) for reason in refused if isinstance(reason, Reason))
    assert "kuukautta 13" in thirteenth
    assert "uskottava" in old
    assert "puuttuu" in empty


@pytest.mark.parametrize("error", [CatalogFileError, PayrollFileError, PlanFileError])
def test_every_importer_describes_problems_alike(error):
    raised = error([Problem(3, "summa", "amount.missing"), Problem(0, "", "file.empty")])
    assert raised.worded(FI) == 'tiedosto: tiedosto on tyhjä\nrivi 3, sarake "summa": summa puuttuu'


def test_a_yaml_catalog_numbers_its_models():
    raised = CatalogFileError([Problem(2, "hinta", "cell.missing")], row_label="model")
    assert raised.worded(FI) == 'malli 2, kenttä "hinta": arvo puuttuu'


def test_payroll_reads_a_header_with_its_unit_in_brackets():
    parsed = parse_payroll_bytes(
        "Henkilönumero;Palkkakausi;Summa (€)\n100001;2026-11;10,41\n".encode()
    )
    assert [(row.employee_number, row.amount_cents) for row in parsed.rows] == [("100001", 1041)]


def test_payroll_tells_apart_columns_that_differ_in_brackets():
    content = "henkilonumero;palkkakausi;Summa;Summa (kertymä)\n100001;2026-11;10,41;250,00\n"
    (row,) = parse_payroll_bytes(content.encode()).rows
    assert row.amount_cents == 1041
    content = "henkilonumero;palkkakausi;Summa (brutto);Summa (netto)\n100001;2026-11;10,41;8,00\n"
    columns = PayrollColumns(amount="Summa (netto)")
    (row,) = parse_payroll_bytes(content.encode(), columns).rows
    assert row.amount_cents == 800


def test_a_number_too_long_for_anyone_is_too_large_not_an_error():
    assert parse_decimal("9" * 1_000_001) == Decimal("1E40")
    assert parse_decimal("-" + "9" * 50) == Decimal("-1E40")
    too_large = parse_cents("9" * 1_000_001, limit_cents=100)
    assert isinstance(too_large, Reason) and "epäuskottavan suuri" in said(too_large)


@pytest.mark.parametrize("failure", [CatalogFileError, PayrollFileError, PlanFileError])
@pytest.mark.parametrize("bom", [codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_a_file_marked_unicode_that_is_not_fails_as_its_importer_does(failure, bom):
    broken = bom + (b"\xff\xfe\xfd" if bom == codecs.BOM_UTF8 else b"\x00\xd8")
    with pytest.raises(failure) as raised:
        decode_spreadsheet(broken, failure)
    [problem] = raised.value.problems
    assert problem.line == 0 and "mutta on rikki" in problem.worded(FI)
    assert raised.value.worded(FI).startswith("tiedosto:")


def test_text_without_a_mark_is_read_as_excel_saves_it():
    assert decode_spreadsheet("hinta;€".encode("cp1252"), CatalogFileError) == "hinta;€"
    assert decode_spreadsheet(codecs.BOM_UTF8 + "ä".encode(), CatalogFileError) == "ä"


def test_the_plans_importer_reports_a_broken_unicode_file_as_its_own_error(tmp_path):
    path = tmp_path / "plans.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")
    with pytest.raises(PlanFileError) as raised:
        parse_plan_file(path)
    assert "UTF-16-muotoiseksi mutta on rikki" in raised.value.worded(FI)


# --- what is wrong, in every language --------------------------------------------------------


def problem_keys_in_the_code() -> set[str]:
    """Every key under `import_problem` that the importers name: each is a text of its own, as
    "catalog.not_a_number", whether it goes to Problem(...), Reason(...) or a variable first."""
    keys: set[str] = set()
    for path in IMPORTERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            constant = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if constant and PROBLEM_KEY.fullmatch(node.value):
                keys.add(node.value)
    return keys


def problem_keys_in_the_catalog(language: str) -> set[str]:
    """The catalog's problem texts, without the labels that say where a problem is."""
    prefix = f"{PROBLEM_CATALOG}."
    return {
        key.removeprefix(prefix)
        for key in catalog_keys(language)
        if key.startswith(prefix) and not key.startswith(f"{prefix}label.")
    }


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_problem_the_importers_can_find_is_worded_in_every_language(language):
    in_code = problem_keys_in_the_code()
    assert len(in_code) > 60  # the scan finds the importers' keys, not nothing
    assert sorted(in_code - problem_keys_in_the_catalog(language)) == []
    assert sorted(problem_keys_in_the_catalog(language) - in_code) == []  # no text left unused


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_where_a_problem_is_is_worded_in_every_language(language):
    t = texts(language)
    problems = [Problem(0, "", "file.empty"), Problem(2, "summa", "amount.missing")]
    for error in (PayrollFileError(problems), CatalogFileError(problems, row_label="model")):
        file_line, row_line = error.worded(t).splitlines()
        assert file_line.startswith(t(f"{PROBLEM_CATALOG}.label.file") + ": ")
        assert row_line.startswith(t(f"{PROBLEM_CATALOG}.label.{error.row_label}") + " 2, ")


def test_a_file_read_by_payroll_and_ict_in_english(tmp_path):
    en = texts("en")
    with pytest.raises(PayrollFileError) as payroll:
        parse_payroll_bytes(b"henkilonumero;palkkakausi;summa\n")
    assert payroll.value.worded(en) == "file: the file has no rows, only a header row"
    parsed = parse_payroll_bytes(b"henkilonumero;palkkakausi;summa\n100001;2026-13;12,5x\n")
    assert PayrollFileError(parsed.problems).worded(en) == (
        'row 2, column "palkkakausi": pay period "2026-13" has no month 13\n'
        'row 2, column "summa": not an amount: "12,5x" (format 12,50)'
    )
    path = tmp_path / "catalog.yaml"
    path.write_text("models:\n  - {sku: Y-1, os: symbian}\n", encoding="utf-8")
    with pytest.raises(CatalogFileError) as catalog:
        read_catalog_file(path)
    lines = catalog.value.worded(en).splitlines()
    assert 'model 1, field "os": unknown operating system "symbian" (allowed: android, ios)' in (
        lines
    )
    assert 'model 1, field "esim": missing; accepted names: esim, e_sim' in lines
    logged = str(catalog.value)  # a log line: where and which text, not what the file holds
    assert "catalog.unknown_os@1" in logged and "symbian" not in logged

"""What the three importers share about Excel's files (bot/spreadsheet.py)."""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal

import pytest

from bot.catalog.importer import CatalogFileError
from bot.deductions.payroll.parse import PayrollColumns, PayrollFileError, parse_payroll_bytes
from bot.deductions.plans_import import PlanFileError, parse_plan_file
from bot.spreadsheet import (
    Problem,
    decode_spreadsheet,
    fold_header,
    parse_cents,
    parse_decimal,
    parse_month,
    without_euro_sign,
)


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
    assert isinstance(problem, str) and message in problem


def test_months():
    assert parse_month("2026-11") == parse_month(" 11/2026 ") == date(2026, 11, 1)
    assert "kuukautta 13" in str(parse_month("2026-13"))
    assert "uskottava" in str(parse_month("1999-01"))
    assert "puuttuu" in str(parse_month(""))


@pytest.mark.parametrize("error", [CatalogFileError, PayrollFileError, PlanFileError])
def test_every_importer_describes_problems_alike(error):
    raised = error([Problem(3, "summa", "summa puuttuu"), Problem(0, "", "tiedosto on tyhjä")])
    assert str(raised) == 'tiedosto: tiedosto on tyhjä\nrivi 3, sarake "summa": summa puuttuu'


def test_a_yaml_catalog_numbers_its_models():
    raised = CatalogFileError([Problem(2, "hinta", "puuttuu")], row_label="malli")
    assert str(raised) == 'malli 2, kenttä "hinta": puuttuu'


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
    assert "epäuskottavan suuri" in str(parse_cents("9" * 1_000_001, limit_cents=100))


@pytest.mark.parametrize("failure", [CatalogFileError, PayrollFileError, PlanFileError])
@pytest.mark.parametrize("bom", [codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_a_file_marked_unicode_that_is_not_fails_as_its_importer_does(failure, bom):
    broken = bom + (b"\xff\xfe\xfd" if bom == codecs.BOM_UTF8 else b"\x00\xd8")
    with pytest.raises(failure) as raised:
        decode_spreadsheet(broken, failure)
    [problem] = raised.value.problems
    assert problem.line == 0 and "mutta on rikki" in problem.message
    assert str(raised.value).startswith("tiedosto:")


def test_text_without_a_mark_is_read_as_excel_saves_it():
    assert decode_spreadsheet("hinta;€".encode("cp1252"), CatalogFileError) == "hinta;€"
    assert decode_spreadsheet(codecs.BOM_UTF8 + "ä".encode(), CatalogFileError) == "ä"


def test_the_plans_importer_reports_a_broken_unicode_file_as_its_own_error(tmp_path):
    path = tmp_path / "plans.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")
    with pytest.raises(PlanFileError, match="UTF-16-muotoiseksi mutta on rikki"):
        parse_plan_file(path)

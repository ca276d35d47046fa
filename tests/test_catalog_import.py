"""ICT's catalog file: every problem reported at once, and a good file becomes a new version."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog.importer import (
    CatalogFileError,
    Problem,
    import_catalog,
    parse_catalog_file,
    read_catalog_file,
)
from bot.catalog.models import CatalogVersion, PhoneModel
from bot.catalog.service import current_version
from bot.cli import main
from bot.db.engine import create_session_factory
from bot.demo.loader import demo_data
from bot.i18n import texts

EXAMPLES = Path(__file__).parent / "data" / "catalog"
FI = texts("fi")
HEADER = (
    "tuotekoodi;merkki;malli;hinta;tallennustila;näyttö;kamera;dual_sim;esim;5g;"
    "käyttöjärjestelmä;saatavilla;perusmalli"
)
BASE_ROW = "T-1;Esimerkkifoni;Perus;199,00;128;6,5;50;kyllä;ei;kyllä;android;kyllä;kyllä"


def write(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(CatalogFileError) as raised:
        parse_catalog_file(path)
    return raised.value.problems


def where(problems: list[Problem]) -> list[tuple[int, str]]:
    return [(problem.line, problem.column) for problem in problems]


# --- good files ------------------------------------------------------------------------------


def test_excel_finnish_csv_semicolon_decimal_comma_bom_finnish_headers():
    assert (EXAMPLES / "esimerkki_puolipiste.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    rows = parse_catalog_file(EXAMPLES / "esimerkki_puolipiste.csv")
    assert [row.sku for row in rows] == [f"ESIMERKKI-0{n}" for n in range(1, 5)]
    base, middle, top, rugged = rows
    assert (base.row, base.is_base, base.available, base.esim) == (2, True, True, False)
    assert base.price_cents == 19900 and base.screen_inches == 6.7 and base.os == "android"
    assert (middle.price_cents, middle.storage_gb, middle.os, middle.esim) == (
        44990,
        256,
        "ios",
        True,
    )
    assert (top.price_cents, top.storage_gb, top.screen_inches) == (129990, 1024, 6.9)
    assert (top.available, top.is_base) == (False, False)
    assert rugged.name == "Kestävä 4" and rugged.price_cents == 104900
    assert rugged.available is False  # an empty cell is "no" (x/empty)


def test_comma_csv_english_headers_iso_8859_1():
    path = EXAMPLES / "example_comma_latin1.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    rows = parse_catalog_file(path)
    assert [(row.sku, row.name, row.price_cents) for row in rows] == [
        ("EXAMPLE-01", "Perus 1 (base)", 19900),
        ("EXAMPLE-02", "Kestävä 2", 32900),
        ("EXAMPLE-03", "Yö 3", 109950),
    ]
    assert [row.is_base for row in rows] == [True, False, False]
    assert [(row.dual_sim, row.esim, row.five_g) for row in rows] == [
        (True, False, True),
        (True, False, True),
        (True, True, True),
    ]


def test_yaml_with_price_in_cents_or_euros_and_a_source():
    catalog = read_catalog_file(EXAMPLES / "esimerkki.yaml")
    assert catalog.source == "ESIMERKKI: kuvitteellinen testiluettelo"
    assert [(row.row, row.price_cents, row.os) for row in catalog.rows] == [
        (1, 21900, "android"),
        (2, 39950, "ios"),
        (3, 114900, "android"),
    ]
    assert catalog.rows[2].screen_inches == 6.8 and catalog.rows[2].available is False


def test_the_demo_catalog_reads_as_a_catalog_file():
    path = Path(__file__).parent.parent / "bot" / "demo" / "data.yaml"
    catalog = read_catalog_file(path)
    expected = demo_data()["catalog"]["models"]
    assert [row.sku for row in catalog.rows] == [model["sku"] for model in expected]
    assert [row.price_cents for row in catalog.rows] == [model["price_cents"] for model in expected]
    assert sum(row.is_base for row in catalog.rows) == 1
    assert "SAMPLE" in (catalog.source or "")


@pytest.mark.parametrize(
    ("encoding", "layout"),
    [
        ("cp1252", "{}"),  # Excel's "CSV (erottimena puolipiste)": € is byte 0x80
        ("utf-16", "{}"),  # Excel's "Unicode text", tab-separated below
        ("utf-8", "sep=;\n{}"),  # Excel's delimiter hint line
    ],
)
def test_other_excel_exports(tmp_path, encoding, layout):
    content = f"{HEADER}\n{BASE_ROW.replace('199,00', '199,00 €')}\n"
    if encoding == "utf-16":
        content = content.replace(";", "\t")
    path = write(tmp_path, "c.csv", layout.format(content), encoding)
    (parsed,) = parse_catalog_file(path)
    assert parsed.price_cents == 19900 and parsed.name == "Perus" and parsed.is_base
    assert parsed.row == (3 if "sep=" in layout else 2)


def test_a_file_marked_utf8_with_other_bytes_is_refused(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode("cp1252"))
    (problem,) = problems_of(path)
    assert "UTF-8" in problem.worded(FI)


@pytest.mark.parametrize(
    ("price", "cents"),
    [
        ("449,00", 44900),
        ("449.00", 44900),
        ("449", 44900),
        ("449,9", 44990),
        ("1 299,90", 129990),
        ("1\u00a0299,90\u00a0€", 129990),
        ("1\u202f299,90 €", 129990),
        ("€1299.90", 129990),
        ("1.299,90", 129990),
        ("1,299.90", 129990),
        ("449 EUR", 44900),
    ],
)
def test_prices_as_written_in_finland_or_elsewhere(tmp_path, price, cents):
    row = BASE_ROW.replace("199,00", f'"{price}"')
    (parsed,) = parse_catalog_file(write(tmp_path, "c.csv", f"{HEADER}\n{row}\n"))
    assert parsed.price_cents == cents


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("abc", 'ei ole luku: "abc"'),
        ("1.299", "enintään 2 desimaalia"),
        ("1,299", "enintään 2 desimaalia"),
        ("12,34,5", "ei ole luku"),
        ("1 29,90", "ei ole luku"),
        ("5000,01", "epäuskottavan suuri"),
        ("9" * 5000, "epäuskottavan suuri"),
        ("-1", "suurempi kuin nolla"),
        ("", "arvo puuttuu"),
        ("\uff11\uff12", "ei ole luku"),  # fullwidth digits
        ("\u0661\u0662", "ei ole luku"),  # Arabic-Indic digits
    ],
)
def test_prices_that_are_refused(tmp_path, price, message):
    row = BASE_ROW.replace("199,00", f'"{price}"')
    (problem,) = problems_of(write(tmp_path, "c.csv", f"{HEADER}\n{row}\n"))
    assert (problem.line, problem.column) == (2, "hinta") and message in problem.worded(FI)


@pytest.mark.parametrize("storage", [str(2**31), "9" * 30, "9" * 5000, "\uff11\uff12\uff18"])
def test_storage_too_large_for_the_database_or_in_foreign_digits_is_refused(tmp_path, storage):
    row = BASE_ROW.replace(";128;", f";{storage};")
    (problem,) = problems_of(write(tmp_path, "c.csv", f"{HEADER}\n{row}\n"))
    assert (problem.line, problem.column) == (2, "tallennustila")


@pytest.mark.parametrize(
    ("key", "value"), [("price", "9" * 5000), ("storage_gb", "9" * 5000), ("storage_gb", 2**31)]
)
def test_a_huge_whole_number_in_yaml_is_a_problem_of_its_model(tmp_path, key, value):
    model = {
        "sku": "Y-1",
        "brand": "A",
        "name": "Perus",
        "price": 199,
        "storage_gb": 128,
        "screen_inches": 6.5,
        "camera_mp": 50,
        "dual_sim": "true",
        "esim": "false",
        "five_g": "true",
        "os": "android",
        "is_base": "true",
        key: value,
    }
    fields = ", ".join(f"{name}: {shown}" for name, shown in model.items())
    path = write(tmp_path, "c.yaml", f"models:\n  - {{{fields}}}\n")
    (problem,) = problems_of(path)
    assert (problem.line, problem.column) == (1, key)


@pytest.mark.parametrize(
    ("word", "value"),
    [
        *[(word, True) for word in ("kyllä", "KYLLÄ", "Yes", "true", "1", "x", "X")],
        *[(word, False) for word in ("ei", "EI", "no", "False", "0", "")],
    ],
)
def test_yes_and_no_in_finnish_english_or_as_a_mark(tmp_path, word, value):
    row = BASE_ROW.replace(";ei;kyllä;android", f";{word};kyllä;android")
    (parsed,) = parse_catalog_file(write(tmp_path, "c.csv", f"{HEADER}\n{row}\n"))
    assert parsed.esim is value


def test_available_defaults_to_yes_when_the_column_is_missing(tmp_path):
    header = HEADER.replace(";saatavilla", "")
    row = BASE_ROW.replace(";android;kyllä;", ";android;")
    (parsed,) = parse_catalog_file(write(tmp_path, "c.csv", f"{header}\n{row}\n"))
    assert parsed.available is True


# --- bad files -------------------------------------------------------------------------------


def test_a_file_with_many_mistakes_reports_every_one_sorted_by_row():
    path = EXAMPLES / "virheellinen.csv"
    with pytest.raises(CatalogFileError) as raised:
        parse_catalog_file(path)
    problems = raised.value.problems
    assert where(problems) == [
        (2, "perusmalli"),
        (2, "saatavilla"),
        (3, "hinta"),
        (3, "tuotekoodi"),
        (4, "merkki"),
        (4, "hinta"),
        (5, "hinta"),
        (5, "tuotekoodi"),
        (6, "hinta"),
        (6, "tallennustila"),
        (6, "näyttö"),
        (6, "käyttöjärjestelmä"),
        (6, "perusmalli"),
        (7, "hinta"),
        (7, "tallennustila"),
        (7, "perusmalli"),
    ]
    text = raised.value.worded(FI)
    lines = text.splitlines()
    assert len(lines) == len(problems)
    assert 'rivi 3, sarake "hinta": ei ole luku: "abc"' in lines
    assert 'rivi 4, sarake "merkki": arvo puuttuu' in lines
    assert "perusmallin pitää olla saatavilla" in lines[1]
    duplicate = [line for line in lines if "tuotekoodi" in line and "rivit 3, 5" in line]
    assert len(duplicate) == 2  # both rows are named
    assert sum("perusmalleja on 2 (rivit 2, 7)" in line for line in lines) == 2
    assert "enintään 2 desimaalia" in text and "epäuskottavan suuri" in text
    assert "4...8 tuumaa" in text and '"windows"' in text and '"ehkä"' in text


def test_missing_unknown_and_repeated_columns_are_reported_once_on_the_header_row(tmp_path):
    header = "Tuotekoodi;Valmistaja;Merkki;Malli;Väri;Tallennustila;Näyttö;Kamera;eSIM;5G;OS"
    rows = [
        "T-1;A;A;Perus;musta;128;6,5;50;ei;kyllä;android",
        "T-2;A;A;Toinen;valkoinen;256;6,1;48;kyllä;kyllä;ios",
    ]
    problems = problems_of(write(tmp_path, "c.csv", "\n".join([header, *rows])))
    assert where(problems) == [
        (1, "Merkki"),
        (1, "Väri"),
        (1, "dual_sim"),
        (1, "hinta"),
        (1, "perusmalli"),
    ]
    by_column = {problem.column: problem.worded(FI) for problem in problems}
    assert "Valmistaja" in by_column["Merkki"]
    assert "tuntematon sarake" in by_column["Väri"]
    assert "hinta, price" in by_column["hinta"]
    assert "perusmallia ei ole merkitty" in by_column["perusmalli"]


def test_an_unquoted_decimal_comma_in_a_comma_file_is_explained(tmp_path):
    header = HEADER.replace(";", ",")
    row = BASE_ROW.replace(";", ",")  # 199,00 and 6,5 now split into two cells each
    (problem,) = problems_of(write(tmp_path, "c.csv", f"{header}\n{row}\n"))
    assert problem.line == 2 and "ilman lainausmerkkejä" in problem.worded(FI)


def test_no_base_model_is_a_problem(tmp_path):
    row = BASE_ROW.replace(";kyllä;kyllä", ";kyllä;ei")
    (problem,) = problems_of(write(tmp_path, "c.csv", f"{HEADER}\n{row}\n"))
    assert (problem.line, problem.column) == (1, "perusmalli")
    assert "täsmälleen yksi" in problem.worded(FI)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", "", "tiedosto on tyhjä"),
        ("blank.csv", " \n\n", "tiedosto on tyhjä"),
        ("header.csv", HEADER + "\n", "ei ole yhtään mallia"),
        ("empty.yaml", "", "tiedosto on tyhjä"),
        ("list.yaml", "- a\n- b\n", "models:"),
        ("none.yaml", "models: []\n", "ei ole yhtään mallia"),
        ("broken.yaml", "models: [\n", "YAML ei ole kelvollinen"),
        ("catalog.xlsx", "PK", 'tuntematon tiedostotyyppi ".xlsx"'),
    ],
)
def test_files_with_nothing_to_import(tmp_path, name, content, message):
    (problem,) = problems_of(write(tmp_path, name, content))
    assert message in problem.worded(FI)


def test_an_unreadable_file(tmp_path):
    (problem,) = problems_of(tmp_path / "missing.csv")
    assert problem.line == 0 and "tiedostoa ei voi lukea" in problem.worded(FI)
    assert CatalogFileError([problem]).worded(FI).startswith("tiedosto: ")


def test_yaml_problems_name_the_model_and_key(tmp_path):
    content = """
models:
  - {sku: Y-1, brand: A, name: Perus, price: 199, storage_gb: 128, screen_inches: 6.5,
     camera_mp: 50, dual_sim: true, esim: false, five_g: true, os: android, is_base: true}
  - {sku: Y-2, brand: A, name: Kaksi, price: 199, price_cents: 19900, storage_gb: 128,
     screen_inches: 6.5, camera_mp: 50, dual_sim: true, esim: false, five_g: true, os: symbian,
     colour: red}
  - just a string
"""
    with pytest.raises(CatalogFileError) as raised:
        parse_catalog_file(write(tmp_path, "c.yaml", content))
    assert where(raised.value.problems) == [
        (2, "colour"),
        (2, "price_cents"),
        (2, "os"),
        (3, ""),
    ]
    assert 'malli 2, kenttä "os": tuntematon käyttöjärjestelmä "symbian"' in raised.value.worded(FI)


# --- the database ----------------------------------------------------------------------------


async def counts(engine: AsyncEngine) -> tuple[int, int]:
    async with create_session_factory(engine)() as session:
        versions = await session.scalar(select(func.count()).select_from(CatalogVersion))
        models = await session.scalar(select(func.count()).select_from(PhoneModel))
    return int(versions or 0), int(models or 0)


async def import_file(engine: AsyncEngine, path: Path) -> CatalogVersion:
    async with create_session_factory(engine)() as session, session.begin():
        return await import_catalog(
            session=session, rows=parse_catalog_file(path), source=path.name
        )


async def snapshot(engine: AsyncEngine, version_id: int) -> list[tuple[object, ...]]:
    async with create_session_factory(engine)() as session:
        models = await session.scalars(
            select(PhoneModel)
            .where(PhoneModel.catalog_version_id == version_id)
            .order_by(PhoneModel.id)
        )
        return [
            (m.id, m.sku, m.brand, m.name, m.price_cents, m.available, m.is_base) for m in models
        ]


async def test_a_bad_file_changes_nothing(engine):
    await import_file(engine, EXAMPLES / "esimerkki.yaml")
    before = await counts(engine)
    with pytest.raises(CatalogFileError):
        await import_file(engine, EXAMPLES / "virheellinen.csv")
    assert await counts(engine) == before == (1, 3)


async def test_a_failure_inside_the_transaction_changes_nothing(engine):
    first = await import_file(engine, EXAMPLES / "esimerkki.yaml")
    rows = parse_catalog_file(EXAMPLES / "esimerkki_puolipiste.csv")
    sessions = create_session_factory(engine)
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await import_catalog(session=session, rows=rows, source="x")
            raise RuntimeError("payroll export failed later in the same transaction")
    assert await counts(engine) == (1, 3)
    async with sessions() as session:
        current = await current_version(session=session)
    assert current is not None and current.id == first.id


async def test_import_makes_a_new_current_version_and_leaves_the_old_one_alone(engine):
    first = await import_file(engine, EXAMPLES / "esimerkki.yaml")
    old_rows = await snapshot(engine, first.id)
    second = await import_file(engine, EXAMPLES / "esimerkki_puolipiste.csv")
    assert second.id > first.id
    assert await snapshot(engine, first.id) == old_rows
    async with create_session_factory(engine)() as session:
        versions = (await session.scalars(select(CatalogVersion).order_by(CatalogVersion.id))).all()
        current = await current_version(session=session)
    assert [(v.id, v.is_current, v.is_example) for v in versions] == [
        (first.id, False, False),
        (second.id, True, False),
    ]
    assert versions[0].source == "esimerkki.yaml"
    assert current is not None and current.id == second.id
    assert len(await snapshot(engine, second.id)) == 4


async def test_two_imports_at_once_leave_exactly_one_current_version(engine):
    rows = parse_catalog_file(EXAMPLES / "esimerkki.yaml")
    sessions = create_session_factory(engine)
    async with sessions() as first, first.begin():
        await import_catalog(session=first, rows=rows, source="first")

        async def second_import() -> int:
            async with sessions() as second, second.begin():
                version = await import_catalog(session=second, rows=rows, source="second")
                return version.id

        pending = asyncio.create_task(second_import())
        await asyncio.sleep(0.3)  # the second import now waits for the first to commit
        assert not pending.done()
    second_id = await pending
    async with sessions() as session:
        current = (
            await session.scalars(select(CatalogVersion).where(CatalogVersion.is_current))
        ).all()
    assert [version.id for version in current] == [second_id]


async def test_import_refuses_rows_without_exactly_one_base(sqlite_engine):
    row = parse_catalog_file(EXAMPLES / "esimerkki.yaml")[1]
    async with create_session_factory(sqlite_engine)() as session, session.begin():
        for rows in ([], [row], [row, row]):
            with pytest.raises(CatalogFileError):
                await import_catalog(session=session, rows=rows, source="x")
    assert await counts(sqlite_engine) == (0, 0)


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    assert main(["db", "upgrade"]) == 0
    return path


def table_counts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as connection:
        versions = connection.execute("SELECT count(*) FROM catalog_version").fetchone()[0]
        models = connection.execute("SELECT count(*) FROM phone_model").fetchone()[0]
        return versions, models


def test_cli_imports_a_catalog(database, capsys):
    capsys.readouterr()
    assert main(["catalog", "import", str(EXAMPLES / "esimerkki_puolipiste.csv")]) == 0
    out = capsys.readouterr().out
    assert "4 mallia" in out and "perusmalli Esimerkkifoni Perus 1 (perusmalli)" in out
    assert "199,00\u00a0€" in out and "luetteloversioksi 1" in out
    assert table_counts(database) == (1, 4)
    assert main(["catalog", "import", str(EXAMPLES / "esimerkki.yaml")]) == 0
    assert "luetteloversioksi 2" in capsys.readouterr().out
    with sqlite3.connect(database) as connection:
        versions = connection.execute(
            "SELECT id, source, is_current FROM catalog_version ORDER BY id"
        ).fetchall()
    assert versions == [
        (1, "esimerkki_puolipiste.csv", 0),
        (2, "ESIMERKKI: kuvitteellinen testiluettelo", 1),
    ]


def test_cli_reports_every_problem_and_exits_1(database, capsys):
    assert main(["catalog", "import", str(EXAMPLES / "esimerkki.yaml")]) == 0
    capsys.readouterr()
    assert main(["catalog", "import", str(EXAMPLES / "virheellinen.csv")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "tietokantaa ei muutettu" in captured.err
    assert 'rivi 3, sarake "hinta": ei ole luku: "abc"' in captured.err
    assert "Korjattavaa (16)" in captured.err
    assert table_counts(database) == (1, 3)


def test_cli_dry_run_checks_and_changes_nothing(database, capsys):
    capsys.readouterr()
    assert main(["catalog", "import", "--dry-run", str(EXAMPLES / "esimerkki.yaml")]) == 0
    out = capsys.readouterr().out
    assert "3 mallia" in out and "219,00\u00a0€" in out and "--dry-run" in out
    assert table_counts(database) == (0, 0)
    bad = str(EXAMPLES / "virheellinen.csv")
    assert main(["catalog", "import", bad, "--dry-run"]) == 1
    assert table_counts(database) == (0, 0)


def test_cli_dry_run_needs_no_database(tmp_path, monkeypatch, capsys):
    path = tmp_path / "nowhere" / "db.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    assert main(["catalog", "import", "--dry-run", str(EXAMPLES / "example_comma_latin1.csv")]) == 0
    assert "3 mallia" in capsys.readouterr().out
    assert not path.exists()

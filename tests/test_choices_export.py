"""The CSV of recorded choices for ICT's Excel and payroll, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.choices.cost import InstalmentRule, cost_breakdown, first_deduction_month
from bot.choices.export import HEADERS, ExportRow, export_rows, write_csv
from bot.choices.models import ChoiceOption, ChoiceStatus, PhoneChoice
from bot.cli import main
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade
from bot.demo.loader import load_demo_data
from bot.directory.models import Employee, Unit

# 3.11.2026 12.05 UTC is 14.05 in Helsinki (EET, UTC+2).
CONSENTED_IN_NOVEMBER = datetime(2026, 11, 3, 12, 5, tzinfo=UTC)
# 15.6.2026 21.30 UTC is already 16.6. in Helsinki (EEST, UTC+3).
CONSENTED_IN_JUNE = datetime(2026, 6, 15, 21, 30, tzinfo=UTC)


def free_choice(
    aad_object_id: str,
    *,
    price_cents: int,
    sku: str = "APL-IP16-128",
    model_name: str = "iPhone 16 128 Gt",
    status: ChoiceStatus = ChoiceStatus.CHOSEN,
    consented_at: datetime = CONSENTED_IN_NOVEMBER,
) -> PhoneChoice:
    """A Free Choice carrying the figures cost_breakdown gave when the employee accepted."""
    cost = cost_breakdown(price_cents=price_cents, base_price_cents=199_00, rule=InstalmentRule())
    return PhoneChoice(
        aad_object_id=aad_object_id,
        option=ChoiceOption.FREE_CHOICE.value,
        status=status.value,
        sku=sku,
        model_name=model_name,
        price_cents=cost.price_cents,
        city_share_cents=cost.city_share_cents,
        employee_share_cents=cost.employee_share_cents,
        instalment_count=cost.instalment_count,
        instalment_cents=cost.instalment_cents,
        first_instalment_cents=cost.first_instalment_cents,
        first_deduction_month=first_deduction_month(consented_at.date(), delay_months=2),
        consented_at=consented_at,
        closed_at=consented_at if status is ChoiceStatus.CHANGED else None,
    )


def pori_phone(aad_object_id: str, *, consented_at: datetime) -> PhoneChoice:
    return PhoneChoice(
        aad_object_id=aad_object_id,
        option=ChoiceOption.PORI_PHONE.value,
        status=ChoiceStatus.CHOSEN.value,
        sku="PORI-A16",
        model_name="Samsung Galaxy A16",
        price_cents=159_00,
        city_share_cents=159_00,
        consented_at=consented_at,
    )


def employee(number: str, name: str, unit: str | None) -> Employee:
    return Employee(
        aad_object_id=f"aad-{number}",
        display_name=name,
        user_principal_name=f"user{number}@pori.fi",
        employee_number=number,
        unit_code=unit,
    )


@pytest.fixture
async def session_factory(engine):
    factory = create_session_factory(engine)
    async with factory.begin() as session:
        session.add_all(
            [
                Unit(code="SIVISTYS", name_fi="Sivistystoimiala", name_en="Education"),
                Unit(code="PERUSTURVA", name_fi="Perusturva", name_en="Basic Services"),
                Unit(code="ALUE", name_fi="Ämmän alue", name_en="Ämmä area"),
            ]
        )
        await session.flush()
        session.add_all(
            [
                employee("100001", "Meikäläinen Maija", "SIVISTYS"),
                employee("100002", "Lindqvist Anna", "PERUSTURVA"),
                employee("100003", '=HYPERLINK("x")', "PERUSTURVA"),
                employee("100004", "Östman Örjan", "SIVISTYS"),
                employee("100005", "Aalto Aino", "SIVISTYS"),
                employee("100006", "Zacharias Zoe", "ALUE"),
                employee("100007", "Yksiköttä Ykä", None),
            ]
        )
        await session.flush()
        session.add_all(
            [
                # Maija first chose an expensive phone, then changed her mind.
                free_choice(
                    "aad-100001",
                    price_cents=1_299_00,
                    sku="SAM-S25U",
                    model_name="Galaxy S25 Ultra",
                    status=ChoiceStatus.CHANGED,
                ),
                free_choice("aad-100001", price_cents=449_00),
                pori_phone("aad-100002", consented_at=CONSENTED_IN_JUNE),
                free_choice("aad-100003", price_cents=679_00),
                free_choice(
                    "aad-100004",
                    price_cents=1_299_00,
                    sku="SAM-S25U",
                    model_name="Galaxy S25 Ultra",
                ),
                free_choice("aad-100005", price_cents=199_00, model_name="Galaxy A56"),
                free_choice(
                    "aad-100006",
                    price_cents=449_00,
                    status=ChoiceStatus.ORDERED,
                    model_name="-1+1 phone",
                ),
                free_choice("aad-100007", price_cents=449_00, model_name="@home"),
            ]
        )
    return factory


async def exported(session_factory, statuses) -> tuple[str, list[dict[str, str]]]:
    async with session_factory() as session:
        rows = await export_rows(session=session, statuses=statuses)
    stream = io.StringIO(newline="")
    write_csv(rows, stream)
    text = stream.getvalue()
    data = text.encode("utf-8")
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    return text, parsed


def by_number(parsed: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["henkilonumero"]: row for row in parsed}


async def test_a_free_choice_carries_the_figures_the_employee_accepted(session_factory):
    _, parsed = await exported(session_factory, ["chosen"])
    maija = by_number(parsed)["100001"]
    assert maija["nimi"] == "Meikäläinen Maija"
    assert maija["upn"] == "user100001@pori.fi"
    assert maija["yksikko"] == "Sivistystoimiala"
    assert maija["valinta"] == "Free Choice"
    assert maija["tila"] == "valittu"
    assert maija["tuotekoodi"] == "APL-IP16-128"
    assert maija["malli"] == "iPhone 16 128 Gt"
    # 449,00 € - 199,00 € = 250,00 € over 24: 10,57 € first, then 23 x 10,41 €.
    assert maija["hinta"] == "449,00"
    assert maija["kaupungin_osuus"] == "199,00"
    assert maija["tyontekijan_osuus"] == "250,00"
    assert maija["eria"] == "24"
    assert maija["ensimmainen_era"] == "10,57"
    assert maija["muut_erat"] == "10,41"
    assert maija["ensimmainen_vahennyskuukausi"] == "1.1.2027"
    assert maija["suostumus_annettu"] == "3.11.2026 14.05"
    assert int(maija["valinta_id"]) > 0


async def test_an_even_split_and_amounts_over_a_thousand_euros(session_factory):
    _, parsed = await exported(session_factory, ["chosen"])
    rows = by_number(parsed)
    even = rows["100003"]
    assert (even["tyontekijan_osuus"], even["ensimmainen_era"], even["muut_erat"]) == (
        "480,00",
        "20,00",
        "20,00",
    )
    expensive = rows["100004"]
    assert expensive["hinta"] == "1299,00"  # no thousands separator, no euro sign
    assert expensive["tyontekijan_osuus"] == "1100,00"
    assert expensive["ensimmainen_era"] == "45,91"  # 1100,00 / 24 = 45,83 + 8 cents
    assert expensive["muut_erat"] == "45,83"


async def test_a_pori_phone_and_the_base_model_cost_the_employee_nothing(session_factory):
    _, parsed = await exported(session_factory, ["chosen"])
    rows = by_number(parsed)
    anna = rows["100002"]
    assert anna["valinta"] == "Pori-puhelin"
    assert anna["hinta"] == "159,00"
    assert anna["kaupungin_osuus"] == "159,00"
    assert anna["tyontekijan_osuus"] == "0,00"
    assert anna["eria"] == "0"
    assert anna["ensimmainen_era"] == anna["muut_erat"] == ""
    assert anna["ensimmainen_vahennyskuukausi"] == ""
    assert anna["suostumus_annettu"] == "16.6.2026 00.30"  # summer time, the next day
    base = rows["100005"]
    assert base["valinta"] == "Free Choice"
    assert (base["tyontekijan_osuus"], base["eria"], base["ensimmainen_era"]) == ("0,00", "0", "")


async def test_only_the_requested_statuses_are_exported(session_factory):
    _, chosen = await exported(session_factory, ["chosen"])
    assert all(row["tila"] == "valittu" for row in chosen)
    assert [row["henkilonumero"] for row in chosen].count("100001") == 1
    assert "Galaxy S25 Ultra" not in {
        row["malli"] for row in chosen if row["henkilonumero"] == "100001"
    }
    assert "100006" not in by_number(chosen)  # ordered

    _, open_ones = await exported(session_factory, {"chosen", "ordered"})
    assert by_number(open_ones)["100006"]["tila"] == "tilattu"
    assert len(open_ones) == len(chosen) + 1

    _, changed = await exported(session_factory, ["changed"])
    assert [(row["henkilonumero"], row["tila"], row["malli"]) for row in changed] == [
        ("100001", "vaihdettu", "Galaxy S25 Ultra")
    ]

    _, nothing = await exported(session_factory, [])
    assert nothing == []


async def test_an_unknown_status_is_refused(session_factory):
    async with session_factory() as session:
        with pytest.raises(ValueError, match="choosen"):
            await export_rows(session=session, statuses=["choosen"])


async def test_rows_are_ordered_by_unit_then_name_in_finnish_order(session_factory):
    _, parsed = await exported(session_factory, ["chosen", "ordered"])
    assert [(row["yksikko"], row["nimi"]) for row in parsed] == [
        ("Perusturva", '\'=HYPERLINK("x")'),
        ("Perusturva", "Lindqvist Anna"),
        ("Sivistystoimiala", "Aalto Aino"),
        ("Sivistystoimiala", "Meikäläinen Maija"),
        ("Sivistystoimiala", "Östman Örjan"),  # Ö after Z, as in Finnish
        ("Ämmän alue", "Zacharias Zoe"),  # Ä after S
        ("", "Yksiköttä Ykä"),  # no unit: last
    ]


async def test_formulas_in_names_are_neutralised(session_factory):
    text, parsed = await exported(session_factory, ["chosen", "ordered"])
    rows = by_number(parsed)
    assert rows["100003"]["nimi"] == '\'=HYPERLINK("x")'
    assert rows["100006"]["malli"] == "'-1+1 phone"
    assert rows["100007"]["malli"] == "'@home"
    assert rows["100002"]["nimi"] == "Lindqvist Anna"
    assert ";=" not in text and '"=' not in text


async def test_the_file_is_utf8_with_bom_semicolons_and_crlf(session_factory):
    text, parsed = await exported(session_factory, ["chosen"])
    assert text.startswith("\ufeffhenkilonumero;nimi;upn;yksikko;")
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    assert "Meikäläinen".encode() in data
    lines = text.split("\r\n")
    assert lines[-1] == ""  # every line, the last too, ends in CRLF
    assert all("\n" not in line and "\r" not in line for line in lines)
    assert len(lines) == 1 + len(parsed) + 1
    assert lines[0].removeprefix("\ufeff").split(";") == list(HEADERS)
    assert all(len(line.split(";")) == len(HEADERS) for line in lines[1:-1])


def row(**overrides: object) -> ExportRow:
    values: dict[str, Any] = {
        "choice_id": 1,
        "option": ChoiceOption.FREE_CHOICE.value,
        "status": ChoiceStatus.CHOSEN.value,
        "employee_number": "100001",
        "display_name": "Meikäläinen Maija",
        "user_principal_name": "maija@pori.fi",
        "unit_code": "SIVISTYS",
        "unit_name": "Sivistystoimiala",
        "sku": "SKU",
        "model_name": "Malli",
        "price_cents": 449_00,
        "city_share_cents": 199_00,
        "employee_share_cents": 250_00,
        "instalment_count": 24,
        "instalment_cents": 10_41,
        "first_instalment_cents": 10_57,
        "first_deduction_month": date(2027, 1, 1),
        "consented_at": CONSENTED_IN_NOVEMBER,
    }
    values.update(overrides)
    return ExportRow(**values)


def written(*rows: ExportRow) -> list[dict[str, str]]:
    stream = io.StringIO(newline="")
    write_csv(rows, stream)
    return list(
        csv.DictReader(io.StringIO(stream.getvalue().lstrip("\ufeff"), newline=""), delimiter=";")
    )


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+358 40 123", "'+358 40 123"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Anna-Liisa", "Anna-Liisa"),
        ("a=b", "a=b"),
        ('Semi;colon "quoted"', 'Semi;colon "quoted"'),
    ],
)
def test_every_text_cell_is_guarded_against_formulas(value, cell):
    [parsed] = written(
        row(
            employee_number=value,
            display_name=value,
            user_principal_name=value,
            unit_name=value,
            sku=value,
            model_name=value,
        )
    )
    for column in ("henkilonumero", "nimi", "upn", "yksikko", "tuotekoodi", "malli"):
        assert parsed[column] == cell


def test_a_single_instalment_has_no_other_instalments():
    [parsed] = written(
        row(instalment_count=1, instalment_cents=250_00, first_instalment_cents=250_00)
    )
    assert (parsed["eria"], parsed["ensimmainen_era"], parsed["muut_erat"]) == ("1", "250,00", "")


def test_small_amounts_keep_two_decimals():
    [parsed] = written(
        row(
            price_cents=199_01,
            employee_share_cents=1,
            instalment_cents=0,
            first_instalment_cents=1,
        )
    )
    assert parsed["hinta"] == "199,01"
    assert parsed["tyontekijan_osuus"] == "0,01"
    assert parsed["ensimmainen_era"] == "0,01"
    assert parsed["muut_erat"] == "0,00"


def test_an_empty_export_is_just_the_header():
    stream = io.StringIO(newline="")
    write_csv([], stream)
    assert stream.getvalue() == "\ufeff" + ";".join(HEADERS) + "\r\n"


async def test_export_command_writes_the_file_and_marks_ordered(tmp_path, monkeypatch, capsys):
    database = f"sqlite+aiosqlite:///{tmp_path / 'export.sqlite3'}"
    engine = create_engine(database)
    await upgrade(engine)
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
        session.add(
            PhoneChoice(
                aad_object_id="00000000-0000-4000-8000-000000000001",
                option="pori_phone",
                status=ChoiceStatus.CHOSEN.value,
                consent_token="t1",
            )
        )
    await engine.dispose()
    monkeypatch.setenv("DATABASE_URL", database)
    output = tmp_path / "valinnat.csv"

    status = await asyncio.to_thread(
        main, ["choices", "export", "-o", str(output), "--mark-ordered"]
    )
    assert status == 0
    with output.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    assert [row["nimi"] for row in rows] == ["Maija Meikäläinen"]
    assert "1 valinta merkitty tilatuksi" in capsys.readouterr().err

    engine = create_engine(database)
    async with create_session_factory(engine)() as session:
        choice = await session.scalar(select(PhoneChoice))
    await engine.dispose()
    assert choice is not None and choice.status == ChoiceStatus.ORDERED.value
    assert await asyncio.to_thread(main, ["choices", "export", "--status", "choosen"]) == 2


async def test_mark_ordered_needs_a_file_and_locks_exactly_what_it_exports(
    tmp_path, monkeypatch, capsys
):
    database = f"sqlite+aiosqlite:///{tmp_path / 'lock.sqlite3'}"
    engine = create_engine(database)
    await upgrade(engine)
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
        for number, status in ((1, ChoiceStatus.CHOSEN), (4, ChoiceStatus.CHANGED)):
            session.add(
                PhoneChoice(
                    aad_object_id=f"00000000-0000-4000-8000-00000000000{number}",
                    option="pori_phone",
                    status=status.value,
                    consent_token=f"t{number}",
                )
            )
    monkeypatch.setenv("DATABASE_URL", database)
    assert await asyncio.to_thread(main, ["choices", "export", "--mark-ordered"]) == 2
    assert "--mark-ordered tarvitsee tiedoston (-o TIEDOSTO)" in capsys.readouterr().err

    output = tmp_path / "tilaukseen.csv"
    assert (
        await asyncio.to_thread(main, ["choices", "export", "--mark-ordered", "-o", str(output)])
        == 0
    )
    with output.open(encoding="utf-8-sig", newline="") as stream:
        exported = list(csv.DictReader(stream, delimiter=";"))
    assert [row["tila"] for row in exported] == ["tilattu"]
    assert not list(tmp_path.glob(".*.partial"))
    async with create_session_factory(engine)() as session:
        statuses = sorted((await session.scalars(select(PhoneChoice.status))).all())
    await engine.dispose()
    assert statuses == ["changed", "ordered"]

"""ICT's phone catalog file (CSV from Excel, or YAML): checked in full, stored as a new version."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.models import CatalogVersion, PhoneModel
from bot.numbers import LARGEST
from bot.refusal import Reason, Value
from bot.spreadsheet import (
    MAX_NUMBER_LENGTH,
    Problem,
    SpreadsheetError,
    decode_spreadsheet,
    fold_header,
    parse_decimal,
    without_euro_sign,
)

MAX_PRICE_CENTS = 500_000
SCREEN_INCHES_RANGE = (Decimal(4), Decimal(8))
MAX_CAMERA_MP = 300
TEXT_LIMITS = {"sku": 64, "brand": 64, "name": 128}
SOURCE_LIMIT = 500
OPERATING_SYSTEMS = ("android", "ios")

# Field -> accepted column names, compared after fold_header() (lower case, ä→a, ö→o, å→a, brackets
# and punctuation dropped). The first name is the one shown when the column is missing.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sku": ("tuotekoodi", "sku", "tuotenumero", "product_code", "code"),
    "brand": ("merkki", "brand", "valmistaja", "manufacturer"),
    "name": ("malli", "name", "nimi", "mallinimi", "model", "model_name"),
    "price": ("hinta", "price", "hinta_eur", "hinta_euroa", "price_eur"),
    "price_cents": ("hinta_senttia", "price_cents"),
    "storage_gb": (
        "tallennustila",
        "storage_gb",
        "storage",
        "tallennustila_gb",
        "tallennustila_gt",
        "muisti",
        "muisti_gb",
        "muisti_gt",
    ),
    "screen_inches": (
        "näyttö",
        "screen_inches",
        "screen",
        "screen_size",
        "näytön_koko",
        "näyttö_tuumaa",
        "näyttö_in",
    ),
    "camera_mp": ("kamera", "camera_mp", "camera", "kamera_mp", "pääkamera", "main_camera_mp"),
    "dual_sim": ("dual_sim", "dualsim", "kaksi_sim", "tupla_sim"),
    "esim": ("esim", "e_sim"),
    "five_g": ("5g", "five_g", "5g_tuki"),
    "os": ("käyttöjärjestelmä", "os", "operating_system"),
    "available": ("saatavilla", "available", "saatavuus", "tilattavissa"),
    "is_base": ("perusmalli", "base", "is_base", "base_model"),
}
# Columns for people's own notes; read past without complaint.
NOTE_COLUMNS = frozenset(
    {"huom", "huomautus", "huomautukset", "huomio", "lisätiedot", "lisätieto", "kommentti"}
    | {"kommentit", "note", "notes", "comment", "comments"}
)
REQUIRED = ("sku", "brand", "name", "storage_gb", "screen_inches", "camera_mp", "os")
REQUIRED_FLAGS = ("dual_sim", "esim", "five_g")
DEFAULTS = {"available": True, "is_base": False}  # when the column or key is absent

_TRUE = frozenset({"kyllä", "k", "yes", "y", "true", "tosi", "1", "x", "✓", "✔"})
_FALSE = frozenset({"ei", "e", "no", "n", "false", "epätosi", "0", "", "-"})
_SCREEN_UNIT = re.compile(r"\s*(?:\"|”|″|''|tuumaa?|inch(?:es)?|in)$", re.IGNORECASE)
_STORAGE_UNIT = re.compile(r"\s*(gb|gt|tb|tt)$", re.IGNORECASE)
_CAMERA_UNIT = re.compile(r"\s*(?:mpx?|megapikseliä|megapixels?)$", re.IGNORECASE)
_OS = re.compile(r"(android|ios)\b", re.IGNORECASE)


class CatalogFileError(SpreadsheetError):
    """The file cannot be imported; every problem found is listed, sorted by row (or model)."""

    def __init__(self, problems: Iterable[Problem], *, row_label: str = "row") -> None:
        self.row_label = row_label  # "model": a YAML file's models are numbered, not its lines
        self.column_label = "field" if row_label == "model" else "column"
        super().__init__(problems)


@dataclass(frozen=True)
class CatalogRow:
    """One valid phone model read from the file; `row` says where it came from."""

    sku: str
    brand: str
    name: str
    price_cents: int
    storage_gb: int
    screen_inches: float
    camera_mp: int
    dual_sim: bool
    esim: bool
    five_g: bool
    os: str
    available: bool
    is_base: bool
    row: int = 0


@dataclass(frozen=True)
class CatalogFile:
    rows: list[CatalogRow]
    source: str | None = None  # YAML's optional `source:`


def parse_catalog_file(path: Path) -> list[CatalogRow]:
    """The models in a .csv or .yaml/.yml file, or CatalogFileError listing every problem."""
    return read_catalog_file(path).rows


def read_catalog_file(path: Path) -> CatalogFile:
    suffix = path.suffix.lower()
    _check_type(suffix)
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = str(error.strerror or error)
        raise CatalogFileError([Problem(0, "", "file.unreadable", {"reason": reason})]) from error
    return read_catalog_bytes(data, suffix)


def read_catalog_bytes(data: bytes, suffix: str) -> CatalogFile:
    """read_catalog_file for bytes already read (an upload); `suffix` is the name's, ".csv"."""
    _check_type(suffix)
    if not data.strip():
        raise CatalogFileError([Problem(0, "", "file.empty")])
    if suffix == ".csv":
        return CatalogFile(_parse_csv(decode_spreadsheet(data, CatalogFileError)))
    return _parse_yaml(decode_spreadsheet(data, CatalogFileError))


def _check_type(suffix: str) -> None:
    if suffix not in (".csv", ".yaml", ".yml"):
        raise CatalogFileError([Problem(0, "", "catalog.unknown_type", {"suffix": suffix})])


async def import_catalog(
    *, session: AsyncSession, rows: Sequence[CatalogRow], source: str, is_example: bool = False
) -> CatalogVersion:
    """Add a new current catalog version; earlier versions stay exactly as they were.

    Runs in the caller's transaction, so a failure leaves the database unchanged. Choices refer to
    the PhoneModel rows of the version they were made in, so old rows are never edited or deleted.
    """
    problems: list[Problem] = []
    if not rows:
        problems.append(Problem(0, "", "catalog.no_models"))
    models = [
        _Model(row.row, {name: name for name in COLUMNS}, values=_values(row)) for row in rows
    ]
    _finish(models, problems, file_row=0, base_label="is_base", by_model=False)
    if problems:
        raise CatalogFileError(problems)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # Two imports at once must not both end up current; reads are not blocked.
        await session.execute(
            text(f"LOCK TABLE {CatalogVersion.__tablename__} IN SHARE ROW EXCLUSIVE MODE")
        )
    await session.execute(
        update(CatalogVersion)
        .where(CatalogVersion.is_current.is_(True))
        .values(is_current=False)
        .execution_options(synchronize_session="fetch")
    )
    version = CatalogVersion(source=source[:SOURCE_LIMIT], is_example=is_example, is_current=True)
    version.models = [
        PhoneModel(
            sku=row.sku,
            brand=row.brand,
            name=row.name,
            price_cents=row.price_cents,
            storage_gb=row.storage_gb,
            screen_inches=row.screen_inches,
            camera_mp=row.camera_mp,
            dual_sim=row.dual_sim,
            esim=row.esim,
            five_g=row.five_g,
            os=row.os,
            available=row.available,
            is_base=row.is_base,
        )
        for row in rows
    ]
    session.add(version)
    await session.flush()
    return version


def _values(row: CatalogRow) -> dict[str, Any]:
    values = asdict(row)
    del values["row"]
    return values


# --- reading ---------------------------------------------------------------------------------


_ALIASES = {fold_header(alias): name for name, aliases in COLUMNS.items() for alias in aliases}
_NOTES = {fold_header(note) for note in NOTE_COLUMNS}
_KNOWN = ", ".join(names[0] for names in COLUMNS.values())


def _field_for(header: str) -> str | None:
    return _ALIASES.get(fold_header(header))


def _is_note(header: str) -> bool:
    return fold_header(header) in _NOTES


def _parse_csv(content: str) -> list[CatalogRow]:
    records = _csv_records(content)
    if not records:
        raise CatalogFileError([Problem(0, "", "file.empty")])
    (header_row, headers), data = records[0], records[1:]

    problems: list[Problem] = []
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header.strip() or _is_note(header):
            continue
        name = _field_for(header)
        if name is None:
            known = {"known": _KNOWN}
            problems.append(Problem(header_row, header.strip(), "catalog.unknown_column", known))
        elif name in columns:
            earlier = {"earlier": headers[columns[name]].strip()}
            problems.append(Problem(header_row, header.strip(), "catalog.same_column", earlier))
        else:
            columns[name] = index
    problems.extend(_missing(columns, row=header_row, label=lambda name: COLUMNS[name][0]))
    if not data:
        problems.append(Problem(0, "", "catalog.only_header"))
        raise CatalogFileError(problems)

    shown = {name: headers[index].strip() for name, index in columns.items()}
    models: list[_Model] = []
    for number, record in data:
        if any(cell.strip() for cell in record[len(headers) :]):
            counts = {"values": str(len(record)), "columns": str(len(headers))}
            problems.append(Problem(number, "", "catalog.too_many_values", counts))
            continue
        raw = {
            name: record[index].strip() if index < len(record) else ""
            for name, index in columns.items()
        }
        models.append(_read_model(number, raw, shown, problems))
    rows = _finish(
        models,
        problems,
        file_row=header_row,
        base_label=shown.get("is_base", COLUMNS["is_base"][0]),
        by_model=False,
    )
    if problems:
        raise CatalogFileError(problems)
    return rows


def _csv_records(content: str) -> list[tuple[int, list[str]]]:
    """Non-blank records numbered as the file's rows; an Excel `sep=;` line is honoured."""
    first_line = next((line.strip() for line in content.splitlines() if line.strip()), "")
    hinted = first_line.lower().startswith("sep=") and len(first_line) == 5
    delimiter = first_line[4] if hinted else _delimiter(first_line)
    try:
        records = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
    except csv.Error as error:
        unreadable = Problem(0, "", "catalog.unreadable_csv", {"reason": str(error)})
        raise CatalogFileError([unreadable]) from error
    numbered = [
        (number, record)
        for number, record in enumerate(records, start=1)
        if any(cell.strip() for cell in record)
    ]
    return numbered[1:] if hinted else numbered


def _delimiter(header_line: str) -> str:
    """The delimiter under which most header cells are known column names."""

    def score(candidate: str) -> tuple[int, int]:
        cells = next(csv.reader([header_line], delimiter=candidate), [])
        return sum(_field_for(cell) is not None for cell in cells), len(cells)

    return max([";", ",", "\t"], key=score)


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML, except that a whole number too long for int() stays text for its check."""


def _int_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    try:
        return int(loader.construct_yaml_int(node))
    except ValueError:
        return str(loader.construct_scalar(node))


_YamlLoader.add_constructor("tag:yaml.org,2002:int", _int_or_text)


def _parse_yaml(content: str) -> CatalogFile:
    try:
        data = yaml.load(content, Loader=_YamlLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        invalid = (
            Problem(0, "", "catalog.invalid_yaml_at", {"line": str(mark.line + 1)})
            if mark is not None
            else Problem(0, "", "catalog.invalid_yaml")
        )
        raise CatalogFileError([invalid]) from error
    if isinstance(data, dict) and "models" not in data and isinstance(data.get("catalog"), dict):
        data = data["catalog"]  # the shape of bot/demo/data.yaml
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise CatalogFileError([Problem(0, "models", "catalog.no_models_key")])
    source = data.get("source")
    if source is not None and not isinstance(source, str):
        raise CatalogFileError([Problem(0, "source", "catalog.source_not_text")])
    items: list[Any] = data["models"]
    if not items:
        raise CatalogFileError([Problem(0, "models", "catalog.no_models")])

    problems: list[Problem] = []
    models: list[_Model] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(number, "", "catalog.model_not_mapping"))
            continue
        raw: dict[str, Any] = {}
        shown: dict[str, str] = {}
        for key, value in item.items():
            name = _field_for(str(key))
            if name is None:
                known = {"known": _KNOWN}
                problems.append(Problem(number, str(key), "catalog.unknown_field", known))
            elif name in raw:
                earlier = {"earlier": shown[name]}
                problems.append(Problem(number, str(key), "catalog.same_field", earlier))
            else:
                raw[name], shown[name] = value, str(key)
        problems.extend(_missing(raw, row=number, label=lambda name: name))
        models.append(_read_model(number, raw, shown, problems))
    rows = _finish(models, problems, file_row=0, base_label="is_base", by_model=True)
    if problems:
        raise CatalogFileError(problems, row_label="model")
    return CatalogFile(rows, source.strip() if source and source.strip() else None)


def _missing(
    present: Mapping[str, object], *, row: int, label: Callable[[str], str]
) -> list[Problem]:
    """Required columns (CSV) or keys (one YAML model) that are absent."""
    problems = [
        Problem(row, label(name), "catalog.missing", {"names": ", ".join(COLUMNS[name])})
        for name in (*REQUIRED, *REQUIRED_FLAGS)
        if name not in present
    ]
    if "price" in present and "price_cents" in present:
        problems.append(Problem(row, label("price_cents"), "catalog.price_twice"))
    elif "price" not in present and "price_cents" not in present:
        names = ", ".join((*COLUMNS["price"], *COLUMNS["price_cents"]))
        problems.append(Problem(row, label("price"), "catalog.missing", {"names": names}))
    return problems


# --- one model -------------------------------------------------------------------------------


class _Invalid(ValueError):
    """A value that cannot be used; why is shown to ICT, worded from the catalog."""

    def __init__(self, key: str, /, **values: Value) -> None:
        self.reason = Reason(key, values)
        super().__init__(key)


@dataclass
class _Model:
    """One model as read: the values that parsed, the column each came from, any failure."""

    number: int
    shown: Mapping[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    complete: bool = True


def _read_model(
    number: int, raw: Mapping[str, Any], shown: Mapping[str, str], problems: list[Problem]
) -> _Model:
    model = _Model(number, shown)
    parsers: dict[str, Callable[[Any], Any]] = {
        "sku": lambda value: _text(value, TEXT_LIMITS["sku"]),
        "brand": lambda value: _text(value, TEXT_LIMITS["brand"]),
        "name": lambda value: _text(value, TEXT_LIMITS["name"]),
        "price": _price_euros,
        "price_cents": _price_cents,
        "storage_gb": _storage,
        "screen_inches": _screen,
        "camera_mp": _camera,
        "os": _os,
        "dual_sim": _flag,
        "esim": _flag,
        "five_g": _flag,
        "is_base": _flag,
        "available": _flag,
    }
    for name, parse in parsers.items():
        if name not in raw:
            continue
        try:
            model.values[name] = parse(raw[name])
        except _Invalid as error:
            problems.append(Problem(number, shown[name], error.reason.key, error.reason.values))
            model.complete = False
    for name, default in DEFAULTS.items():
        if name not in raw:
            model.values[name] = default
    if "price" in model.values:
        model.values.setdefault("price_cents", model.values.pop("price"))
    required = (*REQUIRED, *REQUIRED_FLAGS, "price_cents")
    model.complete = model.complete and all(name in model.values for name in required)
    return model


def _text(value: Any, limit: int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Invalid("cell.missing")
    if isinstance(value, (bool, float)) or not isinstance(value, (str, int)):
        raise _Invalid("catalog.not_text", value=str(value))
    cleaned = " ".join(str(value).split())
    if len(cleaned) > limit:
        raise _Invalid("catalog.too_long", length=str(len(cleaned)), limit=limit)
    return cleaned


def _number(value: Any, unit: re.Pattern[str] | None = None) -> tuple[Decimal, str]:
    """A decimal from 449, 449.0, "449,00", "1 299,90" or "1.299,90"; and a unit suffix if any."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Invalid("cell.missing")
    if isinstance(value, bool):
        raise _Invalid("catalog.not_a_number", value=str(value))
    if isinstance(value, int) and abs(value) >= 10**MAX_NUMBER_LENGTH:
        raise _Invalid("catalog.number_too_long", limit=MAX_NUMBER_LENGTH)
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
        if not number.is_finite():
            raise _Invalid("catalog.not_a_number", value=str(value))
        return number, ""
    shown = str(value).strip()
    cleaned = shown
    suffix = ""
    if unit is not None and (match := unit.search(cleaned)):
        suffix = match.group(0).strip().lower()
        cleaned = cleaned[: match.start()].strip()
    parsed = parse_decimal(cleaned)
    if parsed is None:
        raise _Invalid("catalog.not_a_number", value=shown)
    return parsed, suffix


def _price_euros(value: Any) -> int:
    if isinstance(value, str):
        value = without_euro_sign(value)
    euros, _ = _number(value)
    return _checked_price(euros * 100)


def _price_cents(value: Any) -> int:
    cents, _ = _number(value)
    if cents != cents.to_integral_value():
        raise _Invalid("catalog.cents_not_whole", value=str(value))
    return _checked_price(cents)


def _checked_price(cents: Decimal) -> int:
    euros = _plain(cents / 100)
    if cents <= 0:
        raise _Invalid("catalog.price_not_positive", price=euros)
    if cents != cents.to_integral_value():
        raise _Invalid("catalog.price_decimals", price=euros)
    if cents > MAX_PRICE_CENTS:
        limit = str(MAX_PRICE_CENTS // 100)
        raise _Invalid("catalog.price_too_large", price=euros, limit=limit)
    return int(cents)


def _plain(amount: Decimal) -> str:
    """A decimal as written in Finnish, without exponent: 1299,9."""
    return format(amount.normalize(), "f").replace(".", ",")


def _storage(value: Any) -> int:
    amount, unit = _number(value, _STORAGE_UNIT)
    if unit in ("tb", "tt"):
        amount *= 1024
    if amount <= 0 or amount != amount.to_integral_value():
        raise _Invalid("catalog.storage_not_whole", value=str(value))
    if amount > LARGEST:
        raise _Invalid("catalog.storage_too_large")
    return int(amount)


def _screen(value: Any) -> float:
    inches, _ = _number(value, _SCREEN_UNIT)
    low, high = SCREEN_INCHES_RANGE
    if not low <= inches <= high:
        raise _Invalid("catalog.screen_range", low=str(low), high=str(high), inches=_plain(inches))
    return float(inches)


def _camera(value: Any) -> int:
    megapixels, _ = _number(value, _CAMERA_UNIT)
    if not 0 < megapixels <= MAX_CAMERA_MP:
        shown = _plain(megapixels)
        raise _Invalid("catalog.camera_range", limit=MAX_CAMERA_MP, megapixels=shown)
    return int(megapixels.to_integral_value(rounding=ROUND_HALF_UP))


def _os(value: Any) -> str:
    if value is None or not str(value).strip():
        raise _Invalid("cell.missing")
    match = _OS.match(str(value).strip())
    if match is None:
        allowed = ", ".join(OPERATING_SYSTEMS)
        raise _Invalid("catalog.unknown_os", value=str(value), allowed=allowed)
    return match.group(1).lower()


def _flag(value: Any) -> bool:
    """kyllä/ei, yes/no, true/false, 1/0, x/empty, in any case; YAML's own booleans too."""
    if isinstance(value, bool):
        return value
    word = "" if value is None else str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _Invalid("catalog.not_a_flag", value=str(value))


# --- the catalog as a whole ----------------------------------------------------------------


def _finish(
    models: Sequence[_Model],
    problems: list[Problem],
    *,
    file_row: int,
    base_label: str,
    by_model: bool,
) -> list[CatalogRow]:
    """Rules across models (unique SKUs, exactly one base model that can be ordered); the rows.

    Every model whose cell could be read takes part, so a row with other problems still counts.
    `by_model`: the models are numbered as a YAML file's are, not by the rows of a CSV file.
    """
    by_sku: dict[str, list[_Model]] = {}
    for model in models:
        if "sku" in model.values:
            by_sku.setdefault(model.values["sku"].casefold(), []).append(model)
    duplicate = "catalog.duplicate_sku_models" if by_model else "catalog.duplicate_sku_rows"
    for same in (same for same in by_sku.values() if len(same) > 1):
        numbers = ", ".join(str(model.number) for model in same)
        for model in same:
            named = {"sku": model.values["sku"], "numbers": numbers}
            problems.append(Problem(model.number, model.shown.get("sku", "sku"), duplicate, named))

    bases = [model for model in models if model.values.get("is_base")]
    all_read = all("is_base" in model.values for model in models)
    if models and not bases and all_read:
        problems.append(Problem(file_row, base_label, "catalog.no_base"))
    if len(bases) > 1:
        many = "catalog.many_bases_models" if by_model else "catalog.many_bases_rows"
        numbers = ", ".join(str(model.number) for model in bases)
        named = {"bases": str(len(bases)), "numbers": numbers}
        for model in bases:
            problems.append(Problem(model.number, model.shown["is_base"], many, named))
    for model in bases:
        if model.values.get("available") is False:
            column = model.shown.get("available", model.shown["is_base"])
            problems.append(Problem(model.number, column, "catalog.base_unavailable"))
    return [CatalogRow(**model.values, row=model.number) for model in models if model.complete]

"""The files ICT and payroll exchange with Excel on Finnish Windows, as the three importers read
them (catalog, payroll's monthly file, existing plans): their text, their headers, their numbers
and months, and one way to say what is wrong in them, by line and column.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

YEARS = range(2000, 2100)  # a month outside these is a typo
# ASCII digits only: \d would take other scripts' digits too, and Decimal() reads them.
_PLAIN_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")
_SPACE = "[ \u00a0\u202f]"  # space, no-break space and narrow no-break space, as Excel writes
_SPACED_THOUSANDS = re.compile(rf"[-+]?[0-9]{{1,3}}(?:{_SPACE}[0-9]{{3}})+(?:[.,][0-9]+)?")
_SIGN_APART = re.compile(rf"^([-+]){_SPACE}+")
# More whole digits than any amount or price a person writes.
MAX_NUMBER_LENGTH = 40
_DOT_THOUSANDS = re.compile(r"[-+]?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+")
_COMMA_THOUSANDS = re.compile(r"[-+]?[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+")
_EUROS = re.compile(r"\s*(?:€|(?<![a-z])eur(?:oa?)?\b)\s*", re.IGNORECASE)
_MONTH_ISO = re.compile(r"([0-9]{4})-([0-9]{2})")
_MONTH_SLASH = re.compile(r"([0-9]{1,2})/([0-9]{4})")
_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]")
_ASCII = str.maketrans({"ä": "a", "ö": "o", "å": "a"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where as its author sees it (0 = the file as a whole)."""

    line: int
    column: str
    message: str


class SpreadsheetError(Exception):
    """A file that was not imported; every problem found is listed, in file order."""

    row_label = "rivi"
    column_label = "sarake"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(self.describe(problem) for problem in self.problems)

    def describe(self, problem: Problem) -> str:
        """ "rivi 3, sarake "summa": …", or "tiedosto: …" for the file as a whole."""
        where = f"{self.row_label} {problem.line}" if problem.line else "tiedosto"
        if problem.column:
            where += f', {self.column_label} "{problem.column}"'
        return f"{where}: {problem.message}"


def fold_header(name: str, *, brackets: bool = False) -> str:
    """A column name as compared: lower case, ä/ö/å as a/o/a, without punctuation or spaces, so
    "Henkilö-numero" is "henkilonumero"; and without what is in brackets ("Hinta (€)" is "hinta")
    unless `brackets` keeps it ("Summa (netto)" is "summanetto")."""
    name = name.replace("\ufeff", "").lower()
    if not brackets:
        name = _BRACKETS.sub(" ", name)
    return re.sub(r"[\W_]+", "", name.translate(_ASCII))


def parse_decimal(text: str) -> Decimal | None:
    """A number as Excel writes it: 449, 449,00, 449.00, 1 299,90, 1.299,90 or 1,299.90; None if
    it is not one. One with more than MAX_NUMBER_LENGTH whole digits reads as 10**40."""
    cleaned = _SIGN_APART.sub(r"\1", text.strip().replace("\u2212", "-"))
    if _SPACED_THOUSANDS.fullmatch(cleaned):
        cleaned = re.sub(_SPACE, "", cleaned)
    if _DOT_THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif _COMMA_THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        return None
    if len(cleaned.lstrip("+-").partition(".")[0]) > MAX_NUMBER_LENGTH:
        # Far beyond any amount: kept finite, for Decimal would overflow on a million digits.
        return Decimal(f"{'-' if cleaned.startswith('-') else ''}1E{MAX_NUMBER_LENGTH}")
    return Decimal(cleaned)


def without_euro_sign(text: str) -> str:
    """ "12,50 €", "€12.50" and "12,50 euroa" as the number alone."""
    return _EUROS.sub(" ", text).strip()


def parse_cents(raw: str, *, limit_cents: int) -> int | str:
    """Euros as cents (12,50, 12.50, 1 234,50, 1.234,50, with or without €), or the problem as
    shown to the file's author: at most two decimals, not negative, not above the limit."""
    value = raw.strip()
    if not value:
        return "summa puuttuu"
    number = parse_decimal(without_euro_sign(value))
    if number is None:
        return f'ei ole summa: "{value}" (muoto 12,50)'
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:  # "12,500" is not 12,50 € written long
        return f'summassa saa olla enintään 2 desimaalia, nyt "{value}"'
    cents = number * 100
    if cents < 0:
        return f'summa ei voi olla negatiivinen, nyt "{value}"'
    if cents > limit_cents:
        return f'summa "{value}" on epäuskottavan suuri (enintään {limit_cents // 100} €)'
    return int(cents)


def parse_month(raw: str) -> date | str:
    """A pay period (2026-11 or 11/2026) as the first of its month, or the problem as shown to
    the file's author."""
    value = raw.strip()
    if not value:
        return "palkkakausi puuttuu"
    if match := _MONTH_ISO.fullmatch(value):
        year, month = int(match.group(1)), int(match.group(2))
    elif match := _MONTH_SLASH.fullmatch(value):
        month, year = int(match.group(1)), int(match.group(2))
    else:
        return f'palkkakausi "{value}" ei kelpaa; käytä muotoa 2026-11 tai 11/2026'
    if not 1 <= month <= 12:
        return f'palkkakaudessa "{value}" ei ole kuukautta {month}'
    if year not in YEARS:
        return f'palkkakauden "{value}" vuosi ei ole uskottava'
    return date(year, month, 1)


# Excel saves "CSV UTF-8" with a UTF-8 BOM and "Unicode text" as UTF-16 with a BOM.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def decode_spreadsheet(data: bytes, failure: type[SpreadsheetError]) -> str:
    """What the three importers accept from Excel: UTF-8 with or without BOM, UTF-16 with BOM,
    else Windows-1252 (ISO-8859-1 as a last resort). A file marked as Unicode whose bytes are
    not raises the importer's own `failure`, about the file as a whole."""
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                message = f"tiedosto on merkitty {name}-muotoiseksi mutta on rikki"
                raise failure([Problem(0, "", message)]) from error
    return decode_without_bom(data)


def tab_separated(text: str) -> bool:
    """Excel's "Unicode text" separates cells with tabs: its first line has tabs and no ';'."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "\t" in first and ";" not in first


def decode_without_bom(data: bytes) -> str:
    """UTF-8 if the bytes are valid UTF-8, else Windows-1252, else ISO-8859-1 (never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def excel_text(value: str | None) -> str:
    """A text cell that Excel will show as text, never evaluate as a formula."""
    if not value:
        return ""
    if value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value

"""The files ICT and payroll exchange with Excel on Finnish Windows, as the three importers read
them (catalog, payroll's monthly file, existing plans): their text, their headers, their numbers
and months, and one way to say what is wrong in them, by line and column.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.refusal import Reason, Value

if TYPE_CHECKING:
    from bot.i18n import Texts

# The catalogs' section that words every problem, and its labels for where a problem is.
PROBLEM_CATALOG = "import_problem"

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
    """One thing wrong in a file: where as its author sees it (0 = the file as a whole), and what
    as a key under the catalogs' `import_problem` with the values its text names. Numbers that
    the catalog's texts would group (5 000) are given as text, as the file or the rule writes them.
    """

    line: int
    column: str
    key: str
    values: Mapping[str, Value] = field(default_factory=dict)

    def worded(self, t: Texts) -> str:
        """What is wrong, in the reader's language, without where."""
        return t(f"{PROBLEM_CATALOG}.{self.key}", **self.values)


class SpreadsheetError(Exception):
    """A file that was not imported; every problem found is listed, in file order.

    `worded` says them in a reader's language; str() names only the keys and lines, which is
    what a log line may hold.
    """

    # Labels under `import_problem.label`: what the file's lines and columns are called.
    row_label = "row"
    column_label = "column"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__(str(self))

    def __str__(self) -> str:
        return ", ".join(f"{problem.key}@{problem.line}" for problem in self.problems)

    def worded(self, t: Texts) -> str:
        """Every problem in the reader's language, one a line, each with where it is."""
        return "\n".join(self.describe(problem, t) for problem in self.problems)

    def describe(self, problem: Problem, t: Texts) -> str:
        """ "rivi 3, sarake "summa": …", or "tiedosto: …" for the file as a whole."""

        def label(name: str) -> str:
            return t(f"{PROBLEM_CATALOG}.label.{name}")

        where = f"{label(self.row_label)} {problem.line}" if problem.line else label("file")
        if problem.column:
            where += f', {label(self.column_label)} "{problem.column}"'
        return f"{where}: {problem.worded(t)}"


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


def parse_cents(raw: str, *, limit_cents: int) -> int | Reason:
    """Euros as cents (12,50, 12.50, 1 234,50, 1.234,50, with or without €), or why not, as
    shown to the file's author: at most two decimals, not negative, not above the limit."""
    value = raw.strip()
    if not value:
        return Reason("amount.missing")
    number = parse_decimal(without_euro_sign(value))
    if number is None:
        return Reason("amount.not_a_sum", {"value": value})
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:  # "12,500" is not 12,50 € written long
        return Reason("amount.decimals", {"value": value})
    cents = number * 100
    if cents < 0:
        return Reason("amount.negative", {"value": value})
    if cents > limit_cents:
        return Reason("amount.too_large", {"value": value, "limit": str(limit_cents // 100)})
    return int(cents)


def parse_month(raw: str) -> date | Reason:
    """A pay period (2026-11 or 11/2026) as the first of its month, or why not, as shown to the
    file's author."""
    value = raw.strip()
    if not value:
        return Reason("period.missing")
    if match := _MONTH_ISO.fullmatch(value):
        year, month = int(match.group(1)), int(match.group(2))
    elif match := _MONTH_SLASH.fullmatch(value):
        month, year = int(match.group(1)), int(match.group(2))
    else:
        return Reason("period.format", {"value": value})
    if not 1 <= month <= 12:
        return Reason("period.month", {"value": value, "month": month})
    if year not in YEARS:
        return Reason("period.year", {"value": value})
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
                broken = Problem(0, "", "file.broken_unicode", {"encoding": name})
                raise failure([broken]) from error
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


# Finnish alphabetical order: å, ä and ö come after z (æ and ø sort as ä and ö, ü as y);
# other accents are ignored. Private-use characters sort after every letter.
_FINNISH_LETTERS = str.maketrans(
    {"å": "\ue000", "ä": "\ue001", "æ": "\ue001", "ö": "\ue002", "ø": "\ue002", "ü": "y"}
)


def finnish_order(value: str) -> str:
    """A sort key that puts names in Finnish alphabetical order."""
    decomposed = unicodedata.normalize(
        "NFKD", unicodedata.normalize("NFC", value).casefold().translate(_FINNISH_LETTERS)
    )
    return "".join(char for char in decomposed if not unicodedata.combining(char))

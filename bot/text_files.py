"""Text of the files ICT and payroll exchange with Excel on Finnish Windows."""

from __future__ import annotations

import codecs

# Excel saves "CSV UTF-8" with a UTF-8 BOM and "Unicode text" as UTF-16 with a BOM.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


class UnreadableText(ValueError):
    """A file marked as Unicode whose bytes are not; the message is for the person who saved it."""


def decode_spreadsheet(data: bytes) -> str:
    """What the three importers accept from Excel: UTF-8 with or without BOM, UTF-16 with BOM,
    else Windows-1252 (ISO-8859-1 as a last resort)."""
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                message = f"tiedosto on merkitty {name}-muotoiseksi mutta on rikki"
                raise UnreadableText(message) from error
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

"""Text of the files ICT and payroll exchange with Excel on Finnish Windows."""

from __future__ import annotations


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

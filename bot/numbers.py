"""Whole numbers from cards, typed form fields and import files, checked in one place."""

from __future__ import annotations

LARGEST = 2**31 - 1  # PostgreSQL's integer: every id and amount column holds this much, no more
_LARGEST_DIGITS = len(str(LARGEST))


def payload_int(value: object, *, smallest: int = 1) -> int | None:
    """The number in an int or a string of ASCII digits, within smallest..LARGEST; else None.

    Refused though `int()` would take them: a bool, a float, other scripts' digits ("²", "٣"),
    a sign, spaces, underscores, and a string too long to convert.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        significant = value.lstrip("0") or "0"
        if len(significant) > _LARGEST_DIGITS:
            return None
        number = int(significant)
    else:
        return None
    return number if smallest <= number <= LARGEST else None

"""Finnish public holidays: days off for everyone, so no work notification is sent on them."""

from __future__ import annotations

from datetime import date, timedelta


def easter_sunday(year: int) -> date:
    """Easter by the Gregorian computus (the anonymous algorithm of 1876)."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century + 8) // 25
    solar_correction = (century - moon_correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - solar_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    shift = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * shift + 114, 31)
    return date(year, month, day + 1)


def finnish_public_holidays(year: int) -> set[date]:
    """Every public holiday of the year, including those that always fall on a weekend."""
    easter = easter_sunday(year)
    return {
        date(year, 1, 1),  # New Year's Day
        date(year, 1, 6),  # Epiphany
        easter - timedelta(days=2),  # Good Friday
        easter,
        easter + timedelta(days=1),  # Easter Monday
        date(year, 5, 1),  # May Day
        easter + timedelta(days=39),  # Ascension Day
        easter + timedelta(days=49),  # Whitsun
        _weekday_from(date(year, 6, 19), 4),  # Midsummer Eve
        _weekday_from(date(year, 6, 20), 5),  # Midsummer Day
        _weekday_from(date(year, 10, 31), 5),  # All Saints' Day
        date(year, 12, 6),  # Independence Day
        date(year, 12, 24),  # Christmas Eve
        date(year, 12, 25),  # Christmas Day
        date(year, 12, 26),  # Boxing Day
    }


def parse_dates(text: str) -> frozenset[date]:
    """Comma-separated ISO dates from settings ("2026-01-02, 2026-05-15"); empty parts ignored."""
    found: set[date] = set()
    for part in text.split(","):
        if part.strip():
            try:
                found.add(date.fromisoformat(part.strip()))
            except ValueError as error:
                raise ValueError(f"{part.strip()!r} is not a date like 2026-12-31") from error
    return frozenset(found)


def _weekday_from(first: date, weekday: int) -> date:
    """The first day on or after `first` that falls on `weekday` (0 = Monday)."""
    return first + timedelta(days=(weekday - first.weekday()) % 7)

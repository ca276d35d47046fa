"""Finnish public holidays, checked against the calendar."""

from __future__ import annotations

from datetime import date

import pytest

from bot.notifications.holidays import easter_sunday, finnish_public_holidays, parse_dates


@pytest.mark.parametrize(
    "easter",
    [
        date(2000, 4, 23),
        date(2008, 3, 23),
        date(2019, 4, 21),
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
        date(2028, 4, 16),
        date(2038, 4, 25),  # as late as it gets
        date(2285, 3, 22),  # as early as it gets
    ],
)
def test_easter_by_the_gregorian_computus(easter):
    assert easter_sunday(easter.year) == easter


def test_every_public_holiday_of_2026():
    assert finnish_public_holidays(2026) == {
        date(2026, 1, 1),
        date(2026, 1, 6),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 5),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 14),  # Ascension Day
        date(2026, 5, 24),  # Whitsun
        date(2026, 6, 19),  # Midsummer Eve
        date(2026, 6, 20),  # Midsummer Day
        date(2026, 10, 31),  # All Saints' Day
        date(2026, 12, 6),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
    }


def test_the_moving_holidays_of_2027():
    holidays = finnish_public_holidays(2027)
    moving = {
        date(2027, 3, 26),  # Good Friday
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 6),  # Ascension Day
        date(2027, 5, 16),  # Whitsun
        date(2027, 6, 25),  # Midsummer Eve
        date(2027, 6, 26),  # Midsummer Day
        date(2027, 11, 6),  # All Saints' Day
    }
    assert moving <= holidays and len(holidays) == 15


@pytest.mark.parametrize("year", range(2024, 2060))
def test_midsummer_and_all_saints_fall_on_their_weekdays(year):
    holidays = finnish_public_holidays(year)
    eve = [day for day in holidays if day.month == 6 and day.weekday() == 4]
    midsummer = [day for day in holidays if day.month == 6 and day.weekday() == 5]
    assert len(eve) == 1 and 19 <= eve[0].day <= 25
    assert len(midsummer) == 1 and midsummer[0] == date(year, 6, eve[0].day + 1)
    saints = [day for day in holidays if (day.month, day.day) >= (10, 31) and day.month < 12]
    assert len(saints) == 1 and saints[0].weekday() == 5
    assert date(year, 10, 31) <= saints[0] <= date(year, 11, 6)


def test_extra_days_off_from_settings_text():
    assert parse_dates("") == frozenset()
    assert parse_dates(" 2026-01-02 , 2026-05-15,") == {date(2026, 1, 2), date(2026, 5, 15)}
    with pytest.raises(ValueError, match="2026-02-30"):
        parse_dates("2026-02-30")

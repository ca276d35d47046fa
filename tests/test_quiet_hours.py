"""Working hours in Pori: sends wait for the next working morning."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from pydantic import ValidationError

from bot.background import working_hours
from bot.clock import HELSINKI
from bot.notifications.holidays import finnish_public_holidays
from bot.notifications.quiet_hours import WorkingHours
from bot.settings import Settings

HOURS = WorkingHours()


def helsinki(*args: int) -> datetime:
    return datetime(*args, tzinfo=HELSINKI)


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (helsinki(2026, 12, 1, 10, 0), True),  # Tuesday morning
        (helsinki(2026, 12, 1, 8, 0), True),
        (helsinki(2026, 12, 1, 7, 59), False),
        (helsinki(2026, 12, 1, 15, 59), True),
        (helsinki(2026, 12, 1, 16, 0), False),
        (helsinki(2026, 12, 1, 22, 0), False),
        (helsinki(2026, 12, 5, 10, 0), False),  # Saturday
        (helsinki(2026, 12, 6, 10, 0), False),  # Sunday
    ],
)
def test_allows_only_working_hours_on_working_days(moment, allowed):
    assert HOURS.allows(moment.astimezone(UTC)) is allowed


def test_working_hours_are_helsinki_time_not_utc():
    # 07:30 UTC on a winter Tuesday is 09:30 in Pori; 14:30 UTC is 16:30 there.
    assert HOURS.allows(datetime(2026, 12, 1, 7, 30, tzinfo=UTC))
    assert not HOURS.allows(datetime(2026, 12, 1, 14, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("moment", "resumes"),
    [
        (helsinki(2026, 12, 1, 22, 0), helsinki(2026, 12, 2, 8, 0)),  # Tuesday night
        (helsinki(2026, 12, 2, 5, 0), helsinki(2026, 12, 2, 8, 0)),  # early Wednesday
        (helsinki(2026, 12, 4, 16, 0), helsinki(2026, 12, 7, 8, 0)),  # Friday after work
        (helsinki(2026, 12, 5, 12, 0), helsinki(2026, 12, 7, 8, 0)),  # Saturday
        (helsinki(2026, 3, 27, 17, 0), helsinki(2026, 3, 30, 8, 0)),  # over the DST change
    ],
)
def test_next_allowed_is_the_next_working_morning(moment, resumes):
    assert HOURS.next_allowed(moment.astimezone(UTC)) == resumes.astimezone(UTC)
    assert HOURS.next_allowed(moment).tzinfo is UTC


def test_next_allowed_during_working_hours_is_now():
    now = helsinki(2026, 12, 1, 10, 0).astimezone(UTC)
    assert HOURS.next_allowed(now) == now


def test_holidays_are_skipped():
    hours = WorkingHours(holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    assert not hours.allows(helsinki(2026, 12, 24, 10, 0))
    assert hours.next_allowed(helsinki(2026, 12, 23, 17, 0)) == helsinki(2026, 12, 28, 8, 0)


@pytest.mark.parametrize(
    ("moment", "resumes"),
    [
        (helsinki(2026, 4, 2, 17, 0), helsinki(2026, 4, 7, 8, 0)),  # over Easter
        (helsinki(2026, 5, 13, 16, 0), helsinki(2026, 5, 15, 8, 0)),  # Ascension Day
        (helsinki(2026, 6, 18, 16, 0), helsinki(2026, 6, 22, 8, 0)),  # Midsummer
        (helsinki(2026, 12, 4, 16, 0), helsinki(2026, 12, 7, 8, 0)),  # Independence Day, Sunday
        (helsinki(2026, 12, 23, 16, 0), helsinki(2026, 12, 28, 8, 0)),  # Christmas
        (helsinki(2026, 12, 31, 16, 0), helsinki(2027, 1, 4, 8, 0)),  # into the next year
        (helsinki(2027, 1, 5, 16, 0), helsinki(2027, 1, 7, 8, 0)),  # Epiphany
        (helsinki(2027, 3, 25, 16, 0), helsinki(2027, 3, 30, 8, 0)),  # Easter 2027
    ],
)
def test_sends_resume_after_public_holidays(moment, resumes):
    assert HOURS.next_allowed(moment.astimezone(UTC)) == resumes.astimezone(UTC)


def test_no_weekday_public_holiday_allows_sends_by_default():
    weekdays = [day for day in finnish_public_holidays(2026) if day.weekday() < 5]
    assert len(weekdays) == 9
    for day in weekdays:
        assert not HOURS.allows(helsinki(day.year, day.month, day.day, 10, 0)), day


def test_public_holidays_can_be_turned_off():
    hours = WorkingHours(public_holidays=False)
    assert hours.allows(helsinki(2026, 4, 3, 10, 0))  # Good Friday
    assert hours.next_allowed(helsinki(2026, 6, 18, 16, 0)) == helsinki(2026, 6, 19, 8, 0)


def test_a_holiday_is_found_again_the_next_time_its_year_comes_up():
    hours = WorkingHours()
    good_friday = helsinki(2026, 4, 3, 10, 0)
    assert not hours.allows(good_friday)
    assert hours.allows(helsinki(2027, 4, 2, 10, 0))
    assert not hours.allows(good_friday)


@pytest.mark.parametrize(
    ("hours", "days", "expected"),
    [
        ("08:00-16:00", "mon-fri", WorkingHours()),
        ("9:00-17:30", "mon,wed", WorkingHours(time(9), time(17, 30), frozenset({0, 2}))),
        ("07:00-15:00", "fri-mon", WorkingHours(time(7), time(15), frozenset({4, 5, 6, 0}))),
        ("08:00-16:00", "Mon-Fri, Sun", WorkingHours(days=frozenset({0, 1, 2, 3, 4, 6}))),
    ],
)
def test_parse_settings_text(hours, days, expected):
    assert WorkingHours.parse(hours, days) == expected


def test_all_day_every_day():
    always = WorkingHours.parse("00:00-24:00", "mon-sun", public_holidays=False)
    assert always.allows(helsinki(2026, 12, 5, 23, 59))
    assert always.allows(helsinki(2026, 12, 6, 0, 0))


@pytest.mark.parametrize(
    ("hours", "days"),
    [("8-16", "mon-fri"), ("16:00-08:00", "mon-fri"), ("08:00-16:00", "weekdays"), ("", "")],
)
def test_parse_refuses_nonsense(hours, days):
    with pytest.raises(ValueError):
        WorkingHours.parse(hours, days)


def test_settings_read_the_notify_keys(monkeypatch):
    monkeypatch.setenv("NOTIFY_WORKING_HOURS", "09:00-15:00")
    monkeypatch.setenv("NOTIFY_WORKING_DAYS", "mon-thu")
    monkeypatch.setenv("NOTIFY_RATE_PER_SECOND", "20")
    monkeypatch.setenv("NOTIFY_GIVE_UP_AFTER_HOURS", "4.5")
    monkeypatch.setenv("NOTIFY_CONCURRENCY", "16")
    monkeypatch.setenv("NOTIFY_LEASE_SECONDS", "90")
    settings = Settings(_env_file=None)
    hours = WorkingHours.parse(settings.notify_working_hours, settings.notify_working_days)
    assert hours == WorkingHours(time(9), time(15), frozenset({0, 1, 2, 3}))
    assert settings.notify_rate_per_second == 20
    assert (settings.notify_give_up_after_hours, settings.notify_concurrency) == (4.5, 16)
    assert settings.notify_lease_seconds == 90


def test_settings_defaults_are_teams_limits_and_office_hours():
    settings = Settings(_env_file=None)
    assert settings.notify_rate_per_second == 50
    assert settings.notify_give_up_after_hours == 24
    assert WorkingHours.parse(settings.notify_working_hours, settings.notify_working_days) == HOURS
    assert working_hours(settings) == HOURS


def test_settings_add_the_citys_own_days_off(monkeypatch):
    monkeypatch.setenv("NOTIFY_EXTRA_HOLIDAYS", "2026-12-31, 2027-01-07")
    hours = working_hours(Settings(_env_file=None))
    assert hours.holidays == {date(2026, 12, 31), date(2027, 1, 7)} and hours.public_holidays
    assert hours.next_allowed(helsinki(2026, 12, 30, 16, 0)) == helsinki(2027, 1, 4, 8, 0)
    assert not hours.allows(helsinki(2027, 1, 7, 10, 0))
    assert not hours.allows(helsinki(2027, 1, 6, 10, 0))  # Epiphany still counts


def test_settings_can_turn_public_holidays_off(monkeypatch):
    monkeypatch.setenv("NOTIFY_PUBLIC_HOLIDAYS", "false")
    hours = working_hours(Settings(_env_file=None))
    assert not hours.public_holidays and hours.allows(helsinki(2026, 12, 24, 10, 0))


def test_settings_refuse_extra_holidays_that_are_not_dates(monkeypatch):
    monkeypatch.setenv("NOTIFY_EXTRA_HOLIDAYS", "2026-12-31,joulu")
    with pytest.raises(ValidationError, match="joulu"):
        Settings(_env_file=None)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI).astimezone(UTC)


@pytest.mark.parametrize(
    ("since", "until", "hours"),
    [
        (at(2027, 1, 15, 15), at(2027, 1, 18, 9), 2.0),  # Friday 15.00 to Monday 9.00
        (at(2027, 1, 12, 7), at(2027, 1, 12, 17), 8.0),  # a whole Tuesday and more
        (at(2026, 12, 23, 15), at(2026, 12, 28, 9), 2.0),  # over Christmas and a weekend
        (at(2027, 1, 12, 10), at(2027, 1, 12, 10), 0.0),
        (at(2027, 1, 12, 12), at(2027, 1, 12, 10), 0.0),  # backwards: nothing
    ],
)
def test_working_time_counts_only_working_hours(since, until, hours):
    assert HOURS.working_time(since, until).total_seconds() == hours * 3600


def test_working_time_of_a_day_without_rest_is_its_real_length_across_dst():
    always = WorkingHours.parse("00:00-24:00", "mon-sun", public_holidays=False)
    spring = always.working_time(at(2027, 3, 28, 0), at(2027, 3, 29, 0))
    autumn = always.working_time(at(2027, 10, 31, 0), at(2027, 11, 1, 0))
    assert (spring.total_seconds(), autumn.total_seconds()) == (23 * 3600, 25 * 3600)

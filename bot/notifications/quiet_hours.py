"""Working hours in Pori: nobody gets a work notification at night, at weekends or on holidays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import HELSINKI
from bot.notifications.holidays import finnish_public_holidays

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = time.max


@dataclass(frozen=True)
class WorkingHours:
    """Sends are allowed from `start` until `end` (local time) on `days` (0 = Monday).

    Finnish public holidays are days off unless `public_holidays` is False; `holidays` adds more.
    """

    start: time = time(8)
    end: time = time(16)
    days: frozenset[int] = frozenset(range(5))
    tz: ZoneInfo = HELSINKI
    holidays: frozenset[date] = field(default_factory=frozenset)
    public_holidays: bool = True
    _public_by_year: dict[int, frozenset[date]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("working hours must start before they end")
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("working days must be some of mon..sun")

    @classmethod
    def parse(
        cls,
        hours: str = "08:00-16:00",
        days: str = "mon-fri",
        holidays: Iterable[date] = (),
        *,
        public_holidays: bool = True,
    ) -> WorkingHours:
        """From settings: hours "08:00-16:00" ("24:00" is midnight), days "mon-fri"."""
        try:
            start_text, end_text = hours.split("-")
            start = _parse_time(start_text)
            end = END_OF_DAY if end_text.strip() == "24:00" else _parse_time(end_text)
        except ValueError as error:
            raise ValueError(f"working hours {hours!r}: expected HH:MM-HH:MM") from error
        return cls(
            start=start,
            end=end,
            days=_parse_days(days),
            holidays=frozenset(holidays),
            public_holidays=public_holidays,
        )

    def allows(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        return self._working_day(local.date()) and self.start <= local.time() < self.end

    def next_allowed(self, now: datetime) -> datetime:
        """`now` if sending is allowed now, else when the next working hours begin (UTC)."""
        if self.allows(now):
            return now
        local = now.astimezone(self.tz)
        day = local.date()
        if local.time() >= self.start:
            day += timedelta(days=1)
        for _ in range(400):
            if self._working_day(day):
                return datetime.combine(day, self.start, self.tz).astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError("no working day within a year")

    def working_time(self, since: datetime, until: datetime) -> timedelta:
        """How much of `since`..`until` falls in working hours (DST-proof: counted in UTC)."""
        total = timedelta(0)
        day, last = since.astimezone(self.tz).date(), until.astimezone(self.tz).date()
        while day <= last:
            if self._working_day(day):
                opens = datetime.combine(day, self.start, self.tz).astimezone(UTC)
                closes = (
                    datetime.combine(day + timedelta(days=1), time(0), self.tz)
                    if self.end == END_OF_DAY
                    else datetime.combine(day, self.end, self.tz)
                ).astimezone(UTC)
                overlap = min(closes, until) - max(opens, since)
                total += max(overlap, timedelta(0))
            day += timedelta(days=1)
        return total

    def _working_day(self, day: date) -> bool:
        if day.weekday() not in self.days or day in self.holidays:
            return False
        return not self.public_holidays or day not in self._public_holidays(day.year)

    def _public_holidays(self, year: int) -> frozenset[date]:
        """Worked out the first time a year comes up, then remembered."""
        found = self._public_by_year.get(year)
        if found is None:
            found = self._public_by_year[year] = frozenset(finnish_public_holidays(year))
        return found


def _parse_time(text: str) -> time:
    hour, minute = text.strip().split(":")
    return time(int(hour), int(minute))


def _parse_days(text: str) -> frozenset[int]:
    """ "mon-fri", "mon,wed,fri" or "mon-fri,sun"."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"working days {text!r}: expected names like mon-fri or mon,wed")
        begin = DAY_NAMES.index(first)
        finish = DAY_NAMES.index(last) if last else begin
        days.update(day % 7 for day in range(begin, finish + 7 * (finish < begin) + 1))
    return frozenset(days)

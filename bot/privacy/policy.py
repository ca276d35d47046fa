"""How long each kind of row is kept: the retention rules' lengths, from ICT's settings."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.privacy.inventory import Rule
from bot.settings import Settings


@dataclass(frozen=True)
class RetentionPolicy:
    """The lengths ICT set (or the defaults); `None` for rules with no length of their own."""

    leaver_months: int = 12
    ticket_months: int = 24
    outbox_days: int = 90
    state_days: int = 30
    question_days: int = 180
    audit_months: int = 36

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            leaver_months=settings.retention_leaver_months,
            ticket_months=settings.retention_ticket_months,
            outbox_days=settings.retention_outbox_days,
            state_days=settings.retention_state_days,
            question_days=settings.retention_question_days,
            audit_months=settings.retention_audit_months,
        )

    def length(self, rule: Rule) -> tuple[int, str] | None:
        """The rule's length as (count, "months" or "days"); None when it has none."""
        return {
            Rule.LEAVER: (self.leaver_months, "months"),
            Rule.TICKET: (self.ticket_months, "months"),
            Rule.OUTBOX: (self.outbox_days, "days"),
            Rule.STATE: (self.state_days, "days"),
            Rule.QUESTION: (self.question_days, "days"),
            Rule.AUDIT: (self.audit_months, "months"),
        }.get(rule)

    def cutoff(self, rule: Rule, now: datetime) -> datetime:
        """Rows of `rule` older than this moment are due (for LEFT and LINK: `now` itself)."""
        length = self.length(rule)
        if length is None:
            return now
        count, unit = length
        return months_before(now, count) if unit == "months" else now - timedelta(days=count)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)

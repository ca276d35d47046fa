"""Pure arithmetic of a deduction plan against what payroll posted; no database, no Teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.choices.cost import first_deduction_month


@dataclass(frozen=True)
class PlanTerms:
    """What was agreed: the share and its instalments from the first month on (euro cents)."""

    total_cents: int
    instalment_count: int
    first_instalment_cents: int
    instalment_cents: int
    first_month: date

    def expected(self, index: int) -> int:
        """The amount of instalment number `index` (0-based) in the agreed schedule."""
        return self.first_instalment_cents if index == 0 else self.instalment_cents

    @property
    def scheduled_last_month(self) -> date:
        return add_months(self.first_month, self.instalment_count - 1)


@dataclass(frozen=True)
class LedgerStatus:
    """Where a plan stands: every figure here follows from the terms and the postings."""

    paid_cents: int
    remaining_cents: int
    instalments_posted: int
    instalments_left: int
    next_month: date | None
    last_month: date | None
    missed_months: tuple[date, ...]
    paid_off: bool

    @property
    def end_moved(self) -> bool:
        return bool(self.missed_months) and not self.paid_off


@dataclass(frozen=True)
class Discrepancy:
    """A difference between what payroll posted and the schedule, for ICT's report."""

    kind: str  # "missed", "wrong_amount", "after_paid_off"
    period: date
    expected_cents: int
    posted_cents: int


def add_months(month: date, count: int) -> date:
    return first_deduction_month(month, delay_months=count)


def status(terms: PlanTerms, postings: dict[date, int]) -> LedgerStatus:
    """Paid, remaining, and when the phone becomes the employee's, missed months included."""
    paid = sum(postings.values())
    remaining = max(terms.total_cents - paid, 0)
    posted = _until_paid_off(terms, postings)
    missed = tuple(_missed_months(terms.first_month, posted))
    paid_off = remaining == 0
    left = 0 if paid_off else max(terms.instalment_count - len(posted), 1)
    if paid_off:
        next_month, last_month = None, posted[-1] if posted else terms.first_month
    else:
        next_month = add_months(posted[-1], 1) if posted else terms.first_month
        last_month = add_months(next_month, left - 1)
    return LedgerStatus(
        paid_cents=paid,
        remaining_cents=remaining,
        instalments_posted=len(posted),
        instalments_left=left,
        next_month=next_month,
        last_month=last_month,
        missed_months=missed,
        paid_off=paid_off,
    )


def reconcile(terms: PlanTerms, postings: dict[date, int]) -> list[Discrepancy]:
    """Missed months, amounts that differ from the schedule, and deductions after payoff."""
    found = [
        Discrepancy("missed", month, terms.instalment_cents, 0)
        for month in _missed_months(terms.first_month, _until_paid_off(terms, postings))
    ]

    cumulative = 0
    index = 0
    for period in sorted(postings):
        amount = postings[period]
        if amount <= 0:
            continue
        if cumulative >= terms.total_cents:
            found.append(Discrepancy("after_paid_off", period, 0, amount))
        elif amount != terms.expected(index):
            found.append(Discrepancy("wrong_amount", period, terms.expected(index), amount))
        cumulative += amount
        index += 1
    found.sort(key=lambda item: item.period)
    return found


def _until_paid_off(terms: PlanTerms, postings: dict[date, int]) -> list[date]:
    """Months with a deduction, up to the one that paid the plan off; strays after it excluded."""
    posted: list[date] = []
    cumulative = 0
    for period in sorted(postings):
        if postings[period] <= 0:
            continue
        if cumulative >= terms.total_cents:
            break
        posted.append(period)
        cumulative += postings[period]
    return posted


def _missed_months(first_month: date, posted: list[date]) -> list[date]:
    """Months from the first month to the latest posted one in which nothing was deducted."""
    if not posted:
        return []
    missed = []
    month = first_month
    taken = set(posted)
    while month < posted[-1]:
        if month not in taken:
            missed.append(month)
        month = add_months(month, 1)
    return missed

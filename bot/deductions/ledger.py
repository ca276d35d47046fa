"""Pure arithmetic of a deduction plan against what payroll posted; no database, no Teams."""

from __future__ import annotations

from collections.abc import Mapping
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
    instalments_left: int
    next_month: date | None
    last_month: date | None
    missed_months: tuple[date, ...]
    paid_off: bool
    end_moved: bool


@dataclass(frozen=True)
class Discrepancy:
    """A difference between what payroll posted and the schedule, for ICT's report."""

    kind: str  # "missed", "wrong_amount", "after_paid_off"
    period: date
    expected_cents: int
    posted_cents: int


def add_months(month: date, count: int) -> date:
    return first_deduction_month(month, delay_months=count)


def status(
    terms: PlanTerms, postings: Mapping[date, int], *, through: date | None = None
) -> LedgerStatus:
    """Paid, remaining, and when the phone becomes the employee's.

    `through` is the newest pay period payroll has reported for anyone: a month up to it with
    nothing deducted from this employee is missed. What is left is counted in money, so a
    catch-up deduction brings the end back and a short one pushes it out.
    """
    paid = sum(postings.values())
    remaining = max(terms.total_cents - paid, 0)
    posted = _until_paid_off(terms, postings)
    if remaining == 0:
        last = posted[-1] if posted else terms.first_month
        return LedgerStatus(paid, 0, 0, None, last, (), True, False)
    latest = max([*posted, *([through] if through else [])], default=None)
    reported = latest is not None and latest >= terms.first_month
    next_month = add_months(latest, 1) if reported and latest else terms.first_month
    if not posted:
        left = terms.instalment_count
    else:
        left = max(-(-remaining // max(terms.instalment_cents, 1)), 1)
    last = add_months(next_month, left - 1)
    moved = last > terms.scheduled_last_month
    missed = tuple(_unposted_months(terms.first_month, latest, postings)) if reported else ()
    return LedgerStatus(
        paid_cents=paid,
        remaining_cents=remaining,
        instalments_left=left,
        next_month=next_month,
        last_month=last,
        missed_months=missed if moved else (),
        paid_off=False,
        end_moved=moved,
    )


def reconcile(
    terms: PlanTerms, postings: Mapping[date, int], *, through: date | None = None
) -> list[Discrepancy]:
    """Missed months, amounts that differ from the schedule, and deductions after payoff.

    Months up to `through` (the newest period payroll reported) with no deduction are missed
    while the plan is still owed; months after the payoff never are.
    """
    posted = _until_paid_off(terms, postings)
    paid_off = sum(postings.values()) >= terms.total_cents
    end = max([*posted[-1:], *([through] if through and not paid_off else [])], default=None)
    found = [
        Discrepancy("missed", month, terms.expected(len(posted)), postings.get(month, 0))
        for month in _unposted_months(terms.first_month, end, postings)
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


def _until_paid_off(terms: PlanTerms, postings: Mapping[date, int]) -> list[date]:
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


def _unposted_months(
    first_month: date, latest: date | None, postings: Mapping[date, int]
) -> list[date]:
    """Months from the first one through `latest` in which nothing was deducted."""
    months = []
    month = first_month
    while latest is not None and month <= latest:
        if postings.get(month, 0) <= 0:
            months.append(month)
        month = add_months(month, 1)
    return months

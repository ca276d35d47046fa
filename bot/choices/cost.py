"""What a phone costs the employee: the one function behind every card, export and test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEFAULT_MAX_INSTALMENTS = 24
DEFAULT_MIN_INSTALMENT_CENTS = 500


@dataclass(frozen=True)
class InstalmentRule:
    """How a share becomes salary deductions: at most `max_count` monthly instalments, each at
    least `min_cents`, so a small share is paid in a few months instead of two years of cents."""

    max_count: int = DEFAULT_MAX_INSTALMENTS
    min_cents: int = DEFAULT_MIN_INSTALMENT_CENTS

    def __post_init__(self) -> None:
        if self.max_count < 1:
            raise ValueError("there must be at least one instalment")
        if self.min_cents < 1:
            raise ValueError("the smallest instalment must be at least one cent")

    def count_for(self, share_cents: int) -> int:
        """The most instalments (up to `max_count`) that keep each at least `min_cents`.

        No share, no instalments; a share below the minimum is one instalment of the whole share.
        """
        if share_cents < 0:
            raise ValueError("a share cannot be negative")
        if share_cents == 0:
            return 0
        return max(1, min(self.max_count, share_cents // self.min_cents))


@dataclass(frozen=True)
class CostBreakdown:
    """Euro cents throughout. The remainder of an uneven division rides on the first instalment."""

    price_cents: int
    base_price_cents: int
    city_share_cents: int
    employee_share_cents: int
    instalment_count: int
    instalment_cents: int
    first_instalment_cents: int

    @property
    def costs_employee_nothing(self) -> bool:
        return self.employee_share_cents == 0

    @property
    def has_remainder(self) -> bool:
        return self.first_instalment_cents != self.instalment_cents

    @property
    def city_pays_whole_price(self) -> bool:
        """A model at or under the base price: the city pays its own price, not the base's."""
        return self.city_share_cents == self.price_cents

    def schedule(self) -> list[int]:
        """Every instalment in order; they add up exactly to the employee's share."""
        if self.instalment_count == 0:
            return []
        return [self.first_instalment_cents] + [self.instalment_cents] * (self.instalment_count - 1)


def split_evenly(share_cents: int, instalments: int) -> tuple[int, int]:
    """(first, regular): equal instalments to the cent, the remainder of the division on the
    first, so `first + (instalments - 1) * regular == share_cents` exactly."""
    if share_cents < 0:
        raise ValueError("a share cannot be negative")
    if instalments < 1:
        raise ValueError("there must be at least one instalment")
    regular, remainder = divmod(share_cents, instalments)
    return regular + remainder, regular


def cost_breakdown(
    *, price_cents: int, base_price_cents: int, rule: InstalmentRule
) -> CostBreakdown:
    """The city pays up to the base price; the rest is split into monthly instalments by `rule`."""
    if price_cents < 0 or base_price_cents < 0:
        raise ValueError("prices cannot be negative")
    city_share = min(price_cents, base_price_cents)
    employee_share = price_cents - city_share
    count = rule.count_for(employee_share)
    if count == 0:
        return CostBreakdown(price_cents, base_price_cents, city_share, 0, 0, 0, 0)
    first, regular = split_evenly(employee_share, count)
    return CostBreakdown(
        price_cents=price_cents,
        base_price_cents=base_price_cents,
        city_share_cents=city_share,
        employee_share_cents=employee_share,
        instalment_count=count,
        instalment_cents=regular,
        first_instalment_cents=first,
    )


def first_deduction_month(chosen_on: date, *, delay_months: int) -> date:
    """The first of the month in which payroll makes the first deduction."""
    months = chosen_on.year * 12 + (chosen_on.month - 1) + delay_months
    return date(months // 12, months % 12 + 1, 1)


def last_deduction_month(first: date, *, instalments: int) -> date:
    """The month of the last instalment: after it is posted the phone is the employee's own."""
    return first_deduction_month(first, delay_months=max(instalments - 1, 0))

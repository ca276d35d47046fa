"""What a phone costs the employee: the one function behind every card, export and test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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

    def schedule(self) -> list[int]:
        """Every instalment in order; they add up exactly to the employee's share."""
        if self.instalment_count == 0:
            return []
        return [self.first_instalment_cents] + [self.instalment_cents] * (self.instalment_count - 1)


def cost_breakdown(*, price_cents: int, base_price_cents: int, instalments: int) -> CostBreakdown:
    """The city pays up to the base price; the rest is split into equal monthly instalments."""
    if price_cents < 0 or base_price_cents < 0:
        raise ValueError("prices cannot be negative")
    if instalments < 1:
        raise ValueError("there must be at least one instalment")
    city_share = min(price_cents, base_price_cents)
    employee_share = price_cents - city_share
    if employee_share == 0:
        return CostBreakdown(price_cents, base_price_cents, city_share, 0, 0, 0, 0)
    regular, remainder = divmod(employee_share, instalments)
    return CostBreakdown(
        price_cents=price_cents,
        base_price_cents=base_price_cents,
        city_share_cents=city_share,
        employee_share_cents=employee_share,
        instalment_count=instalments,
        instalment_cents=regular,
        first_instalment_cents=regular + remainder,
    )


def first_deduction_month(chosen_on: date, *, delay_months: int) -> date:
    """The first of the month in which payroll makes the first deduction."""
    months = chosen_on.year * 12 + (chosen_on.month - 1) + delay_months
    return date(months // 12, months % 12 + 1, 1)


def last_deduction_month(first: date, *, instalments: int) -> date:
    """The month of the last instalment: after it is posted the phone is the employee's own."""
    return first_deduction_month(first, delay_months=max(instalments - 1, 0))

"""What a phone costs the employee: properties for any price, and examples a person can check."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.choices.cost import (
    InstalmentRule,
    cost_breakdown,
    first_deduction_month,
    last_deduction_month,
    split_evenly,
)
from bot.i18n import texts

# Same examples on every run and machine, no timing-based failures on a slow CI runner, and no
# .hypothesis/ example database written into the working tree.
DETERMINISTIC = settings(derandomize=True, deadline=None, database=None, max_examples=500)

cents = st.integers(min_value=0, max_value=1_000_000)
instalment_counts = st.integers(min_value=1, max_value=60)
rules = st.builds(
    InstalmentRule,
    max_count=instalment_counts,
    min_cents=st.integers(min_value=1, max_value=10_000),
)
PROGRAM = InstalmentRule(max_count=24, min_cents=5_00)  # the defaults: 24 months, at least 5 €


def euros(cents: int) -> str:
    return texts("fi").money(cents).replace("\xa0", " ")


def share_of(share_cents: int, rule: InstalmentRule = PROGRAM):
    """The cost of a model priced `share_cents` above a 199,00 € base model."""
    return cost_breakdown(price_cents=199_00 + share_cents, base_price_cents=199_00, rule=rule)


# --- properties -------------------------------------------------------------------------------


@DETERMINISTIC
@given(price=cents, base=cents, rule=rules)
@example(price=1, base=0, rule=InstalmentRule(max_count=60, min_cents=1))
@example(price=1_000_000, base=0, rule=InstalmentRule(max_count=7, min_cents=500))
def test_instalments_add_up_exactly_to_the_employee_share(price, base, rule):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, rule=rule)
    schedule = cost.schedule()
    assert sum(schedule) == cost.employee_share_cents
    assert len(schedule) == cost.instalment_count
    assert (cost.instalment_count == 0) == (cost.employee_share_cents == 0)


@DETERMINISTIC
@given(price=cents, base=cents, rule=rules)
def test_there_are_never_more_than_the_most_instalments_nor_a_zero_one(price, base, rule):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, rule=rule)
    assert cost.instalment_count <= rule.max_count
    assert all(amount > 0 for amount in cost.schedule())


@DETERMINISTIC
@given(price=cents, base=cents, rule=rules)
@example(price=199_00 + 23, base=199_00, rule=PROGRAM)
@example(price=199_00 + 24 * 5_00 - 1, base=199_00, rule=PROGRAM)
def test_every_instalment_is_at_least_the_minimum_unless_the_share_is_smaller(price, base, rule):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, rule=rule)
    if cost.employee_share_cents < rule.min_cents:
        assert cost.schedule() == ([cost.employee_share_cents] if cost.employee_share_cents else [])
    else:
        assert min(cost.schedule()) >= rule.min_cents


@DETERMINISTIC
@given(share=cents, rule=rules)
def test_the_count_is_the_most_that_keeps_every_instalment_at_the_minimum(share, rule):
    count = rule.count_for(share)
    if share == 0:
        assert count == 0
    elif count < rule.max_count and share >= rule.min_cents:
        # One instalment more and the regular one would fall under the minimum.
        assert share // (count + 1) < rule.min_cents


@DETERMINISTIC
@given(price=cents, base=cents, rule=rules)
def test_no_figure_is_negative(price, base, rule):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, rule=rule)
    assert min(cost.schedule(), default=0) >= 0
    assert cost.city_share_cents >= 0
    assert cost.employee_share_cents >= 0
    assert cost.instalment_cents >= 0
    assert cost.first_instalment_cents >= 0


@DETERMINISTIC
@given(price=cents, base=cents, rule=rules)
@example(price=25_000 + 199_00, base=199_00, rule=PROGRAM)
def test_regular_instalments_are_equal_and_only_the_first_carries_the_remainder(price, base, rule):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, rule=rule)
    if cost.costs_employee_nothing:
        return
    count = cost.instalment_count
    first, *regular = cost.schedule()
    assert all(amount == cost.instalment_cents for amount in regular)
    # The split is as even as it can be: the regular instalment is the share divided down to the
    # cent, and the first exceeds it only by what is left over, less than one cent per instalment.
    assert cost.instalment_cents == cost.employee_share_cents // count
    remainder = first - cost.instalment_cents
    assert remainder == cost.employee_share_cents % count
    assert 0 <= remainder < count
    assert cost.has_remainder == (remainder != 0)


@DETERMINISTIC
@given(share=cents, count=instalment_counts)
def test_an_even_split_adds_up_and_puts_the_remainder_first(share, count):
    first, regular = split_evenly(share, count)
    assert first + (count - 1) * regular == share
    assert 0 <= first - regular < count


@DETERMINISTIC
@given(price=cents, base=cents, rule=rules)
def test_city_and_employee_shares_make_up_the_price(price, base, rule):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, rule=rule)
    assert cost.city_share_cents + cost.employee_share_cents == price
    assert cost.price_cents == price
    assert cost.base_price_cents == base


@DETERMINISTIC
@given(price=cents, base=cents, rule=rules)
def test_the_city_pays_at_most_the_base_price_and_at_most_the_price(price, base, rule):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, rule=rule)
    assert cost.city_share_cents <= base
    assert cost.city_share_cents <= price
    assert cost.city_share_cents == min(price, base)
    assert cost.employee_share_cents == max(price - base, 0)
    assert cost.city_pays_whole_price == (price <= base)


@DETERMINISTIC
@given(data=st.data(), base=cents, rule=rules)
def test_a_model_at_or_below_the_base_price_costs_the_employee_nothing(data, base, rule):
    price = data.draw(st.integers(min_value=0, max_value=base), label="price")
    cost = cost_breakdown(price_cents=price, base_price_cents=base, rule=rule)
    assert cost.costs_employee_nothing
    assert cost.employee_share_cents == 0
    assert cost.city_share_cents == price
    assert cost.city_pays_whole_price
    assert cost.instalment_count == 0
    assert cost.instalment_cents == 0
    assert cost.first_instalment_cents == 0
    assert cost.schedule() == []
    assert not cost.has_remainder


@DETERMINISTIC
@given(
    price=st.integers(min_value=-1_000_000, max_value=1_000_000),
    base=st.integers(min_value=-1_000_000, max_value=1_000_000),
)
def test_negative_prices_are_refused(price, base):
    if price >= 0 and base >= 0:
        cost_breakdown(price_cents=price, base_price_cents=base, rule=PROGRAM)
    else:
        with pytest.raises(ValueError):
            cost_breakdown(price_cents=price, base_price_cents=base, rule=PROGRAM)


@DETERMINISTIC
@given(
    chosen_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    delay=st.integers(min_value=0, max_value=120),
    instalments=instalment_counts,
)
def test_deduction_months_are_whole_months_apart(chosen_on, delay, instalments):
    first = first_deduction_month(chosen_on, delay_months=delay)
    last = last_deduction_month(first, instalments=instalments)

    def month_number(day: date) -> int:
        return day.year * 12 + day.month - 1

    assert first.day == 1 and last.day == 1
    assert month_number(first) - month_number(chosen_on) == delay
    assert month_number(last) - month_number(first) == instalments - 1


# --- examples to check by hand ----------------------------------------------------------------


def test_a_449_euro_phone_with_a_199_euro_base_model_over_24_months():
    cost = cost_breakdown(price_cents=449_00, base_price_cents=199_00, rule=PROGRAM)
    assert euros(cost.city_share_cents) == "199,00 €"
    assert euros(cost.employee_share_cents) == "250,00 €"
    # 250,00 € / 24 = 10,4166… €: 23 instalments of 10,41 € make 239,43 €,
    # and the first takes the remaining 10,57 € (10,41 € + 16 cents).
    assert euros(cost.instalment_cents) == "10,41 €"
    assert euros(cost.first_instalment_cents) == "10,57 €"
    assert cost.schedule() == [10_57] + [10_41] * 23
    assert cost.has_remainder
    assert not cost.city_pays_whole_price


def test_a_share_that_divides_evenly_has_equal_instalments():
    cost = cost_breakdown(price_cents=679_00, base_price_cents=199_00, rule=PROGRAM)
    assert euros(cost.employee_share_cents) == "480,00 €"
    assert cost.schedule() == [20_00] * 24
    assert cost.first_instalment_cents == cost.instalment_cents == 20_00
    assert not cost.has_remainder


def test_a_thousand_euro_share_is_formatted_the_finnish_way():
    cost = cost_breakdown(price_cents=1_433_50, base_price_cents=199_00, rule=PROGRAM)
    assert euros(cost.employee_share_cents) == "1 234,50 €"
    assert texts("fi").money(cost.employee_share_cents) == "1\xa0234,50\xa0€"


@pytest.mark.parametrize(
    ("share", "schedule"),
    [
        (0, []),  # nothing to pay: no deductions at all
        (1, [1]),  # one cent: one deduction, not 23 × 0,00 €
        (23, [23]),
        (24, [24]),  # 24 cents would have been 24 × 0,01 €
        (4_99, [4_99]),  # under the minimum: one deduction of the whole share
        (5_00, [5_00]),  # exactly the minimum: one
        (9_99, [9_99]),  # two instalments would be under 5 € each
        (10_00, [5_00, 5_00]),
        (12_34, [6_17, 6_17]),
        (12_35, [6_18, 6_17]),  # the odd cent on the first
        (50_00, [5_00] * 10),
        (119_99, [5_37] + [5_21] * 22),  # 23 instalments: a 24th would be under 5 €
        (24 * 5_00, [5_00] * 24),  # 24 × the minimum: the full 24 months
        (24 * 5_00 + 23, [5_23] + [5_00] * 23),
        (250_00, [10_57] + [10_41] * 23),
        (1_000_000, [416_82] + [416_66] * 23),
    ],
)
def test_shares_from_nothing_to_large_with_the_program_rule(share, schedule):
    cost = share_of(share)
    assert cost.schedule() == schedule
    assert sum(cost.schedule()) == share
    assert cost.instalment_count == len(schedule)


def test_a_one_cent_share_is_a_single_deduction():
    cost = share_of(1)
    assert cost.employee_share_cents == 1
    assert (cost.instalment_count, cost.first_instalment_cents, cost.instalment_cents) == (1, 1, 1)
    assert not cost.has_remainder


def test_the_base_model_itself_costs_the_employee_nothing():
    cost = cost_breakdown(price_cents=199_00, base_price_cents=199_00, rule=PROGRAM)
    assert cost.costs_employee_nothing
    assert cost.city_share_cents == 199_00
    assert cost.city_pays_whole_price
    assert cost.schedule() == []


def test_a_model_cheaper_than_the_base_model_is_paid_by_the_city_at_its_own_price():
    cost = cost_breakdown(price_cents=149_00, base_price_cents=199_00, rule=PROGRAM)
    assert cost.city_share_cents == 149_00
    assert cost.city_pays_whole_price


def test_a_single_instalment_rule_takes_the_whole_share_at_once():
    rule = InstalmentRule(max_count=1, min_cents=5_00)
    assert share_of(250_00, rule).schedule() == [250_00]


def test_a_one_cent_minimum_gives_the_most_instalments_without_a_zero_one():
    rule = InstalmentRule(max_count=24, min_cents=1)
    assert share_of(23, rule).schedule() == [1] * 23
    assert share_of(25, rule).schedule() == [2] + [1] * 23


@pytest.mark.parametrize(("max_count", "min_cents"), [(0, 5_00), (-24, 5_00), (24, 0), (24, -1)])
def test_a_rule_that_cannot_work_is_refused(max_count, min_cents):
    with pytest.raises(ValueError):
        InstalmentRule(max_count=max_count, min_cents=min_cents)


@pytest.mark.parametrize(
    ("price", "base", "share"), [(-1, 199_00, None), (449_00, -1, None), (None, None, -1)]
)
def test_negative_amounts_raise_value_error(price, base, share):
    with pytest.raises(ValueError):
        if share is None:
            cost_breakdown(price_cents=price, base_price_cents=base, rule=PROGRAM)
        else:
            PROGRAM.count_for(share)


@pytest.mark.parametrize(("share", "count"), [(-1, 24), (100, 0)])
def test_an_even_split_refuses_nonsense(share, count):
    with pytest.raises(ValueError):
        split_evenly(share, count)


@pytest.mark.parametrize(
    ("chosen_on", "delay", "expected"),
    [
        (date(2026, 11, 15), 2, date(2027, 1, 1)),  # November + 2 crosses the year
        (date(2026, 12, 31), 1, date(2027, 1, 1)),  # December + 1
        (date(2026, 11, 15), 0, date(2026, 11, 1)),  # no delay: the same month
        (date(2026, 1, 1), 12, date(2027, 1, 1)),  # a whole year
        (date(2026, 11, 30), 14, date(2028, 1, 1)),  # over two year boundaries
    ],
)
def test_first_deduction_month(chosen_on, delay, expected):
    assert first_deduction_month(chosen_on, delay_months=delay) == expected


def test_24_instalments_starting_in_january_2027_end_in_december_2028():
    assert last_deduction_month(date(2027, 1, 1), instalments=24) == date(2028, 12, 1)


def test_24_instalments_starting_in_november_2026_end_in_october_2028():
    first = first_deduction_month(date(2026, 10, 20), delay_months=1)
    assert first == date(2026, 11, 1)
    assert last_deduction_month(first, instalments=24) == date(2028, 10, 1)


def test_a_single_instalment_is_deducted_in_the_first_month():
    assert last_deduction_month(date(2027, 1, 1), instalments=1) == date(2027, 1, 1)

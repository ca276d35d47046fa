"""What a phone costs the employee: properties for any price, and examples a person can check."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.choices.cost import cost_breakdown, first_deduction_month, last_deduction_month
from bot.i18n import texts

# Same examples on every run and machine, no timing-based failures on a slow CI runner, and no
# .hypothesis/ example database written into the working tree.
DETERMINISTIC = settings(derandomize=True, deadline=None, database=None, max_examples=500)

cents = st.integers(min_value=0, max_value=1_000_000)
instalment_counts = st.integers(min_value=1, max_value=60)


def euros(cents: int) -> str:
    return texts("fi").money(cents).replace("\xa0", " ")


# --- properties -------------------------------------------------------------------------------


@DETERMINISTIC
@given(price=cents, base=cents, instalments=instalment_counts)
@example(price=1, base=0, instalments=60)  # fewer cents than instalments
@example(price=1_000_000, base=0, instalments=7)
def test_instalments_add_up_exactly_to_the_employee_share(price, base, instalments):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)
    schedule = cost.schedule()
    assert sum(schedule) == cost.employee_share_cents
    assert len(schedule) == cost.instalment_count
    if cost.employee_share_cents:
        assert cost.instalment_count == instalments


@DETERMINISTIC
@given(price=cents, base=cents, instalments=instalment_counts)
def test_no_figure_is_negative(price, base, instalments):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)
    assert min(cost.schedule(), default=0) >= 0
    assert cost.city_share_cents >= 0
    assert cost.employee_share_cents >= 0
    assert cost.instalment_cents >= 0
    assert cost.first_instalment_cents >= 0


@DETERMINISTIC
@given(price=cents, base=cents, instalments=instalment_counts)
@example(price=25_000 + 199_00, base=199_00, instalments=24)
def test_regular_instalments_are_equal_and_only_the_first_carries_the_remainder(
    price, base, instalments
):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)
    if cost.costs_employee_nothing:
        return
    first, *regular = cost.schedule()
    assert all(amount == cost.instalment_cents for amount in regular)
    # The split is as even as it can be: the regular instalment is the share divided down to the
    # cent, and the first exceeds it only by what is left over, which is less than one cent per
    # instalment.
    assert cost.instalment_cents == cost.employee_share_cents // instalments
    remainder = first - cost.instalment_cents
    assert remainder == cost.employee_share_cents % instalments
    assert 0 <= remainder < instalments
    assert cost.has_remainder == (remainder != 0)


@DETERMINISTIC
@given(price=cents, base=cents, instalments=instalment_counts)
def test_city_and_employee_shares_make_up_the_price(price, base, instalments):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)
    assert cost.city_share_cents + cost.employee_share_cents == price
    assert cost.price_cents == price
    assert cost.base_price_cents == base


@DETERMINISTIC
@given(price=cents, base=cents, instalments=instalment_counts)
def test_the_city_pays_at_most_the_base_price_and_at_most_the_price(price, base, instalments):
    cost = cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)
    assert cost.city_share_cents <= base
    assert cost.city_share_cents <= price
    assert cost.city_share_cents == min(price, base)
    assert cost.employee_share_cents == max(price - base, 0)


@DETERMINISTIC
@given(data=st.data(), base=cents, instalments=instalment_counts)
def test_a_model_at_or_below_the_base_price_costs_the_employee_nothing(data, base, instalments):
    price = data.draw(st.integers(min_value=0, max_value=base), label="price")
    cost = cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)
    assert cost.costs_employee_nothing
    assert cost.employee_share_cents == 0
    assert cost.city_share_cents == price
    assert cost.instalment_count == 0
    assert cost.instalment_cents == 0
    assert cost.first_instalment_cents == 0
    assert cost.schedule() == []
    assert not cost.has_remainder


@DETERMINISTIC
@given(
    price=st.integers(min_value=-1_000_000, max_value=1_000_000),
    base=st.integers(min_value=-1_000_000, max_value=1_000_000),
    instalments=st.integers(min_value=-60, max_value=60),
)
def test_negative_prices_and_fewer_than_one_instalment_are_refused(price, base, instalments):
    if price >= 0 and base >= 0 and instalments >= 1:
        cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)
    else:
        with pytest.raises(ValueError):
            cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)


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
    cost = cost_breakdown(price_cents=449_00, base_price_cents=199_00, instalments=24)
    assert euros(cost.city_share_cents) == "199,00 €"
    assert euros(cost.employee_share_cents) == "250,00 €"
    # 250,00 € / 24 = 10,4166… €: 23 instalments of 10,41 € make 239,43 €,
    # and the first takes the remaining 10,57 € (10,41 € + 16 cents).
    assert euros(cost.instalment_cents) == "10,41 €"
    assert euros(cost.first_instalment_cents) == "10,57 €"
    assert cost.schedule() == [10_57] + [10_41] * 23
    assert cost.has_remainder


def test_a_share_that_divides_evenly_has_equal_instalments():
    cost = cost_breakdown(price_cents=679_00, base_price_cents=199_00, instalments=24)
    assert euros(cost.employee_share_cents) == "480,00 €"
    assert cost.schedule() == [20_00] * 24
    assert cost.first_instalment_cents == cost.instalment_cents == 20_00
    assert not cost.has_remainder


def test_a_thousand_euro_share_is_formatted_the_finnish_way():
    cost = cost_breakdown(price_cents=1_433_50, base_price_cents=199_00, instalments=24)
    assert euros(cost.employee_share_cents) == "1 234,50 €"
    assert texts("fi").money(cost.employee_share_cents) == "1\xa0234,50\xa0€"


def test_a_one_cent_share_is_taken_in_the_first_instalment():
    cost = cost_breakdown(price_cents=199_01, base_price_cents=199_00, instalments=24)
    assert cost.employee_share_cents == 1
    assert cost.first_instalment_cents == 1
    assert cost.instalment_cents == 0
    assert cost.instalment_count == 24
    assert sum(cost.schedule()) == 1


def test_the_base_model_itself_costs_the_employee_nothing():
    cost = cost_breakdown(price_cents=199_00, base_price_cents=199_00, instalments=24)
    assert cost.costs_employee_nothing
    assert cost.city_share_cents == 199_00
    assert cost.schedule() == []


def test_a_single_instalment_is_the_whole_share():
    cost = cost_breakdown(price_cents=449_00, base_price_cents=199_00, instalments=1)
    assert cost.schedule() == [250_00]


@pytest.mark.parametrize(
    ("price", "base", "instalments"),
    [(-1, 199_00, 24), (449_00, -1, 24), (449_00, 199_00, 0), (449_00, 199_00, -24)],
)
def test_invalid_inputs_raise_value_error(price, base, instalments):
    with pytest.raises(ValueError):
        cost_breakdown(price_cents=price, base_price_cents=base, instalments=instalments)


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

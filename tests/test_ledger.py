"""The arithmetic of a deduction plan against payroll's postings."""

from __future__ import annotations

from datetime import date

from bot.deductions.ledger import PlanTerms, add_months, reconcile, status

TERMS = PlanTerms(
    total_cents=25000,
    instalment_count=24,
    first_instalment_cents=1057,
    instalment_cents=1041,
    first_month=date(2027, 1, 1),
)


def schedule(count: int, *, skip: tuple[int, ...] = ()) -> dict[date, int]:
    """The first `count` months posted as agreed, leaving out the 0-based months in `skip`."""
    return {
        add_months(TERMS.first_month, n): TERMS.expected(n)
        for n in range(count + len(skip))
        if n not in skip
    }


def test_nothing_posted_yet():
    result = status(TERMS, {})
    assert (result.paid_cents, result.remaining_cents, result.instalments_left) == (0, 25000, 24)
    assert result.next_month == date(2027, 1, 1)
    assert result.last_month == date(2028, 12, 1)
    assert not result.end_moved


def test_on_schedule():
    result = status(TERMS, schedule(3))
    assert result.paid_cents == 1057 + 2 * 1041
    assert result.instalments_left == 21
    assert result.next_month == date(2027, 4, 1)
    assert result.last_month == date(2028, 12, 1)
    assert reconcile(TERMS, schedule(3)) == []


def test_a_missed_month_moves_the_end_by_one():
    postings = schedule(3, skip=(1,))
    result = status(TERMS, postings)
    assert result.missed_months == (date(2027, 2, 1),)
    assert result.last_month == date(2029, 1, 1)
    assert result.end_moved
    assert [d.kind for d in reconcile(TERMS, postings)] == ["missed"]


def test_a_zero_posting_is_a_missed_month():
    postings = {**schedule(3), date(2027, 2, 1): 0}
    assert status(TERMS, postings).missed_months == (date(2027, 2, 1),)


def test_paid_off_exactly_with_the_last_instalment():
    result = status(TERMS, schedule(24))
    assert result.paid_off and result.remaining_cents == 0 and result.instalments_left == 0
    assert result.next_month is None and result.last_month == date(2028, 12, 1)


def test_a_stray_deduction_after_payoff_is_reported_and_changes_nothing_else():
    postings = {**schedule(24), date(2029, 6, 1): 1041}
    result = status(TERMS, postings)
    assert result.paid_off and result.missed_months == ()
    assert result.last_month == date(2028, 12, 1)
    found = reconcile(TERMS, postings)
    assert [(d.kind, d.period) for d in found] == [("after_paid_off", date(2029, 6, 1))]


def test_a_wrong_amount_is_reported_with_what_was_expected():
    postings = {**schedule(2), date(2027, 2, 1): 999}
    [found] = reconcile(TERMS, postings)
    assert (found.kind, found.expected_cents, found.posted_cents) == ("wrong_amount", 1041, 999)


def test_a_catch_up_deduction_brings_the_end_back():
    postings = {date(2027, 1, 1): 1057, date(2027, 3, 1): 2082}
    result = status(TERMS, postings)
    assert result.instalments_left == 21 and result.last_month == date(2028, 12, 1)
    assert not result.end_moved and result.missed_months == ()


def test_short_deductions_push_the_end_out_by_what_is_still_owed():
    postings = {add_months(TERMS.first_month, n): 500 for n in range(24)}
    result = status(TERMS, postings)
    assert result.remaining_cents == 13000
    assert result.instalments_left == 13  # 130,00 € at 10,41 € a month
    assert result.last_month == date(2030, 1, 1) and result.end_moved


def test_larger_deductions_bring_the_end_closer():
    postings = {add_months(TERMS.first_month, n): 2082 for n in range(6)}
    result = status(TERMS, postings)
    assert result.instalments_left == 13  # 125,08 € left: 12 × 10,41 € and a last 0,16 €
    assert not result.end_moved


def test_months_without_a_deduction_after_the_last_one_count_once_payroll_reported_them():
    postings = schedule(2)
    result = status(TERMS, postings, through=date(2027, 5, 1))
    assert result.missed_months == (date(2027, 3, 1), date(2027, 4, 1), date(2027, 5, 1))
    assert result.next_month == date(2027, 6, 1)
    assert result.end_moved and result.last_month == date(2029, 3, 1)


def test_a_plan_starting_later_than_the_newest_payroll_period_has_missed_nothing():
    result = status(TERMS, {}, through=date(2026, 12, 1))
    assert result.next_month == TERMS.first_month and result.missed_months == ()

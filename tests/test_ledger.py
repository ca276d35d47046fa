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

"""payload_int: the one check for every id and number a card or a typed field sends."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.numbers import LARGEST, payload_int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        ("1", 1),
        (LARGEST, LARGEST),
        (str(LARGEST), LARGEST),
        ("0042", 42),
        ("0" * 5000 + "7", 7),
    ],
)
def test_takes_ints_and_ascii_digits_in_range(value, expected):
    assert payload_int(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        "0",
        -1,
        "-1",
        "+1",
        " 1",
        "1 ",
        "1_000",
        "",
        1.0,
        "1.0",
        "1e3",
        "²",
        "٣",
        "\uff11\uff12",  # fullwidth 12
        LARGEST + 1,
        str(LARGEST + 1),
        2**64,
        10**20,
        "9" * 5000,
        [1],
        {"id": 1},
    ],
)
def test_refuses_what_int_would_take_or_a_database_could_not_hold(value):
    assert payload_int(value) is None


def test_zero_where_the_caller_allows_it():
    assert payload_int("0", smallest=0) == 0
    assert payload_int(0, smallest=0) == 0
    assert payload_int("-0", smallest=0) is None


@given(st.integers())
def test_an_int_is_taken_exactly_when_in_range(number):
    expected = number if 1 <= number <= LARGEST else None
    assert payload_int(number) == expected
    if number >= 0:
        assert payload_int(str(number)) == expected


@given(st.text())
def test_any_text_gives_none_or_a_number_in_range_and_never_raises(text):
    number = payload_int(text)
    if number is not None:
        assert 1 <= number <= LARGEST
        assert text.isascii() and text.isdigit()
        assert int(text) == number


@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=12))
def test_digits_of_other_scripts_are_refused(text):
    if not text.isascii():
        assert payload_int(text) is None

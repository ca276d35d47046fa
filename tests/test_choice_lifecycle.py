"""A choice's status changes only along its lifecycle."""

from __future__ import annotations

import pytest

from bot.choices import lifecycle
from bot.choices.models import ChoiceStatus, PhoneChoice
from tests.support.clock import TEST_NOW


@pytest.mark.parametrize("status", [ChoiceStatus.CHOSEN, ChoiceStatus.ORDERED])
def test_an_unordered_or_ordered_choice_can_be_delivered(status):
    choice = PhoneChoice(status=status.value)
    lifecycle.deliver(choice, TEST_NOW)
    assert choice.status == ChoiceStatus.DELIVERED.value
    assert choice.updated_at == TEST_NOW


@pytest.mark.parametrize(
    "status",
    [ChoiceStatus.DELIVERED, ChoiceStatus.PAID_OFF, ChoiceStatus.CHANGED, ChoiceStatus.CANCELLED],
)
def test_no_other_choice_is_delivered(status):
    choice = PhoneChoice(status=status.value)
    with pytest.raises(lifecycle.NotAllowed):
        lifecycle.deliver(choice, TEST_NOW)
    assert choice.status == status.value

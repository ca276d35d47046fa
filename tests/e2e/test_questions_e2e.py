"""A question typed in the Playground: a sure answer, 👍 changing the card in place, no guess."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


async def test_a_question_gets_an_answer_and_feedback_changes_the_card_in_place(chat):
    await chat.wait_for_bot_text("Mitä haluat tehdä?")
    await chat.send("paljonko vapaavalintainen puhelin maksaa minulle?")
    await chat.wait_for_bot_text("Oliko tästä apua?")
    count = len(await chat.bot_messages())
    await chat.press("👍 Kyllä")
    await chat.wait_for_bot_text("Kiitos palautteesta!")
    assert len(await chat.bot_messages()) == count, "the answer card changed in place"

    await chat.send("mikä on lounaslista?")
    await chat.wait_for_bot_text("En osaa vastata tähän varmasti")

"""The blind held-out sets stay as they were written: frozen, labelled, every label a real topic."""

from __future__ import annotations

import pytest

from bot.faq.topics import faq_content
from tests.support.faq_heldout import FILES, SETS, digest, frozen_digests, heldout_questions

SIZES = {
    "heldout": 586,
    "heldout_2": 534,
    "heldout_3": 540,
    "heldout_4": 540,
    "heldout_5": 540,
    "heldout_offtopic": 200,
}


@pytest.mark.parametrize("name", SETS)
def test_the_heldout_set_is_frozen(name):
    folder = SETS[name]
    assert {file: digest(file, folder) for file in FILES} == frozen_digests(folder)


@pytest.mark.parametrize("name", SETS)
def test_every_label_names_a_topic_of_the_content(name):
    known = {topic.id for topic in faq_content().topics}
    questions = heldout_questions(SETS[name])
    assert len(questions) == SIZES[name]
    for question in questions:
        assert question.right_topics <= known, question.text
        assert not (question.off_topic and question.topic), question.text

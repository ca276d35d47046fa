"""The blind validation sets stay as written (frozen), and every label is a real topic."""

from __future__ import annotations

import pytest

from bot.faq.topics import faq_content
from tests.support.faq_heldout import digest, frozen_digests
from tests.support.faq_validation import SETS, VALIDATION, validation_questions


def test_the_validation_sets_are_frozen():
    assert {file: digest(file, VALIDATION) for file in SETS.values()} == frozen_digests(VALIDATION)


@pytest.mark.parametrize("name", SETS)
def test_every_label_names_a_topic_and_both_languages_are_there(name):
    known = {topic.id for topic in faq_content().topics}
    questions = validation_questions(name)
    assert len(questions) == 423
    assert {question.language for question in questions} == {"fi", "en"}
    for question in questions:
        assert question.right_topics <= known, question.text
        assert question.off_topic == (question.topic is None), question.text

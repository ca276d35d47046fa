"""The blind held-out set stays as it was written: frozen, labelled, every label a real topic."""

from __future__ import annotations

from bot.faq.topics import faq_content
from tests.support.faq_heldout import FILES, digest, frozen_digests, heldout_questions


def test_the_heldout_set_is_frozen():
    assert {name: digest(name) for name in FILES} == frozen_digests()


def test_every_label_names_a_topic_of_the_content():
    known = {topic.id for topic in faq_content().topics}
    questions = heldout_questions()
    assert len(questions) == 586
    for question in questions:
        assert question.right_topics <= known, question.text
        assert not (question.off_topic and question.topic), question.text

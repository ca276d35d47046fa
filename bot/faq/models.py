"""What people asked and what they thought of the answers: ICT's view of what the bot lacks.

A question keeps who asked it (their Entra object id, as every other table does) only so that
the 👍/👎 on its answer is theirs alone; reports show the words, never the person, and questions
are forgotten after RETENTION_QUESTION_DAYS (bot.privacy.purge).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow


class FaqQuestion(Base):
    """A question typed to the bot and what the matcher made of it, or a topic picked from a list
    (band "chosen"), so that its answer can get feedback."""

    __tablename__ = "faq_question"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(8))
    band: Mapped[str] = mapped_column(String(16), index=True)  # answer | suggest | unknown
    topic_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float]
    asked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    asker_aad: Mapped[str | None] = mapped_column(
        String(64), index=True
    )  # None: kept before askers were


class FaqFeedback(Base):
    """👍 or 👎 on one topic's answer to one question; pressing again changes it."""

    __tablename__ = "faq_feedback"

    question_id: Mapped[int] = mapped_column(ForeignKey("faq_question.id"), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    helpful: Mapped[bool]
    given_at: Mapped[datetime] = mapped_column(default=utcnow)

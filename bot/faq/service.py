"""Answering a question, keeping it for ICT, and the 👍/👎 on each answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.sessions import SessionFactory
from bot.db.upsert import upsert
from bot.faq.language import words
from bot.faq.matcher import FaqMatcher, Match
from bot.faq.models import FaqFeedback, FaqQuestion
from bot.faq.topics import FaqContent
from bot.telemetry.instruments import Instruments, unrecorded

MAX_QUESTION_LENGTH = 500
MATCHED_LENGTH = 300  # no question needs more; it bounds the matcher's work
CHOSEN = "chosen"  # a band of its own: picked from a list, not typed
UNANSWERED_BANDS = ("suggest", "unknown")


@dataclass(frozen=True)
class Asked:
    """A question as matched and kept; `question_id` ties the answer's feedback to it."""

    question_id: int
    match: Match


class Feedback(Enum):
    """What became of a 👍/👎: only the asker's, on the topic their answer showed, counts."""

    RECORDED = "recorded"
    NOT_YOURS = "not_yours"
    NOT_FOUND = "not_found"  # no such question, or its answer was another topic


class FaqDesk:
    """What the questions conversation calls: one short transaction per question or feedback."""

    def __init__(
        self,
        sessions: SessionFactory,
        matcher: FaqMatcher,
        content: FaqContent,
        clock: Clock,
        instruments: Instruments | None = None,
    ) -> None:
        self._sessions = sessions
        self.matcher = matcher
        self.content = content
        self._clock = clock
        self._instruments = instruments or unrecorded()

    async def ask(self, text: str, *, asker: str | None, keep: bool = True) -> Asked:
        """`keep=False` keeps only answered questions, for text typed mid-choice that is mostly
        no question."""
        match = await self.match(text)
        self._instruments.faq_answer(match.band)
        if not keep and match.band != "answer":
            return Asked(0, match)
        return await self.keep(match, asker=asker)

    async def match(self, text: str) -> Match:
        """Matched in a worker thread (long unknown words take a while to split); not kept."""
        return await asyncio.to_thread(self.matcher.match, text[:MATCHED_LENGTH])

    async def keep(self, match: Match, *, asker: str | None) -> Asked:
        """Keep a matched question for ICT; its id ties the answer's 👍/👎 to it."""
        async with self._sessions() as session, session.begin():
            question_id = await record_question(
                session=session, match=match, asker=asker, now=self._clock()
            )
        return Asked(question_id, match)

    async def chosen(self, topic_id: str, language: str, *, asker: str | None) -> int:
        """A topic picked from a list rather than asked: kept so its answer can get feedback."""
        title = self.content.topic(topic_id).text(language).title
        self._instruments.faq_answer(CHOSEN)
        async with self._sessions() as session, session.begin():
            question = FaqQuestion(
                text=title,
                language=language,
                band=CHOSEN,
                topic_id=topic_id,
                score=1.0,
                asker_aad=asker,
                asked_at=self._clock(),
            )
            session.add(question)
            await session.flush()
            return question.id

    async def feedback(
        self, *, question_id: int, topic_id: str, helpful: bool, asker: str
    ) -> Feedback:
        """Recorded only for the asker, on the topic they were answered (a card's payload can
        be edited or copied)."""
        if topic_id not in {topic.id for topic in self.content.topics}:
            return Feedback.NOT_FOUND
        async with self._sessions() as session, session.begin():
            return await record_feedback(
                session=session,
                question_id=question_id,
                topic_id=topic_id,
                helpful=helpful,
                asker=asker,
                now=self._clock(),
            )


async def record_question(
    *, session: AsyncSession, match: Match, asker: str | None, now: datetime
) -> int:
    question = FaqQuestion(
        text=match.question[:MAX_QUESTION_LENGTH],
        language=match.language,
        band=match.band,
        topic_id=match.topic_id,
        score=match.score,
        asker_aad=asker,
        asked_at=now,
    )
    session.add(question)
    await session.flush()
    return question.id


async def record_feedback(
    *,
    session: AsyncSession,
    question_id: int,
    topic_id: str,
    helpful: bool,
    asker: str,
    now: datetime,
) -> Feedback:
    question = await session.get(FaqQuestion, question_id)
    if question is None or question.asker_aad is None:
        return Feedback.NOT_FOUND
    if question.asker_aad != asker:
        return Feedback.NOT_YOURS  # before the topic: someone else learns nothing of theirs
    if question.topic_id != topic_id:
        return Feedback.NOT_FOUND
    await upsert(
        session,
        FaqFeedback,
        {
            "question_id": question_id,
            "topic_id": topic_id,
            "helpful": helpful,
            "given_at": now,
        },
        conflict_columns=["question_id", "topic_id"],
        update_columns=["helpful", "given_at"],
    )
    return Feedback.RECORDED


@dataclass(frozen=True)
class Unanswered:
    """Questions the bot could not answer, the same words counted together."""

    text: str
    times: int
    last_asked: datetime
    band: str


@dataclass(frozen=True)
class TopicFeedback:
    topic_id: str
    helpful: int
    not_helpful: int


async def unanswered_report(*, session: AsyncSession, limit: int = 50) -> list[Unanswered]:
    """What people asked that got no answer (unknown) or only suggestions, most frequent first."""
    rows = await session.execute(
        select(FaqQuestion.text, FaqQuestion.band, FaqQuestion.asked_at)
        .where(FaqQuestion.band.in_(UNANSWERED_BANDS))
        .order_by(FaqQuestion.asked_at)
    )
    grouped: dict[str, list[tuple[str, str, datetime]]] = {}
    for text, band, asked_at in rows:
        grouped.setdefault(" ".join(words(text)), []).append((text, band, asked_at))
    report = [
        Unanswered(
            text=asked[-1][0],
            times=len(asked),
            last_asked=max(when for _, _, when in asked),
            band="unknown" if any(band == "unknown" for _, band, _ in asked) else "suggest",
        )
        for asked in grouped.values()
    ]
    report.sort(key=lambda item: (-item.times, item.text))
    return report[:limit]


async def feedback_report(*, session: AsyncSession) -> list[TopicFeedback]:
    """👍 and 👎 per topic, the most disliked first."""
    rows = await session.execute(
        select(FaqFeedback.topic_id, FaqFeedback.helpful, func.count()).group_by(
            FaqFeedback.topic_id, FaqFeedback.helpful
        )
    )
    counts: dict[str, list[int]] = {}
    for topic_id, helpful, count in rows:
        counts.setdefault(topic_id, [0, 0])[0 if helpful else 1] += count
    report = [TopicFeedback(topic, up, down) for topic, (up, down) in counts.items()]
    report.sort(key=lambda item: (-item.not_helpful, item.topic_id))
    return report

"""FAQ matching on the development set, the two blind validation sets and the three blind held-out
sets (totals only): the bot's matcher beside a plain BM25 baseline.

Both learn only from bot/faq/content/topics.yaml. The baseline is Okapi BM25 over unstemmed
lowercase words, one document per topic (its titles and examples in both languages, concatenated);
it refuses below a score threshold chosen like the bot's, by 10-fold cross-validation over the
training phrases with the off-topic phrases as negatives. Top-1 accuracy counts a topic question
as right only when the answer is given ("id" of `phonebot faq match --json`), refusal counts an
off-topic question whose "id" is null. Latency is one match() call, after a warm-up.

    .venv/bin/python benchmarks/faq.py [--validation-misses] [--without-heldout]

While tuning, `--without-heldout` leaves the held-out sets unread: they are read once before and
once after a change, never in between.
"""

from __future__ import annotations

import json
import math
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.faq import matcher as bot_matcher  # noqa: E402
from bot.faq.language import words  # noqa: E402
from bot.faq.topics import FaqContent, faq_content  # noqa: E402
from tests.support.faq_dev import dev_also, dev_questions  # noqa: E402
from tests.support.faq_heldout import SETS as HELDOUT_SETS  # noqa: E402
from tests.support.faq_heldout import HeldOut, heldout_questions  # noqa: E402
from tests.support.faq_validation import SETS as VALIDATION_SETS  # noqa: E402
from tests.support.faq_validation import validation_questions  # noqa: E402

FOLDS = 10
ROUNDS = 5
_WORD = re.compile(r"\w+")


class Bm25:
    """Okapi BM25 over whole lowercase words, one document per topic."""

    def __init__(self, documents: dict[str, list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.counts = {topic: Counter(words) for topic, words in documents.items()}
        self.lengths = {topic: len(words) for topic, words in documents.items()}
        self.average = sum(self.lengths.values()) / max(1, len(documents))
        frequency = Counter(word for counts in self.counts.values() for word in counts)
        total = len(documents)
        self.idf = {
            word: math.log(1 + (total - seen + 0.5) / (seen + 0.5))
            for word, seen in frequency.items()
        }

    def scores(self, question: str) -> dict[str, float]:
        found = dict.fromkeys(self.counts, 0.0)
        for word in set(tokens(question)):
            idf = self.idf.get(word)
            if idf is None:
                continue
            for topic, counts in self.counts.items():
                tf = counts[word]
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * self.lengths[topic] / self.average)
                    found[topic] += idf * tf * (self.k1 + 1) / (tf + norm)
        return found


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def bm25_documents(phrases: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    documents: dict[str, list[str]] = {}
    for topic, phrase in phrases:
        documents.setdefault(topic, []).extend(tokens(phrase))
    return documents


def labelled_phrases(content: FaqContent) -> list[tuple[str, str]]:
    """(topic id or None, phrase): titles and examples in both languages, then off-topic."""
    phrases: list[tuple[str, str]] = []
    for topic in content.topics:
        for text in topic.texts.values():
            phrases.extend((topic.id, phrase) for phrase in (text.title, *text.examples))
    for off_topic in content.off_topic.values():
        phrases.extend(("", phrase) for phrase in off_topic)
    return phrases


def bm25_threshold(content: FaqContent) -> float:
    """The refusal threshold that maximises right answers plus refusals on held-out phrases."""
    phrases = labelled_phrases(content)
    order = list(range(len(phrases)))
    random.Random(1).shuffle(order)
    held: list[tuple[str, str, float]] = []
    for fold in range(FOLDS):
        out = set(order[fold::FOLDS])
        training = [item for number, item in enumerate(phrases) if number not in out and item[0]]
        model = Bm25(bm25_documents(training))
        for number in out:
            label, phrase = phrases[number]
            topic, score = max(model.scores(phrase).items(), key=lambda item: item[1])
            held.append((label, topic, score))
    topical = [row for row in held if row[0]]
    off_topic = [row for row in held if not row[0]]

    def quality(threshold: float) -> float:
        right = sum(label == topic and score >= threshold for label, topic, score in topical)
        refused = sum(score < threshold for _, _, score in off_topic)
        return right / len(topical) + refused / len(off_topic)

    candidates = sorted({round(score, 3) for _, _, score in held})
    return max(candidates, key=quality)


def evaluate(
    name: str,
    answer: Callable[[str], tuple[str | None, str]],
    topical: list[tuple[str, str, str]],
    off_topic: list[tuple[str, str]],
    also: Mapping[str, frozenset[str]] | None = None,
) -> tuple[dict[str, object], list[dict[str, str | None]]]:
    """Accuracy, refusal and latency of one matcher; (question, expected, got) of its misses."""
    right: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    misses: list[dict[str, str | None]] = []
    for question, expected, language in topical:
        got, band = answer(question)
        asked[language] += 1
        if got == expected or got in (also or {}).get(question, ()):
            right[language] += 1
        else:
            misses.append({"question": question, "expected": expected, "got": got, "band": band})
    refused = 0
    for question, _ in off_topic:
        got, band = answer(question)
        if got is None:
            refused += 1
        else:
            misses.append({"question": question, "expected": None, "got": got, "band": band})
    questions = [question for question, _, _ in topical] + [question for question, _ in off_topic]
    for question in questions:
        answer(question)
    latencies: list[float] = []
    for _ in range(ROUNDS):
        for question in questions:
            started = time.perf_counter()
            answer(question)
            latencies.append((time.perf_counter() - started) * 1e6)
    latencies.sort()
    result: dict[str, object] = {
        "matcher": name,
        "top1_accuracy": {
            "fi": round(right["fi"] / asked["fi"], 4),
            "en": round(right["en"] / asked["en"], 4),
            "all": round(sum(right.values()) / sum(asked.values()), 4),
        },
        "off_topic_refusal": round(refused / len(off_topic), 4),
        "latency_us": {
            "p50": round(statistics.median(latencies), 1),
            "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        },
    }
    return result, misses


def heldout_totals(
    answer: Callable[[str], tuple[str | None, str]],
    questions: Sequence[HeldOut],
    suggestions: Callable[[str], Sequence[str]] = lambda question: (),
) -> dict[str, object]:
    """Shares only: which questions are missed is never printed, so nothing is tuned on them.

    Top-1 counts a question with a topic as right when that topic (or one equally right) is
    answered; a program question no topic answers, and an off-topic one, are right when refused.
    """
    totals: Counter[str] = Counter()
    for question in questions:
        got, band = answer(question.text)
        if question.topic is not None:
            group = f"topic_{question.language}"
            outcome = (
                "right" if got in question.right_topics else "refused" if got is None else "wrong"
            )
            offered = set(suggestions(question.text)) if band == "suggest" else set()
            totals[f"{group}_suggested"] += bool(offered & question.right_topics)
        elif not question.off_topic:
            group, outcome = "no_topic", "answered" if got else "refused"
        else:
            group = "near_miss" if question.near_miss else "chit_chat"
            outcome = "answered" if got else "refused"
        totals[group] += 1
        totals[f"{group}_{outcome}"] += 1

    def share(part: str, whole: str | tuple[str, ...]) -> float:
        wholes = (whole,) if isinstance(whole, str) else whole
        count = sum(totals[f"{name}_{part}"] for name in wholes)
        return round(count / max(1, sum(totals[name] for name in wholes)), 4)

    topics = ("topic_fi", "topic_en")
    return {
        "questions": {
            name: totals[name] for name in (*topics, "no_topic", "near_miss", "chit_chat")
        },
        "top1_accuracy": {
            "fi": share("right", "topic_fi"),
            "en": share("right", "topic_en"),
            "all": share("right", topics),
        },
        "topic_questions_answered_wrong": share("wrong", topics),
        "topic_questions_refused": share("refused", topics),
        "topic_questions_refused_with_the_right_topic_suggested": share("suggested", topics),
        "no_topic_answered": share("answered", "no_topic"),
        "near_miss_answered": share("answered", "near_miss"),
        "chit_chat_answered": share("answered", "chit_chat"),
    }


def validation_misses(
    answer: Callable[[str], tuple[str | None, str]], questions: Sequence[HeldOut]
) -> list[dict[str, object]]:
    """The validation questions the bot gets wrong; unlike the held-out set, it may be read."""
    misses: list[dict[str, object]] = []
    for question in questions:
        got, band = answer(question.text)
        right = got in question.right_topics if question.topic else got is None
        if not right:
            misses.append(
                {"question": question.text, "expected": question.topic, "got": got, "band": band}
            )
    return misses


def wording(text: str) -> str:
    return " ".join(words(text))


def training_wordings(content: FaqContent) -> set[str]:
    """Every training phrase, title and off-topic phrase, as words."""
    phrases = [phrase for language in content.off_topic.values() for phrase in language]
    for topic in content.topics:
        for text in topic.texts.values():
            phrases += [text.title, *text.examples]
    return {wording(phrase) for phrase in phrases}


def main() -> None:
    content = faq_content()
    topical, off_topic = dev_questions()
    heldout = (
        {}
        if "--without-heldout" in sys.argv
        else {name: heldout_questions(folder) for name, folder in HELDOUT_SETS.items()}
    )
    validation = {name: validation_questions(name) for name in VALIDATION_SETS}
    started = time.perf_counter()
    bot = bot_matcher.default_matcher()
    build_seconds = time.perf_counter() - started

    def bot_answer(question: str) -> tuple[str | None, str]:
        match = bot.match(question)
        return match.topic_id, match.band

    def bot_suggestions(question: str) -> list[str]:
        return [topic_id for topic_id, _ in bot.match(question).candidates]

    threshold = bm25_threshold(content)
    baseline = Bm25(bm25_documents([item for item in labelled_phrases(content) if item[0]]))

    def bm25_answer(question: str) -> tuple[str | None, str]:
        topic, score = max(baseline.scores(question).items(), key=lambda item: item[1])
        return (topic, "answer") if score >= threshold else (None, "unknown")

    also = dev_also()
    bot_result, bot_misses = evaluate("bot", bot_answer, topical, off_topic, also)
    bm25_result, _ = evaluate("bm25", bm25_answer, topical, off_topic, also)
    # Written apart from the training phrases, the development set still shares some common
    # questions with them word for word; the same figures without those are the stricter ones.
    seen = training_wordings(content)
    unseen_topical = [item for item in topical if wording(item[0]) not in seen]
    unseen_off_topic = [item for item in off_topic if wording(item[0]) not in seen]

    def unseen_figures(
        name: str, match: Callable[[str], tuple[str | None, str]]
    ) -> dict[str, object]:
        result, _ = evaluate(name, match, unseen_topical, unseen_off_topic, also)
        return {key: result[key] for key in ("top1_accuracy", "off_topic_refusal")}

    unseen = {
        name: {
            "topic_questions": len(unseen_topical),
            "off_topic": len(unseen_off_topic),
            **unseen_figures(name, match),
        }
        for name, match in (("bot", bot_answer), ("bm25", bm25_answer))
    }
    report = {
        "dev_set": {
            "topic_questions": len(topical),
            "fi": sum(language == "fi" for _, _, language in topical),
            "en": sum(language == "en" for _, _, language in topical),
            "off_topic": len(off_topic),
        },
        "bot": {
            **bot_result,
            "build_seconds": round(build_seconds, 2),
            "constants": {
                "ANSWER_AT": bot_matcher.ANSWER_AT,
                "SUGGEST_AT": bot_matcher.SUGGEST_AT,
                "TEMPERATURE": bot_matcher.TEMPERATURE,
                "UNKNOWN_SCORE": bot_matcher.UNKNOWN_SCORE,
                "EXAMPLE_WEIGHT": bot_matcher.EXAMPLE_WEIGHT,
            },
        },
        "bm25": {**bm25_result, "threshold": threshold},
        "without_wordings_in_training": unseen,
        **{
            name: {
                "bot": heldout_totals(bot_answer, questions, bot_suggestions),
                "bm25": heldout_totals(bm25_answer, questions),
            }
            for name, questions in validation.items()
        },
        **{
            name: {
                "bot": heldout_totals(bot_answer, heldout[name], bot_suggestions),
                "bm25": heldout_totals(bm25_answer, heldout[name]),
            }
            if heldout
            else "not read (--without-heldout)"
            for name in HELDOUT_SETS
        },
        "bot_misses": bot_misses,
    }
    if "--validation-misses" in sys.argv:
        report["validation_misses"] = {
            name: validation_misses(bot_answer, questions) for name, questions in validation.items()
        }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

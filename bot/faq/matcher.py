"""Which FAQ topic a question is about, with a confidence that decides answer, suggest or not know.

A question becomes a TF-IDF vector of two feature groups. Words: colloquial Finnish made standard
("mulla", "onks"), question clitics dropped, Finnish base forms and compound parts from Voikko
(bot/faq/morphology.py; without it simplemma and a compound splitter of our own), a few synonyms
and brand names mapped to the program's words ("luuri" -> "puhelin", "pixel" -> "malli"), then
Snowball stems with umlauts folded. Character 3-5-grams inside each word, so that compounds meet
their parts and typos still overlap. A word weighs more the fewer topics use it. A topic's score
mixes its best training phrase, its centroid, a naive Bayes posterior over its words and a
logistic regression's probability (bot/faq/classifier.py); the off-topic phrases compete as one
more class and a constant stands for "something else". A softmax
of the best topic's score against those two is the confidence, calibrated on the training phrases;
a runner-up close to the best topic turns an answer into suggestions.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from bot.faq.bayes import WordEvidence
from bot.faq.classifier import TopicClassifier
from bot.faq.language import (
    ENGLISH,
    FINNISH,
    SPOKEN_FINNISH,
    compound_parts,
    detect_language,
    dictionary_form,
    fold,
    possible_languages,
    spoken_finnish,
    stem,
    synonyms,
    without_question_clitic,
    word_set,
    words,
)
from bot.faq.morphology import Morphology, finnish_morphology
from bot.faq.topics import FaqContent, faq_content

Band = Literal["answer", "suggest", "unknown"]
OFF_TOPIC = "(off-topic)"

# Chosen by `python -m bot.faq.calibrate`: 10-fold cross-validation over topics.yaml's training
# phrases (each topic's title and examples; the off_topic phrases as negatives), never the
# development questions. TEMPERATURE and UNKNOWN_SCORE maximise the held-out likelihood that the
# best topic is right. ANSWER_AT and RUNNER_UP maximise held-out topic phrases answered right,
# minus those answered wrong, plus held-out off-topic phrases not answered; SUGGEST_AT is just
# above 80 % of held-out off-topic phrases. With the phrases of 2026-12-06 and EXAMPLE_WEIGHT 0.4
# it proposed RUNNER_UP 0.9, within a phrase or two of 0.85 on its own objective; the blind
# validation sets told them apart (0.9 answered 0.3-0.6 points more of their topic questions
# wrong), so 0.85 stays. These constants predate the classifier (CLASSIFIER_WEIGHT): with it,
# calibration proposed TEMPERATURE 0.3, UNKNOWN_SCORE 0.05, ANSWER_AT 0.61, SUGGEST_AT 0.17 and
# RUNNER_UP 0.98, which answered as many validation questions right and more of them wrong, so
# these stayed. Its scores reach about 2, so the confidence of most questions is near 1: the
# off-topic score and the runner-up rule decide more than ANSWER_AT does.
TEMPERATURE = 0.1
UNKNOWN_SCORE = 0.35
ANSWER_AT = 0.63
SUGGEST_AT = 0.47
# A runner-up this close to the best topic (its score at least this share of the best's) makes the
# bot suggest both rather than answer one: a wrong answer is worse than a choice of two.
RUNNER_UP = 0.85
# How much the naive Bayes posterior of a topic (bot/faq/bayes.py) adds to its similarity score.
# 0.2 was kept after comparing 0, 0.2, 0.3 and 0.4 on the blind validation set
# (tests/data/faq/validation): cross-validation on the training phrases could not tell them apart.
BAYES_WEIGHT = 0.2
# How much a logistic regression's probability of a topic (bot/faq/classifier.py) adds to its
# score, and its probability of "off-topic" to the off-topic score. Chosen on the two blind
# validation sets on 2026-12-06 with the other constants as they were: 0 answered 92.3 % of each
# right, 1.0 answered 96.0 % and 97.8 %, with fewer wrong (1.2 % and 0.3 %, from 1.9 % and 0.9 %)
# and fewer off-topic questions answered; 0.5 and 1.5 were a point or two below 1.0.
CLASSIFIER_WEIGHT = 1.0
# How much of a topic's score comes from its closest training phrase, the rest from its centroid.
# Cross-validation on the training phrases cannot tell 0.3-0.5 apart; with 40-110 phrases per
# topic and language the centroids grew broad, and 0.4 (each calibrated) answered the most
# development and validation questions right at the same share wrong.
EXAMPLE_WEIGHT = 0.4
SUGGESTIONS = 3
MAX_TAILS = 6
MAX_QUESTION = 1000

GROUP_WEIGHTS = {"w": 0.6, "g": 0.4}
NGRAM_SIZES = (3, 4, 5)
FINNISH_STOPWORDS = word_set(
    """
    ja on ei se ne että kun jos minä minun minulla minulle minulta minua minut sinä sinun sinulla
    sinulle hän me meidän meillä te teidän he tämä tuo nämä nuo nyt vai tai mutta myös vielä jo
    sitten kanssa ole olen olla oli olisi niin siis sitä sen siitä tästä tässä joka jotka mikäli
    eli kuin vain oikein teen teet tekee tehdä tehdään tein mietin ihmettelen
    """
)
ENGLISH_STOPWORDS = word_set(
    """
    the a an and or but is are was were be been am do does did i me my mine you your we our they
    their it its this that these those to of in on at for from with as by into s t m re ve ll d
    there here so just some any please
    """
)
_STOPWORDS = {FINNISH: FINNISH_STOPWORDS, ENGLISH: ENGLISH_STOPWORDS}
_BOUNDARY = re.compile(r"[.!?;:,]+\s+|\s+[-–]\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Tuning:
    """The matcher's constants, replaceable for calibration."""

    example_weight: float = EXAMPLE_WEIGHT
    temperature: float = TEMPERATURE
    unknown_score: float = UNKNOWN_SCORE
    answer_at: float = ANSWER_AT
    suggest_at: float = SUGGEST_AT
    runner_up: float = RUNNER_UP
    bayes_weight: float = BAYES_WEIGHT
    classifier_weight: float = CLASSIFIER_WEIGHT


@dataclass(frozen=True)
class Match:
    """What the bot makes of one question: the topic to answer (if sure), and the closest ones."""

    question: str
    topic_id: str | None
    score: float
    language: str
    band: Band
    candidates: tuple[tuple[str, float], ...]

    def as_json(self) -> dict[str, object]:
        """The line `phonebot faq match --json` writes; "id" is null unless the bot answers."""
        return {
            "question": self.question,
            "id": self.topic_id,
            "score": self.score,
            "lang": self.language,
            "band": self.band,
            "candidates": [{"id": topic_id, "score": score} for topic_id, score in self.candidates],
        }


@dataclass(frozen=True)
class Scores:
    """Raw similarities of one question, before the confidence: per topic, and off-topic."""

    topics: dict[str, float]
    off_topic: float

    def best(self) -> tuple[str, float]:
        """The closest topic and its score."""
        return max(self.topics.items(), key=lambda item: item[1])


Vector = dict[str, float]


@dataclass(frozen=True)
class _Index:
    """One language's training phrases as TF-IDF vectors: sparse matrices with a row per feature,
    so a question's dot products touch only the rows of its own features."""

    vocabulary: frozenset[str]
    idf: dict[str, float]
    unknown_idf: float
    labels: tuple[str, ...]
    rows: dict[str, int]  # feature -> row of the matrices
    phrase_labels: NDArray[np.intp]
    phrases: csr_matrix  # features x phrases
    centroids: csr_matrix  # features x labels
    evidence: WordEvidence
    classifier: TopicClassifier


class FaqMatcher:
    """Matches questions to topics: build once (`default_matcher`), call `match` per message."""

    def __init__(
        self,
        phrases: Mapping[str, Sequence[tuple[str, str]]],
        topic_ids: Sequence[str],
        tuning: Tuning | None = None,
        morphology: Morphology | Literal["installed"] | None = "installed",
    ) -> None:
        self.tuning = tuning or Tuning()
        self.topic_ids = tuple(topic_ids)
        if morphology == "installed":
            morphology = finnish_morphology()
        self.morphology = morphology
        self._indexes = {
            language: _build_index(language, labelled, (*self.topic_ids, OFF_TOPIC), morphology)
            for language, labelled in phrases.items()
        }

    @classmethod
    def from_content(
        cls,
        content: FaqContent | None = None,
        tuning: Tuning | None = None,
        morphology: Morphology | Literal["installed"] | None = "installed",
    ) -> FaqMatcher:
        """A matcher trained on the topics' titles, examples and answers and off-topic phrases."""
        content = content or faq_content()
        topic_ids = [topic.id for topic in content.topics]
        return cls(training_phrases(content), topic_ids, tuning, morphology)

    def match(self, question: str) -> Match:
        """The topic of a question and how sure we are, in the question's own language."""
        text = question[:MAX_QUESTION]
        matches = [
            self.decide(question, language, self.scores(text, language))
            for language in possible_languages(text)
            if language in self._indexes
        ]
        if not matches:
            language = detect_language(text)
            return self.decide(question, language, self.scores(text, language))
        return max(matches, key=lambda match: match.score)

    def scores(self, question: str, language: str) -> Scores:
        """Similarity to every topic and to the off-topic phrases, of the question or its tail.

        People often give context first ("I work in home care and ...") and ask last, so each
        tail after a sentence or clause boundary is scored too, and each topic's best score counts.
        """
        whole, vector = self._scores(question, language)
        topics = dict(whole.topics)
        for tail in tails(question, language):
            for topic_id, score in self._scores(tail, language)[0].topics.items():
                topics[topic_id] = max(topics[topic_id], score)
        weight = self.tuning.classifier_weight
        if not weight:
            return Scores(topics=topics, off_topic=whole.off_topic)
        index = self._indexes[language]
        likely = dict(zip(index.labels, index.classifier.probabilities(vector), strict=True))
        return Scores(
            topics={
                topic_id: score + weight * likely[topic_id] for topic_id, score in topics.items()
            },
            off_topic=whole.off_topic + weight * likely[OFF_TOPIC],
        )

    def decide(self, question: str, language: str, scores: Scores) -> Match:
        """The band from the best topic's confidence; the runners-up become suggestions."""
        tuning = self.tuning
        ranked = sorted(scores.topics.items(), key=lambda item: item[1], reverse=True)
        candidates = tuple(
            (topic_id, round(self.confidence(score, scores.off_topic), 4))
            for topic_id, score in ranked[:SUGGESTIONS]
        )
        best_id, best = candidates[0]
        band: Band = "unknown"
        if best >= tuning.answer_at and not _close_runner_up(ranked, tuning.runner_up):
            band = "answer"
        elif best >= tuning.suggest_at:
            band = "suggest"
        return Match(
            question=question,
            topic_id=best_id if band == "answer" else None,
            score=best,
            language=language,
            band=band,
            candidates=candidates,
        )

    def confidence(self, score: float, off_topic: float) -> float:
        """Softmax of a topic's score against the off-topic score and the constant unknown one."""
        tuning = self.tuning
        logits = (score, off_topic, tuning.unknown_score)
        top = max(logits)
        weights = [math.exp((logit - top) / tuning.temperature) for logit in logits]
        return weights[0] / sum(weights)

    def _scores(self, text: str, language: str) -> tuple[Scores, Vector]:
        """The similarities of a text, and its vector for the classifier."""
        index = self._indexes[language]
        features = analyse(text, language, index.vocabulary, self.morphology)
        vector = _vector(features, index.idf, index.unknown_idf)
        known = [
            (index.rows[feature], weight)
            for feature, weight in vector.items()
            if feature in index.rows
        ]
        question = csr_matrix(
            (
                [weight for _, weight in known],
                ([0] * len(known), [row for row, _ in known]),
            ),
            shape=(1, len(index.rows)),
        )
        by_phrase = (question @ index.phrases).toarray()[0]
        by_centroid = (question @ index.centroids).toarray()[0]
        closest = np.zeros(len(index.labels))
        np.maximum.at(closest, index.phrase_labels, by_phrase)
        mix = self.tuning.example_weight
        words_of = index.evidence.posterior(
            (feature for feature in features if feature.startswith("w:")), len(index.labels) - 1
        )
        topics = {
            topic_id: float(
                mix * closest[position]
                + (1 - mix) * by_centroid[position]
                + self.tuning.bayes_weight * words_of[position]
            )
            for position, topic_id in enumerate(index.labels[:-1])
        }
        return Scores(topics=topics, off_topic=float(closest[-1])), vector


def _close_runner_up(ranked: Sequence[tuple[str, float]], share: float) -> bool:
    """Whether the second topic scores at least `share` of the best one's score."""
    return len(ranked) > 1 and ranked[1][1] >= share * ranked[0][1] > 0


@cache
def default_matcher() -> FaqMatcher:
    """The bot's matcher over the packaged content, built once per process."""
    return FaqMatcher.from_content()


def training_phrases(
    content: FaqContent, *, answers: bool = True
) -> dict[str, list[tuple[str, str]]]:
    """(label, phrase) per language: titles and examples, answer sentences, off-topic phrases."""
    phrases: dict[str, list[tuple[str, str]]] = {FINNISH: [], ENGLISH: []}
    for topic in content.topics:
        for language, text in topic.texts.items():
            phrases[language].extend((topic.id, phrase) for phrase in (text.title, *text.examples))
            if answers:
                phrases[language].extend(
                    (topic.id, sentence) for sentence in answer_sentences(text.answer)
                )
    for language, off_topic in content.off_topic.items():
        phrases[language].extend((OFF_TOPIC, phrase) for phrase in off_topic)
    return phrases


def answer_sentences(answer: str) -> list[str]:
    """An answer's sentences without markdown: they teach the topic's vocabulary."""
    return [sentence for sentence in _SENTENCE_END.split(answer.replace("**", "")) if sentence]


def tails(question: str, language: str) -> list[str]:
    """The question without its first sentences or clauses, each tail with two content words."""
    found = []
    for boundary in list(_BOUNDARY.finditer(question))[-MAX_TAILS:]:
        tail = question[boundary.end() :]
        if len({_standard(word, language) for word in words(tail)} - _STOPWORDS[language]) >= 2:
            found.append(tail)
    return found


def analyse(
    text: str,
    language: str,
    vocabulary: frozenset[str] = frozenset(),
    morphology: Morphology | None = None,
) -> list[str]:
    """The features of a text: "w:" word stems and lemmas, "g:" character n-grams of each word."""
    features: list[str] = []
    for word in words(text):
        features.extend(_word_features(word, language, vocabulary, morphology))
    return features


def vocabulary(phrases: Iterable[str], language: str) -> frozenset[str]:
    """The words of the training phrases, which can be parts of compounds in questions."""
    return frozenset(
        word
        for phrase in phrases
        for raw in words(phrase)
        if len(word := _standard(raw, language)) >= 3
    )


@lru_cache(maxsize=65536)
def _word_features(
    raw: str, language: str, vocabulary: frozenset[str], morphology: Morphology | None
) -> tuple[str, ...]:
    word = _standard(raw, language)
    if morphology and language == FINNISH:
        word = _spoken_ending(raw, word, morphology)
    if word in _STOPWORDS[language]:
        return ()
    # Only after the spoken ending: "par" is pari, not a guessed "pär".
    analysis = morphology.guess(word) if morphology and language == FINNISH else None
    if analysis is not None:
        bases = {word: analysis.base_forms, **{part: (part,) for part in analysis.parts}}
    else:
        parts = compound_parts(word, vocabulary) if language == FINNISH else ()
        bases = {
            form: tuple(base for base in [dictionary_form(form, language)] if base is not None)
            for form in (word, *parts)
        }
    forms = list(bases)
    for form in (word, *bases[word]):
        for standard in synonyms(form, language):
            bases.setdefault(standard, (standard,))
            forms.append(standard)
    features: list[str] = []
    for form in dict.fromkeys(forms):
        word_stem = stem(form, language)
        features.append(f"w:{word_stem}")
        features.extend(
            f"w:{fold(base)}"
            for base in bases[form]
            if fold(base) != word_stem and base not in _STOPWORDS[language]
        )
        features.extend(f"g:{gram}" for gram in _ngrams(fold(form)))
    return tuple(features)


def _spoken_ending(raw: str, word: str, morphology: Morphology) -> str:
    """Spoken Finnish drops a final i ("tippu", "hajos", "illaks"): put it back when only then
    the analyser knows the word, else keep the standard form of the word ("onks" -> "onko")."""
    if raw in SPOKEN_FINNISH or morphology.analyse(raw) is not None:
        return word
    return raw + "i" if morphology.analyse(raw + "i") is not None else word


def _standard(word: str, language: str) -> str:
    return without_question_clitic(spoken_finnish(word)) if language == FINNISH else word


def _ngrams(word: str) -> list[str]:
    marked = f"<{word}>"
    return [
        marked[start : start + size]
        for size in NGRAM_SIZES
        for start in range(len(marked) - size + 1)
    ]


def _vector(features: Iterable[str], idf: dict[str, float], unknown_idf: float) -> Vector:
    """Group-wise L2-normalised TF-IDF, each group scaled so that a dot product mixes cosines.

    Features never seen in training weigh `unknown_idf`: a question about something else (lunch,
    office supplies) is then less like a topic whose question frame it shares.
    """
    counts: dict[str, int] = defaultdict(int)
    for feature in features:
        counts[feature] += 1
    groups: dict[str, Vector] = defaultdict(dict)
    for feature, count in counts.items():
        groups[feature[0]][feature] = (1 + math.log(count)) * idf.get(feature, unknown_idf)
    vector: Vector = {}
    for group, values in groups.items():
        scale = math.sqrt(GROUP_WEIGHTS[group]) / math.sqrt(sum(v * v for v in values.values()))
        vector.update((feature, value * scale) for feature, value in values.items())
    return vector


def _build_index(
    language: str,
    labelled: Sequence[tuple[str, str]],
    labels: tuple[str, ...],
    morphology: Morphology | None,
) -> _Index:
    position = {label: number for number, label in enumerate(labels)}
    known_words = vocabulary((phrase for _, phrase in labelled), language)
    analysed = [
        (position[label], analyse(phrase, language, known_words, morphology))
        for label, phrase in labelled
    ]
    # A word's weight is how few topics use it: a word in many phrases of one topic (its own
    # vocabulary, "vähennys") tells that topic apart, a word in every topic ("puhelin") does not.
    topics_using: dict[str, set[int]] = defaultdict(set)
    for label, features in analysed:
        for feature in features:
            topics_using[feature].add(label)
    count = len(labels)
    idf = {
        feature: math.log((1 + count) / (1 + len(using))) + 1
        for feature, using in topics_using.items()
    }
    # A feature every label uses ("<pu", "puhelin") adds to the closeness of thousands of phrases
    # and tells none apart: the closest-phrase products skip it (half the median time per question
    # and a third of the p99 on the 2026-12-06 phrases, accuracy within a question or two); the
    # centroids and norms keep it.
    everywhere = {feature for feature, using in topics_using.items() if len(using) == count}
    rows = {feature: row for row, feature in enumerate(idf)}
    sums: list[Vector] = [defaultdict(float) for _ in labels]
    phrases: list[tuple[int, int, float]] = []  # feature row, phrase, weight
    vectors = [_vector(features, idf, 0.0) for _, features in analysed]
    for number, ((label, _), vector) in enumerate(zip(analysed, vectors, strict=True)):
        for feature, weight in vector.items():
            if feature not in everywhere:
                phrases.append((rows[feature], number, weight))
            sums[label][feature] += weight
    centroids: list[tuple[int, int, float]] = []  # feature row, label, weight
    for label, total in enumerate(sums):
        norm = math.sqrt(sum(value * value for value in total.values())) or 1.0
        centroids.extend((rows[feature], label, value / norm) for feature, value in total.items())
    return _Index(
        vocabulary=known_words,
        idf=idf,
        unknown_idf=math.log(1 + count) + 1,
        labels=labels,
        rows=rows,
        phrase_labels=np.array([label for label, _ in analysed], dtype=np.intp),
        phrases=_by_feature(phrases, (len(rows), len(analysed))),
        centroids=_by_feature(centroids, (len(rows), len(labels))),
        evidence=WordEvidence(
            [(label, [f for f in features if f.startswith("w:")]) for label, features in analysed],
            len(labels),
        ),
        classifier=TopicClassifier(vectors, [label for label, _ in analysed], len(labels), rows),
    )


def _by_feature(entries: Sequence[tuple[int, int, float]], shape: tuple[int, int]) -> csr_matrix:
    """(feature row, column, weight) entries as a sparse matrix with a row per feature."""
    return csr_matrix(
        (
            [weight for _, _, weight in entries],
            ([row for row, _, _ in entries], [column for _, column, _ in entries]),
        ),
        shape=shape,
    )

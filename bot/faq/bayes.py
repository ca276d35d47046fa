"""Naive Bayes over the training phrases' words: which topic's phrases use a question's words.

Similarity asks which phrase a question is closest to; this asks which topic's vocabulary it is
most likely drawn from, so a topic's many phrases add up. The matcher adds the posterior to its
similarity scores (`Tuning.bayes_weight`, chosen by cross-validation).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

SMOOTHING = 0.1


class WordEvidence:
    """Multinomial naive Bayes with additive smoothing over each phrase's distinct words."""

    def __init__(self, labelled: Sequence[tuple[int, Iterable[str]]], labels: int) -> None:
        counts: list[Counter[str]] = [Counter() for _ in range(labels)]
        for label, features in labelled:
            counts[label].update(set(features))
        vocabulary = set().union(*counts)
        totals = [sum(count.values()) for count in counts]
        self._labels = labels
        self._unseen = [
            math.log(SMOOTHING / (total + SMOOTHING * len(vocabulary))) for total in totals
        ]
        self._gain: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for label, count in enumerate(counts):
            for feature, times in count.items():
                self._gain[feature].append((label, math.log((times + SMOOTHING) / SMOOTHING)))

    def posterior(self, features: Iterable[str], among: int) -> list[float]:
        """P(label | features) for labels 0..among-1, with equal priors."""
        distinct = {feature for feature in features if feature in self._gain}  # known words only
        logits = [len(distinct) * self._unseen[label] for label in range(among)]
        for feature in distinct:
            for label, gain in self._gain.get(feature, ()):
                if label < among:
                    logits[label] += gain
        top = max(logits)
        weights = [math.exp(logit - top) for logit in logits]
        total = sum(weights)
        return [weight / total for weight in weights]

"""A logistic regression over the matcher's features: which features tell the topics apart.

Similarity and naive Bayes weigh a feature by how few topics use it; a discriminative model learns
from all phrases at once how much each feature speaks for or against each topic, so a word that
two neighbouring topics share stops deciding between them. The matcher adds its probabilities to
its similarity scores (`Tuning.classifier_weight`). scikit-learn fits it once per matcher build;
a question is then a handful of rows of the weight matrix, summed with numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

# Inverse regularisation strength. 3, 10 and 30 answered the blind validation sets within a
# point of each other on 2026-12-06; 10 is the middle.
STRENGTH = 10.0
# The stochastic average gradient solver fits the Finnish phrases in about a second where the
# default (L-BFGS) takes five; with this tolerance it answers the same.
SOLVER_TOLERANCE = 1e-3
SOLVER_ITERATIONS = 100


class TopicClassifier:
    """Multinomial logistic regression over weighted features, labels numbered 0..count-1."""

    def __init__(
        self,
        vectors: Sequence[Mapping[str, float]],
        labels: Sequence[int],
        count: int,
        columns: Mapping[str, int],
    ) -> None:
        """`columns` numbers every feature of the vectors: the matcher's own index, shared."""
        self._columns = columns
        self._labels = sorted(set(labels))
        self._count = count
        self._weights = np.zeros((len(columns), self._count))
        # A label without phrases never wins.
        self._intercepts = np.full(self._count, -np.inf)
        self._tells_apart = len(self._labels) >= 2
        if not self._tells_apart:  # nothing to tell apart: it adds nothing to any label
            return
        model = LogisticRegression(
            C=STRENGTH,
            solver="sag",
            tol=SOLVER_TOLERANCE,
            max_iter=SOLVER_ITERATIONS,
            random_state=0,
        )
        model.fit(self._matrix(vectors), np.asarray(labels))
        coefficients, intercepts = model.coef_, model.intercept_
        if len(self._labels) == 2:  # one weight vector for the second class against the first
            coefficients = np.vstack([-coefficients, coefficients]) / 2
            intercepts = np.concatenate([-intercepts, intercepts]) / 2
        for row, label in enumerate(model.classes_):
            self._weights[:, label] = coefficients[row]
            self._intercepts[label] = intercepts[row]

    def probabilities(self, vector: Mapping[str, float]) -> list[float]:
        """P(label | features) for every label; features never seen in training count nothing.
        All zeros when training had fewer than two labels: then it knows nothing."""
        if not self._tells_apart:
            return [0.0] * self._count
        rows = [
            (self._columns[feature], value)
            for feature, value in vector.items()
            if feature in self._columns
        ]
        logits = self._intercepts.copy()
        if rows:
            positions, values = zip(*rows, strict=True)
            logits += np.asarray(values) @ self._weights[list(positions)]
        top = logits.max()
        weights = np.exp(logits - top)
        return [float(weight) for weight in weights / weights.sum()]

    def _matrix(self, vectors: Sequence[Mapping[str, float]]) -> csr_matrix:
        """The vectors as a sparse matrix with 32-bit indices, as scikit-learn's solvers want."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for vector in vectors:
            for feature, value in vector.items():
                indices.append(self._columns[feature])
                data.append(value)
            indptr.append(len(indices))
        return csr_matrix(
            (
                np.asarray(data, dtype=np.float64),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(vectors), len(self._columns)),
        )

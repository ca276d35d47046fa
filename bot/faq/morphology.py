"""Finnish base forms and compound parts from Voikko, the standard Finnish analyser, when installed.

Voikko needs the C library (Debian `libvoikko1`) and a dictionary (`voikko-fi`); the Python
binding (`libvoikko` on PyPI) only loads them. Without them the matcher falls back to simplemma's
dictionary and its own compound splitter, and the bot says so at start-up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from typing import Protocol

log = logging.getLogger(__name__)

MAX_ANALYSES = 3
# A word typed without its umlauts ("tyoprofiili") is tried with them restored, fewest first;
# more than this many a's and o's would be too many spellings to try.
MAX_UMLAUT_GUESSES = 5
_UMLAUTS = {"a": "ä", "o": "ö"}
_MORPHEME = re.compile(r"\+([^+(]*)(?:\(([^)]*)\))?")


@dataclass(frozen=True)
class Analysis:
    """What a word is: its dictionary forms ("puhelimeni" -> puhelin) and compound parts."""

    base_forms: tuple[str, ...]
    parts: tuple[str, ...]


class Morphology(Hashable, Protocol):
    """Analyses one lower-case Finnish word; None when the analyser does not know it."""

    name: str

    def analyse(self, word: str) -> Analysis | None: ...

    def guess(self, word: str) -> Analysis | None:
        """The word as typed, else as it reads with its umlauts restored ("tyoprofiili")."""
        ...


class VoikkoMorphology:
    """Voikko's analyses, cached: the same words come back in every question."""

    def __init__(self, voikko: object, version: str) -> None:
        self._voikko = voikko
        self.name = f"Voikko {version}"
        self._cache: dict[str, Analysis | None] = {}

    def analyse(self, word: str) -> Analysis | None:
        """The word's base forms and, for a compound, its parts in base form."""
        if word not in self._cache:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[word] = self._analyse(word)
        return self._cache[word]

    def guess(self, word: str) -> Analysis | None:
        """The word as typed, else as it reads with its umlauts restored ("tyoprofiili")."""
        return next(
            (found for spelling in spellings(word) if (found := self.analyse(spelling))), None
        )

    def _analyse(self, word: str) -> Analysis | None:
        analyses = list(self._voikko.analyze(word)[:MAX_ANALYSES])  # type: ignore[attr-defined]
        if not analyses:
            return None
        base_forms = tuple(
            dict.fromkeys(
                analysis["BASEFORM"].lower() for analysis in analyses if "BASEFORM" in analysis
            )
        )
        if not base_forms:
            return None
        first = analyses[0]
        parts = compound_parts(first.get("WORDBASES", ""), first.get("BASEFORM", "").lower())
        return Analysis(base_forms=base_forms, parts=parts if len(parts) > 1 else ())


def spellings(word: str) -> list[str]:
    """The word as typed, then with umlauts restored: one a/o changed, then two, and so on."""
    places = [index for index, letter in enumerate(word) if letter in _UMLAUTS]
    if not places or len(places) > MAX_UMLAUT_GUESSES:
        return [word]
    found = [word]
    for count in range(1, len(places) + 1):
        for chosen in combinations(places, count):
            letters = list(word)
            for index in chosen:
                letters[index] = _UMLAUTS[letters[index]]
            found.append("".join(letters))
    return found


def compound_parts(wordbases: str, base_form: str) -> tuple[str, ...]:
    """The parts of a compound from Voikko's WORDBASES, each in base form.

    "+palkan(palkka)+vähenn(vähetä)+ys(+ys)" is "palkka" + "vähennys": a morpheme whose base starts
    with "+" is a derivational ending and stays with the part before it (so "vähenn" + "ys" makes
    "vähennys"), and the last part's base form is what the whole word's base form ends with.
    """
    surfaces: list[str] = []
    bases: list[str | None] = []
    for surface, base in _MORPHEME.findall(wordbases):
        if surfaces and (not base or base.startswith("+")):
            surfaces[-1] += surface
            bases[-1] = None
        else:
            surfaces.append(surface)
            bases.append(base or None)
    if len(surfaces) < 2:
        return ()
    parts = [
        (base or surface).lower() for surface, base in zip(surfaces[:-1], bases[:-1], strict=True)
    ]
    before = "".join(surfaces[:-1]).lower()
    last = base_form[len(before) :] if base_form.startswith(before) else (bases[-1] or "")
    return tuple(part for part in (*parts, last.lower()) if len(part) >= 2)


@cache
def finnish_morphology() -> Morphology | None:
    """Voikko when its library and Finnish dictionary load, else None (say why once)."""
    try:
        import libvoikko
    except ImportError:
        log.warning("Finnish morphology: the libvoikko package is missing; using stemming only")
        return None
    try:
        voikko = libvoikko.Voikko("fi")
        version = str(libvoikko.Voikko.getVersion())
    except (OSError, libvoikko.VoikkoException) as error:
        log.warning("Finnish morphology: Voikko did not load (%s); using stemming only", error)
        return None
    return VoikkoMorphology(voikko, version)

"""Finnish morphology: Voikko's analyses read right, and the matcher works with or without it."""

from __future__ import annotations

import sys
import types

import pytest

from bot.faq.bayes import WordEvidence
from bot.faq.language import SPOKEN_FINNISH, spoken_finnish
from bot.faq.matcher import FaqMatcher, Scores, Tuning, analyse
from bot.faq.morphology import compound_parts, finnish_morphology, spellings


@pytest.mark.parametrize(
    ("wordbases", "base_form", "parts"),
    [
        ("+palkan(palkka)+vähenn(vähetä)+ys(+ys)", "palkanvähennys", ("palkka", "vähennys")),
        ("+puhelin(puhelin)+vali(valita)+n+ta(+ta)", "puhelinvalinta", ("puhelin", "valinta")),
        ("+koti(koti)+hoito(hoito)", "kotihoito", ("koti", "hoito")),
        ("+sija(sija)+isu(+inen)+us(+us)", "sijaisuus", ()),
        ("+puhelin(puhelin)", "puhelin", ()),
        ("", "puhelin", ()),
    ],
)
def test_compound_parts_come_from_voikkos_wordbases_with_derivations_kept_whole(
    wordbases, base_form, parts
):
    assert compound_parts(wordbases, base_form) == parts


needs_voikko = pytest.mark.skipif(
    finnish_morphology() is None, reason="Voikko (libvoikko1 + voikko-fi) is not installed"
)


@needs_voikko
def test_voikko_gives_base_forms_and_compound_parts():
    voikko = finnish_morphology()
    assert voikko is not None
    analysis = voikko.analyse("palkanvähennykset")
    assert analysis is not None
    assert analysis.base_forms == ("palkanvähennys",)
    assert analysis.parts == ("palkka", "vähennys")
    assert voikko.analyse("xqzzv") is None


@needs_voikko
def test_an_inflected_compound_meets_its_base_form_parts_in_the_features():
    voikko = finnish_morphology()
    features = set(analyse("palkanvähennyksistä", "fi", morphology=voikko))
    assert {"w:palkanvahennys", "w:palkka", "w:vahennys"} <= features


def test_spellings_restore_umlauts_fewest_first_and_give_up_on_long_words():
    assert spellings("tyo") == ["tyo", "työ"]
    assert spellings("vahennys") == ["vahennys", "vähennys"]
    assert spellings("mita")[:3] == ["mita", "mitä"]
    assert spellings("kannykka") == ["kannykka", "kännykka", "kannykkä", "kännykkä"]
    assert spellings("puhelin") == ["puhelin"]
    assert spellings("aaaaaaa") == ["aaaaaaa"]


@needs_voikko
def test_a_word_typed_without_umlauts_is_read_as_the_word_with_them():
    voikko = finnish_morphology()
    assert voikko is not None
    assert voikko.analyse("tyoprofiili") is None
    analysis = voikko.guess("tyoprofiili")
    assert analysis is not None
    assert analysis.base_forms == ("työprofiili",)
    assert analysis.parts == ("työ", "profiili")
    # A word Voikko knows as typed keeps its own reading.
    known = voikko.guess("maksaa")
    assert known is not None and "maksaa" in known.base_forms


@needs_voikko
def test_a_dropped_final_i_is_put_back_before_any_umlaut_is_guessed():
    voikko = finnish_morphology()
    features = set(analyse("par kysymystä", "fi", morphology=voikko))
    assert "w:pari" in features
    assert "w:par" not in features


def test_without_voikko_the_matcher_falls_back_to_stemming_and_still_answers():
    matcher = FaqMatcher.from_content(morphology=None)
    assert matcher.morphology is None
    assert matcher.match("paljonko vapaavalintainen puhelin maksaa minulle?").band == "answer"


def test_a_close_runner_up_turns_an_answer_into_suggestions():
    matcher = FaqMatcher({}, [], Tuning(answer_at=0.5, runner_up=0.9))
    close = Scores(topics={"a": 1.0, "b": 0.95, "c": 0.1}, off_topic=0.0)
    clear = Scores(topics={"a": 1.0, "b": 0.5, "c": 0.1}, off_topic=0.0)
    assert matcher.decide("q", "fi", close).band == "suggest"
    assert matcher.decide("q", "fi", clear).band == "answer"


def test_word_evidence_favours_the_topic_whose_phrases_use_the_words():
    evidence = WordEvidence([(0, ["w:palkka", "w:vahennys"]), (1, ["w:malli"])], labels=2)
    posterior = evidence.posterior(["w:vahennys"], among=2)
    assert posterior[0] > 0.5 > posterior[1]
    assert sum(posterior) == pytest.approx(1)


def test_without_the_libvoikko_package_the_bot_says_it_uses_stemming(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "libvoikko", None)
    assert finnish_morphology.__wrapped__() is None
    assert "using stemming only" in caplog.text


def test_without_the_library_or_dictionary_the_bot_says_why(monkeypatch, caplog):
    def missing(language: str) -> None:
        raise OSError("libvoikko.so.1: cannot open shared object file")

    fake = types.SimpleNamespace(Voikko=missing, VoikkoException=VoikkoError)
    monkeypatch.setitem(sys.modules, "libvoikko", fake)
    assert finnish_morphology.__wrapped__() is None
    assert "Voikko did not load" in caplog.text
    assert "using stemming only" in caplog.text


class VoikkoError(Exception):
    """What libvoikko raises when the library loads but the Finnish dictionary does not."""


def test_without_the_finnish_dictionary_the_bot_falls_back_too(monkeypatch, caplog):
    def no_dictionary(language: str) -> None:
        raise VoikkoError("Initialization of Voikko failed: No valid dictionaries were found")

    fake = types.SimpleNamespace(Voikko=no_dictionary, VoikkoException=VoikkoError)
    monkeypatch.setitem(sys.modules, "libvoikko", fake)
    assert finnish_morphology.__wrapped__() is None
    assert "No valid dictionaries" in caplog.text


@needs_voikko
@pytest.mark.parametrize(
    ("spoken", "standard"), [("tippu", "w:tippua"), ("hajos", "w:hajota"), ("illaks", "w:ilta")]
)
def test_a_spoken_word_without_its_final_i_meets_its_standard_form(spoken, standard):
    assert standard in analyse(spoken, "fi", morphology=finnish_morphology())


@pytest.mark.parametrize(("satakunta", "standard"), [("millo", "milloin"), ("ko", "kun")])
def test_satakunta_forms_are_made_standard(satakunta, standard):
    assert spoken_finnish(satakunta) == standard


@pytest.mark.parametrize("spoken", sorted(SPOKEN_FINNISH))
def test_the_spoken_words_table_wins_over_guessing_a_dropped_i(spoken):
    """'mun' is 'minun', not 'muni'; 'ko' is 'kun', not 'koi'."""
    voikko = finnish_morphology()
    standard = SPOKEN_FINNISH[spoken]
    assert analyse(spoken, "fi", morphology=voikko) == analyse(standard, "fi", morphology=voikko)

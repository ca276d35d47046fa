"""The cost figures on the cards, in every language: the instalment count follows the plan,
the city's share says whose price it is, and the monthly figure is the regular instalment."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from bot.choices.cost import InstalmentRule
from bot.dialogs.phone.cards import (
    consent_text,
    model_detail_card,
    model_list_card,
    options_card,
    preferences_card,
    summary_card,
)
from bot.faq.facts import FIRST_DEDUCTION_TIMING
from bot.i18n import texts
from tests.support.card_gallery import FLOW, SAMPLE_WINDOW, TOKEN, sample_quote
from tests.support.cards import ADAPTIVE, all_text
from tests.support.facts import use_facts, with_confirmed

BASE = 199_00


def shown(card: dict[str, Any]) -> str:
    return all_text([{"attachments": [{"contentType": ADAPTIVE, "content": card}]}]).replace(
        "\u00a0", " "
    )


def every_card(language: str, price_cents: int) -> str:
    t, quote = texts(language), sample_quote(price_cents)
    return "\n".join(
        shown(card)
        for card in (
            model_list_card(t, FLOW, [quote], filtered=False),
            model_detail_card(t, FLOW, quote),
            summary_card(t, FLOW, quote, TOKEN),
        )
    )


@pytest.mark.parametrize("language", ["fi", "en", "sv"])
@pytest.mark.parametrize("share", [1, 23, 24, 4_99, 5_00, 10_01, 119_99, 250_00, 1_234_50])
def test_no_card_shows_a_zero_instalment_or_a_count_the_plan_does_not_have(language, share):
    quote = sample_quote(BASE + share)
    text = every_card(language, BASE + share)
    assert not re.search(r"(?<!\d)0,00 €", text)  # no instalment of nothing
    count = quote.cost.instalment_count
    if count > 1:
        assert f"{count} " in text
    for wrong in {24, count + 1} - {count}:
        assert f"{wrong} × " not in text and f"{wrong} erää" not in text


@pytest.mark.parametrize(
    ("language", "single", "consent"),
    [
        (
            "fi",
            "yksi erä, 0,23 €",
            "0,23 € yhtenä eränä. Ensimmäinen palkanvähennys tehdään tammikuussa 2027.",
        ),
        ("en", "one instalment, 0,23 €", "0,23 € is deducted from my salary in one instalment"),
        (
            "sv",
            "en rat, 0,23 €",
            "0,23 € dras av från min lön i en rat. Det första löneavdraget görs i januari 2027.",
        ),
    ],
)
def test_a_share_under_the_minimum_is_one_deduction_on_every_card(
    language, single, consent, monkeypatch
):
    use_facts(monkeypatch, with_confirmed(FIRST_DEDUCTION_TIMING))
    text = every_card(language, BASE + 23)
    assert single in text
    assert consent in text


def test_the_list_line_has_the_count_and_the_first_instalment_when_it_differs():
    t = texts("fi")
    uneven, even = sample_quote(BASE + 250_00), sample_quote(BASE + 480_00)
    listed = shown(model_list_card(t, FLOW, [uneven, even], filtered=False))
    assert "sinun osuutesi 250,00 € · 10,41 €/kk, 24 kk (1. erä 10,57 €)" in listed
    assert "sinun osuutesi 480,00 € · 20,00 €/kk, 24 kk\n" in listed + "\n"
    few = shown(model_list_card(t, FLOW, [sample_quote(BASE + 50_00)], filtered=False))
    assert "sinun osuutesi 50,00 € · 5,00 €/kk, 10 kk" in few


def test_the_consent_for_equal_instalments_names_the_one_amount(monkeypatch):
    t = texts("fi")
    text = consent_text(t, sample_quote(BASE + 480_00))
    assert text == (
        "Hyväksyn, että palkastani vähennetään 480,00\u00a0€ 24 kuukausierässä "
        "(20,00\u00a0€ kuukaudessa)."
    )
    use_facts(monkeypatch, with_confirmed(FIRST_DEDUCTION_TIMING))
    assert consent_text(t, sample_quote(BASE + 480_00)).endswith(
        "Ensimmäinen palkanvähennys tehdään tammikuussa 2027."
    )


def test_the_consent_needs_a_first_deduction_month():
    quote = replace(sample_quote(BASE + 250_00), first_deduction_month=None)
    with pytest.raises(ValueError):
        consent_text(texts("fi"), quote)


@pytest.mark.parametrize(
    ("language", "base_price", "whole_price", "old_label"),
    [
        ("fi", "199,00 € (perusmallin hinta)", "149,00 € (koko hinta)", "perusmallin hinta"),
        ("en", "199,00 € (the base model's price)", "149,00 € (the whole price)", "base model"),
        ("sv", "199,00 € (basmodellens pris)", "149,00 € (hela priset)", "basmodellens pris"),
    ],
)
def test_the_city_share_says_whose_price_it_is(language, base_price, whole_price, old_label):
    assert base_price in every_card(language, BASE + 250_00)
    cheaper = every_card(language, BASE - 50_00)
    assert whole_price in cheaper
    assert old_label not in cheaper


@pytest.mark.parametrize(
    ("language", "hint"),
    [
        ("fi", "Raja koskee säännöllistä kuukausierää."),
        ("en", "The limit applies to the regular monthly instalment."),
        ("sv", "Gränsen gäller den ordinarie månadsraten."),
    ],
)
def test_the_preferences_card_says_which_instalment_the_limit_is_for(language, hint):
    assert hint in shown(preferences_card(texts(language), FLOW, {}))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fi", "enintään 36 kuukausierässä, vähintään 7,50 € kuukaudessa"),
        ("en", "in at most 36 monthly instalments of at least 7,50 €"),
        ("sv", "i högst 36 månadsrater på minst 7,50 €"),
    ],
)
def test_the_options_card_follows_the_configured_rule(language, expected):
    rule = InstalmentRule(max_count=36, min_cents=7_50)
    assert expected in shown(options_card(texts(language), FLOW, SAMPLE_WINDOW, rule))

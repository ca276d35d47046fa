"""Catalogs are complete and formats are Finnish."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime

import pytest

from bot.i18n import (
    SUPPORTED_LANGUAGES,
    MissingTextError,
    catalog_entry,
    catalog_keys,
    is_plural,
    plural_categories,
    resolve_language,
    texts,
)

PLURAL_KEYS = sorted(key for key in catalog_keys("fi") if is_plural(catalog_entry("fi", key)))


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != "fi"])
def test_every_catalog_has_every_finnish_key(language):
    assert catalog_keys("fi") - catalog_keys(language) == set()
    assert catalog_keys(language) - catalog_keys("fi") == set()


def _fields(value):
    return {name for _, name, _, _ in string.Formatter().parse(value) if name}


def _forms(entry):
    return list(entry.values()) if is_plural(entry) else [entry]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_placeholders_match_finnish(language):
    for key in catalog_keys("fi"):
        finnish = catalog_entry("fi", key)
        if isinstance(finnish, str | dict):
            expected = _fields(_forms(finnish)[-1])
            for form in _forms(catalog_entry(language, key)):
                assert _fields(form) == expected, f"{language}:{key}"


def test_messages_with_a_count_have_plural_forms():
    """A number of things in a sentence ('{count} viestiä') needs a form for one as well."""
    assert len(PLURAL_KEYS) >= 8
    for key in catalog_keys("fi"):
        for form in _forms(catalog_entry("fi", key)):
            if isinstance(form, str) and "{count}" in form:
                assert key in PLURAL_KEYS or key in COUNT_NEVER_ONE_OR_A_LABEL, key


# A label ("Vastaanottajia: 1" reads right), or texts whose count is at least two: a single
# instalment has texts of its own (phone.consent_text_single, phone.list_line_single).
COUNT_NEVER_ONE_OR_A_LABEL = {
    "announce.reaches",
    "phone.consent_text",
    "phone.consent_text_even",
    "phone.list_line",
    "phone.list_line_uneven",
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("key", PLURAL_KEYS)
def test_plural_entries_have_every_category_their_language_needs(language, key):
    entry = catalog_entry(language, key)
    assert is_plural(entry), f"{language}:{key} has no plural forms"
    assert set(entry) == plural_categories(language), f"{language}:{key}"


def test_plural_categories_come_from_babel():
    assert plural_categories("fi") == {"one", "other"}
    assert plural_categories("en") == {"one", "other"}
    assert plural_categories("sv") == {"one", "other"}


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("fi", 1, "Tiedote on pysäytetty, ja 1 lähettämätön viesti peruttiin."),
        ("fi", 2, "Tiedote on pysäytetty, ja 2 lähettämätöntä viestiä peruttiin."),
        ("fi", 5, "Tiedote on pysäytetty, ja 5 lähettämätöntä viestiä peruttiin."),
        ("en", 1, "Announcement stopped: 1 unsent message was cancelled."),
        ("en", 5, "Announcement stopped: 5 unsent messages were cancelled."),
        ("sv", 1, "Meddelandet stoppat: 1 oskickat meddelande avbröts."),
        ("sv", 2, "Meddelandet stoppat: 2 oskickade meddelanden avbröts."),
    ],
)
def test_stopped_notice_agrees_with_its_count(language, count, expected):
    assert texts(language)("announce.stopped_notice", count=count) == expected


def test_plural_forms_read_right_for_one_and_for_many():
    fi, en = texts("fi"), texts("en")
    assert fi("phone.summary_instalments_even", count=1, amount="5 €") == "1 erä à 5 €"
    assert fi("phone.summary_instalments_even", count=24, amount="5 €") == "24 erää à 5 €"
    assert en("phone.summary_instalments_even", count=1, amount="5 €") == "1 instalment of 5 €"
    assert en("phone.summary_instalments_even", count=24, amount="5 €") == "24 instalments of 5 €"
    assert en("announce.sent", title="X", count=1).endswith(" queued for 1 recipient.")
    assert en("announce.sent", title="X", count=2).endswith(" queued for 2 recipients.")
    assert "Tiimissä on 1 jäsen, joka voi" in fi("tickets.channel_set", count=1)
    assert "Tiimissä on 3 jäsentä, jotka voivat" in fi("tickets.channel_set", count=3)
    assert "the team's 1 member can" in en("tickets.channel_set", count=1)
    assert fi("announce.problem.too_many_upns", count=1) == "enintään 1 henkilö kerralla"
    assert en("announce.problem.too_many_upns", count=200) == "at most 200 people at a time"


def test_the_count_in_a_plural_text_is_written_the_finnish_way():
    assert texts("fi")("announce.sent", title="X", count=6400) == (
        "Tiedote X on lähetysjonossa, ja se lähtee 6\u00a0400 vastaanottajalle."
    )


def test_a_plural_text_without_a_count_is_an_error_not_a_guess():
    with pytest.raises(MissingTextError):
        texts("fi")("announce.stopped_notice")


def test_numbers_are_written_as_each_language_does_in_finland():
    assert texts("fi").number(6.1, decimals=1) == "6,1"
    assert texts("fi").number(6, decimals=1) == "6,0"
    assert texts("en").number(6400) == "6\u00a0400"
    assert texts("fi")("phone.storage_value", gb=1024) == "1\u00a0024 Gt"


def test_no_user_facing_text_inline_in_cards_or_dialogs():
    """Card and dialog modules get their words from catalogs, never from string literals."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "bot"
    suspicious = re.compile(r'"[A-ZÄÖÅ][a-zäöå]+ [a-zäöå]+[^"]*"')
    for path in [*root.joinpath("cards").glob("*.py"), *root.joinpath("dialogs").glob("*.py")]:
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("#", '"""')) or "mermaid" in stripped:
                continue
            assert not suspicious.search(stripped), f"{path.name}: {stripped}"


def test_money_is_finnish_in_every_language():
    for language in SUPPORTED_LANGUAGES:
        assert texts(language).money(123450) == "1\u00a0234,50\u00a0€"
    assert texts("fi").money(0) == "0,00\u00a0€"
    assert texts("fi").money(-1999) == "-19,99\u00a0€"


def test_dates_are_day_month_year_without_padding():
    assert texts("fi").date(date(2026, 12, 1)) == "1.12.2026"
    assert texts("en").date(date(2026, 12, 1)) == "1.12.2026"


def test_times_are_shown_in_helsinki_time():
    summer = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert texts("fi").time(summer) == "12.30"
    assert texts("fi").time(winter) == "11.30"
    assert texts("en").datetime(winter) == "1.12.2026 11:30"


@pytest.mark.parametrize(
    ("chosen", "locale", "expected"),
    [
        (None, None, "fi"),
        (None, "en-US", "en"),
        (None, "sv-FI", "sv"),
        (None, "de-DE", "fi"),
        ("en", "fi-FI", "en"),
        ("xx", "sv-SE", "sv"),
    ],
)
def test_language_resolution(chosen, locale, expected):
    assert resolve_language(chosen, locale) == expected


def test_default_language_is_configurable():
    assert resolve_language(None, "de-DE", default="en") == "en"


def test_missing_english_text_falls_back_to_finnish_not_an_error():
    assert texts("en")("menu.title") == "What would you like to do?"
    assert texts(None)("menu.title") == "Mitä haluat tehdä?"

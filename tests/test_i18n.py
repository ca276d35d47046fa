"""Catalogs are complete and formats are Finnish."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime

import pytest

from bot.i18n import SUPPORTED_LANGUAGES, catalog_entry, catalog_keys, resolve_language, texts


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != "fi"])
def test_every_catalog_has_every_finnish_key(language):
    assert catalog_keys("fi") - catalog_keys(language) == set()
    assert catalog_keys(language) - catalog_keys("fi") == set()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_placeholders_match_finnish(language):
    def fields(value):
        return {name for _, name, _, _ in string.Formatter().parse(value) if name}

    for key in catalog_keys("fi"):
        finnish = catalog_entry("fi", key)
        if isinstance(finnish, str):
            assert fields(catalog_entry(language, key)) == fields(finnish), key


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

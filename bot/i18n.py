"""Locale catalogs, plural forms, and Finnish formatting of numbers, money, dates and times."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal

from bot.faq import facts as program
from bot.faq.facts import FactsError, ProgramFacts

SUPPORTED_LANGUAGES = ("fi", "en", "sv")
DEFAULT_LANGUAGE = "fi"
HELSINKI = ZoneInfo("Europe/Helsinki")
CalendarDate = date
_BABEL_LOCALES = {"fi": "fi_FI", "en": "en_FI", "sv": "sv_FI"}
_TIME_FORMATS = {"fi": "%H.%M", "en": "%H:%M", "sv": "%H.%M"}
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})
PLURAL_COUNT = "count"
Number = int | float | Decimal


class MissingTextError(KeyError):
    """A catalog has no text for a key that the code asked for."""


@cache
def _catalog(language: str) -> dict[str, Any]:
    text = resources.files("bot.locales").joinpath(f"{language}.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"locale catalog {language}.yaml is not a mapping")
    return loaded


def load_catalogs() -> None:
    """Parse every catalog and the facts now, at start-up: the first turns do not wait for YAML,
    and a broken facts file or a text naming an unknown fact stops the start (FactsError)."""
    for language in SUPPORTED_LANGUAGES:
        _catalog(language)
    check_fact_texts(program.program_facts())


def check_fact_texts(facts: ProgramFacts) -> None:
    """Every catalog says "ICT will confirm" for exactly the known facts, and names no other."""
    known = {fact.key for fact in facts.facts}
    for language in SUPPORTED_LANGUAGES:
        flat = _flatten(_catalog(language))
        prefix = "facts.unconfirmed."
        pending = {
            key.removeprefix(prefix): text for key, text in flat.items() if key.startswith(prefix)
        }
        missing, extra = sorted(known - set(pending)), sorted(set(pending) - known)
        if missing or extra:
            raise FactsError(
                "catalog_mismatch",
                language=language,
                missing=", ".join(missing) or "-",
                unknown=", ".join(extra) or "-",
            )
        for key, text in flat.items():
            if not isinstance(text, str):
                continue
            if key.startswith(prefix) and ("{" in text or "}" in text):
                raise FactsError("catalog_braces", language=language, catalog_key=key)
            for named in program.fact_keys(text):
                if named not in known:
                    raise FactsError(
                        "catalog_unknown_fact", language=language, catalog_key=key, fact=named
                    )


def catalog_keys(language: str) -> set[str]:
    """Every dotted key in a catalog, for completeness checks; a plural entry is one key."""
    return set(_flatten(_catalog(language)))


def is_plural(entry: Any) -> bool:
    """A text with plural forms: a mapping of CLDR categories (one, other, ...) to templates."""
    return (
        isinstance(entry, dict)
        and "other" in entry
        and set(entry) <= PLURAL_CATEGORIES
        and all(isinstance(form, str) for form in entry.values())
    )


def plural_categories(language: str) -> frozenset[str]:
    """The CLDR plural categories a language's integers need, e.g. {'one', 'other'} for Finnish."""
    return frozenset(_locale(language).plural_form.tags) | {"other"}


def plural_category(language: str, count: Number) -> str:
    """'one' for 1 in Finnish, English and Swedish; Babel knows every language's rules."""
    return str(_locale(language).plural_form(count))


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(_BABEL_LOCALES[language])


def catalog_entry(language: str, key: str) -> Any:
    node: Any = _catalog(language)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise MissingTextError(f"{language}:{key}")
        node = node[part]
    return node


def _flatten(node: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not is_plural(value):
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def normalise_language(tag: str | None) -> str | None:
    """'fi-FI' -> 'fi'; None when the tag names no language we speak."""
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else None


def resolve_language(*preferences: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The first preference that names a language we speak, else the default (Finnish)."""
    for preference in preferences:
        language = normalise_language(preference)
        if language:
            return language
    return default


@dataclass(frozen=True)
class Texts:
    """The user-facing texts and formats of one language; `facts` defaults to the packaged ones."""

    language: str
    facts: ProgramFacts | None = None

    def __call__(self, key: str, **values: Any) -> str:
        """The text for a key; a plural entry picks its form by the `count` value."""
        language = self.language
        try:
            template = catalog_entry(language, key)
        except MissingTextError:
            language = DEFAULT_LANGUAGE
            template = catalog_entry(language, key)
        if is_plural(template):
            if PLURAL_COUNT not in values:
                raise MissingTextError(f"{language}:{key} has plural forms and needs a count")
            category = plural_category(language, values[PLURAL_COUNT])
            template = template.get(category, template["other"])
        if not isinstance(template, str):
            raise MissingTextError(f"{self.language}:{key} is not a text")
        template = self.with_facts(template)
        if not values:
            return template
        shown = {name: Texts(language).shown(value) for name, value in values.items()}
        return string.Formatter().vformat(template, (), shown)

    def or_code(self, key: str, code: str) -> str:
        """The catalog's wording of a code (a failure reason, a campaign's kind), or the code
        itself when the catalog has none: a new code shows, it does not break the page."""
        return self(key) if key in catalog_keys(self.language) else code

    def shown(self, value: Any) -> Any:
        """Numbers as this language writes them; anything else as it is."""
        is_number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        return self.number(value) if is_number else value

    def number(self, value: Number, decimals: int | None = None) -> str:
        """A number as this language writes it in Finland: 6\u00a0400; 6,1 with decimals=1."""
        locale = _BABEL_LOCALES[self.language]
        if decimals is None:
            return format_decimal(value, locale=locale)
        return format_decimal(value, format="#,##0." + "0" * decimals, locale=locale)

    def with_facts(self, template: str) -> str:
        """Each `{fact:key}` as ICT confirmed it, or else the catalog's "ICT will confirm" text."""
        if "{fact:" not in template:
            return template
        return self.program_facts.render(template, self.language, self.unconfirmed_fact)

    def fact(self, key: str) -> str:
        """One fact on its own: its statement, or that ICT will confirm it."""
        return self.with_facts(f"{{fact:{key}}}")

    def fact_confirmed(self, key: str) -> bool:
        """Whether a card may show what depends on this fact (months, a moved end)."""
        return self.program_facts.is_confirmed(key)

    def unconfirmed_fact(self, key: str) -> str:
        """The sentence that ICT will still confirm this, in this language."""
        return self(f"facts.unconfirmed.{key}")

    @property
    def program_facts(self) -> ProgramFacts:
        """The facts given to these texts (tests), else the packaged ones."""
        return self.facts or program.program_facts()

    def money(self, cents: int) -> str:
        """Euros the Finnish way in every language: 1 234,50 €."""
        return format_currency(Decimal(cents) / 100, "EUR", locale=_BABEL_LOCALES["fi"])

    def date(self, value: date) -> str:
        return babel_format_date(value, "d.M.yyyy", locale=_BABEL_LOCALES[self.language])

    def month(self, value: CalendarDate, form: str = "nominative") -> str:
        """'tammikuu 2027'; Finnish sentences need 'tammikuussa' (inessive) or 'tammikuusta'."""
        names = catalog_entry(self.language, f"months.{form}")
        return f"{names[value.month - 1]} {value.year}"

    def time(self, value: datetime) -> str:
        return _helsinki(value).strftime(_TIME_FORMATS[self.language])

    def datetime(self, value: datetime) -> str:
        local = _helsinki(value)
        return f"{self.date(local.date())} {self.time(local)}"


def texts(language: str | None) -> Texts:
    return Texts(normalise_language(language) or DEFAULT_LANGUAGE)


def _helsinki(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(HELSINKI)

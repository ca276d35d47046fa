"""Program facts ICT confirms (bot/faq/content/facts.yaml): texts say `{fact:key}`, never the fact.

The program's own description is the only source of plain facts. Anything else the bot tells
employees (what the Pori-phone costs, when deductions start, ...) is a fact here: shown as its
statement once ICT has confirmed it, and until then as a sentence saying ICT will confirm it.
A broken file stops the bot at start-up rather than letting it guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.refusal import Refused

LANGUAGES = ("fi", "en", "sv")
STATUSES = ("unconfirmed", "confirmed")
PLACEHOLDER = re.compile(r"\{fact:([^{}]*)\}")
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_FIELDS = {"key", "status", "confirmed_by", "confirmed_on", "statement"}

# Facts the cards ask about by name (they show figures only once the rule behind them is confirmed).
FIRST_DEDUCTION_TIMING = "first_deduction_timing"
MISSED_DEDUCTION_MOVES_END = "missed_deduction_moves_end"
NAMED_IN_CODE = (FIRST_DEDUCTION_TIMING, MISSED_DEDUCTION_MOVES_END)


class FactsError(Refused):
    """facts.yaml, or a text's `{fact:...}`, is wrong: the bot must not start with it.

    Worded under the catalogs' `facts_problem`. Unlike other refusals, str() is the problem in
    English with its values: it is what a failed start-up shows, the operator must see what to
    fix, and its values (keys, lines, file names) are nothing personal.
    """

    catalog = "facts_problem"

    def __str__(self) -> str:
        from bot.i18n import texts  # bot.i18n reads the facts, so it is imported when needed

        try:
            return self.worded(texts("en"))
        except (KeyError, TypeError, ValueError):  # a text missing or not matching its values
            return super().__str__()


@dataclass(frozen=True)
class Fact:
    """One statement and whether, by whom and when ICT confirmed it."""

    key: str
    confirmed: bool
    statement: Mapping[str, str]
    confirmed_by: str | None = None
    confirmed_on: date | None = None


@dataclass(frozen=True)
class ProgramFacts:
    """Every fact, in file order."""

    facts: tuple[Fact, ...]

    def fact(self, key: str) -> Fact:
        """The fact with this key; an unknown key is a programming error, so it raises."""
        for fact in self.facts:
            if fact.key == key:
                return fact
        raise FactsError("unknown_fact", fact=key)

    def is_confirmed(self, key: str) -> bool:
        """Whether ICT has confirmed it, so texts may state it."""
        return self.fact(key).confirmed

    def render(self, template: str, language: str, unconfirmed: Callable[[str], str]) -> str:
        """Each `{fact:key}` as its confirmed statement, or `unconfirmed(key)` until then."""

        def replace(found: re.Match[str]) -> str:
            fact = self.fact(found.group(1).strip())
            return fact.statement[language] if fact.confirmed else unconfirmed(fact.key)

        return PLACEHOLDER.sub(replace, template)


def fact_keys(template: str) -> list[str]:
    """The fact keys a text refers to, in order."""
    return [key.strip() for key in PLACEHOLDER.findall(template)]


@cache
def program_facts() -> ProgramFacts:
    """The packaged facts, read once (ICT's edits take effect at the next start)."""
    text = resources.files("bot.faq.content").joinpath("facts.yaml").read_text(encoding="utf-8")
    return load_facts(text)


def read_facts(path: Path) -> ProgramFacts:
    """An edited facts file, as ICT checks it before it replaces the packaged one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FactsError(
            "unreadable", path=str(path), reason=str(error.strerror or error)
        ) from None
    return load_facts(text)


def load_facts(text: str) -> ProgramFacts:
    """Parse and check facts.yaml; any problem is a FactsError naming the fact and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is None:
            raise FactsError("not_yaml") from None
        raise FactsError("not_yaml_at", line=mark.line + 1, column=mark.column + 1) from None
    return parse_facts(data)


def parse_facts(data: Any) -> ProgramFacts:
    """The facts file's content, checked strictly: anything unexpected is a FactsError."""
    if not isinstance(data, dict) or set(data) != {"facts"} or not isinstance(data["facts"], list):
        raise FactsError("not_one_list")
    facts = tuple(_fact(entry, position) for position, entry in enumerate(data["facts"], 1))
    keys = [fact.key for fact in facts]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise FactsError("repeated", facts=", ".join(repeated))
    missing = [key for key in NAMED_IN_CODE if key not in keys]
    if missing:
        raise FactsError("missing_named", facts=", ".join(missing))
    return ProgramFacts(facts)


def _fact(entry: Any, position: int) -> Fact:
    if not isinstance(entry, dict):
        raise FactsError("entry_not_mapping", entry=position)
    key = entry.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise FactsError("bad_key", entry=position)
    unknown = sorted(set(entry) - _FIELDS, key=str)
    if unknown:
        raise FactsError("unknown_field", fact=key, fields=", ".join(map(str, unknown)))
    status = entry.get("status")
    if status not in STATUSES:
        raise FactsError("bad_status", fact=key, status=repr(status))
    confirmed = status == "confirmed"
    by, on = entry.get("confirmed_by"), entry.get("confirmed_on")
    if confirmed:
        if not isinstance(by, str) or not by.strip():
            raise FactsError("needs_confirmed_by", fact=key)
        if not isinstance(on, date) or isinstance(on, datetime):
            raise FactsError("needs_confirmed_on", fact=key)
    elif by is not None or on is not None:
        raise FactsError("confirmation_without_status", fact=key)
    return Fact(
        key=key,
        confirmed=confirmed,
        statement=_statement(entry.get("statement"), key),
        confirmed_by=by.strip() if confirmed and isinstance(by, str) else None,
        confirmed_on=on if confirmed and isinstance(on, date) else None,
    )


def _statement(statement: Any, key: str) -> dict[str, str]:
    if not isinstance(statement, dict):
        raise FactsError("statement_not_mapping", fact=key, languages=", ".join(LANGUAGES))
    unknown = sorted(set(statement) - set(LANGUAGES), key=str)
    if unknown:
        raise FactsError(
            "statement_unknown_language", fact=key, languages=", ".join(map(str, unknown))
        )
    texts = {}
    for language in LANGUAGES:
        text = statement.get(language)
        if not isinstance(text, str) or not text.strip():
            raise FactsError("statement_missing", fact=key, language=language)
        if "{" in text or "}" in text:
            raise FactsError("statement_braces", fact=key, language=language)
        texts[language] = " ".join(text.split())
    return texts

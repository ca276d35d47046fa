"""Refusals: one shape for every domain's "no", worded from the catalogs, keys only in logs."""

from __future__ import annotations

import ast
import importlib
import string
from pathlib import Path

import pytest

from bot.i18n import SUPPORTED_LANGUAGES, catalog_entry, catalog_keys, texts
from bot.refusal import Reason, Refused

BOT = Path(__file__).resolve().parents[1] / "bot"
DOMAIN_REFUSALS = (
    "bot.choices.lifecycle",
    "bot.deductions.service",
    "bot.faq.facts",
    "bot.notifications.outbox",
    "bot.rollout.service",
    "bot.tickets.service",
)


class Sample(Refused):
    catalog = "wave_problem"


def refusal_classes() -> dict[str, type[Refused]]:
    for module in DOMAIN_REFUSALS:
        importlib.import_module(module)
    found: dict[str, type[Refused]] = {}
    pending = list(Refused.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("bot."):
            found[cls.__name__] = cls
        pending += cls.__subclasses__()
    return found


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        if func.attr == "for_all" and isinstance(func.value, ast.Name):
            return f"{func.value.id}.for_all"
        return func.attr
    return None


def raised_keys() -> set[tuple[str, str]]:
    """(class, key) for every refusal the code builds: `Error("key", ...)`, and the `Reason("key")`
    gathered in a function that raises `Error.for_all(...)`."""
    classes = refusal_classes()
    keys: set[tuple[str, str]] = set()
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
            names = {_called_name(call) for call in calls}
            gathered_for = [name for name in classes if f"{name}.for_all" in names]
            for call in calls:
                name = _called_name(call)
                first = call.args[0] if call.args else None
                if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                    continue
                if name in classes:
                    keys.add((name, first.value))
                elif name == "Reason":
                    keys.update((owner, first.value) for owner in gathered_for)
    return keys


def test_the_domains_refusals_are_found():
    classes = refusal_classes()
    assert {
        "DeliveryError",
        "FactsError",
        "NotAllowed",
        "OutboxError",
        "TicketError",
        "WaveError",
    } <= set(classes)
    owners = {owner for owner, _ in raised_keys()}
    assert owners == set(classes)  # each is raised somewhere with a key the catalogs word


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_refusal_is_worded_in_every_language(language):
    classes = refusal_classes()
    known = catalog_keys(language)
    missing = []
    for owner, key in raised_keys():
        # a ticket's refusal is read by an agent or by the employee who asked, each in their words
        sections = {classes[owner].catalog, getattr(classes[owner], "requester_catalog", "")}
        if not any(f"{section}.{key}" in known for section in sections):
            missing.append(f"{classes[owner].catalog}.{key}")
    assert sorted(missing) == []


def test_every_refusal_gives_the_values_its_text_names():
    """A value missing from the call would fail the wording just when someone needs to read it."""
    classes = refusal_classes()
    missing = []
    for path in sorted(BOT.rglob("*.py")):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call) or _called_name(call) not in classes:
                continue
            first = call.args[0] if call.args else None
            if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                continue
            given = {keyword.arg for keyword in call.keywords}
            owner = classes[str(_called_name(call))]
            for section in {owner.catalog, getattr(owner, "requester_catalog", owner.catalog)}:
                key = f"{section}.{first.value}"
                if None not in given and key in catalog_keys("fi"):
                    named = _fields(catalog_entry("fi", key))
                    missing += [f"{path.name}:{call.lineno} {key} {name}" for name in named - given]
    assert missing == []


def _fields(entry: object) -> set[str]:
    forms = list(entry.values()) if isinstance(entry, dict) else [entry]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def test_a_refusal_is_worded_for_its_reader_and_logged_by_its_keys():
    refusal = Sample.for_all([Reason("unknown_unit", {"unit": "EI-OLE"}), Reason("no_units")])
    assert refusal.reason == "unknown_unit"
    assert refusal.problems == [("unknown_unit", {"unit": "EI-OLE"}), ("no_units", {})]
    assert refusal.worded(texts("fi")) == (
        "tuntematon yksikkö EI-OLE; aallossa pitää olla vähintään yksi yksikkö"
    )
    assert refusal.worded(texts("en")) == "unknown unit EI-OLE; a wave needs at least one unit"
    assert str(refusal) == "unknown_unit, no_units"  # no values: nothing personal in a log line


def test_one_reason_takes_its_values_as_keywords():
    refusal = Sample("overlaps", unit="PERUSTURVA", wave="Kevät")
    assert refusal.problems == [("overlaps", {"unit": "PERUSTURVA", "wave": "Kevät"})]
    assert "PERUSTURVA" not in str(refusal)

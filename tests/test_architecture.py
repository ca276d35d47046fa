"""The layering in docs/architecture.md, kept honest by reading the code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
DOMAINS = [
    "announcements",
    "catalog",
    "choices",
    "conversations",
    "deductions",
    "directory",
    "faq",
    "ict",
    "notifications",
    "rollout",
    "tickets",
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_packages_know_nothing_of_teams_or_graph(domain):
    for path in python_files(BOT / domain):
        for module in imported_modules(path):
            assert not module.startswith(
                ("botbuilder", "botframework", "msgraph", "bot.adapters")
            ), f"{path.relative_to(BOT)} imports {module}"


def test_dialogs_do_not_touch_the_database_or_graph():
    """The Teams side renders and routes; every transaction and Graph call is a domain's."""
    for path in python_files(BOT / "dialogs"):
        for module in imported_modules(path):
            assert not module.startswith(("sqlalchemy", "msgraph", "bot.db")), (
                f"{path.relative_to(BOT)} imports {module}"
            )


def test_tabs_do_not_touch_the_database_teams_or_graph():
    """The web pages render what a domain service such as ProgramOverview reads."""
    for path in python_files(BOT / "tabs"):
        for module in imported_modules(path):
            assert not module.startswith(
                ("sqlalchemy", "msgraph", "bot.db", "botbuilder", "botframework", "bot.dialogs")
            ), f"{path.relative_to(BOT)} imports {module}"


def module_level_nodes(tree: ast.Module):
    """Nodes that run at import time: everything outside function bodies."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def test_nothing_reads_the_environment_at_import_time():
    for path in python_files(BOT):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in module_level_nodes(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                raise AssertionError(f"{path.relative_to(BOT)} reads the environment at import")


def test_environment_is_read_only_by_settings_and_the_demo_launcher():
    allowed = {BOT / "settings.py", *python_files(BOT / "demo")}
    for path in python_files(BOT):
        if path in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        assert "os.environ" not in text and "os.getenv" not in text, path.name


# Where the machine's clock may be read: the clock itself, and the composition roots that hand
# it to everything else. Three more: columns' bookkeeping defaults (a row written without a time
# of its own; no rule reads them), and two fakes of Entra whose tokens and certificates other
# libraries (PyJWT, azure-identity, TLS) check against the machine's clock.
CLOCK_READERS = {
    BOT / "clock.py",
    BOT / "db" / "base.py",
    BOT / "adapters" / "botframework" / "fake_openid.py",
    BOT / "adapters" / "entra" / "fake_token_issuer.py",
}
COMPOSITION_ROOTS = {BOT / "app.py", *(BOT / "cli").glob("*.py"), BOT / "demo" / "runner.py"}
_WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("time", "time"),
}


def wall_clock_reads(path: Path) -> list[str]:
    """Calls that read the machine's clock (`datetime.now()`, `utcnow()`, `time.time()`…)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id in ("utcnow", "system_clock"):
            found.append(f"{function.id}() on line {node.lineno}")
        if (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Name)
            and (function.value.id, function.attr) in _WALL_CLOCK_CALLS
        ):
            found.append(f"{function.value.id}.{function.attr}() on line {node.lineno}")
    return found


def test_only_the_clock_and_the_composition_roots_read_the_wall_clock():
    """Every other 'now' comes from the injected clock, so a test's fixed NOW is the only time."""
    for path in python_files(BOT):
        if path in CLOCK_READERS | COMPOSITION_ROOTS:
            continue
        assert not wall_clock_reads(path), f"{path.relative_to(BOT)}: {wall_clock_reads(path)}"
        text = path.read_text(encoding="utf-8")
        assert "system_clock" not in text, f"{path.relative_to(BOT)} picks the system clock"


def attribute_reads(path: Path, name: str) -> list[int]:
    """Lines where `<something>.<name>` is read."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == name
    ]


TURN_READER = BOT / "dialogs" / "turn.py"


def test_only_the_turn_reads_who_wrote_from_the_activity():
    """One sender, read once: no area derives the Entra id with a fallback of its own."""
    for path in python_files(BOT):
        if path == TURN_READER:
            continue
        lines = attribute_reads(path, "from_property")
        assert not lines, f"{path.relative_to(BOT)} reads the sender itself (lines {lines})"


def test_per_turn_facts_travel_in_the_turn_not_under_string_keys():
    for path in python_files(BOT):
        if path == TURN_READER or path.is_relative_to(BOT / "adapters"):
            continue
        lines = attribute_reads(path, "turn_state")
        assert not lines, f"{path.relative_to(BOT)} uses turn_state (lines {lines})"


def test_the_database_layer_imports_no_domain_and_no_adapter():
    """Only the migration environment sees every domain's tables; the engine and base stay below."""
    for path in python_files(BOT / "db"):
        if path.is_relative_to(BOT / "db" / "migrations"):
            continue
        for module in imported_modules(path):
            assert not module.startswith(
                ("bot.adapters", *(f"bot.{domain}" for domain in DOMAINS))
            ), f"{path.relative_to(BOT)} imports {module}"


def status_writes(path: Path) -> list[int]:
    """Lines that set a status: `.values(status=…)` or `<row>.status = ChoiceStatus…`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "values"
            and any(keyword.arg == "status" for keyword in node.keywords)
        ) or (
            isinstance(node, ast.Assign)
            and any(
                isinstance(target, ast.Attribute) and target.attr == "status"
                for target in node.targets
            )
            and "ChoiceStatus" in ast.unparse(node.value)
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_choice_lifecycle_changes_a_choices_status():
    lifecycle = BOT / "choices" / "lifecycle.py"
    assert status_writes(lifecycle), "has the lifecycle moved?"
    for path in python_files(BOT):
        if path == lifecycle:
            continue
        lines = status_writes(path)
        assert not lines, f"{path.relative_to(BOT)} changes a choice's status (lines {lines})"

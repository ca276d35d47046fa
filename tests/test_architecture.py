"""The layering in DESIGN.md §2, kept honest by reading imports."""

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
    for path in python_files(BOT / "dialogs"):
        for module in imported_modules(path):
            assert not module.startswith(("sqlalchemy", "msgraph")), f"{path.name} imports {module}"


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

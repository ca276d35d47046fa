"""Settings from the environment and `.env`; the `phonebot` command."""

from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.choices.cost import InstalmentRule
from bot.cli import main
from bot.cli.common import say
from bot.db import migrate
from bot.i18n import SUPPORTED_LANGUAGES, catalog_keys, texts
from bot.refusal import Reason
from bot.settings import SERVE_REFUSAL_CATALOG, AppType, Settings


def test_bot_framework_variable_names_are_read(monkeypatch):
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("MicrosoftAppPassword", "s3cret")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant-guid")
    monkeypatch.setenv("BOT_OPENID_METADATA_URL", "http://127.0.0.1:1/meta")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://x@db/y")
    settings = Settings(_env_file=None)
    assert settings.app_id == "11111111-2222-3333-4444-555555555555"
    assert settings.app_password.get_secret_value() == "s3cret"
    assert settings.app_type is AppType.SINGLE_TENANT
    assert settings.app_tenant_id == "tenant-guid"
    assert settings.openid_metadata_url == "http://127.0.0.1:1/meta"
    assert settings.auth_enabled and not settings.is_sqlite


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    (tmp_path / ".env").write_text("MicrosoftAppId=from-dotenv\nPORT=4000\n", encoding="utf-8")
    settings = Settings()
    assert settings.app_id == "from-dotenv" and settings.port == 4000


def test_defaults_are_local_and_safe(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("MicrosoftAppId", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert not settings.auth_enabled
    assert settings.is_sqlite
    assert settings.default_language == "fi"


def test_secret_never_shows_in_repr():
    settings = Settings(_env_file=None, app_password="hunter2")
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_db_upgrade_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    assert main(["db", "upgrade"]) == 0
    assert f"tietokanta on versiossa {migrate.head_revision()}" in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "phonebot" in capsys.readouterr().out


# -- the commands speak the catalog's language, --help included ---------------------------------


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


ARGPARSE_ENGLISH = ("usage:", "positional arguments", "options:", "show this help message")


def test_help_is_in_the_commands_language(capsys):
    shown = _help([], capsys)
    assert shown.startswith("käyttö: phonebot [-h]")
    assert "Puhelinbotti, Porin puhelinohjelman Teams-botti" in shown
    assert "valitsimet:\n  -h, --help            näytä tämä ohje ja lopeta" in shown
    assert "komennot:" in shown and "ilmoituskampanjat ja niiden toimitus" in shown
    assert not [english for english in ARGPARSE_ENGLISH if english in shown]


def test_a_subcommands_help_is_in_the_commands_language(capsys):
    shown = _help(["campaigns", "show"], capsys)
    assert shown.startswith("käyttö: phonebot campaigns show [-h] [--follow] ID\n")
    assert "argumentit:" in shown and "valitsimet:" in shown
    assert "odota edistymistä näyttäen, kunnes jokainen rivi on käsitelty" in shown
    assert not [english for english in ARGPARSE_ENGLISH if english in shown]
    imported = _help(["catalog", "import"], capsys)
    assert "käyttö: phonebot catalog import [-h] [--dry-run] TIEDOSTO" in imported
    assert "Sarakkeet suomeksi tai englanniksi" in imported


@pytest.mark.parametrize(
    ("language", "usage", "help_option"),
    [
        ("en", "usage: phonebot [-h]", "show this help message and exit"),
        ("sv", "användning: phonebot [-h]", "visa den här hjälpen och avsluta"),
    ],
)
def test_argparse_words_come_from_the_catalog(monkeypatch, capsys, language, usage, help_option):
    monkeypatch.setattr("bot.cli.common.CLI_LANGUAGE", language)
    shown = _help([], capsys)
    assert shown.startswith(usage) and help_option in shown


def test_a_mistyped_command_is_told_in_the_commands_language(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["campaigns", "show"])
    assert exited.value.code == 2
    usage, complaint = capsys.readouterr().err.splitlines()
    assert usage == "käyttö: phonebot campaigns show [-h] [--follow] ID"
    assert complaint.startswith("phonebot campaigns show: virheellinen komento: ")


def test_an_unknown_choice_status_is_told_before_the_database_is_opened(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}")
    assert main(["choices", "export", "--status", "chosen,lost"]) == 2
    assert capsys.readouterr().err.startswith("phonebot: tuntematon valinnan tila lost; valitse ")
    assert not (tmp_path / "none.sqlite3").exists()


CLI = Path(__file__).resolve().parent.parent / "bot" / "cli"
# What argparse shows people; `prog` is the command's name and stays as it is.
SHOWN_KEYWORDS = {"help", "description", "epilog", "title", "metavar", "usage"}
A_WORD = re.compile(r"[^\W\d_]{2,}")
PROSE = re.compile(r"[^\W\d_]{2,}\s+[^\W\d_]{2,}")
# pydantic's prefix that `phonebot` strips from a setting's error; never printed.
NOT_SHOWN = {"Value error, "}


def _inline_texts(node: ast.AST) -> Iterator[str]:
    """The text an expression writes itself: its str constants and the literal parts of its
    f-strings; not what a call (say(), a join) returns, nor a format spec such as `.1f`."""
    if isinstance(node, ast.Call):
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.FormattedValue):
        yield from _inline_texts(node.value)
    else:
        for child in ast.iter_child_nodes(node):
            yield from _inline_texts(child)


def _shown_expressions(tree: ast.AST) -> Iterator[ast.expr]:
    """What goes to print() or a stream's write(), and argparse's help-like keywords."""
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in {"print", "write"}:
            yield from call.args
        yield from (keyword.value for keyword in call.keywords if keyword.arg in SHOWN_KEYWORDS)


def _docstrings(tree: ast.AST) -> set[int]:
    scopes = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, scopes)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda path: path.name)
def test_the_commands_print_no_words_of_their_own(path):
    """Every word `phonebot` prints or shows in --help comes from the catalog (say()); what is
    written inline is layout only: indentation, separators, "\\n"."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inline = [
        (expression.lineno, text)
        for expression in _shown_expressions(tree)
        for text in _inline_texts(expression)
        if A_WORD.search(text)
    ]
    assert inline == []
    docstrings = _docstrings(tree)
    prose = [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and node.value not in NOT_SHOWN
        and PROSE.search(node.value)
    ]
    assert prose == [], "a sentence in the code: put it in the catalog under cli.*"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.parametrize("entry", [["-m", "bot"], ["-c", "from bot.cli import main; main()"]])
def test_serve_command_starts_and_reports_readiness(tmp_path, entry):
    port = _free_port()
    database = tmp_path / "serve.sqlite3"
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "MicrosoftAppId": "",
        "ALLOW_UNAUTHENTICATED": "true",
    }
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=environment, check=True)
    server = subprocess.Popen(
        [sys.executable, *entry, "serve", "--port", str(port)],
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200
        ready, body = _get(f"http://127.0.0.1:{port}/readyz")
        assert ready == 200 and f'"revision": "{migrate.head_revision()}"' in body
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=15)
    assert "authentication OFF" in errors


def test_demo_without_node_explains_how_to_connect(monkeypatch, tmp_path, capsys):
    from bot.demo import runner

    monkeypatch.setattr(runner, "node_available", lambda: False)

    async def serve_nothing(*args: object, **kwargs: object) -> None:
        return None

    monkeypatch.setattr(runner, "serve", serve_nothing)
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    assert runner.run_demo(settings, port=3999) == 0
    out = capsys.readouterr().out
    no_node = say("cli.demo.no_node", endpoint="http://127.0.0.1:3999/api/messages").strip()
    ict_tab = say("cli.demo.ict_tab", url="http://127.0.0.1:3999/tabs/ict").strip()
    assert out.strip().startswith(no_node) and out.strip().endswith(ict_tab)
    assert out.count("http://") == no_node.count("http://") + 1  # nothing else printed
    assert "Node.js ei ole asennettu" in out
    assert Path(tmp_path / "d.db").exists()


def test_single_tenant_without_its_tenant_is_refused_at_start():
    with pytest.raises(ValueError, match="MicrosoftAppTenantId"):
        Settings(_env_file=None, app_id="some-app", app_type="SingleTenant", app_tenant_id="")


# -- the instalment rule -----------------------------------------------------------------------


def test_the_instalment_rule_defaults_to_24_months_of_at_least_5_euros(monkeypatch):
    for name in ("CHOICE_INSTALMENTS", "MIN_MONTHLY_DEDUCTION_EUR"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).instalment_rule == InstalmentRule(max_count=24, min_cents=500)


@pytest.mark.parametrize(
    ("value", "cents"), [("5.00", 500), ("5,00", 500), ("7.5", 750), (" 0,01 ", 1), ("100", 10000)]
)
def test_the_smallest_monthly_deduction_is_read_in_euros(monkeypatch, value, cents):
    monkeypatch.setenv("MIN_MONTHLY_DEDUCTION_EUR", value)
    monkeypatch.setenv("CHOICE_INSTALMENTS", "36")
    rule = Settings(_env_file=None).instalment_rule
    assert rule == InstalmentRule(max_count=36, min_cents=cents)


@pytest.mark.parametrize(
    "value", ["0", "0.00", "-5", "5.001", "100.01", "500 €", "viisi", "", "nan", "inf", "5,00,0"]
)
def test_a_smallest_monthly_deduction_that_makes_no_sense_is_refused(monkeypatch, value):
    monkeypatch.setenv("MIN_MONTHLY_DEDUCTION_EUR", value)
    with pytest.raises(ValueError, match="MIN_MONTHLY_DEDUCTION_EUR"):
        Settings(_env_file=None)


def test_a_bad_smallest_monthly_deduction_stops_the_command_in_one_line(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MIN_MONTHLY_DEDUCTION_EUR", "0")

    assert main(["db", "upgrade"]) != 0

    errors = capsys.readouterr().err
    assert errors.count("\n") == 1 and "MIN_MONTHLY_DEDUCTION_EUR" in errors
    assert not (tmp_path / "var").exists()


# -- `serve` fails closed on authentication ---------------------------------------------------

AUTH_VARIABLES = (
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "MicrosoftAppType",
    "MicrosoftAppTenantId",
    "TEAMS_TENANT_ID",
    "MICROSOFT_APP_CERTIFICATE_PATH",
    "ALLOW_UNAUTHENTICATED",
    "HOST",
)
APP = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, object]]:
    """What `phonebot serve` would listen on: `serve` records instead of serving."""
    monkeypatch.chdir(tmp_path)
    for name in AUTH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'serve.sqlite3'}")
    calls: list[dict[str, object]] = []

    async def record(app: object, **options: object) -> None:
        calls.append(options)

    monkeypatch.setattr("bot.serving.serve", record)
    return calls


NOT_LOOPBACK_FI = (
    "phonebot serve: tunnistautuminen on pois päältä, joten palvelin kuuntelee vain "
    "loopback-osoitetta (127.0.0.1, ::1, localhost), ei osoitetta 0.0.0.0"
)
REFUSED = {
    "auth off without the opt-in": ({}, [], Reason("no_app_id")),
    "auth off on every interface": (
        {"ALLOW_UNAUTHENTICATED": "true"},
        ["--host", "0.0.0.0"],
        Reason("not_loopback", {"host": "0.0.0.0"}),
    ),
    "auth off on HOST=0.0.0.0": (
        {"ALLOW_UNAUTHENTICATED": "true", "HOST": "0.0.0.0"},
        [],
        Reason("not_loopback", {"host": "0.0.0.0"}),
    ),
    "auth off on a LAN address": (
        {"ALLOW_UNAUTHENTICATED": "true"},
        ["--host", "192.168.1.20"],
        Reason("not_loopback", {"host": "192.168.1.20"}),
    ),
    "misspelt app id beside its password": (
        {"MICROSOFT_APP_ID": APP, "MicrosoftAppPassword": "s3cret", "ALLOW_UNAUTHENTICATED": "1"},
        [],
        Reason("credentials_without_app_id", {"variables": "MicrosoftAppPassword"}),
    ),
    "app tenant without app id": (
        {"MicrosoftAppTenantId": "pori-tenant", "ALLOW_UNAUTHENTICATED": "true"},
        [],
        Reason("credentials_without_app_id", {"variables": "MicrosoftAppTenantId"}),
    ),
    "teams tenant without app id": (
        {"TEAMS_TENANT_ID": "pori-tenant", "ALLOW_UNAUTHENTICATED": "true"},
        [],
        Reason("credentials_without_app_id", {"variables": "TEAMS_TENANT_ID"}),
    ),
    "two different tenants": (
        {"MicrosoftAppId": APP, "MicrosoftAppTenantId": "a", "TEAMS_TENANT_ID": "b"},
        ["--host", "0.0.0.0"],
        Reason("two_tenants"),
    ),
    "app id with no way to prove it": (
        {"MicrosoftAppId": APP, "TEAMS_TENANT_ID": "t"},
        ["--host", "0.0.0.0"],
        Reason("no_credential"),
    ),
    "a certificate that is not there": (
        {"MicrosoftAppId": APP, "MICROSOFT_APP_CERTIFICATE_PATH": "/nonexistent/bot.pem"},
        ["--host", "0.0.0.0"],
        Reason("certificate_missing", {"path": "/nonexistent/bot.pem"}),
    ),
}


def refused_in_finnish(reason: Reason) -> str:
    """The one line `phonebot serve` prints when it will not start, in the commands' Finnish."""
    fi = texts("fi")
    worded = fi(f"{SERVE_REFUSAL_CATALOG}.{reason.key}", **reason.values)
    return fi("cli.server.refused", refusal=worded)


@pytest.mark.parametrize(("environment", "options", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_serve_refuses_to_start_when_authentication_would_not_hold(
    served: list[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environment: dict[str, str],
    options: list[str],
    reason: Reason,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert main(["serve", *options]) != 0

    assert served == []
    assert capsys.readouterr().err == refused_in_finnish(reason) + "\n"


def test_serve_says_why_it_refuses_in_finnish(served, monkeypatch, capsys):
    monkeypatch.setenv("MicrosoftAppPassword", "s3cret")
    monkeypatch.setenv("TEAMS_TENANT_ID", "pori-tenant")
    monkeypatch.setenv("ALLOW_UNAUTHENTICATED", "true")

    assert main(["serve"]) != 0

    assert capsys.readouterr().err == (
        "phonebot serve: MicrosoftAppPassword, TEAMS_TENANT_ID on asetettu, mutta MicrosoftAppId "
        "on tyhjä: palvelinta ei käynnistetä ilman tunnistautumista (onko sovellustunnuksen "
        "muuttujan nimi kirjoitettu väärin? se on MicrosoftAppId)\n"
    )


def test_no_host_at_all_is_every_interface_and_refused_without_authentication():
    settings = Settings(_env_file=None, app_id="", allow_unauthenticated=True)
    assert settings.refusal_to_serve("") == Reason("not_loopback_every_interface")
    assert settings.refusal_to_serve("127.0.0.1") is None


def test_the_english_refusal_reads_as_it_always_has():
    settings = Settings(_env_file=None, app_id="", allow_unauthenticated=False)
    refusal = settings.refusal_to_serve("127.0.0.1")
    assert refusal is not None
    assert texts("en")(f"{SERVE_REFUSAL_CATALOG}.{refusal.key}", **refusal.values) == (
        "MicrosoftAppId is empty, so requests would not be authenticated: set MicrosoftAppId, "
        "or ALLOW_UNAUTHENTICATED=true to serve on a loopback address for local use"
    )


def serve_refusal_keys() -> set[str]:
    """Every `Reason("key", ...)` in bot/settings.py: the reasons `serve` can give."""
    source = Path(__file__).resolve().parents[1] / "bot" / "settings.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return {
        call.args[0].value
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "Reason"
        and isinstance(call.args[0], ast.Constant)
    }


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_serve_refusal_is_worded_in_every_language(language):
    keys = serve_refusal_keys()
    assert {reason.key for _, _, reason in REFUSED.values()} < keys
    known = catalog_keys(language)
    assert sorted(key for key in keys if f"{SERVE_REFUSAL_CATALOG}.{key}" not in known) == []


ALLOWED = {
    "auth off, opted in, 127.0.0.1": ({"ALLOW_UNAUTHENTICATED": "true"}, [], "127.0.0.1"),
    "auth off, opted in, ::1": ({"ALLOW_UNAUTHENTICATED": "true"}, ["--host", "::1"], "::1"),
    "auth off, opted in, localhost": (
        {"ALLOW_UNAUTHENTICATED": "true"},
        ["--host", "localhost"],
        "localhost",
    ),
    "auth on, every interface": (
        {"MicrosoftAppId": APP, "MicrosoftAppPassword": "s3cret", "TEAMS_TENANT_ID": "t"},
        ["--host", "0.0.0.0"],
        "0.0.0.0",
    ),
    "auth on, the same tenant twice": (
        {
            "MicrosoftAppId": APP,
            "MicrosoftAppPassword": "s3cret",
            "MicrosoftAppTenantId": "t",
            "TEAMS_TENANT_ID": "t",
        },
        ["--host", "0.0.0.0"],
        "0.0.0.0",
    ),
}


@pytest.mark.parametrize(("environment", "options", "host"), ALLOWED.values(), ids=ALLOWED.keys())
def test_serve_starts_when_authentication_holds_or_is_off_on_loopback_by_choice(
    served: list[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    options: list[str],
    host: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert main(["serve", *options]) == 0

    assert [call["host"] for call in served] == [host]


def test_serve_on_every_interface_without_authentication_exits_with_one_line(tmp_path):
    environment = {
        **{name: value for name, value in os.environ.items() if name not in AUTH_VARIABLES},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.sqlite3'}",
        "MICROSOFT_APP_ID": APP,
        "ALLOW_UNAUTHENTICATED": "true",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--host", "0.0.0.0", "--port", str(_free_port())],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert finished.returncode != 0
    assert finished.stderr == NOT_LOOPBACK_FI + "\n"


def test_invalid_settings_are_one_line_not_a_traceback(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MicrosoftAppId", APP)
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.delenv("MicrosoftAppTenantId", raising=False)

    assert main(["db", "upgrade"]) != 0

    errors = capsys.readouterr().err
    assert errors.count("\n") == 1 and "MicrosoftAppTenantId" in errors


def test_a_setting_that_does_not_validate_is_told_in_the_commands_language(monkeypatch, capsys):
    monkeypatch.setenv("NOTIFY_RATE_PER_SECOND", "many")
    assert main(["catalog", "import", "whatever.csv"]) == 2
    assert capsys.readouterr().err.startswith("phonebot: asetusvirhe: ")

"""The production image (Dockerfile and .dockerignore, described in docs/container.md).

The definition is read on every run and checked against the code it packages: the CLI, the
settings, the shutdown handler, pyproject.toml and the set-up script's Debian packages. Each such
check is also run on a deliberately broken copy and must fail there. The image itself is built and
run only when asked (CONTAINER_BUILD_TEST=1: a build downloads packages), where a container
engine answers (`docker info` or `podman info`) and its base image is already on the machine;
CONTAINER_TEST_BASE_IMAGE names another copy of the base to build on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import posixpath
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from bot.cli import _parser as phonebot_parser
from bot.db.migrate import head_revision
from bot.settings import DEFAULT_SQLITE_PATH, Settings
from tests.support.bot import BotUnderTest

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
SETUP_SCRIPT = REPO_ROOT / "scripts" / "lib" / "setup.sh"
SERVING = REPO_ROOT / "bot" / "serving.py"
BASE_IMAGE_VARIABLE = "CONTAINER_TEST_BASE_IMAGE"
BUILD_VARIABLE = "CONTAINER_BUILD_TEST"
TEST_APP_ID = "00000000-0000-4000-8000-00000000b07e"
TEST_TENANT_ID = "00000000-0000-4000-8000-0000000c17e0"
OFFICIAL_PYTHON_SLIM = re.compile(
    r"(?:docker\.io/)?(?:library/)?python:(?P<version>3\.\d+)(?:\.\d+)?-slim-bookworm"
    r"(?:@sha256:[0-9a-f]{64})?"
)


# --- Reading a Dockerfile -------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form CMD, ENTRYPOINT or RUN; None for the shell form."""
        if not self.arguments.startswith("["):
            return None
        try:
            value = json.loads(self.arguments)
        except ValueError:
            return None
        if isinstance(value, list) and all(isinstance(word, str) for word in value):
            return value
        return None

    def commands(self) -> list[list[str]]:
        """A RUN's commands, split at `&&`, `||`, `;` and `|` as the shell would."""
        argv = self.exec_form()
        if argv is not None:
            return [argv]
        lexer = shlex.shlex(self.arguments, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        commands: list[list[str]] = [[]]
        for token in lexer:
            if token in ("&&", "||", ";", "|"):
                commands.append([])
            elif commands[-1] or not re.fullmatch(r"\w+=.*", token):  # not `VAR=value program`
                commands[-1].append(token)
        return [command for command in commands if command]


@dataclass
class Stage:
    index: int
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [each for each in self.instructions if each.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def run_commands(self) -> list[list[str]]:
        return [command for run in self.all("RUN") for command in run.commands()]

    def env(self) -> dict[str, str]:
        """Its ENV variables; `$NAME` of an earlier one is expanded, others are left as written."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            words = shlex.split(instruction.arguments)
            if all("=" in word for word in words):
                pairs = [word.split("=", 1) for word in words]
            else:
                pairs = [[words[0], " ".join(words[1:])]]
            for name, value in pairs:
                values[name] = _expand(value, values)
        return values


@dataclass
class Dockerfile:
    stages: list[Stage]

    @property
    def runtime(self) -> Stage:
        """The last stage: the image that is run."""
        return self.stages[-1]

    def stage(self, reference: str) -> Stage | None:
        """The stage a `COPY --from=` or `FROM` names, by name or number."""
        for stage in self.stages:
            if reference in (stage.name, str(stage.index)):
                return stage
        return None

    def root_base(self, stage: Stage) -> str:
        """The image a stage ultimately builds on, through any earlier stages."""
        parent = self.stage(stage.base)
        return stage.base if parent is None or parent is stage else self.root_base(parent)


def _expand(text: str, values: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, text)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Instructions with their continuation lines joined; comments dropped, as Docker does."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def read_dockerfile(path: Path) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line, text in _logical_lines(path.read_text("utf-8")):
        keyword, _, arguments = text.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = [word for word in arguments.split() if not word.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            base = re.sub(r"\$\{?\w+\}?", lambda m: _expand(m.group(0), global_args), words[0])
            stages.append(Stage(len(stages), base, name))
        elif not stages:
            assert keyword == "ARG", f"{path.name}:{line}: only ARG may come before FROM"
            name, _, default = arguments.partition("=")
            global_args[name.strip()] = default.strip().strip("\"'")
        else:
            stages[-1].instructions.append(Instruction(keyword, arguments, line))
    assert stages, f"{path.name} has no FROM"
    return Dockerfile(stages)


# --- Reading a .dockerignore, with Docker's matching ------------------------------------------


@dataclass(frozen=True)
class IgnorePattern:
    written: str
    negated: bool
    regex: re.Pattern[str]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's (Go filepath.Match) pattern as a regular expression, with `**` for any depth."""
    regex, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex, index = regex + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif pattern[index] == "*":
            regex, index = regex + "[^/]*", index + 1
        elif pattern[index] == "?":
            regex, index = regex + "[^/]", index + 1
        elif pattern[index] == "[" and (end := pattern.find("]", index + 1)) > index:
            body = pattern[index + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            regex, index = regex + f"[{body}]", end + 1
        elif pattern[index] == "\\" and index + 1 < len(pattern):
            regex, index = regex + re.escape(pattern[index + 1]), index + 2
        else:
            regex, index = regex + re.escape(pattern[index]), index + 1
    return re.compile(regex)


def read_dockerignore(path: Path) -> list[IgnorePattern]:
    patterns = []
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        cleaned = posixpath.normpath(line.removeprefix("!").strip()).lstrip("/")
        patterns.append(IgnorePattern(line, negated, _pattern_regex(cleaned)))
    return patterns


def is_excluded(path: str, patterns: list[IgnorePattern]) -> bool:
    """Whether Docker leaves `path` (relative, with /) out of the build context: the last pattern
    matching it or one of its parent directories decides, `!` letting it back in."""
    parts = path.split("/")
    candidates = ["/".join(parts[:count]) for count in range(1, len(parts) + 1)]
    excluded = False
    for pattern in patterns:
        if any(pattern.regex.fullmatch(candidate) for candidate in candidates):
            excluded = not pattern.negated
    return excluded


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (["*"], "bot/faq/morphology.py", True),
        (["*.py"], "bot/app.py", False),
        (["**/*.py"], "bot/app.py", True),
        (["**/*.py"], "setup.py", True),
        (["/var"], "var/puhelinbotti.sqlite3", True),
        (["var/"], "var/puhelinbotti.sqlite3", True),
        (["var"], "bot/var/x", False),
        (["bot/**/*.yaml"], "bot/fi.yaml", True),
        (["bot/**/*.yaml"], "bot/locales/fi.yaml", True),
        (["*.py[cod]"], "x.pyc", True),
        (["*", "!bot/"], "bot/locales/fi.yaml", False),
        (["*", "!bot/", "**/__pycache__"], "bot/faq/__pycache__/x.pyc", True),
    ],
)
def test_ignore_patterns_match_like_docker(patterns, path, excluded, tmp_path):
    """The matcher the checks below rely on, on cases Docker's documentation settles."""
    (tmp_path / ".dockerignore").write_text("\n".join(patterns) + "\n", "utf-8")
    assert is_excluded(path, read_dockerignore(tmp_path / ".dockerignore")) is excluded


# --- What the definition must say -------------------------------------------------------------


@dataclass(frozen=True)
class ImageFiles:
    dockerfile: Dockerfile
    ignore: list[IgnorePattern]

    @classmethod
    def read(cls, folder: Path) -> ImageFiles:
        return cls(
            read_dockerfile(folder / "Dockerfile"), read_dockerignore(folder / ".dockerignore")
        )


def _debian_packages(command: list[str]) -> list[str]:
    if len(command) < 2 or command[0] not in ("apt-get", "apt") or "install" not in command:
        return []
    return [word for word in command[command.index("install") + 1 :] if not word.startswith("-")]


def _setup_script_packages() -> dict[str, set[str]]:
    """The Debian packages scripts/lib/setup.sh installs, by the function that installs them."""
    script = SETUP_SCRIPT.read_text("utf-8")
    found: dict[str, set[str]] = {}
    for function in re.finditer(r"^(\w+)\(\) \{\n(.*?)^\}", script, re.MULTILINE | re.DOTALL):
        for packages in re.findall(r"apt_install((?: [a-z0-9][a-z0-9.+-]*)+)", function[2]):
            found.setdefault(function[1], set()).update(packages.split())
    assert "setup_voikko" in found, "scripts/lib/setup.sh no longer installs Voikko by apt_install"
    return found


def _installs_the_project(command: list[str]) -> bool:
    """`pip install .` (or `.[extras]`), run as pip, pip3 or `python -m pip`."""
    if "install" not in command[1:]:
        return False
    program = command[command.index("install") - 1]
    target = any(word == "." or word.startswith(".[") for word in command)
    return posixpath.basename(program).startswith("pip") and target


def _project_install(dockerfile: Dockerfile) -> tuple[Stage, list[str]]:
    """The stage and the command that run `pip install` of the project itself."""
    found = [
        (stage, command)
        for stage in dockerfile.stages
        for command in stage.run_commands()
        if _installs_the_project(command)
    ]
    assert len(found) == 1, f"the project should be installed once (`pip install .`), found {found}"
    return found[0]


def _virtual_environment(command: list[str]) -> str:
    """/opt/x for a command run as /opt/x/bin/python or /opt/x/bin/pip."""
    program = command[0]
    assert posixpath.isabs(program) and posixpath.basename(posixpath.dirname(program)) == "bin", (
        f"`{shlex.join(command)}` should run a virtual environment's pip (/…/bin/python -m pip),"
        " so the runtime stage can copy that environment and nothing else"
    )
    return posixpath.dirname(posixpath.dirname(program))


def check_base_images(files: ImageFiles) -> None:
    """Every stage starts from the official Python slim image on Debian bookworm, at a Python the
    project supports, and the runtime stage from the same image as the stage whose virtual
    environment it copies (its interpreter path and ABI must be the same)."""
    dockerfile = files.dockerfile
    supported = SpecifierSet(PYPROJECT["project"]["requires-python"])
    for stage in dockerfile.stages:
        base = dockerfile.root_base(stage)
        match = OFFICIAL_PYTHON_SLIM.fullmatch(base)
        where = stage.name or stage.index
        assert match, f"stage {where} is based on {base!r}, not python:3.x-slim-bookworm"
        assert supported.contains(match["version"]), f"{base}: the project needs {supported}"
    runtime = dockerfile.runtime
    for copy in runtime.all("COPY"):
        source = re.search(r"--from=(\S+)", copy.arguments)
        origin = dockerfile.stage(source[1]) if source else None
        if origin is not None:
            assert dockerfile.root_base(origin) == dockerfile.root_base(runtime), (
                f"line {copy.line} copies from {origin.name}, built on another image"
            )


def check_installs_the_project(files: ImageFiles) -> None:
    """`pip install .` with no extras and not editable, from a stage that has copied in what it
    reads (pyproject.toml, the package readme, the packages), into a virtual environment that
    the runtime stage copies."""
    dockerfile = files.dockerfile
    stage, command = _project_install(dockerfile)
    assert "." in command, f"`{shlex.join(command)}` installs extras: the image needs none"
    assert not {"-e", "--editable"} & set(command), "an editable install points back at /src"
    copied = {
        posixpath.normpath(word).removeprefix("./")
        for copy in stage.all("COPY")
        if "--from=" not in copy.arguments
        for word in shlex.split(copy.arguments)[:-1]
        if not word.startswith("--")
    }
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in include}
    needed = {"pyproject.toml", PYPROJECT["project"]["readme"], *packages}
    assert "." in copied or needed <= copied, (
        f"not copied before `pip install .`: {needed - copied}"
    )
    if stage is not dockerfile.runtime:
        environment = _virtual_environment(command)
        sources = [
            word
            for copy in dockerfile.runtime.all("COPY")
            if re.search(rf"--from=({stage.name}|{stage.index})\b", copy.arguments)
            for word in shlex.split(copy.arguments)[:-1]
            if not word.startswith("--")
        ]
        assert environment in sources, (
            f"the runtime stage does not copy {environment} from stage {stage.name}"
        )


def check_debian_packages(files: ImageFiles) -> None:
    """The runtime stage installs the Debian packages scripts/lib/setup.sh installs for Voikko,
    and no stage installs what it installs only for the demo and the tests (Node.js, Chromium,
    faketime)."""
    by_function = _setup_script_packages()
    runtime_packages = by_function.pop("setup_voikko")
    demo_and_test = set().union(*by_function.values())
    installed = {
        package
        for command in files.dockerfile.runtime.run_commands()
        for package in _debian_packages(command)
    }
    assert runtime_packages <= installed, f"missing in the runtime: {runtime_packages - installed}"
    for stage in files.dockerfile.stages:
        for command in stage.run_commands():
            extra = demo_and_test & set(_debian_packages(command))
            assert not extra, f"stage {stage.name or stage.index} installs {extra}: demo/test only"


def _accounts(stage: Stage) -> dict[str, str]:
    """The users a stage creates, name -> uid."""
    accounts = {}
    for command in stage.run_commands():
        if command[0] == "useradd" and "--uid" in command:
            accounts[command[-1]] = command[command.index("--uid") + 1]
    return accounts


def check_runs_as_non_root(files: ImageFiles) -> None:
    """The runtime stage ends as a numeric, non-root user: Kubernetes' runAsNonRoot can only
    verify a numeric one."""
    user = files.dockerfile.runtime.last("USER")
    assert user is not None, "the runtime stage sets no USER: the bot would run as root"
    uid, _, gid = user.arguments.partition(":")
    assert uid.isdigit() and int(uid) != 0, f"USER {user.arguments}: not a non-root numeric uid"
    assert not gid or (gid.isdigit() and int(gid) != 0), f"USER {user.arguments}: group root"


def check_database_folder_is_writable(files: ImageFiles) -> None:
    """The working directory's var/, where the default SQLite database lives, belongs to the
    runtime user (everything else stays root's)."""
    runtime = files.dockerfile.runtime
    user = runtime.last("USER")
    assert user is not None, "the runtime stage sets no USER"
    uid = user.arguments.partition(":")[0]
    owners = {uid} | {name for name, number in _accounts(runtime).items() if number == uid}
    data_folder = DEFAULT_SQLITE_PATH.parent.as_posix()
    workdir, owned = "/", set()
    for instruction in runtime.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = posixpath.join(workdir, instruction.arguments)
        elif instruction.keyword == "RUN":
            for command in instruction.commands():
                words = [word for word in command[1:] if not word.startswith("-")]
                if command[0] == "chown" and words and words[0].partition(":")[0] in owners:
                    owned.update(posixpath.normpath(posixpath.join(workdir, p)) for p in words[1:])
    expected = posixpath.join(workdir, data_folder)
    assert expected in owned, f"{expected} is not chowned to the runtime user {owners}"


def check_default_command(files: ImageFiles) -> None:
    """The default command is `phonebot serve` in exec form (a shell as PID 1 would not pass
    SIGTERM on), on every interface (a container's loopback is unreachable from outside), and
    the bot's own rule accepts that host with MicrosoftAppId set and refuses it without."""
    runtime = files.dockerfile.runtime
    entrypoint, cmd = runtime.last("ENTRYPOINT"), runtime.last("CMD")
    assert cmd is not None, "the runtime stage has no CMD"
    argv = cmd.exec_form()
    assert argv is not None, f"CMD {cmd.arguments} is in shell form: /bin/sh would be PID 1"
    if entrypoint is not None:
        prefix = entrypoint.exec_form()
        assert prefix is not None, "ENTRYPOINT in shell form ignores CMD"
        argv = prefix + argv
    assert argv[:2] == [next(iter(PYPROJECT["project"]["scripts"])), "serve"], f"runs {argv}"
    try:
        args = phonebot_parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"phonebot rejects the image's arguments {argv[1:]}")
    host = args.host or Settings.model_fields["host"].default
    try:
        every_interface = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        every_interface = False
    assert every_interface, f"serves on {host!r}: unreachable from outside the container"
    tenant = {"app_tenant_id": TEST_TENANT_ID, "teams_tenant_id": "", "app_certificate_path": None}
    production = Settings(_env_file=None, app_id=TEST_APP_ID, app_password="secret", **tenant)
    assert production.refusal_to_serve(host) is None, "production settings would be refused"
    unauthenticated = Settings(
        _env_file=None, app_id="", app_password="", allow_unauthenticated=True, **tenant
    )
    assert unauthenticated.refusal_to_serve(host) is not None, "served without authentication"


def check_stop_signal(files: ImageFiles) -> None:
    """STOPSIGNAL is SIGTERM (what orchestrators send regardless), and bot/serving.py stops
    gracefully on it."""
    stop = files.dockerfile.runtime.last("STOPSIGNAL")
    assert stop is not None, "no STOPSIGNAL"
    written = stop.arguments.strip().upper()
    number = (
        signal.Signals(int(written))
        if written.isdigit()
        else signal.Signals[written if written.startswith("SIG") else f"SIG{written}"]
    )
    handled = {
        signal.Signals[name] for name in re.findall(r"signal\.(SIG[A-Z]+)", SERVING.read_text())
    }
    assert number in handled, f"{number.name}: bot/serving.py handles only {sorted(handled)}"
    assert number == signal.SIGTERM, f"{number.name}: Kubernetes sends SIGTERM whatever it says"


def check_exposed_port(files: ImageFiles) -> None:
    """EXPOSE names exactly the port `phonebot serve` listens on by default."""
    exposed = {
        int(port.partition("/")[0])
        for expose in files.dockerfile.runtime.all("EXPOSE")
        for port in expose.arguments.split()
    }
    default = Settings.model_fields["port"].default
    assert exposed == {default}, f"EXPOSE {sorted(exposed)}, but the bot listens on {default}"


def check_environment(files: ImageFiles) -> None:
    """Logs are not buffered (PYTHONUNBUFFERED), and the project's virtual environment comes
    first on PATH, so `phonebot` and `python` are the installed ones."""
    env = files.dockerfile.runtime.env()
    assert env.get("PYTHONUNBUFFERED"), "PYTHONUNBUFFERED is not set: logs would lag"
    _, command = _project_install(files.dockerfile)
    wanted = posixpath.join(_virtual_environment(command), "bin")
    path = env.get("PATH", "$PATH").split(":")
    assert wanted in path, f"{wanted} is not on PATH ({':'.join(path)})"
    for system in ("$PATH", "${PATH}", "/usr/local/bin", "/usr/bin"):
        if system in path:
            assert path.index(wanted) < path.index(system), f"{wanted} comes after {system}"


def _pip_install_inputs() -> list[str]:
    """Every file `pip install .` reads here: pyproject.toml, the readme, and the packages'
    modules and package data (per [tool.setuptools.package-data])."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    data_globs = [glob for globs in setuptools["package-data"].values() for glob in globs]
    inputs = ["pyproject.toml", PYPROJECT["project"]["readme"]]
    for top in sorted(REPO_ROOT.iterdir()):
        if not top.is_dir() or not any(
            fnmatchcase(top.name, pattern) for pattern in setuptools["packages"]["find"]["include"]
        ):
            continue
        for file in sorted(top.rglob("*")):
            if "__pycache__" in file.parts or not file.is_file():
                continue
            if file.suffix == ".py" or any(fnmatchcase(file.name, glob) for glob in data_globs):
                inputs.append(file.relative_to(REPO_ROOT).as_posix())
    # Files not written yet: a new area's module and package data of every kind listed.
    inputs += ["bot/new_area/__init__.py"]
    inputs += [f"bot/new_area/sub/{glob.replace('*', 'example')}" for glob in data_globs]
    return inputs


def check_context_has_what_pip_reads(files: ImageFiles) -> None:
    """.dockerignore keeps every file `pip install .` reads, existing or to come (each
    package-data glob), and everything the Dockerfile COPYs from the context."""
    inputs = _pip_install_inputs()
    assert len(inputs) > 50, "the package's files were not found"
    left_out = [path for path in inputs if is_excluded(path, files.ignore)]
    assert not left_out, f".dockerignore leaves out what pip install . reads: {left_out[:10]}"
    for stage in files.dockerfile.stages:
        for copy in stage.all("COPY"):
            if "--from=" in copy.arguments:
                continue
            sources = [
                word for word in shlex.split(copy.arguments)[:-1] if not word.startswith("--")
            ]
            for source in sources:
                relative = posixpath.normpath(source)
                assert relative == "." or not is_excluded(relative, files.ignore), (
                    f"line {copy.line} copies {source}, which .dockerignore leaves out"
                )


KEEP_OUT = {
    ".env": "local settings and secrets",
    ".venv/bin/python": "the local virtual environment",
    "node_modules/.package-lock.json": "the demo's and the tests' npm packages",
    "var/puhelinbotti.sqlite3": "local databases",
    ".git/HEAD": "history",
    "tests/conftest.py": "tests",
    "benchmarks/burst.py": "benchmarks",
    "scripts/test": "set-up scripts",
    "test-results/trace.zip": "test results",
    ".pytest_cache/README.md": "caches",
    ".mypy_cache/3.11/bot/app.meta.json": "caches",
    ".ruff_cache/CACHEDIR.TAG": "caches",
    ".hypothesis/examples/x": "caches",
    "bot/__pycache__/app.cpython-311.pyc": "bytecode of this machine's Python",
    "bot/faq/__pycache__/morphology.cpython-311.pyc": "bytecode of this machine's Python",
    "puhelinbotti.egg-info/PKG-INFO": "a local build's metadata",
    "puhelinbotti.zip": "Teams app packages",
}


def check_context_leaves_out_local_state(files: ImageFiles) -> None:
    """.dockerignore keeps secrets, local environments, databases, tests and caches out of the
    build context (and so out of any layer a careless COPY makes)."""
    sent = {path: why for path, why in KEEP_OUT.items() if not is_excluded(path, files.ignore)}
    assert not sent, f"the build context would include {sent}"


STATIC_CHECKS: list[Callable[[ImageFiles], None]] = [
    check_base_images,
    check_installs_the_project,
    check_debian_packages,
    check_runs_as_non_root,
    check_database_folder_is_writable,
    check_default_command,
    check_stop_signal,
    check_exposed_port,
    check_environment,
    check_context_has_what_pip_reads,
    check_context_leaves_out_local_state,
]


@pytest.mark.parametrize("check", STATIC_CHECKS, ids=lambda check: check.__name__)
def test_image_definition(check: Callable[[ImageFiles], None]) -> None:
    check(ImageFiles.read(REPO_ROOT))


# Each check must fail on a copy broken in the way it guards against.
# fmt: off
MUTATIONS = [
    ("Dockerfile", "ARG PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm",
     "ARG PYTHON_IMAGE=python:3.11-alpine", check_base_images),
    ("Dockerfile", "FROM ${PYTHON_IMAGE} AS runtime",
     "FROM python:3.12-slim-bookworm AS runtime", check_base_images),
    ("Dockerfile", "pip install --no-deps . \\", "pip install --no-deps '.[test]' \\",
     check_installs_the_project),
    ("Dockerfile", "pip install --no-deps . \\", "pip install --no-deps -e . \\",
     check_installs_the_project),
    ("Dockerfile", "COPY README.md ./\n", "", check_installs_the_project),
    ("Dockerfile", "COPY --from=build /opt/puhelinbotti /opt/puhelinbotti",
     "COPY --from=build /opt/puhelinbotti/bin /opt/puhelinbotti/bin", check_installs_the_project),
    ("Dockerfile", "libvoikko1 voikko-fi", "libvoikko1", check_debian_packages),
    ("Dockerfile", "libvoikko1 voikko-fi", "libvoikko1 voikko-fi chromium", check_debian_packages),
    ("Dockerfile", "USER 10001:10001", "USER root", check_runs_as_non_root),
    ("Dockerfile", "USER 10001:10001", "USER phonebot", check_runs_as_non_root),
    ("Dockerfile", "USER 10001:10001", "USER 10001:0", check_runs_as_non_root),
    ("Dockerfile", "USER 10001:10001", "USER 10002:10002", check_database_folder_is_writable),
    ("Dockerfile", "chown phonebot:phonebot var", "chown root:root var",
     check_database_folder_is_writable),
    ("Dockerfile", 'CMD ["phonebot", "serve", "--host", "0.0.0.0"]',
     "CMD phonebot serve --host 0.0.0.0", check_default_command),
    ("Dockerfile", '"--host", "0.0.0.0"]', '"--host", "127.0.0.1"]', check_default_command),
    ("Dockerfile", '"--host", "0.0.0.0"]', '"--hots", "0.0.0.0"]', check_default_command),
    ("Dockerfile", '["phonebot", "serve",', '["phonebot", "demo",', check_default_command),
    ("Dockerfile", "STOPSIGNAL SIGTERM", "STOPSIGNAL SIGKILL", check_stop_signal),
    ("Dockerfile", "STOPSIGNAL SIGTERM", "STOPSIGNAL SIGINT", check_stop_signal),
    ("Dockerfile", "EXPOSE 3978", "EXPOSE 8080", check_exposed_port),
    ("Dockerfile", "    PYTHONUNBUFFERED=1 \\\n", "", check_environment),
    ("Dockerfile", "PATH=/opt/puhelinbotti/bin:$PATH", "PATH=$PATH:/opt/puhelinbotti/bin",
     check_environment),
    (".dockerignore", "!README.md\n", "", check_context_has_what_pip_reads),
    (".dockerignore", "**/*~\n", "**/*~\nbot/**/*.mako\n", check_context_has_what_pip_reads),
    (".dockerignore", "**/*~\n", "**/*.css\n", check_context_has_what_pip_reads),
    (".dockerignore", "**/*~\n", "**/*~\n!.env\n", check_context_leaves_out_local_state),
    (".dockerignore", "\n*\n", "\n", check_context_leaves_out_local_state),
    (".dockerignore", "**/__pycache__\n**/*.py[cod]\n", "", check_context_leaves_out_local_state),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "old", "new", "check"),
    MUTATIONS,
    ids=[f"{check.__name__}-{index}" for index, (*_, check) in enumerate(MUTATIONS)],
)
def test_each_check_fails_on_a_broken_copy(name, old, new, check, tmp_path):
    for original in (DOCKERFILE, DOCKERIGNORE):
        shutil.copy(original, tmp_path / original.name)
    target = tmp_path / name
    text = target.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} is no longer once in {name}: update this mutation"
    target.write_text(text.replace(old, new), "utf-8")
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        check(ImageFiles.read(tmp_path))


def test_every_check_has_a_mutation():
    assert {check for *_, check in MUTATIONS} == set(STATIC_CHECKS)


# --- The health check, run against the real app ----------------------------------------------


def _healthcheck_argv(dockerfile: Dockerfile) -> list[str]:
    healthcheck = dockerfile.runtime.last("HEALTHCHECK")
    assert healthcheck is not None, "no HEALTHCHECK"
    _, _, command = healthcheck.arguments.partition("CMD ")
    argv = Instruction("CMD", command.strip(), healthcheck.line).exec_form()
    assert argv, f"HEALTHCHECK {healthcheck.arguments}: expected CMD in exec form"
    assert argv[0] in ("python", "python3"), f"{argv[0]}: the slim image has no curl; use Python"
    return argv


async def _exit_status(argv: list[str], port: int) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv[1:],
        env={**os.environ, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), timeout=30)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_healthcheck_passes_against_the_app_and_fails_without_it(bot: BotUnderTest):
    """The image's HEALTHCHECK command, run here with PORT set as in a deployment: it passes
    while the real app answers /healthz and fails when nothing listens."""
    argv = _healthcheck_argv(read_dockerfile(DOCKERFILE))
    assert await _exit_status(argv, bot.client.port) == 0
    assert await _exit_status(argv, _closed_port()) != 0


@pytest.mark.parametrize(
    ("old", "new"),
    [("+ '/healthz'", "+ '/health'"), ("os.environ.get('PORT', '3978')", "'3978'")],
    ids=["wrong-path", "ignores-PORT"],
)
async def test_healthcheck_check_fails_on_a_broken_copy(bot: BotUnderTest, tmp_path, old, new):
    text = DOCKERFILE.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} is no longer once in the Dockerfile"
    (tmp_path / "Dockerfile").write_text(text.replace(old, new), "utf-8")
    argv = _healthcheck_argv(read_dockerfile(tmp_path / "Dockerfile"))
    assert await _exit_status(argv, bot.client.port) != 0


# --- Building and running the image ----------------------------------------------------------


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def _tail(text: str, lines: int = 1) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "no output"


def usable_engine() -> tuple[str | None, list[str]]:
    """Docker's or Podman's command, whichever answers `info` first, and why others did not."""
    why = []
    for name in ("docker", "podman"):
        program = shutil.which(name)
        if program is None:
            why.append(f"{name} is not installed")
            continue
        try:
            result = _run([program, "info"], timeout=60)
        except subprocess.TimeoutExpired:
            why.append(f"`{name} info` timed out")
            continue
        if result.returncode == 0:
            return program, why
        why.append(f"`{name} info` failed: {_tail(result.stderr)}")
    return None, why


@dataclass(frozen=True)
class BuiltImage:
    engine: str
    tag: str

    def run(
        self, *argv: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """One container, removed afterwards, with no network: the bot needs none to start."""
        options = ["--rm", "--network", "none", "--no-healthcheck"]
        options += [f"--env={name}={value}" for name, value in (env or {}).items()]
        return _run([self.engine, "run", *options, self.tag, *argv], timeout=300)


@pytest.fixture(scope="module")
def image() -> Iterator[BuiltImage]:
    # A build downloads Debian's and PyPI's packages, and tests never touch the internet unasked.
    if os.environ.get(BUILD_VARIABLE) != "1":
        pytest.skip(f"building the image downloads packages: set {BUILD_VARIABLE}=1 to build it")
    engine, why = usable_engine()
    if engine is None:
        pytest.skip("no usable container engine: " + "; ".join(why))
    base = os.environ.get(BASE_IMAGE_VARIABLE) or read_dockerfile(DOCKERFILE).stages[0].base
    if _run([engine, "image", "inspect", base], timeout=60).returncode != 0:
        pytest.skip(
            f"the base image {base} is not on this machine ({Path(engine).name} pull it first);"
            f" {BASE_IMAGE_VARIABLE} may name a local copy"
        )
    tag = f"localhost/puhelinbotti-test:{uuid.uuid4().hex[:12]}"
    build = [engine, "build", "--tag", tag, "--build-arg", f"PYTHON_IMAGE={base}"]
    if Path(engine).name == "podman":
        build += ["--format", "docker"]  # OCI images have no HEALTHCHECK
    built = _run([*build, "--file", str(DOCKERFILE), str(REPO_ROOT)], timeout=1800)
    assert built.returncode == 0, (
        f"the image did not build:\n{_tail(built.stdout + built.stderr, 40)}"
    )
    try:
        yield BuiltImage(engine, tag)
    finally:
        _run([engine, "rmi", "--force", tag], timeout=300)


def test_phonebot_runs_in_the_image(image: BuiltImage):
    result = image.run("phonebot", "--help")
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout


def test_voikko_loads_in_the_image(image: BuiltImage):
    """As scripts/lib/setup.sh `voikko_loads` checks it, and with a word's base form."""
    code = (
        "import sys\n"
        "from bot.faq.morphology import finnish_morphology\n"
        "morphology = finnish_morphology()\n"
        "sys.exit(morphology is None)\n"
    )
    code_and_word = code.replace(
        "sys.exit", "print(morphology.name, morphology.analyse('puhelimeni').base_forms)\nsys.exit"
    )
    result = image.run("python", "-c", code_and_word)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Voikko "), result.stdout
    assert "'puhelin'" in result.stdout, result.stdout


def test_the_image_migrates_its_database_as_a_non_root_user(image: BuiltImage):
    """`phonebot db upgrade` creates var/puhelinbotti.sqlite3: var/ is writable, and the
    migrations (and their package data) are in the installed package."""
    uid = image.run("id", "-u")
    assert uid.returncode == 0 and uid.stdout.strip() != "0", uid.stdout + uid.stderr
    result = image.run("phonebot", "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert str(head_revision()) in result.stdout


def test_the_default_command_refuses_without_app_id(image: BuiltImage):
    result = image.run()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "phonebot serve:" in result.stderr and "MicrosoftAppId" in result.stderr


def test_the_server_answers_health_and_stops_on_sigterm(image: BuiltImage):
    """Serving with an app id: the image's own HEALTHCHECK passes inside it, and a stop sends
    STOPSIGNAL, on which the server stops in order and exits 0 (not killed after the timeout)."""
    name = f"puhelinbotti-test-{uuid.uuid4().hex[:12]}"
    env = {
        "MicrosoftAppId": TEST_APP_ID,
        "MicrosoftAppPassword": "not-a-real-secret",
        "MicrosoftAppTenantId": TEST_TENANT_ID,
        "BACKGROUND_JOBS": "false",
        "SHUTDOWN_GRACE_SECONDS": "1",
        "SHUTDOWN_TIMEOUT_SECONDS": "5",
    }
    options = ["--detach", "--name", name, "--network", "none", "--no-healthcheck"]
    options += [f"--env={key}={value}" for key, value in env.items()]
    started = _run([image.engine, "run", *options, image.tag], timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        healthcheck = _healthcheck_argv(read_dockerfile(DOCKERFILE))
        deadline = time.monotonic() + 90
        while True:
            probe = _run([image.engine, "exec", name, *healthcheck], timeout=30)
            if probe.returncode == 0:
                break
            logs = _run([image.engine, "logs", name], timeout=30)
            assert time.monotonic() < deadline, f"never healthy:\n{_tail(logs.stderr, 30)}"
            time.sleep(1)
        stopped = _run([image.engine, "stop", "--time", "30", name], timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        status = _run(
            [image.engine, "inspect", "--format", "{{.State.ExitCode}}", name], timeout=30
        )
        logs = _run([image.engine, "logs", name], timeout=30)
        assert status.stdout.strip() == "0", f"exit {status.stdout}:\n{_tail(logs.stderr, 30)}"
        assert "stopping: /readyz answers 503" in logs.stdout + logs.stderr
    finally:
        _run([image.engine, "rm", "--force", name], timeout=60)

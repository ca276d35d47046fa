"""Microsoft 365 Agents Playground, the local Teams client, configured with demo employees."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
PLAYGROUND_BIN = REPO_ROOT / "node_modules" / ".bin" / "agentsplayground"
DEFAULT_PORT = 56150
TENANT_ID = "0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
BOT_ID = "28:puhelinbotti-demo"
TEAM_ID = "19:pori-puhelinprojekti@thread.tacv2"
# The Playground's config schema wants exactly five users besides the current one.
OTHER_USERS = 5


class PlaygroundError(RuntimeError):
    """The Playground could not be installed or started."""


def playground_config(employees: list[dict[str, Any]]) -> dict[str, Any]:
    """The `.m365agentsplayground.yml` content: the first employee chats, five more exist."""
    people = [_user(person) for person in employees[: OTHER_USERS + 1]]
    if len(people) < OTHER_USERS + 1:
        raise ValueError(f"the Playground needs {OTHER_USERS + 1} demo employees")
    return {
        "version": "0.1.1",
        "tenantId": TENANT_ID,
        "bot": {"id": BOT_ID, "name": "Puhelinbotti"},
        "currentUser": people[0],
        "users": people[1:],
        "personalChat": {"id": f"a:demo-personal-{people[0]['aadObjectId']}"},
        "groupChat": {"id": "19:demo-group@thread.v2", "name": "Puhelinhanke"},
        "team": {
            "id": TEAM_ID,
            "name": "Porin kaupunki - ICT",
            "aadGroupId": "5b0c5d3e-0000-4000-8000-00000000ab01",
            "channels": [{"id": "19:demo-tukipalvelu@thread.tacv2", "name": "Tukipalvelu"}],
        },
    }


def _user(person: dict[str, Any]) -> dict[str, str]:
    given, _, surname = person["name"].partition(" ")
    return {
        "id": f"29:{person['aad_object_id']}",
        "name": person["name"],
        "userPrincipleName": person["upn"],
        "aadObjectId": person["aad_object_id"],
        "givenName": given,
        "surname": surname,
        "email": person["upn"],
    }


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def ensure_installed() -> Path:
    """The Playground's executable, installed from package-lock.json with `npm ci` if missing."""
    if PLAYGROUND_BIN.exists():
        return PLAYGROUND_BIN
    npm = shutil.which("npm")
    if npm is None:
        raise PlaygroundError("npm is not installed")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REPO_ROOT, check=True)
    if not PLAYGROUND_BIN.exists():
        raise PlaygroundError(f"npm ci did not install {PLAYGROUND_BIN}")
    return PLAYGROUND_BIN


class Playground:
    """One Playground process pointed at a bot endpoint; `url` is where a browser opens it."""

    def __init__(
        self, *, bot_endpoint: str, config: dict[str, Any], workdir: Path, port: int
    ) -> None:
        self._bot_endpoint = bot_endpoint
        self._config = config
        # The Playground runs inside `workdir`, so paths handed to it must not be relative to ours.
        self._workdir = workdir.absolute()
        self._requested_port = port
        self._process: subprocess.Popen[str] | None = None
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def log_file(self) -> Path:
        return self._workdir / "playground.log"

    def start(self, timeout: float = 60.0) -> Playground:
        executable = ensure_installed()
        self._workdir.mkdir(parents=True, exist_ok=True)
        config_path = self._workdir / ".m365agentsplayground.yml"
        config_path.write_text(yaml.safe_dump(self._config, allow_unicode=True), encoding="utf-8")
        environment = {
            **os.environ,
            "TEAMSAPPTESTER_BROWSER": "none",
            "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config_path),
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(self.log_file),
        }
        command = [str(executable), "-e", self._bot_endpoint, "-c", "msteams", "--dt"]
        command += ["-p", str(self._requested_port)]
        self._process = subprocess.Popen(
            command,
            cwd=self._workdir,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.port = self._read_port(timeout)
        return self

    def _read_port(self, timeout: float) -> int:
        """The port it really listens on: it silently picks another when the asked one is taken."""
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._process.stdout.readline()
            if not line and self._process.poll() is not None:
                break
            if line.startswith("Listening on"):
                port = int(line.split()[-1])
                time.sleep(0.5)
                if self._process.poll() is None:
                    return port
                break
        self.stop()
        raise PlaygroundError(f"the Playground did not start; see {self.log_file}")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self._process.pid, signal.SIGKILL)
        finally:
            if self._process.stdout is not None:
                self._process.stdout.close()

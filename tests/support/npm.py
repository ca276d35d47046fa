"""The pinned npm packages of `package.json` (Microsoft's schemas, renderer, Playground)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"


class NpmUnavailableError(RuntimeError):
    """npm is not on PATH."""


def pinned_version(name: str) -> str:
    manifest = json.loads((REPO_ROOT / "package.json").read_text("utf-8"))
    pinned = {**manifest.get("dependencies", {}), **manifest["devDependencies"]}
    return str(pinned[name])


def npm_package_dir(name: str) -> Path:
    """`node_modules/<name>` at its pinned version; `npm ci` runs first if it is missing."""
    target = NODE_MODULES / name
    if _installed_version(target) == pinned_version(name):
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise NpmUnavailableError(
            f"npm is needed to install {name} for this test: install Node.js 20 or later"
        )
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0 or _installed_version(target) != pinned_version(name):
        raise RuntimeError(f"`npm ci` did not install {name}:\n{result.stderr.strip()}")
    return target


def require_npm_package(name: str) -> Path:
    """Like npm_package_dir, but without npm: fail on CI (where it must be), skip elsewhere."""
    try:
        return npm_package_dir(name)
    except NpmUnavailableError as error:
        if "CI" in os.environ:
            pytest.fail(f"{error} (CI is set, so this is not skipped)", pytrace=False)
        pytest.skip(str(error))


def _installed_version(package_dir: Path) -> str | None:
    try:
        return str(json.loads((package_dir / "package.json").read_text("utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None

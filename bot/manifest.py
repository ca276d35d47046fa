"""The Teams app package: manifest.json, its localizations and the two icons, zipped at the root."""

from __future__ import annotations

import json
import re
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_DIR = ROOT / "manifest"
# Teams needs a GUID in botId even when local use leaves MicrosoftAppId empty.
PLACEHOLDER_BOT_ID = "00000000-0000-0000-0000-000000000000"
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def build_manifest(settings: Settings) -> dict[str, Any]:
    """The manifest, its settings-dependent fields set on parsed JSON, never by text replacement."""
    manifest = _load("manifest.template.json")
    manifest["id"] = _guid(settings.teams_app_id, "TEAMS_APP_ID")
    manifest["version"] = project_version()
    bot_id = _guid(settings.app_id, "MicrosoftAppId") if settings.app_id else PLACEHOLDER_BOT_ID
    manifest["bots"][0]["botId"] = bot_id
    host = _https_host(settings.public_endpoint)
    manifest["validDomains"] = [host]
    ict_tab = f"https://{host}/tabs/ict?lang={{locale}}"
    manifest["staticTabs"][1]["contentUrl"] = ict_tab
    manifest["staticTabs"][1]["websiteUrl"] = ict_tab
    manifest["configurableTabs"][0]["configurationUrl"] = (
        f"https://{host}/tabs/ict/configure?lang={{locale}}"
    )
    # Teams single sign-on for the tabs: the app registration and its Application ID URI.
    manifest["webApplicationInfo"] = {
        "id": bot_id,
        "resource": settings.tab_app_id_uri or f"api://{host}/{bot_id}",
    }
    if settings.privacy_notice_url:
        manifest["developer"]["privacyUrl"] = settings.privacy_notice_url
    _check_filled(manifest)
    return manifest


def build_package(settings: Settings, output: Path) -> Path:
    """Write the zip that Teams accepts for upload: every file at the root, none in a folder."""
    manifest = build_manifest(settings)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", _dump(manifest))
        for file in localization_files(manifest):
            strings = _load(file.removesuffix(".json") + ".template.json")
            _check_filled(strings)
            package.writestr(file, _dump(strings))
        for icon in manifest["icons"].values():
            package.write(MANIFEST_DIR / icon, icon)
    return output


def localization_files(manifest: dict[str, Any]) -> list[str]:
    """The language files the manifest names, so the package cannot miss one."""
    languages = manifest.get("localizationInfo", {}).get("additionalLanguages", [])
    return [language["file"] for language in languages]


def project_version() -> str:
    """pyproject.toml in a checkout (editable install metadata can lag behind), else metadata."""
    pyproject = ROOT / "pyproject.toml"
    if pyproject.is_file():
        version = str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
    else:
        version = metadata.version("puhelinbotti")
    if not _SEMVER.fullmatch(version):
        raise ValueError(f"Teams needs an app version of the form 1.2.3, not {version!r}")
    return version


def _load(name: str) -> dict[str, Any]:
    path = MANIFEST_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: build the package from a source checkout")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _guid(value: str, key: str) -> str:
    if not _GUID.fullmatch(value):
        raise ValueError(f"{key} must be a GUID like {PLACEHOLDER_BOT_ID}, not {value!r}")
    return value


def _https_host(url: str) -> str:
    """Teams only calls bots over HTTPS; validDomains wants the bare host name."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"BOT_PUBLIC_ENDPOINT must be an https:// URL, not {url!r}")
    return parts.hostname


def _check_filled(node: Any) -> None:
    """A template field added without code to fill it must fail the build, not ship as '{{...}}'."""
    if isinstance(node, dict):
        for value in node.values():
            _check_filled(value)
    elif isinstance(node, list):
        for value in node:
            _check_filled(value)
    elif isinstance(node, str) and "{{" in node:
        raise ValueError(f"manifest template placeholder left unfilled: {node!r}")

"""The Teams app package: contents, icons, settings filled in, valid by Microsoft's own schema."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft7Validator, FormatChecker, validators
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from bot import cli, manifest
from bot.settings import Settings
from tests.support import npm

APP_MANIFEST_NPM = "@microsoft/app-manifest"
SCHEMA_URL = "https://developer.microsoft.com/en-us/json-schemas/teams/v{version}/{file}"
TEAMS_APP_ID = "3b7e4f2a-9c1d-4e8f-a6b5-0d2c7e9f1a34"
BOT_APP_ID = "8d2f6a1c-4b3e-4f7a-9e0d-5c1b2a3f4e6d"
ENDPOINT = "https://puhelinbotti.test.pori.fi/api/messages"
WHITE = [255, 255, 255]


def _settings(
    app_id: str = BOT_APP_ID, teams_app_id: str = TEAMS_APP_ID, public_endpoint: str = ENDPOINT
) -> Settings:
    """Settings from these values only: no environment, no `.env`."""
    return Settings(  # type: ignore[call-arg]  # _env_file is pydantic-settings' own
        _env_file=None, app_id=app_id, teams_app_id=teams_app_id, public_endpoint=public_endpoint
    )


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """The zip built into a folder that does not exist yet."""
    path = manifest.build_package(_settings(), tmp_path / "out" / "puhelinbotti.zip")
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
    return path


def _read_bytes(package: Path, name: str) -> bytes:
    with zipfile.ZipFile(package) as opened:
        return opened.read(name)


def _read_json(package: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_read_bytes(package, name).decode("utf-8"))
    return data


# --- Microsoft's schema, offline -------------------------------------------------------------

# Microsoft validates with Ajv's draft-04 mode, which (unlike draft-04 itself) enforces `const`
# and `if`/`then`, and applies keywords beside `$ref`; the schemas rely on all three.
MicrosoftDraft4Validator = validators.create(
    meta_schema=Draft4Validator.META_SCHEMA,
    validators={
        **Draft4Validator.VALIDATORS,
        **{k: Draft7Validator.VALIDATORS[k] for k in ("const", "if", "contains", "propertyNames")},
    },
    type_checker=Draft4Validator.TYPE_CHECKER,
    id_of=DRAFT4.id_of,
    applicable_validators=lambda schema: schema.items(),
)

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_uri_format = FormatChecker(formats=())
_uri_format.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.fullmatch(value)))


@pytest.fixture(scope="session")
def schemas_root() -> Path:
    return npm.require_npm_package(APP_MANIFEST_NPM) / "build" / "json-schemas" / "teams"


def _offline(uri: str) -> Resource[Any]:
    """Never go online: a `$ref` to a schema outside the npm package fails the test instead."""
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs alias


def _validator(schemas_root: Path, version: str, file: str) -> Validator:
    """A validator whose `$ref`s resolve only to the schema files shipped beside `file`."""
    folder = schemas_root / f"v{version}"
    if not folder.is_dir():
        pytest.fail(f"{APP_MANIFEST_NPM} has no Teams schema v{version} in {schemas_root}")
    resources = []
    for path in sorted(folder.glob("*.json")):
        url = SCHEMA_URL.format(version=version, file=path.name)
        contents = {**json.loads(path.read_text("utf-8")), "id": url}
        resources.append((url, DRAFT4.create_resource(contents)))
    registry: Registry[Any] = Registry(retrieve=_offline)  # type: ignore[call-arg]  # attrs alias
    registry = registry.with_resources(resources)
    schema = registry[SCHEMA_URL.format(version=version, file=file)].contents
    return MicrosoftDraft4Validator(schema, registry=registry, format_checker=_uri_format)


def _errors(validator: Validator, instance: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def _manifest_validator(schemas_root: Path, data: dict[str, Any]) -> Validator:
    return _validator(schemas_root, data["manifestVersion"], "MicrosoftTeams.schema.json")


def _localization_validator(schemas_root: Path, data: dict[str, Any]) -> Validator:
    return _validator(
        schemas_root, data["manifestVersion"], "MicrosoftTeams.Localization.schema.json"
    )


# --- PNG --------------------------------------------------------------------------------------


def _png_rgba(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and pixels of an 8-bit RGB or RGBA PNG, undoing the row filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, color_type, interlace) in {(8, 6, 0), (8, 2, 0)}, "only 8-bit RGB(A) handled"
    channels = 4 if color_type == 6 else 3
    raw, stride = zlib.decompress(idat), width * channels
    previous, pixels = bytearray(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride if kind else 0):
            a = row[i - channels] if i >= channels else 0
            b, c = previous[i], previous[i - channels] if i >= channels else 0
            predictor = (a, b, (a + b) // 2, _paeth(a, b, c))[kind - 1]
            row[i] = (row[i] + predictor) & 0xFF
        for x in range(width):
            px = row[x * channels : (x + 1) * channels]
            pixels.append((px[0], px[1], px[2], px[3] if channels == 4 else 255))
        previous = row
    return width, height, pixels


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


# --- the package ------------------------------------------------------------------------------


def test_package_has_manifest_localization_and_icons_at_the_root(package: Path) -> None:
    with zipfile.ZipFile(package) as opened:
        names = opened.namelist()
    assert sorted(names) == ["color.png", "en-us.json", "manifest.json", "outline.png"]
    data = _read_json(package, "manifest.json")
    assert data["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest.localization_files(data) == ["en-us.json"]


def test_ids_version_and_domain_come_from_settings(package: Path) -> None:
    data = _read_json(package, "manifest.json")
    assert data["id"] == TEAMS_APP_ID
    assert data["bots"][0]["botId"] == BOT_APP_ID
    assert data["validDomains"] == ["puhelinbotti.test.pori.fi"]
    assert data["version"] == "0.1.0" == manifest.project_version()


def test_empty_app_id_gets_the_placeholder_bot_id() -> None:
    data = manifest.build_manifest(_settings(app_id=""))
    assert data["bots"][0]["botId"] == "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"teams_app_id": "puhelinbotti"}, "TEAMS_APP_ID must be a GUID"),
        ({"app_id": "not-a-guid"}, "MicrosoftAppId must be a GUID"),
        ({"public_endpoint": "http://127.0.0.1:3978/api/messages"}, "must be an https:// URL"),
    ],
)
def test_bad_settings_are_refused_with_the_key_to_fix(
    overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        manifest.build_manifest(_settings(**overrides))


def test_no_placeholder_is_left(package: Path) -> None:
    for name in ("manifest.json", "en-us.json"):
        assert "{{" not in _read_bytes(package, name).decode("utf-8"), name
    template = (manifest.MANIFEST_DIR / "manifest.template.json").read_text("utf-8")
    assert set(re.findall(r"\{\{(\w+)\}\}", template)) == {
        "version",
        "teams_app_id",
        "bot_app_id",
        "public_endpoint_host",
        "ict_tab_url",
        "ict_tab_configuration_url",
        "tab_audience",
    }


def test_the_manifest_tells_teams_the_bot_commands(package: Path) -> None:
    bot = _read_json(package, "manifest.json")["bots"][0]
    assert bot["scopes"] == ["personal", "team"]
    assert (bot["supportsFiles"], bot["isNotificationOnly"]) == (False, False)
    commands = {
        tuple(c["scopes"]): [x["title"] for x in c["commands"]] for c in bot["commandLists"]
    }
    assert commands == {
        ("personal",): ["valikko", "suomeksi", "in English", "på svenska"],
        ("team",): ["valikko", "tukikanava"],
    }


def test_ict_tab_is_a_personal_tab_beside_the_chat_and_a_channel_tab(package: Path) -> None:
    data = _read_json(package, "manifest.json")
    conversations, ict = data["staticTabs"]
    assert conversations == {"entityId": "conversations", "scopes": ["personal"]}
    assert ict["contentUrl"] == "https://puhelinbotti.test.pori.fi/tabs/ict?lang={locale}"
    assert ict["scopes"] == ["personal"]
    (channel,) = data["configurableTabs"]
    assert channel["configurationUrl"] == (
        "https://puhelinbotti.test.pori.fi/tabs/ict/configure?lang={locale}"
    )
    assert _read_json(package, "en-us.json")["staticTabs[1].name"] == "ICT"


def test_tab_sign_in_names_the_app_and_its_application_id_uri(package: Path) -> None:
    assert _read_json(package, "manifest.json")["webApplicationInfo"] == {
        "id": BOT_APP_ID,
        "resource": f"api://puhelinbotti.test.pori.fi/{BOT_APP_ID}",
    }
    custom = manifest.build_manifest(
        _settings().model_copy(update={"tab_app_id_uri": "api://tabs.pori.fi/x"})
    )
    assert custom["webApplicationInfo"]["resource"] == "api://tabs.pori.fi/x"


def test_color_icon_is_192_and_opaque(package: Path) -> None:
    width, height, pixels = _png_rgba(_read_bytes(package, "color.png"))
    assert (width, height) == (192, 192)
    assert all(alpha == 255 for *_, alpha in pixels)
    assert len({pixel[:3] for pixel in pixels}) > 2, "a full-colour icon, not a flat square"


def test_outline_icon_is_32_and_only_white_on_transparent(package: Path) -> None:
    width, height, pixels = _png_rgba(_read_bytes(package, "outline.png"))
    assert (width, height) == (32, 32)
    coloured = [
        (i % 32, i // 32) for i, (*rgb, alpha) in enumerate(pixels) if alpha and rgb != WHITE
    ]
    assert not coloured, f"pixels neither white nor transparent at {coloured[:5]}"
    assert any(a == 0 for *_, a in pixels) and any(a == 255 for *_, a in pixels)


def test_cli_builds_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout; templates found from anywhere
    monkeypatch.setenv("TEAMS_APP_ID", TEAMS_APP_ID)
    monkeypatch.setenv("MicrosoftAppId", BOT_APP_ID)
    monkeypatch.setenv("BOT_PUBLIC_ENDPOINT", ENDPOINT)
    assert cli.main(["manifest", "build", "-o", "x.zip"]) == 0
    with zipfile.ZipFile(tmp_path / "x.zip") as package:
        assert json.loads(package.read("manifest.json"))["id"] == TEAMS_APP_ID


# --- Microsoft's schema -----------------------------------------------------------------------


def test_manifest_uses_the_newest_schema_in_the_pinned_package(
    package: Path, schemas_root: Path
) -> None:
    versions = [p.name[1:] for p in schemas_root.glob("v1.*")]
    newest = max(versions, key=lambda v: tuple(map(int, v.split("."))))
    data = _read_json(package, "manifest.json")
    assert data["manifestVersion"] == newest
    assert data["$schema"] == SCHEMA_URL.format(version=newest, file="MicrosoftTeams.schema.json")
    strings = _read_json(package, "en-us.json")
    localization_url = SCHEMA_URL.format(
        version=newest, file="MicrosoftTeams.Localization.schema.json"
    )
    assert strings["$schema"] == localization_url


def test_manifest_is_valid_by_microsofts_schema(package: Path, schemas_root: Path) -> None:
    data = _read_json(package, "manifest.json")
    assert _errors(_manifest_validator(schemas_root, data), data) == []


def test_localization_is_valid_by_microsofts_schema(package: Path, schemas_root: Path) -> None:
    data = _read_json(package, "manifest.json")
    strings = _read_json(package, "en-us.json")
    assert _errors(_localization_validator(schemas_root, data), strings) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        pytest.param(_set("manifestVersion", "1.29"), "manifest", id="const"),
        pytest.param(_set("name/short", "x" * 31), "manifest", id="maxLength"),
        pytest.param(_set("bots/0/scopes", ["everyone"]), "manifest", id="enum"),
        pytest.param(_set("accentColor", "blue"), "manifest", id="pattern"),
        pytest.param(_set("bots/0/botId", "bot"), "manifest", id="ref-pattern"),
        pytest.param(_set("name.short", "x" * 31), "localization", id="ref-sibling-maxLength"),
        pytest.param(_set("menu", "valikko"), "localization", id="unknown-key"),
    ],
)
def test_the_schema_check_is_not_vacuous(
    package: Path,
    schemas_root: Path,
    mutate: Callable[[dict[str, Any]], None],
    kind: str,
) -> None:
    data = _read_json(package, "manifest.json")
    if kind == "manifest":
        validator, instance = _manifest_validator(schemas_root, data), data
    else:
        instance = _read_json(package, "en-us.json")
        validator = _localization_validator(schemas_root, data)
    mutate(instance)
    assert _errors(validator, instance)


def test_a_ref_outside_the_package_fails_instead_of_being_fetched() -> None:
    schema = {"$ref": "https://example.com/elsewhere.schema.json"}
    registry: Registry[Any] = Registry(retrieve=_offline)  # type: ignore[call-arg]  # attrs alias
    validator = MicrosoftDraft4Validator(schema, registry=registry)
    with pytest.raises(Exception, match=r"Unresolvable: https://example\.com/elsewhere"):
        list(validator.iter_errors({}))


# --- the npm helper ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ci", "outcome"), [(True, pytest.fail.Exception), (False, pytest.skip.Exception)]
)
def test_without_npm_fail_on_ci_and_skip_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: bool, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(npm.shutil, "which", lambda _: None)
    monkeypatch.setattr(npm, "pinned_version", lambda _: "0.0.0-not-installed")
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    with pytest.raises(outcome, match="npm is needed"):
        npm.require_npm_package("@microsoft/app-manifest")

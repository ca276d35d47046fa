"""`phonebot doctor` against a local Entra stand-in, the fake Graph and a real database: a
configuration fit to go live passes every check; each thing that would break production fails
its own check, with the fix, and the command exits 1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.entra.fake_token_issuer import FakeTokenIssuer
from bot.adapters.graph.fake_graph import FakeGraph
from bot.cli import main
from bot.cli.doctor import worded
from bot.db import migrate
from bot.doctor import NEEDED_ROLES, Doctor, Finding, Status, healthy
from bot.settings import AppType, Settings
from tests.support.database import postgres_database

APP = "5b0e2c1a-7777-4d3e-8f9a-0b1c2d3e4f5a"
CITY = "0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
SECRET = "oikea-salaisuus"
TEAMS_APP = "6f3d5c1e-2b7a-4c0e-9a51-7f0d2e8b4c11"


@pytest.fixture
async def entra() -> AsyncIterator[FakeTokenIssuer]:
    issuer = await FakeTokenIssuer(secrets={APP: SECRET}, roles={APP: NEEDED_ROLES}).start()
    yield issuer
    await issuer.stop()


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph() as fake:
        fake.publish_app(TEAMS_APP)
        yield fake


def live(entra: FakeTokenIssuer, graph: FakeGraph, **values: Any) -> Settings:
    """What production would set, pointed at the local stand-ins."""
    settings: dict[str, Any] = {
        "app_id": APP,
        "app_password": SECRET,
        "app_type": AppType.SINGLE_TENANT,
        "app_tenant_id": CITY,
        "entra_authority_host": entra.authority,
        "graph_base_url": graph.base_url,
        "teams_app_id": TEAMS_APP,
        "public_endpoint": "https://puhelinbotti.pori.fi/api/messages",
        "privacy_notice_url": "https://www.pori.fi/tietosuoja",
        "prometheus_metrics": True,
    }
    return Settings(_env_file=None, **{**settings, **values})


async def examine(settings: Settings, engine: Any, entra: FakeTokenIssuer) -> dict[str, Finding]:
    doctor = Doctor(settings, engine, {"connection_verify": entra.ca_file})
    return {finding.check: finding for finding in await doctor.examine()}


@pytest.mark.postgres
async def test_a_configuration_fit_to_go_live_passes_every_check(entra, graph):
    async with postgres_database() as engine:
        findings = await examine(live(entra, graph), engine, entra)
    assert {name: finding.status for name, finding in findings.items()} == {
        name: Status.OK
        for name in (
            "authentication",
            "tenant",
            "public_endpoint",
            "database",
            "privacy_notice",
            "telemetry",
            "bot_token",
            "graph_permissions",
            "teams_app",
        )
    }
    assert healthy(list(findings.values()))
    assert worded(findings["authentication"]) == (
        "✓ Tunnistautuminen on päällä; botti todistaa henkilöllisyytensä sovelluksen "
        "salaisuudella (MicrosoftAppPassword)."
    )


async def test_a_missing_graph_permission_is_named_with_its_fix(entra, graph, sqlite_engine):
    entra.roles[APP] = ("User.Read.All", "AppCatalog.Read.All")
    findings = await examine(live(entra, graph), sqlite_engine, entra)
    permissions = findings["graph_permissions"]
    assert permissions.status is Status.FAILED
    assert permissions.values["roles"] == "TeamsAppInstallation.ReadWriteSelfForUser.All"
    assert "korjaus: myönnä ne sovellukselle" in worded(permissions)


async def test_a_permission_broader_than_needed_is_a_warning(entra, graph, sqlite_engine):
    entra.roles[APP] = (*NEEDED_ROLES, "TeamsAppInstallation.ReadWriteForUser.All")
    findings = await examine(live(entra, graph), sqlite_engine, entra)
    assert findings["graph_permissions"].status is Status.WARNING


async def test_groups_as_units_need_group_membership_too(entra, graph, sqlite_engine):
    settings = live(entra, graph, directory_unit_source="groups", directory_unit_groups={"g": "U"})
    findings = await examine(settings, sqlite_engine, entra)
    assert findings["graph_permissions"].values["roles"] == "GroupMember.Read.All"


async def test_a_secret_entra_refuses_fails_the_token_checks(entra, graph, sqlite_engine):
    findings = await examine(live(entra, graph, app_password="vanha"), sqlite_engine, entra)
    assert findings["bot_token"].status is Status.FAILED
    assert "AADSTS7000215" in findings["bot_token"].values["error"]
    assert "vanha" not in worded(findings["bot_token"])
    assert findings["graph_permissions"].status is Status.FAILED


async def test_an_app_missing_from_the_catalog_fails(entra, sqlite_engine):
    async with FakeGraph() as empty_catalog:
        findings = await examine(live(entra, empty_catalog), sqlite_engine, entra)
    assert findings["teams_app"].status is Status.FAILED
    assert findings["teams_app"].outcome == "not_published"


async def test_sqlite_and_a_database_behind_the_code_fail(entra, graph, sqlite_engine):
    findings = await examine(live(entra, graph), sqlite_engine, entra)
    assert findings["database"].outcome == "not_postgresql"
    await migrate.downgrade(sqlite_engine, "0015")
    findings = await examine(live(entra, graph), sqlite_engine, entra)
    assert (findings["database"].outcome, findings["database"].values["current"]) == (
        "behind",
        "0015",
    )
    assert "phonebot db upgrade" in worded(findings["database"])


@pytest.mark.parametrize(
    ("endpoint", "outcome"),
    [
        ("http://puhelinbotti.pori.fi/api/messages", "not_https"),
        ("https://puhelinbotti.example.pori.fi/api/messages", "example"),
    ],
)
async def test_the_public_endpoint_must_be_real_https(
    entra, graph, sqlite_engine, endpoint, outcome
):
    findings = await examine(live(entra, graph, public_endpoint=endpoint), sqlite_engine, entra)
    assert (findings["public_endpoint"].status, findings["public_endpoint"].outcome) == (
        Status.FAILED,
        outcome,
    )


async def test_no_tenant_and_no_privacy_notice_are_reported(entra, graph, sqlite_engine):
    settings = live(entra, graph, privacy_notice_url="")
    findings = await examine(settings, sqlite_engine, entra)
    assert findings["privacy_notice"].status is Status.WARNING
    multi = live(entra, graph, app_type=AppType.MULTI_TENANT, app_tenant_id="")
    findings = await examine(multi, sqlite_engine, entra)
    assert findings["tenant"].status is Status.FAILED
    assert findings["teams_app"].outcome == "no_tenant"


def test_the_command_exits_1_with_each_problem_and_its_fix(monkeypatch, tmp_path: Path, capsys):
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'doctor.sqlite3'}")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "✗ Tunnistautuminen ei kelpaa: MicrosoftAppId on tyhjä" in out
    assert "– Botin tunnusta ei tarkistettu" in out
    assert out.count("korjaus:") >= 4
    assert out.rstrip().endswith("Korjaa yllä merkityt kohdat ja aja phonebot doctor uudelleen.")


@pytest.mark.parametrize(
    ("values", "status", "outcome"),
    [
        ({"prometheus_metrics": False}, Status.WARNING, "none"),
        (
            {"otlp_endpoint": "http://collector.pori.fi:4318", "otlp_insecure": True},
            Status.WARNING,
            "otlp_plaintext",
        ),
        ({"otlp_endpoint": "http://127.0.0.1:4318"}, Status.OK, "ok"),
    ],
)
async def test_telemetry_going_nowhere_or_in_clear_text_is_advice(
    entra, graph, sqlite_engine, values, status, outcome
):
    findings = await examine(live(entra, graph, **values), sqlite_engine, entra)
    assert (findings["telemetry"].status, findings["telemetry"].outcome) == (status, outcome)
    assert worded(findings["telemetry"]).startswith("✓" if status is Status.OK else "!")


async def test_where_telemetry_goes_is_named(entra, graph, sqlite_engine):
    settings = live(entra, graph, otlp_endpoint="https://collector.pori.fi:4318")
    findings = await examine(settings, sqlite_engine, entra)
    assert worded(findings["telemetry"]) == (
        "✓ Mittarit ja jäljitykset menevät: OTLP-keräimelle osoitteessa "
        "https://collector.pori.fi:4318, Prometheukselle osoitteessa /metrics, vain tämän "
        "koneen keräimelle."
    )

"""`phonebot doctor`: checks a production configuration before it goes live.

Each check answers ok, a warning, a failure (with the fix, in the catalogs' words) or "not
checked" when an earlier failure makes it meaningless. Nothing here changes anything: it reads
the settings, asks Entra ID for the bot's own tokens, reads the database's migration revision,
and asks Graph for the Teams app in the catalog.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import jwt
from azure.core.exceptions import AzureError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.tokens import CredentialTokenProvider, TokenError, first_line
from bot.adapters.entra.credentials import (
    bot_connector_credential,
    credential_kind,
    graph_credential,
)
from bot.adapters.graph.client import GRAPH_SCOPE, AppNotPublished, GraphDirectory, GraphError
from bot.db import migrate
from bot.network import is_loopback_host
from bot.settings import Settings

EXAMPLE_HOST = ".example."
# Application permissions and why: README's "Running it for the real tenant" says the same.
NEEDED_ROLES = (
    "User.Read.All",
    "AppCatalog.Read.All",
    "TeamsAppInstallation.ReadWriteSelfForUser.All",
)
GROUPS_ROLE = "GroupMember.Read.All"
BROADER_ROLES = ("TeamsAppInstallation.ReadWriteForUser.All",)


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"


@dataclass(frozen=True)
class Finding:
    """One check's answer: `check` and `outcome` name its words in the catalogs."""

    check: str
    status: Status
    outcome: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.check}.{self.outcome}"


@dataclass
class Doctor:
    """Runs every check on `settings`; `engine` and azure-core's `pipeline` options are given
    by the command (and by tests, which trust a local Entra stand-in's certificate)."""

    settings: Settings
    engine: AsyncEngine
    pipeline: dict[str, Any] = field(default_factory=dict)

    async def examine(self) -> list[Finding]:
        findings = [self._authentication(), self._tenant(), self._public_endpoint()]
        findings.append(await self._database())
        findings.append(self._privacy_notice())
        findings.append(self._telemetry())
        if findings[0].status is not Status.OK:
            skipped = ("bot_token", "graph_permissions", "teams_app")
            return [
                *findings,
                *(Finding(name, Status.NOT_CHECKED, "needs_auth") for name in skipped),
            ]
        findings.append(await self._bot_token())
        findings.append(await self._graph_permissions())
        findings.append(await self._teams_app())
        return findings

    def _authentication(self) -> Finding:
        refusal = self.settings.refusal_to_serve("0.0.0.0")
        if refusal is not None:
            return Finding("authentication", Status.FAILED, "refused", {"reason": refusal})
        kind = credential_kind(self.settings)
        name = kind.name.lower() if kind is not None else "none"
        return Finding("authentication", Status.OK, "ok", {"kind": name})

    def _tenant(self) -> Finding:
        tenant = self.settings.tenant_id
        if not tenant:
            return Finding("tenant", Status.FAILED, "missing")
        return Finding("tenant", Status.OK, "ok", {"tenant": tenant})

    def _public_endpoint(self) -> Finding:
        endpoint = self.settings.public_endpoint
        parts = urlsplit(endpoint)
        if parts.scheme != "https":
            return Finding("public_endpoint", Status.FAILED, "not_https", {"url": endpoint})
        if EXAMPLE_HOST in f".{parts.hostname or ''}.":
            return Finding("public_endpoint", Status.FAILED, "example", {"url": endpoint})
        return Finding("public_endpoint", Status.OK, "ok", {"url": endpoint})

    async def _database(self) -> Finding:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            current = await migrate.current_revision(self.engine)
        except Exception as error:
            return Finding(
                "database", Status.FAILED, "unreachable", {"error": type(error).__name__}
            )
        head = migrate.head_revision()
        if current != head:
            return Finding("database", Status.FAILED, "behind", {"current": current, "head": head})
        if self.engine.dialect.name != "postgresql":
            return Finding("database", Status.FAILED, "not_postgresql")
        return Finding("database", Status.OK, "ok", {"revision": current})

    def _privacy_notice(self) -> Finding:
        if not self.settings.privacy_notice_url:
            return Finding("privacy_notice", Status.WARNING, "missing")
        return Finding("privacy_notice", Status.OK, "ok", {"url": self.settings.privacy_notice_url})

    def _telemetry(self) -> Finding:
        """Where metrics and traces go; nowhere, or in clear text off this machine, is advice."""
        settings = self.settings
        endpoint = settings.otlp_endpoint
        parts = urlsplit(endpoint)
        if endpoint and parts.scheme == "http" and not is_loopback_host(parts.hostname or ""):
            return Finding("telemetry", Status.WARNING, "otlp_plaintext", {"url": endpoint})
        where = []
        if settings.applicationinsights_connection_string.get_secret_value():
            where.append("azure_monitor")
        if endpoint:
            where.append("otlp")
        if settings.prometheus_metrics:
            token = settings.prometheus_metrics_token.get_secret_value()
            where.append("prometheus_token" if token else "prometheus_local")
        if not where:
            return Finding("telemetry", Status.WARNING, "none")
        return Finding("telemetry", Status.OK, "ok", {"where": where, "url": endpoint})

    async def _bot_token(self) -> Finding:
        provider = CredentialTokenProvider(
            bot_connector_credential(self.settings, **self.pipeline),
            self.settings.connector_oauth_scope,
        )
        try:
            await provider.token()
        except TokenError as error:
            return Finding("bot_token", Status.FAILED, "refused", {"error": str(error)})
        finally:
            await provider.aclose()
        return Finding("bot_token", Status.OK, "ok")

    async def _graph_permissions(self) -> Finding:
        try:
            credential = graph_credential(self.settings, **self.pipeline)
        except ValueError:
            return Finding("graph_permissions", Status.FAILED, "no_tenant")
        try:
            token = (await credential.get_token(GRAPH_SCOPE)).token
        except Exception as error:
            return Finding(
                "graph_permissions", Status.FAILED, "no_token", {"error": first_line(error)}
            )
        finally:
            await credential.close()
        roles = _roles(token)
        if roles is None:
            return Finding("graph_permissions", Status.WARNING, "unreadable")
        needed = list(NEEDED_ROLES)
        if self.settings.directory_unit_source == "groups":
            needed.append(GROUPS_ROLE)
        missing = [role for role in needed if role not in roles]
        if missing:
            return Finding(
                "graph_permissions", Status.FAILED, "missing", {"roles": ", ".join(missing)}
            )
        broader = [role for role in BROADER_ROLES if role in roles]
        if broader:
            return Finding(
                "graph_permissions", Status.WARNING, "broader", {"roles": ", ".join(broader)}
            )
        return Finding("graph_permissions", Status.OK, "ok", {"roles": ", ".join(needed)})

    async def _teams_app(self) -> Finding:
        values = {"app": self.settings.teams_app_id}
        try:
            credential = graph_credential(self.settings, **self.pipeline)
        except ValueError:
            return Finding("teams_app", Status.FAILED, "no_tenant", values)
        directory = GraphDirectory(
            credential=credential,
            base_url=self.settings.graph_base_url,
            max_retries=self.settings.graph_max_retries,
        )
        try:
            await directory.catalog_app_id(self.settings.teams_app_id)
        except AppNotPublished:
            return Finding("teams_app", Status.FAILED, "not_published", values)
        except (GraphError, AzureError) as error:
            return Finding(
                "teams_app", Status.FAILED, "unreadable", {**values, "error": first_line(error)}
            )
        finally:
            await directory.aclose()
        return Finding("teams_app", Status.OK, "ok", values)


def healthy(findings: list[Finding]) -> bool:
    """Warnings are advice; a failure, or a check not made because of one, is not healthy."""
    return all(finding.status in (Status.OK, Status.WARNING) for finding in findings)


def _roles(token: str) -> list[str] | None:
    """The application permissions an app-only token carries (read, not verified: it is the
    bot's own token, fresh from Entra)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    roles = claims.get("roles")
    return [str(role) for role in roles] if isinstance(roles, list) else []


Examine = Callable[[], Awaitable[list[Finding]]]

"""Typed configuration from the environment and `.env`, built once by the composition root."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.choices.cost import (
    DEFAULT_MAX_INSTALMENTS,
    DEFAULT_MIN_INSTALMENT_CENTS,
    InstalmentRule,
)
from bot.network import is_loopback_host
from bot.notifications.holidays import parse_dates
from bot.refusal import Reason

DEFAULT_SQLITE_PATH = Path("var") / "puhelinbotti.sqlite3"
BOTFRAMEWORK_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
BOTFRAMEWORK_TOKEN_ISSUER = "https://api.botframework.com"
BOTFRAMEWORK_OAUTH_SCOPE = "https://api.botframework.com/.default"
GRAPH_V1 = "https://graph.microsoft.com/v1.0"
# Azure Monitor's SDK reports on itself to Microsoft, and fetches its settings from Microsoft,
# unless these say otherwise; it reads them from the environment only.
AZURE_MONITOR_CALLS_HOME = (
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL",
    "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED",
)
# The catalogs' section that words why the server will not start with these settings.
SERVE_REFUSAL_CATALOG = "serve_refusal"


class AppType(StrEnum):
    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class Settings(BaseSettings):
    """Everything the bot can be configured with; see README for each key."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}",
        validation_alias=AliasChoices("DATABASE_URL", "database_url"),
    )
    app_id: str = Field(default="", validation_alias=AliasChoices("MicrosoftAppId", "app_id"))
    app_password: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("MicrosoftAppPassword", "app_password")
    )
    app_type: AppType = Field(
        default=AppType.MULTI_TENANT, validation_alias=AliasChoices("MicrosoftAppType", "app_type")
    )
    app_tenant_id: str = Field(
        default="", validation_alias=AliasChoices("MicrosoftAppTenantId", "app_tenant_id")
    )
    app_certificate_path: Path | None = Field(
        default=None,
        description="a PEM file with the app registration's certificate and its private key: "
        "the bot proves who it is with it instead of MicrosoftAppPassword",
        validation_alias=AliasChoices("MICROSOFT_APP_CERTIFICATE_PATH", "app_certificate_path"),
    )
    app_certificate_password: SecretStr = Field(
        default=SecretStr(""),
        description="the certificate's private key's password, if it has one",
        validation_alias=AliasChoices(
            "MICROSOFT_APP_CERTIFICATE_PASSWORD", "app_certificate_password"
        ),
    )
    entra_authority_host: str = Field(
        default="https://login.microsoftonline.com",
        description="where the bot gets its tokens (https): another cloud's, or a local fake's",
        validation_alias=AliasChoices("ENTRA_AUTHORITY_HOST", "entra_authority_host"),
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="with MicrosoftAppId empty, serve anyway (unsigned requests accepted), "
        "and only on a loopback address: for the Playground and local tests, never production",
        validation_alias=AliasChoices("ALLOW_UNAUTHENTICATED", "allow_unauthenticated"),
    )
    openid_metadata_url: str = Field(
        default=BOTFRAMEWORK_OPENID_METADATA_URL,
        validation_alias=AliasChoices("BOT_OPENID_METADATA_URL", "openid_metadata_url"),
    )
    token_issuer: str = Field(
        default=BOTFRAMEWORK_TOKEN_ISSUER,
        validation_alias=AliasChoices("BOT_TOKEN_ISSUER", "token_issuer"),
    )
    connector_oauth_scope: str = Field(
        default=BOTFRAMEWORK_OAUTH_SCOPE,
        validation_alias=AliasChoices("BOT_CONNECTOR_OAUTH_SCOPE", "connector_oauth_scope"),
    )
    graph_base_url: str = Field(
        default=GRAPH_V1,
        validation_alias=AliasChoices("GRAPH_BASE_URL", "graph_base_url"),
    )
    graph_max_retries: int = Field(
        default=5,
        ge=0,
        le=10,
        validation_alias=AliasChoices("GRAPH_MAX_RETRIES", "graph_max_retries"),
    )
    directory_unit_source: Literal["department", "groups"] = Field(
        default="department",
        validation_alias=AliasChoices("DIRECTORY_UNIT_SOURCE", "directory_unit_source"),
    )
    directory_unit_groups: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("DIRECTORY_UNIT_GROUPS", "directory_unit_groups"),
    )
    directory_department_units_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "DIRECTORY_DEPARTMENT_UNITS_FILE", "directory_department_units_file"
        ),
    )
    directory_sync_interval_minutes: float = Field(
        default=60,
        ge=0,
        validation_alias=AliasChoices(
            "DIRECTORY_SYNC_INTERVAL_MINUTES", "directory_sync_interval_minutes"
        ),
    )
    entra_openid_metadata_url: str = Field(
        default="",
        description="where the signing keys of Teams tab sign-in tokens are published; "
        "empty: Entra ID's, for the city's tenant",
        validation_alias=AliasChoices("ENTRA_OPENID_METADATA_URL", "entra_openid_metadata_url"),
    )
    tab_app_id_uri: str = Field(
        default="",
        description="the Application ID URI tab sign-in tokens are issued for; "
        "empty: api://<BOT_PUBLIC_ENDPOINT's host>/<MicrosoftAppId>",
        validation_alias=AliasChoices("TAB_APP_ID_URI", "tab_app_id_uri"),
    )
    tab_local_user_id: str = Field(
        default="",
        description="with authentication off (local use only), who is signed in to the tabs",
        validation_alias=AliasChoices("TAB_LOCAL_USER_ID", "tab_local_user_id"),
    )
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("HOST", "host"))
    port: int = Field(default=3978, validation_alias=AliasChoices("PORT", "port"))
    public_endpoint: str = Field(
        default="https://puhelinbotti.example.pori.fi/api/messages",
        validation_alias=AliasChoices("BOT_PUBLIC_ENDPOINT", "public_endpoint"),
    )
    teams_app_id: str = Field(
        default="6f3d5c1e-2b7a-4c0e-9a51-7f0d2e8b4c11",
        validation_alias=AliasChoices("TEAMS_APP_ID", "teams_app_id"),
    )
    default_language: str = Field(
        default="fi", validation_alias=AliasChoices("DEFAULT_LANGUAGE", "default_language")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text for people reading a terminal; json for a log pipeline (one object per "
        "line, with the correlation id of the turn or job)",
        validation_alias=AliasChoices("LOG_FORMAT", "log_format"),
    )
    prometheus_metrics: bool = Field(
        default=False,
        description="metrics as Prometheus text at GET /metrics, for a scraper on this machine "
        "or one with PROMETHEUS_METRICS_TOKEN",
        validation_alias=AliasChoices("PROMETHEUS_METRICS", "prometheus_metrics"),
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="where the metrics listener listens when PROMETHEUS_METRICS=true",
        validation_alias=AliasChoices("METRICS_HOST", "metrics_host"),
    )
    metrics_port: int = Field(
        default=9464,
        ge=0,
        le=65535,
        description="the metrics listener's port (0: none): /metrics for a scraper on this "
        "machine, or elsewhere with PROMETHEUS_METRICS_TOKEN",
        validation_alias=AliasChoices("METRICS_PORT", "metrics_port"),
    )
    prometheus_metrics_token: SecretStr = Field(
        default=SecretStr(""),
        description="a bearer token (at least 24 characters) that lets a scraper elsewhere read "
        "/metrics; empty: only this machine may",
        validation_alias=AliasChoices("PROMETHEUS_METRICS_TOKEN", "prometheus_metrics_token"),
    )
    otlp_endpoint: str = Field(
        default="",
        description="an OpenTelemetry collector's OTLP/HTTP address (e.g. http://collector:4318): "
        "metrics and traces go there; headers from OTEL_EXPORTER_OTLP_HEADERS",
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
    )
    otlp_insecure: bool = Field(
        default=False,
        description="allow an http:// OTLP endpoint on another machine (a collector on a private "
        "network); otherwise only https://, or http:// on this machine",
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_INSECURE", "otlp_insecure"),
    )
    applicationinsights_connection_string: SecretStr = Field(
        default=SecretStr(""),
        description="Application Insights' connection string: metrics, traces and log lines go "
        "to Azure Monitor through its OpenTelemetry exporters",
        validation_alias=AliasChoices(
            "APPLICATIONINSIGHTS_CONNECTION_STRING", "applicationinsights_connection_string"
        ),
    )
    trace_sample_ratio: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="the share of turns (and background operations) traced: 1.0 traces all, "
        "for a test or a quiet system; the default keeps tracing's cost small (README)",
        validation_alias=AliasChoices("TRACE_SAMPLE_RATIO", "trace_sample_ratio"),
    )
    otel_service_name: str = Field(
        default="puhelinbotti",
        min_length=1,
        validation_alias=AliasChoices("OTEL_SERVICE_NAME", "otel_service_name"),
    )
    metrics_sample_seconds: float = Field(
        default=15.0,
        ge=1,
        le=3600,
        description="how often the outbox, relay and directory gauges are read from the database",
        validation_alias=AliasChoices("METRICS_SAMPLE_SECONDS", "metrics_sample_seconds"),
    )
    metrics_export_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="how often metrics are pushed to OTLP or Azure Monitor",
        validation_alias=AliasChoices("METRICS_EXPORT_SECONDS", "metrics_export_seconds"),
    )
    instalments: int = Field(
        default=DEFAULT_MAX_INSTALMENTS,
        ge=1,
        le=120,
        description="at most this many monthly salary deductions of a Free Choice share",
        validation_alias=AliasChoices("CHOICE_INSTALMENTS", "instalments"),
    )
    min_monthly_deduction_eur: Decimal = Field(
        default=Decimal(DEFAULT_MIN_INSTALMENT_CENTS) / 100,
        ge=Decimal("0.01"),
        le=Decimal("100"),
        decimal_places=2,
        allow_inf_nan=False,
        description="the smallest monthly deduction in euros (5.00): a smaller share is deducted "
        "in fewer instalments, one if it is below this; anything else refuses to start",
        validation_alias=AliasChoices("MIN_MONTHLY_DEDUCTION_EUR", "min_monthly_deduction_eur"),
    )
    first_deduction_delay_months: int = Field(
        default=2,
        ge=0,
        le=12,
        validation_alias=AliasChoices(
            "FIRST_DEDUCTION_DELAY_MONTHS", "first_deduction_delay_months"
        ),
    )
    webshop_url: str = Field(
        default="https://www.tiera.fi/",
        validation_alias=AliasChoices("WEBSHOP_URL", "webshop_url"),
    )
    max_concurrent_turns: int = Field(
        default=24,
        ge=1,
        description="turns processed at once; more wait their turn instead of crowding the "
        "database pool and each other (a burst then queues instead of timing out)",
        validation_alias=AliasChoices("MAX_CONCURRENT_TURNS", "max_concurrent_turns"),
    )
    send_max_attempts: int = Field(
        default=5, validation_alias=AliasChoices("SEND_MAX_ATTEMPTS", "send_max_attempts")
    )
    send_timeout_seconds: float = Field(
        default=15.0, validation_alias=AliasChoices("SEND_TIMEOUT_SECONDS", "send_timeout_seconds")
    )
    notify_working_hours: str = Field(
        default="08:00-16:00",
        pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$",
        validation_alias=AliasChoices("NOTIFY_WORKING_HOURS", "notify_working_hours"),
    )
    notify_working_days: str = Field(
        default="mon-fri",
        validation_alias=AliasChoices("NOTIFY_WORKING_DAYS", "notify_working_days"),
    )
    notify_public_holidays: bool = Field(
        default=True,
        validation_alias=AliasChoices("NOTIFY_PUBLIC_HOLIDAYS", "notify_public_holidays"),
    )
    notify_extra_holidays: str = Field(
        default="",
        validation_alias=AliasChoices("NOTIFY_EXTRA_HOLIDAYS", "notify_extra_holidays"),
    )
    notify_rate_per_second: float = Field(
        default=50.0,
        gt=0,
        validation_alias=AliasChoices("NOTIFY_RATE_PER_SECOND", "notify_rate_per_second"),
    )
    notify_give_up_after_hours: float = Field(
        default=24.0,
        gt=0,
        description="a notification is retried for this many working hours after its first failure",
        validation_alias=AliasChoices("NOTIFY_GIVE_UP_AFTER_HOURS", "notify_give_up_after_hours"),
    )
    notify_concurrency: int = Field(
        default=50,
        ge=1,
        le=1000,
        validation_alias=AliasChoices("NOTIFY_CONCURRENCY", "notify_concurrency"),
    )
    notify_lease_seconds: float = Field(
        default=60.0,
        ge=5,
        validation_alias=AliasChoices("NOTIFY_LEASE_SECONDS", "notify_lease_seconds"),
    )
    teams_tenant_id: str = Field(
        default="", validation_alias=AliasChoices("TEAMS_TENANT_ID", "teams_tenant_id")
    )
    teams_service_url: str = Field(
        default="https://smba.trafficmanager.net/emea/",
        validation_alias=AliasChoices("TEAMS_SERVICE_URL", "teams_service_url"),
    )
    reminder_days_before_close: int = Field(
        default=3,
        ge=0,
        le=60,
        validation_alias=AliasChoices("REMINDER_DAYS_BEFORE_CLOSE", "reminder_days_before_close"),
    )
    ict_admin_ids: str = Field(
        default="", validation_alias=AliasChoices("ICT_ADMIN_IDS", "ict_admin_ids")
    )
    payroll_admin_ids: str = Field(
        default="", validation_alias=AliasChoices("PAYROLL_ADMIN_IDS", "payroll_admin_ids")
    )
    retention_leaver_months: int = Field(
        default=12,
        ge=1,
        le=120,
        description="a leaver's data is anonymised this many months after leaving, once settled",
        validation_alias=AliasChoices("RETENTION_LEAVER_MONTHS", "retention_leaver_months"),
    )
    retention_ticket_months: int = Field(
        default=24,
        ge=1,
        le=120,
        description="a resolved ticket is deleted this many months after it was resolved",
        validation_alias=AliasChoices("RETENTION_TICKET_MONTHS", "retention_ticket_months"),
    )
    retention_outbox_days: int = Field(
        default=90,
        ge=31,  # longer than an announcement's longest reminder wait (30 days)
        le=3650,
        description="a finished campaign's rows are deleted this many days after its last",
        validation_alias=AliasChoices("RETENTION_OUTBOX_DAYS", "retention_outbox_days"),
    )
    retention_state_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="a conversation's dialog state is deleted after this many idle days",
        validation_alias=AliasChoices("RETENTION_STATE_DAYS", "retention_state_days"),
    )
    retention_question_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description="a typed question and its feedback are deleted after this many days",
        validation_alias=AliasChoices("RETENTION_QUESTION_DAYS", "retention_question_days"),
    )
    retention_audit_months: int = Field(
        default=36,
        ge=1,
        le=240,
        description="the audit log of personal-data use is kept this many months",
        validation_alias=AliasChoices("RETENTION_AUDIT_MONTHS", "retention_audit_months"),
    )
    privacy_notice_url: str = Field(
        default="",
        description="the city's privacy notice for the program (https); empty: none is linked",
        validation_alias=AliasChoices("PRIVACY_NOTICE_URL", "privacy_notice_url"),
    )
    background_jobs: bool = Field(
        default=True, validation_alias=AliasChoices("BACKGROUND_JOBS", "background_jobs")
    )
    shutdown_grace_seconds: float = Field(
        default=5.0,
        ge=0,
        le=120,
        description="after SIGTERM, /readyz answers 503 for this long while turns are still "
        "taken, so a load balancer stops routing here before new turns are refused",
        validation_alias=AliasChoices("SHUTDOWN_GRACE_SECONDS", "shutdown_grace_seconds"),
    )
    shutdown_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        le=300,
        description="after the grace, turns in flight get this long to finish before the "
        "process stops anyway",
        validation_alias=AliasChoices("SHUTDOWN_TIMEOUT_SECONDS", "shutdown_timeout_seconds"),
    )
    planner_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        validation_alias=AliasChoices("PLANNER_INTERVAL_SECONDS", "planner_interval_seconds"),
    )
    helpdesk_reraise_after_hours: float = Field(
        default=4.0,
        gt=0,
        validation_alias=AliasChoices(
            "HELPDESK_RERAISE_AFTER_HOURS", "helpdesk_reraise_after_hours"
        ),
    )
    helpdesk_relay_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias=AliasChoices(
            "HELPDESK_RELAY_INTERVAL_SECONDS", "helpdesk_relay_interval_seconds"
        ),
    )

    @field_validator("min_monthly_deduction_eur", mode="before")
    @classmethod
    def _decimal_comma(cls, value: object) -> object:
        """ICT writes euros the Finnish way too: "5,00" is 5.00."""
        return value.strip().replace(",", ".", 1) if isinstance(value, str) else value

    @field_validator("notify_extra_holidays")
    @classmethod
    def _extra_holidays_are_dates(cls, value: str) -> str:
        parse_dates(value)
        return value

    @field_validator("privacy_notice_url")
    @classmethod
    def _privacy_notice_is_https(cls, value: str) -> str:
        """Employees follow the link from Teams: it must be a full https address, or none."""
        value = value.strip()
        if value and not value.startswith("https://"):
            raise ValueError("PRIVACY_NOTICE_URL must start with https://")
        return value

    @field_validator("prometheus_metrics_token")
    @classmethod
    def _token_is_long(cls, value: SecretStr) -> SecretStr:
        """A short token can be guessed; an empty one means none."""
        if value.get_secret_value() and len(value.get_secret_value()) < 24:
            raise ValueError("PROMETHEUS_METRICS_TOKEN must be at least 24 characters")
        return value

    @field_validator("otlp_endpoint")
    @classmethod
    def _otlp_is_http(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// address")
        return value

    @field_validator("entra_authority_host")
    @classmethod
    def _authority_is_https(cls, value: str) -> str:
        """Tokens travel only over TLS (azure-identity refuses anything else too)."""
        value = value.strip().rstrip("/")
        if not value.startswith("https://"):
            raise ValueError("ENTRA_AUTHORITY_HOST must start with https://")
        return value

    @model_validator(mode="after")
    def _one_proof_of_identity(self) -> Settings:
        """A secret, a certificate or a managed identity: two at once is a set-up mistake."""
        given = [
            name
            for name, value in (
                ("MicrosoftAppPassword", self.app_password.get_secret_value()),
                ("MICROSOFT_APP_CERTIFICATE_PATH", self.app_certificate_path),
            )
            if value
        ]
        if self.app_type is AppType.USER_ASSIGNED_MSI and given:
            raise ValueError(
                f"MicrosoftAppType=UserAssignedMSI uses the managed identity: remove {given[0]}"
            )
        if len(given) > 1:
            raise ValueError("set MicrosoftAppPassword or MICROSOFT_APP_CERTIFICATE_PATH, not both")
        return self

    @model_validator(mode="after")
    def _telemetry_in_clear_only_when_asked(self) -> Settings:
        """Traces carry SQL text and routes, and the OTLP headers an API key: not in clear text
        over a network unless an operator says the network is private."""
        parts = urlsplit(self.otlp_endpoint)
        if (
            parts.scheme == "http"
            and not is_loopback_host(parts.hostname or "")
            and not self.otlp_insecure
        ):
            raise ValueError(
                "OTEL_EXPORTER_OTLP_ENDPOINT would send in clear text to another machine: use "
                "https://, or set OTEL_EXPORTER_OTLP_INSECURE=true for a private network"
            )
        return self

    @model_validator(mode="after")
    def _single_tenant_needs_its_tenant(self) -> Settings:
        """A single-tenant app's tokens come from its own tenant, so the id must be known."""
        if self.app_id and self.app_type is AppType.SINGLE_TENANT and not self.app_tenant_id:
            raise ValueError("MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId")
        return self

    @property
    def auth_enabled(self) -> bool:
        """Bot Framework convention: an empty app id turns authentication off (local use only)."""
        return bool(self.app_id)

    @property
    def tenant_id(self) -> str:
        """The city's tenant, TEAMS_TENANT_ID else the app's: the only one whose activities are
        accepted, and where chats are opened for people who have none with the bot yet."""
        return self.teams_tenant_id or self.app_tenant_id

    def refusal_to_serve(self, host: str) -> Reason | None:
        """Why serving on `host` with these settings would not be safe, or None if it would be.

        Authentication fails closed: it is off only when asked for and only on this machine, and
        credentials beside an empty app id mean a misspelt app id, not a wish to turn it off.
        The reason is a key under the catalogs' `serve_refusal`, worded by whoever shows it:
        `phonebot serve` in the commands' language.
        """
        if not self.app_id:
            given = [
                name
                for name, value in (
                    ("MicrosoftAppPassword", self.app_password.get_secret_value()),
                    ("MICROSOFT_APP_CERTIFICATE_PATH", self.app_certificate_path),
                    ("MicrosoftAppTenantId", self.app_tenant_id),
                    ("TEAMS_TENANT_ID", self.teams_tenant_id),
                )
                if value
            ]
            if given:
                return Reason("credentials_without_app_id", {"variables": ", ".join(given)})
            if not self.allow_unauthenticated:
                return Reason("no_app_id")
            if not is_loopback_host(host):
                if not host:
                    return Reason("not_loopback_every_interface")
                return Reason("not_loopback", {"host": host})
        if (
            self.app_tenant_id
            and self.teams_tenant_id
            and self.app_tenant_id != self.teams_tenant_id
        ):
            return Reason("two_tenants")
        if self.app_id and self.app_type is not AppType.USER_ASSIGNED_MSI:
            certificate = self.app_certificate_path
            if certificate is None and not self.app_password.get_secret_value():
                return Reason("no_credential")
            if certificate is not None and not certificate.is_file():
                return Reason("certificate_missing", {"path": str(certificate)})
        return None

    @property
    def instalment_rule(self) -> InstalmentRule:
        """How a Free Choice share becomes monthly deductions, in whole cents."""
        return InstalmentRule(
            max_count=self.instalments, min_cents=int(self.min_monthly_deduction_eur * 100)
        )

    @property
    def notify_extra_holiday_dates(self) -> frozenset[date]:
        """The city's own days off beside public holidays: ISO dates, comma-separated."""
        return parse_dates(self.notify_extra_holidays)

    @property
    def payroll_admins(self) -> frozenset[str]:
        """Entra object ids of payroll's people, who upload the deductions file in ICT's tab."""
        return frozenset(self.payroll_admin_ids.replace(",", " ").split())

    @property
    def ict_admins(self) -> frozenset[str]:
        """Azure AD object ids of ICT's admins: comma- or space-separated in ICT_ADMIN_IDS."""
        return frozenset(self.ict_admin_ids.replace(",", " ").split())

    @property
    def public_base_url(self) -> str:
        """Where people's browsers reach the bot: the public endpoint's origin, or this
        machine's own address when authentication is off (local use only)."""
        if not self.auth_enabled:
            return f"http://127.0.0.1:{self.port}"
        parts = urlsplit(self.public_endpoint)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def tab_audience(self) -> str:
        """The Application ID URI of the tabs' single sign-on (manifest webApplicationInfo)."""
        if self.tab_app_id_uri:
            return self.tab_app_id_uri
        return f"api://{urlsplit(self.public_endpoint).hostname}/{self.app_id}"

    @property
    def entra_metadata_url(self) -> str:
        if self.entra_openid_metadata_url:
            return self.entra_openid_metadata_url
        return f"https://login.microsoftonline.com/{self.tenant_id}/v2.0/.well-known/openid-configuration"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def keep_azure_monitor_to_the_city() -> None:
    """Telemetry goes only to the city's own resource: the SDK's reports to Microsoft and its
    remote configuration are off unless an operator has set these variables themselves."""
    for name in AZURE_MONITOR_CALLS_HOME:
        os.environ.setdefault(name, "true")

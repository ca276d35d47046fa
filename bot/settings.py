"""Typed configuration from the environment and `.env`, built once by the composition root."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "puhelinbotti.sqlite3"
BOTFRAMEWORK_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
BOTFRAMEWORK_TOKEN_ISSUER = "https://api.botframework.com"
BOTFRAMEWORK_OAUTH_SCOPE = "https://api.botframework.com/.default"


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
    instalments: int = Field(
        default=24, ge=1, le=120, validation_alias=AliasChoices("CHOICE_INSTALMENTS", "instalments")
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
    send_max_attempts: int = Field(
        default=5, validation_alias=AliasChoices("SEND_MAX_ATTEMPTS", "send_max_attempts")
    )
    send_timeout_seconds: float = Field(
        default=15.0, validation_alias=AliasChoices("SEND_TIMEOUT_SECONDS", "send_timeout_seconds")
    )

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
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

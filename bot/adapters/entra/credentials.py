"""The bot's own identity in Entra ID, through azure-identity: a client secret, a certificate,
or a managed identity, chosen by settings.

One credential per audience: the Bot Connector's tokens come from the bot's tenant (or
`botframework.com` for a multi-tenant bot), Graph's from the city's tenant. azure-identity
fetches and caches each token without blocking the event loop; nothing here caches by hand.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential

from bot.settings import AppType, Settings

BOTFRAMEWORK_TENANT = "botframework.com"


class CredentialKind(StrEnum):
    SECRET = "secret"
    CERTIFICATE = "certificate"
    MANAGED_IDENTITY = "managed identity"


def credential_kind(settings: Settings) -> CredentialKind | None:
    """Which proof of identity the settings give; None when authentication is off."""
    if not settings.app_id:
        return None
    if settings.app_type is AppType.USER_ASSIGNED_MSI:
        return CredentialKind.MANAGED_IDENTITY
    if settings.app_certificate_path is not None:
        return CredentialKind.CERTIFICATE
    return CredentialKind.SECRET


def bot_connector_credential(settings: Settings, **pipeline: Any) -> AsyncTokenCredential:
    """For the Bot Connector's scope; `pipeline` is azure-core's transport options (a test's
    `connection_verify` for its local authority)."""
    tenant = settings.app_tenant_id
    if settings.app_type is AppType.MULTI_TENANT or not tenant:
        tenant = BOTFRAMEWORK_TENANT
    return _credential(settings, tenant, **pipeline)


def graph_credential(settings: Settings, **pipeline: Any) -> AsyncTokenCredential:
    """For Microsoft Graph: application permissions in the city's own tenant."""
    if (
        not settings.app_tenant_id
        and credential_kind(settings) is not CredentialKind.MANAGED_IDENTITY
    ):
        raise ValueError("Microsoft Graph needs MicrosoftAppTenantId to get tokens")
    return _credential(settings, settings.app_tenant_id, **pipeline)


def _credential(settings: Settings, tenant: str, **pipeline: Any) -> AsyncTokenCredential:
    from azure.identity.aio import (
        CertificateCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
    )

    kind = credential_kind(settings)
    if kind is CredentialKind.MANAGED_IDENTITY:
        return ManagedIdentityCredential(client_id=settings.app_id, **pipeline)
    authority = {"authority": settings.entra_authority_host, **pipeline}
    if kind is CredentialKind.CERTIFICATE:
        password = settings.app_certificate_password.get_secret_value()
        return CertificateCredential(
            tenant,
            settings.app_id,
            str(settings.app_certificate_path),
            password=password.encode() if password else None,
            **authority,
        )
    if kind is CredentialKind.SECRET:
        secret = settings.app_password.get_secret_value()
        return ClientSecretCredential(tenant, settings.app_id, secret, **authority)
    raise ValueError("authentication is off: there is no credential to build")

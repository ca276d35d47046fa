"""Our `BotFrameworkAuthentication`: async token validation and cached connector clients."""

from __future__ import annotations

from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
)
from botframework.connector.auth.user_token_client import UserTokenClient

from bot.adapters.botframework.auth import ChannelTokenValidator, anonymous_identity

PUBLIC_CLOUD_CALLER_ID = "urn:botframework:azure"


class ChannelAuthentication(BotFrameworkAuthentication):
    """Validates inbound tokens (when an app id is set) and hands out reusable connectors.

    Upstream builds a new msrest `ConnectorClient` on every turn, each with a freshly computed
    retry policy. We keep one per service URL: it is only used by SDK helpers such as
    `TeamsInfo`; activities themselves go out through `BotConnectorClient`.
    """

    def __init__(
        self,
        *,
        validator: ChannelTokenValidator | None,
        credentials: MicrosoftAppCredentials,
        oauth_scope: str,
    ) -> None:
        self._validator = validator
        self._oauth_scope = oauth_scope
        self._connectors = _CachedConnectorFactory(credentials)

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        if self._validator is None:
            identity = anonymous_identity()
            caller_id = None
        else:
            identity = await self._validator.validate(
                auth_header,
                channel_id=activity.channel_id or "",
                service_url=activity.service_url or "",
            )
            caller_id = PUBLIC_CLOUD_CALLER_ID
        result = AuthenticateRequestResult()
        result.audience = self._oauth_scope
        result.claims_identity = identity
        result.caller_id = caller_id
        result.connector_factory = self._connectors
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise NotImplementedError("streaming (Direct Line ASE) is not used by this bot")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._connectors

    async def create_user_token_client(
        self, claims_identity: ClaimsIdentity
    ) -> UserTokenClient | None:
        return None

    def get_originating_audience(self) -> str:
        return self._oauth_scope


class _CachedConnectorFactory(ConnectorFactory):
    def __init__(self, credentials: MicrosoftAppCredentials) -> None:
        self._credentials = credentials
        self._clients: dict[str, ConnectorClient] = {}

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        client = self._clients.get(service_url)
        if client is None:
            client = ConnectorClient(self._credentials, base_url=service_url)
            self._clients[service_url] = client
        return client

"""Microsoft Graph through msgraph-sdk: users, their changes, unit groups and Teams app installs.

Pages are sent through the SDK's request adapter (its auth, retry and Retry-After handling) but
read as plain JSON: building typed `User` models costs seconds of CPU per page (README,
"Directory sync").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Any

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AnonymousAuthenticationProvider,
    AuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.app_catalogs.teams_apps.teams_apps_request_builder import (
    TeamsAppsRequestBuilder,
)
from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.user_scope_teams_app_installation import (
    UserScopeTeamsAppInstallation,
)
from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph.graph_request_adapter import options as graph_middleware_options
from msgraph_core import GraphClientFactory
from opentelemetry import trace
from opentelemetry.util.types import Attributes
from yarl import URL

from bot.directory.sync import DeltaLinkExpired, DirectoryChanges, DirectoryUser
from bot.telemetry.spans import client_call, http_call_attributes, settle_http_call

GRAPH_BASE_URL = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
TEAMS_APP_CATALOG = "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/"
PAGE_SIZE = 999
TIMEOUT = httpx.Timeout(100, connect=30)
OFFLOAD_BYTES = 32 * 1024
USER_FIELDS = {
    "displayName": "display_name",
    "userPrincipalName": "user_principal_name",
    "employeeId": "employee_number",
    "department": "department",
    "preferredLanguage": "preferred_language",
    "accountEnabled": "account_enabled",
}
USER_SELECT = ["id", *USER_FIELDS]
FULL_USER = frozenset(USER_FIELDS.values())
GRAPH_USER_TYPE = "#microsoft.graph.user"
ERRORS: dict[str, Any] = {"XXX": ODataError}


class GraphError(Exception):
    """Graph answered with an error (after the retries the SDK makes), or did not answer."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"Microsoft Graph: {message}" + (f" (HTTP {status})" if status else ""))
        self.status = status


class AppNotPublished(GraphError):
    """The bot's Teams app is not in the organisation's app catalog: nobody can get it installed."""


class AppCatalogUnreadable(GraphError):
    """Graph refused to look the app up in the catalog (a missing permission or a bad credential):
    nobody can get it installed."""


class InstallResult(StrEnum):
    INSTALLED = "installed"
    ALREADY_INSTALLED = "already_installed"


class GraphDirectory:
    """The directory as the sync needs it, on msgraph-sdk; a `DirectorySource`."""

    def __init__(
        self,
        *,
        base_url: str = GRAPH_BASE_URL,
        credential: AsyncTokenCredential | None = None,
        max_retries: int = 3,
        page_size: int = PAGE_SIZE,
        tracer: trace.Tracer | None = None,
    ) -> None:
        auth: AuthenticationProvider = (
            AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE])
            if credential is not None
            else AnonymousAuthenticationProvider()
        )
        self._credential = credential
        self._tracer = tracer or trace.NoOpTracer()
        # Ours to close: the SDK's transport wrapper does not close the pool it wraps.
        self._transport = httpx.AsyncHTTPTransport(http2=True)
        self._http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT),
            options={
                **graph_middleware_options,
                RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=max_retries),
            },
        )
        self._adapter = GraphRequestAdapter(auth, client=self._http)
        self._adapter.base_url = base_url.rstrip("/")
        self.graph = GraphServiceClient(request_adapter=self._adapter)
        self.page_size = page_size
        self._catalog_ids: dict[str, str] = {}
        self._catalog_lookup = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._transport.aclose()
        if self._credential is not None:
            await self._credential.close()

    async def pages(self, request: RequestInformation) -> AsyncIterator[dict[str, Any]]:
        """Each page of a collection as a plain dict, following `@odata.nextLink`."""
        while True:
            page = await self.get_json(request)
            yield page
            next_link = page.get("@odata.nextLink")
            if not next_link:
                return
            request = _get(next_link)

    async def get_json(self, request: RequestInformation) -> dict[str, Any]:
        """Send through the SDK's middleware; a large body is parsed in a worker thread."""
        body = await self._send(request)
        if len(body) >= OFFLOAD_BYTES:
            return await asyncio.to_thread(parse_json, body)
        return parse_json(body)

    async def list_users(self) -> list[DirectoryUser]:
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            select=USER_SELECT, top=self.page_size
        )
        request = self.graph.users.to_get_request_information(
            RequestConfiguration(query_parameters=query)
        )
        return [user async for page in self.pages(request) for user in _users(page)]

    async def latest_delta_link(self) -> str:
        """A delta link for "now", without listing everyone (`$deltatoken=latest`)."""
        page = await self.get_json(_get(f"{self._delta_url()}&$deltatoken=latest"))
        return _delta_link(page)

    async def user_changes(self, delta_link: str) -> DirectoryChanges:
        users: list[DirectoryUser] = []
        last: dict[str, Any] = {}
        try:
            async for last in self.pages(_get(delta_link)):
                users.extend(_users(last))
        except GraphError as error:
            if error.status == 410:
                raise DeltaLinkExpired(str(error)) from error
            raise
        return DirectoryChanges(users, _delta_link(last))

    async def initial_delta(self) -> DirectoryChanges:
        """The first delta round: every user, then the link for the next round."""
        return await self.user_changes(self._delta_url())

    async def group_member_ids(self, group_id: str) -> list[str]:
        query = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(
            select=["id"], top=self.page_size
        )
        request = self.graph.groups.by_group_id(group_id).members.to_get_request_information(
            RequestConfiguration(query_parameters=query)
        )
        return [
            member["id"]
            async for page in self.pages(request)
            for member in page.get("value", [])
            if member.get("@odata.type") == GRAPH_USER_TYPE
        ]

    async def install_app_for_user(self, user_id: str, teams_app_id: str) -> InstallResult:
        """Install the bot's Teams app (given by manifest id) so the bot may message them first."""
        catalog_id = await self.catalog_app_id(teams_app_id)
        body = UserScopeTeamsAppInstallation(
            additional_data={"teamsApp@odata.bind": f"{TEAMS_APP_CATALOG}{catalog_id}"}
        )
        request = self.graph.users.by_user_id(
            user_id
        ).teamwork.installed_apps.to_post_request_information(body)
        try:
            await self._send(request)
        except GraphError as error:
            if error.status == 409:
                return InstallResult.ALREADY_INSTALLED
            raise
        return InstallResult.INSTALLED

    async def catalog_app_id(self, manifest_id: str) -> str:
        """The org catalog's own id for an app, which installs must bind; looked up once."""
        if manifest_id in self._catalog_ids:
            return self._catalog_ids[manifest_id]
        async with self._catalog_lookup:
            if manifest_id not in self._catalog_ids:
                self._catalog_ids[manifest_id] = await self._find_catalog_app(manifest_id)
        return self._catalog_ids[manifest_id]

    async def _find_catalog_app(self, manifest_id: str) -> str:
        query = TeamsAppsRequestBuilder.TeamsAppsRequestBuilderGetQueryParameters(
            filter=(
                f"externalId eq {odata_string(manifest_id)}"
                " and distributionMethod eq 'organization'"
            ),
            select=["id"],
        )
        request = self.graph.app_catalogs.teams_apps.to_get_request_information(
            RequestConfiguration(query_parameters=query)
        )
        try:
            apps = (await self.get_json(request)).get("value") or []
        except GraphError as error:
            if error.status in (401, 403):
                raise AppCatalogUnreadable(
                    error.status, "the app catalog could not be read"
                ) from None
            raise
        if not apps:
            raise AppNotPublished(
                404, f"app {manifest_id} is not in the organisation's app catalog"
            )
        return str(apps[0]["id"])

    def _delta_url(self) -> str:
        """`/users/delta` with our `$select`, as an absolute URL (delta links are absolute)."""
        query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(select=USER_SELECT)
        request = self.graph.users.delta.to_get_request_information(
            RequestConfiguration(query_parameters=query)
        )
        request.path_parameters["baseurl"] = self._adapter.base_url
        return str(request.url)

    async def _send(self, request: RequestInformation) -> bytes:
        """Through the SDK; in a traced turn or job, a span with the URL's ids cut out (the
        SDK's own spans are not recorded: no tracer provider is installed globally)."""
        method = request.http_method.value if request.http_method else "GET"
        with client_call(
            self._tracer, f"Graph {method}", lambda: graph_call_attributes(method, request)
        ) as span:
            try:
                body = await self._adapter.send_primitive_async(request, "bytes", ERRORS)
            except APIError as error:
                settle_http_call(span, error.response_status_code)
                raise GraphError(error.response_status_code, _message(error)) from error
            except httpx.HTTPError as error:
                settle_http_call(span, None)
                raise GraphError(None, f"{type(error).__name__}: {error}") from error
            settle_http_call(span, 200)
        return body or b""


def graph_call_attributes(method: str, request: RequestInformation) -> Attributes:
    return http_call_attributes(method, URL(str(request.url)))()


def parse_json(body: bytes) -> dict[str, Any]:
    page = json.loads(body) if body else {}
    if not isinstance(page, dict):
        raise GraphError(None, "expected a JSON object")
    return page


def odata_string(value: str) -> str:
    """A string literal for `$filter`: quoted, with its quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def user_from_graph(item: dict[str, Any]) -> DirectoryUser:
    """A Graph user (or a delta entry, which may carry only what changed) for the domain."""
    if "@removed" in item:
        return DirectoryUser(aad_object_id=item["id"], removed=True, reported=frozenset())
    values = {name: item[key] for key, name in USER_FIELDS.items() if key in item}
    reported = FULL_USER if len(values) == len(FULL_USER) else frozenset(values)
    return DirectoryUser(aad_object_id=item["id"], reported=reported, **values)


def _users(page: dict[str, Any]) -> list[DirectoryUser]:
    return [user_from_graph(item) for item in page.get("value", [])]


def _delta_link(page: dict[str, Any]) -> str:
    link = page.get("@odata.deltaLink")
    if not isinstance(link, str):
        raise GraphError(None, "the answer has no @odata.deltaLink")
    return link


def _get(url: str) -> RequestInformation:
    request = RequestInformation(Method.GET)
    request.url = url
    request.headers.try_add("Accept", "application/json")
    return request


def _message(error: APIError) -> str:
    if isinstance(error, ODataError) and error.error is not None and error.error.message:
        code = f"{error.error.code}: " if error.error.code else ""
        return f"{code}{error.error.message}"
    return error.message or type(error).__name__

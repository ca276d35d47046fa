"""The bot's CloudAdapter: HTTP in, activities out, with upstream's defects fixed.

Differences from upstream `CloudAdapter` (botbuilder-integration-aiohttp 4.17.1):
- every authentication failure is 401 (upstream lets some escape as 500), a body that is not an
  activity is 400, and neither reaches any bot code;
- a body nested deeper than any Teams activity is 400 (upstream: RecursionError, 500), and so is a
  serviceUrl that is neither https nor this machine's http (upstream retries sending there);
- an invoke response whose body is a model or a dict is returned as JSON with its status
  (upstream serialises an already-serialised dict and answers 500);
- at most `max_concurrent_turns` turns run at once, the rest wait in arrival order;
- outgoing activities are sent by `BotConnectorClient` (aiohttp, retries with Retry-After)
  instead of msrest's requests-in-a-thread transport that never retries a POST.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, ResourceResponse
from msrest.exceptions import DeserializationError

from bot.adapters.botframework.auth import AuthenticationError
from bot.adapters.botframework.authentication import ChannelAuthentication
from bot.adapters.botframework.connector import BotConnectorClient
from bot.adapters.botframework.wire import deserialize_activity, serialize_model
from bot.network import is_ip_address, is_loopback_host

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Teams activities nest about a dozen levels; a limit keeps every later walk of the body (ours,
# msrest's, json.dumps of state) far from Python's recursion limit.
MAX_JSON_DEPTH = 64
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SERVICE_URL = re.compile(
    rf"(?P<scheme>https?)://(?P<host>{_LABEL}(?:\.{_LABEL})*|\[(?P<ipv6>[0-9a-f:.]+)\])"
    r"(?::(?P<port>\d{1,5}))?(?:/\S*)?",
    re.ASCII | re.IGNORECASE,
)


class BotHttpAdapter(CloudAdapter):
    """Processes `/api/messages` requests and sends the bot's activities."""

    def __init__(
        self,
        authentication: ChannelAuthentication,
        connector: BotConnectorClient,
        *,
        tenant_id: str = "",
        max_concurrent_turns: int = 24,
    ) -> None:
        super().__init__(authentication)
        self.connector = connector
        self._tenant_id = tenant_id
        self._turns = asyncio.Semaphore(max_concurrent_turns)

    async def handle(self, request: web.Request, bot: Bot) -> web.Response:
        """The `/api/messages` endpoint."""
        if request.content_type != "application/json":
            return _problem(415, "expected application/json")
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _problem(413, "activity too large")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _problem(400, "body is not valid JSON")
        if not isinstance(body, dict):
            return _problem(400, "body is not an activity")
        if _nested_deeper_than(body, MAX_JSON_DEPTH):
            return _problem(400, "activity is nested too deeply")
        try:
            activity = deserialize_activity(body)
        except DeserializationError:
            return _problem(400, "activity has a malformed field")
        if not activity.type or not activity.service_url or not _conversation_id(activity):
            return _problem(400, "activity needs type, serviceUrl and conversation.id")
        if not _is_channel_url(activity.service_url):
            return _problem(400, "serviceUrl must be https (or http to this machine)")
        try:
            authenticated = await self.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except AuthenticationError as error:
            log.warning("rejected activity from %s: %s", request.remote, error)
            return _problem(401, "unauthorized")
        if self._tenant_id and _tenant_of(activity) != self._tenant_id:
            log.warning("refused activity from tenant %s", _tenant_of(activity))
            return _problem(403, "this bot serves one organisation only")
        # Admitted in arrival order: past the limit a turn waits here, holding nothing, rather
        # than crowding the database pool until some turns time out in it.
        async with self._turns:
            invoke_response = await self.process_activity(authenticated, activity, bot.on_turn)
        return _invoke_http_response(invoke_response)

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        if not activities:
            raise TypeError("expected one or more activities")
        responses = []
        for activity in activities:
            activity.id = None
            response = ResourceResponse(id="")
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
            elif activity.type == ActivityTypes.trace:
                pass
            elif activity.type == "delay":
                await asyncio.sleep((activity.value or 1000) / 1000)
            else:
                payload = serialize_model(activity)
                if activity.reply_to_id:
                    result = await self.connector.reply_to_activity(
                        activity.service_url,
                        activity.conversation.id,
                        activity.reply_to_id,
                        payload,
                    )
                else:
                    result = await self.connector.send_to_conversation(
                        activity.service_url, activity.conversation.id, payload
                    )
                response = ResourceResponse(id=result.get("id", ""))
            responses.append(response)
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        result = await self.connector.update_activity(
            activity.service_url or context.activity.service_url,
            activity.conversation.id,
            activity.id,
            serialize_model(activity),
        )
        return ResourceResponse(id=result.get("id") or activity.id)

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        await self.connector.delete_activity(
            reference.service_url or context.activity.service_url,
            reference.conversation.id,
            reference.activity_id,
        )


def _invoke_http_response(invoke_response: InvokeResponse | None) -> web.Response:
    if invoke_response is None:
        return web.Response(status=201)
    body: Any = invoke_response.body
    if body is None:
        return web.Response(status=int(invoke_response.status or 200))
    if hasattr(body, "serialize"):
        body = body.serialize()
    return web.json_response(body, status=int(invoke_response.status or 200))


def _tenant_of(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    tenant_id = tenant.get("id") if isinstance(tenant, dict) else None
    return tenant_id or getattr(activity.conversation, "tenant_id", None)


def _nested_deeper_than(body: dict[str, Any], limit: int) -> bool:
    """Whether objects and lists nest more than `limit` levels: level by level, no recursion."""
    level: list[Any] = [body]
    for _ in range(limit):
        level = [
            item
            for container in level
            for item in (container.values() if isinstance(container, dict) else container)
            if isinstance(item, (dict, list))
        ]
        if not level:
            return False
    return True


def _is_channel_url(service_url: Any) -> bool:
    """Where replies may go: https, or http to this machine (the Playground, a local fake).

    With authentication on, the token's serviceurl claim must also equal it; with it off, this is
    what keeps a reply from hanging on "not a url" or going out in clear text to anywhere.
    """
    match = _SERVICE_URL.fullmatch(service_url) if isinstance(service_url, str) else None
    if match is None or int(match["port"] or 443) > 65535:
        return False
    if match["ipv6"] and not is_ip_address(match["ipv6"]):
        return False
    return match["scheme"].lower() == "https" or is_loopback_host(match["host"])


def _conversation_id(activity: Activity) -> str | None:
    conversation = activity.conversation
    return conversation.id if conversation and isinstance(conversation.id, str) else None


def _problem(status: int, detail: str) -> web.Response:
    return web.json_response({"error": detail}, status=status)

"""The stock echo bot, built as Microsoft's Python sample 02.echo-bot builds it.

`CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))` with an empty app id
(authentication off), an `ActivityHandler` that echoes, an `on_error` that logs, and
`POST /api/messages` handed to `adapter.process`. Only the port comes from the command line.
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.integration import aiohttp_error_middleware
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

log = logging.getLogger("echo_bot")


class DefaultConfig:
    """The sample's configuration, with its environment lookups fixed to empty: auth off."""

    PORT = 3978
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    """Replies to every message with its text."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


async def on_error(context: TurnContext, error: Exception) -> None:
    """Log the failure and tell the user, as the sample does."""
    log.error("[on_turn_error] unhandled error: %s", error, exc_info=error)
    await context.send_activity("The bot encountered an error or bug.")


def build_app() -> web.Application:
    """The sample's adapter, bot and route."""
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))
    adapter.on_turn_error = on_error
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    return app


def main() -> None:
    """Serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=DefaultConfig.PORT)
    args = parser.parse_args()
    web.run_app(build_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()

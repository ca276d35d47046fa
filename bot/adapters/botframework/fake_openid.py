"""A local OpenID metadata + JWKS server with its own RSA key: Bot Connector and Entra tokens.

It runs in its own thread with its own event loop, so it answers even while the bot's loop is
busy (or blocked, as upstream's validation would block it).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.adapters.loop_thread import LoopThread

DEFAULT_ISSUER = "https://api.botframework.com"


class FakeOpenIdServer:
    """Serves `/.well-known/openidconfiguration` and `/keys`; signs tokens with `sign`."""

    def __init__(self, *, endorsements: tuple[str, ...] = ("msteams", "webchat")) -> None:
        self.key_id = uuid.uuid4().hex
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._endorsements = endorsements
        self._loop_thread: LoopThread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.requests = 0

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/.well-known/openidconfiguration"

    def start(self) -> FakeOpenIdServer:
        self._loop_thread = LoopThread()
        self._loop_thread.run(self._start())
        return self

    def stop(self) -> None:
        if self._loop_thread is None:
            return
        if self._runner is not None:
            self._loop_thread.run(self._runner.cleanup())
        self._loop_thread.stop()
        self._loop_thread = None

    def __enter__(self) -> FakeOpenIdServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sign(
        self,
        *,
        app_id: str,
        service_url: str | None = None,
        issuer: str = DEFAULT_ISSUER,
        lifetime: int = 3600,
        key_id: str | None = None,
        private_key: Any = None,
        extra: dict[str, Any] | None = None,
        omit: tuple[str, ...] = (),
        now: float | None = None,
    ) -> str:
        """A token as the Bot Connector (with `service_url`) or Entra ID would send it.

        The arguments let tests forge bad ones; `now` lets a test with a fixed clock sign for it.
        """
        now = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": app_id,
            "nbf": now - 5,
            "iat": now - 5,
            "exp": now + lifetime,
            **({"serviceurl": service_url} if service_url is not None else {}),
            **(extra or {}),
        }
        for name in omit:
            claims.pop(name, None)
        return jwt.encode(
            claims,
            private_key or self._private_key,
            algorithm="RS256",
            headers={"kid": key_id or self.key_id},
        )

    def _jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._private_key.public_key()))
        public.update({"kid": self.key_id, "use": "sig", "endorsements": list(self._endorsements)})
        return {"keys": [public]}

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._keys)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(
            {
                "issuer": DEFAULT_ISSUER,
                "jwks_uri": f"http://127.0.0.1:{self.port}/v1/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(self._jwks())

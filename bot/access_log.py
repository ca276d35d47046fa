"""The server's access log without what it must not keep: no client address, and no token of a
person's download link (the path would hand anyone reading the log their copy)."""

from __future__ import annotations

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

SECRET_PATHS = ("/privacy/copy/",)


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request: method, path (secrets cut off), status, seconds."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            '"%s %s" %s %.3f s', request.method, redacted(request.path), response.status, time
        )


def redacted(path: str) -> str:
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path

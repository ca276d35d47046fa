"""Uploads in ICT's tab: payroll's monthly file (payroll and ICT) and the catalog (ICT).

A file is checked first (nothing changes), then imported or discarded by a press; the view lists
who sent what and when. Only the tab's own script may post (see `Gate.change`).
"""

from __future__ import annotations

from aiohttp import web

from bot.i18n import texts
from bot.ict.models import UploadKind
from bot.ict.overview import Unavailable
from bot.ict.uploads import MAX_UPLOAD_BYTES, Decision, FileUploads, Upload
from bot.numbers import payload_int
from bot.tabs.web import ICT, ICT_OR_PAYROLL, Gate, Page, message, unavailable

ROLES = {UploadKind.PAYROLL: ICT_OR_PAYROLL, UploadKind.CATALOG: ICT}
ACCEPT = {UploadKind.PAYROLL: ".csv,.txt", UploadKind.CATALOG: ".csv,.yaml,.yml"}
CHUNK = 64 * 1024


class UploadPages:
    """The handlers of the two upload views."""

    def __init__(self, uploads: FileUploads, gate: Gate) -> None:
        self._uploads = uploads
        self._gate = gate

    async def form(self, request: web.Request) -> web.Response:
        kind = _kind(request)
        entered = await self._gate.enter(request, ROLES[kind])
        if isinstance(entered, web.Response):
            return entered
        return await self._view(entered, kind)

    async def check(self, request: web.Request) -> web.Response:
        kind = _kind(request)
        entered = await self._gate.change(request, ROLES[kind])
        if isinstance(entered, web.Response):
            return entered
        received = await _file(request)
        if isinstance(received, str):
            return await self._view(entered, kind, problem=received, status=400)
        name, data = received
        try:
            upload = await self._uploads.check(kind, name, data, entered.viewer.object_id)
        except Unavailable as error:
            return unavailable(entered.language, error)
        return await self._view(entered, kind, outcome=upload)

    async def confirm(self, request: web.Request) -> web.Response:
        return await self._decide(request, confirm=True)

    async def discard(self, request: web.Request) -> web.Response:
        return await self._decide(request, confirm=False)

    async def _decide(self, request: web.Request, *, confirm: bool) -> web.Response:
        kind = _kind(request)
        entered = await self._gate.change(request, ROLES[kind])
        if isinstance(entered, web.Response):
            return entered
        upload_id = payload_int(request.match_info["upload_id"])
        if upload_id is None:
            return message(entered.language, "tab.uploads.not_found", status=404)
        by = entered.viewer.object_id
        try:
            decide = self._uploads.confirm if confirm else self._uploads.discard
            decision: Decision = await decide(kind, upload_id, by)
        except Unavailable as error:
            return unavailable(entered.language, error)
        if decision.upload is None:
            return message(entered.language, "tab.uploads.not_found", status=404)
        return await self._view(
            entered, kind, outcome=decision.upload, decided_before=not decision.changed
        )

    async def _view(
        self,
        entered: Page,
        kind: UploadKind,
        *,
        outcome: Upload | None = None,
        decided_before: bool = False,
        problem: str | None = None,
        status: int = 200,
    ) -> web.Response:
        try:
            recent = await self._uploads.recent(kind)
        except Unavailable as error:
            return unavailable(entered.language, error)
        response = entered.view(
            f"/tabs/ict/uploads/{kind.value}",
            "upload.html",
            kind=kind.value,
            accept=ACCEPT[kind],
            outcome=outcome,
            decided_before=decided_before,
            problem=problem,
            recent=recent,
            money=texts(entered.language).money,
            max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
            can_decide=bool(entered.viewer.roles & ROLES[kind]),
        )
        response.set_status(status)
        return response


def _kind(request: web.Request) -> UploadKind:
    """The kind in the route; the router's pattern admits only the two."""
    return UploadKind(request.match_info["kind"])


async def _file(request: web.Request) -> tuple[str, bytes] | str:
    """The uploaded file's name and bytes, or the catalog key of what is wrong with the request."""
    if not request.content_type.startswith("multipart/"):
        return "tab.uploads.no_file"
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if getattr(part, "name", None) != "file" or not getattr(part, "filename", None):
            continue
        data = bytearray()
        while chunk := await part.read_chunk(CHUNK):  # type: ignore[union-attr]
            data += chunk
            if len(data) > MAX_UPLOAD_BYTES:
                return "tab.uploads.too_big"
        if not data:
            return "tab.uploads.empty"
        return str(part.filename), bytes(data)  # type: ignore[union-attr]
    return "tab.uploads.no_file"

"""What every page of the tabs shares: who may see which view, the language, the navigation,
and the answers for a refusal, a missing thing or a silent database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from markupsafe import Markup

from bot.i18n import resolve_language
from bot.tabs.access import Forbidden, NotSignedIn, Role, TabAccess, Viewer
from bot.tabs.pages import render

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
# Served as /tabs/static/teams-js.js: installed by `npm ci` from package.json, never a CDN.
TEAMS_JS = (
    Path(__file__).resolve().parents[2]
    / "node_modules/@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js"
)
# Teams shows a tab in a frame of its own web and desktop clients.
FRAME_ANCESTORS = (
    "'self' https://teams.microsoft.com https://*.teams.microsoft.com https://*.skype.com "
    "https://*.office.com https://*.cloud.microsoft"
)
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    f"connect-src 'self'; frame-ancestors {FRAME_ANCESTORS}"
)
NO_STORE = {"Cache-Control": "no-store"}
# A change is asked for only by the page's own script, which sends this header; a form posted
# from another site cannot (the demo's loopback server has no token to stop it otherwise).
CHANGE_HEADER = "X-Puhelinbotti-Tab"

ICT = frozenset({Role.ICT_ADMIN})
ICT_OR_PAYROLL = frozenset({Role.ICT_ADMIN, Role.PAYROLL_ADMIN})


@dataclass(frozen=True)
class View:
    """One view of the tab: its fragment's path, its name in the catalog, who may open it."""

    path: str
    name: str
    roles: frozenset[Role]


VIEWS = (
    View("/tabs/ict/progress", "tab.ict.progress", ICT),
    View("/tabs/ict/campaigns", "tab.ict.campaigns", ICT),
    View("/tabs/ict/helpdesk", "tab.ict.helpdesk", ICT),
    View("/tabs/ict/uploads/payroll", "tab.uploads.payroll.title", ICT_OR_PAYROLL),
    View("/tabs/ict/uploads/catalog", "tab.uploads.catalog.title", ICT),
)


@dataclass(frozen=True)
class Page:
    """A request someone may see: their language and who they are."""

    language: str
    viewer: Viewer

    def views(self) -> list[View]:
        """The views this viewer may open, in the navigation's order."""
        return [view for view in VIEWS if view.roles & self.viewer.roles]

    def view(self, current: str, template: str, **values: Any) -> web.Response:
        """A view's fragment under the navigation of what this viewer may open."""
        content = Markup(render(template, self.language, **values))
        html = render(
            "view.html", self.language, views=self.views(), current=current, content=content
        )
        return fragment(html)


class Gate:
    """Lets a request through to a view when its sender has one of the view's roles."""

    def __init__(self, access: TabAccess) -> None:
        self._access = access

    async def enter(self, request: web.Request, roles: frozenset[Role]) -> Page | web.Response:
        """The page to answer with, or the 401/403 fragment to answer instead."""
        language = language_of(request)
        try:
            viewer = await self._access.require(request.headers.get("Authorization", ""), roles)
        except NotSignedIn:
            return message(
                language, "tab.not_signed_in", status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        except Forbidden:
            return message(language, "tab.forbidden", status=403)
        return Page(language, viewer)

    async def change(self, request: web.Request, roles: frozenset[Role]) -> Page | web.Response:
        """`enter` for a request that changes something: only from the tab's own script."""
        if request.headers.get(CHANGE_HEADER) != "1":
            return message(language_of(request), "tab.not_from_the_tab", status=400)
        return await self.enter(request, roles)


def language_of(request: web.Request) -> str:
    """Teams fills `lang` with the user's locale (contentUrl …?lang={locale}); Finnish first."""
    return resolve_language(request.query.get("lang"))


def fragment(html: str, status: int = 200) -> web.Response:
    return web.Response(text=html, status=status, content_type="text/html", headers=NO_STORE)


def page(html: str) -> web.Response:
    """A whole page (no data in it): framed by Teams only, scripts of our own only."""
    return web.Response(
        text=html,
        content_type="text/html",
        headers={"Content-Security-Policy": PAGE_POLICY, **NO_STORE},
    )


def message(
    language: str, key: str, *, status: int, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=render("message.html", language, key=key),
        status=status,
        content_type="text/html",
        headers={**NO_STORE, **(headers or {})},
    )


def unavailable(language: str, error: Exception) -> web.Response:
    log.error("ICT tab: the database did not answer (%s)", error)
    return message(language, "tab.unavailable", status=503)


async def static_file(request: web.Request) -> web.StreamResponse:
    """The tabs' own scripts and style, and the Teams library from node_modules."""
    name = request.match_info["name"]
    files = {
        "tab.js": STATIC / "tab.js",
        "configure.js": STATIC / "configure.js",
        "tab.css": STATIC / "tab.css",
        "teams-js.js": TEAMS_JS,
    }
    path = files.get(name)
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "max-age=3600"})

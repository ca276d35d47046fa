"""ICT's tab: rollout progress, who has not chosen, campaigns, and the helpdesk and questions.

The page itself (`/tabs/ict`) holds no data; its script signs in with Teams and fetches the
fragments below with the token, each checked for the ICT admin role. Names appear only in the
fragments and the CSV, never in a URL or a log line.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from bot.faq.topics import FaqContent
from bot.i18n import Texts, catalog_keys, resolve_language, texts
from bot.ict.overview import ProgramOverview, Unavailable
from bot.ict.progress import UnitProgress, WaveProgress
from bot.notifications.outbox import CampaignReport
from bot.spreadsheet import excel_text
from bot.tabs.access import Forbidden, NotSignedIn, Role, TabAccess
from bot.tabs.charts import bars, choices_against_window
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
SHELL_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    f"connect-src 'self'; frame-ancestors {FRAME_ANCESTORS}"
)
NO_STORE = {"Cache-Control": "no-store"}
# The tab's views, in the order of its navigation: (fragment, catalog key of its name).
VIEWS = (
    ("/tabs/ict/progress", "tab.ict.progress"),
    ("/tabs/ict/campaigns", "tab.ict.campaigns"),
    ("/tabs/ict/helpdesk", "tab.ict.helpdesk"),
)


class IctTab:
    """The handlers of ICT's tab, given the database, the clock and who may see it."""

    def __init__(self, overview: ProgramOverview, access: TabAccess, faq: FaqContent) -> None:
        self._overview = overview
        self._access = access
        self._faq = faq

    async def shell(self, request: web.Request) -> web.Response:
        language = _language(request)
        html = render(
            "shell.html",
            language,
            title="tab.ict.title",
            page="/tabs/ict/progress",
            views=VIEWS,
            teams_js=TEAMS_JS.is_file(),
        )
        return web.Response(
            text=html,
            content_type="text/html",
            headers={"Content-Security-Policy": SHELL_POLICY, **NO_STORE},
        )

    async def configure(self, request: web.Request) -> web.Response:
        """The channel tab's configuration page, which Teams shows when the tab is added."""
        html = render("configure.html", _language(request), teams_js=TEAMS_JS.is_file())
        return web.Response(
            text=html,
            content_type="text/html",
            headers={"Content-Security-Policy": SHELL_POLICY, **NO_STORE},
        )

    async def progress(self, request: web.Request) -> web.Response:
        language = _language(request)
        if (refusal := await self._refusal(request, language)) is not None:
            return refusal
        t = texts(language)

        def unit_name(unit: UnitProgress) -> str:
            return unit.name_en if language == "en" and unit.name_en else unit.name_fi

        def chart(wave: WaveProgress) -> str:
            tally = wave.tally
            return choices_against_window(
                wave,
                progress.today,
                title=t(
                    "tab.ict.chart_title",
                    wave=wave.name,
                    chosen=tally.chosen,
                    employees=tally.employees,
                ),
                goal=t("tab.ict.chart_goal"),
            )

        try:
            progress = await self._overview.progress()
        except Unavailable as error:
            return _unavailable(language, error)
        html = render(
            "progress.html", language, progress=progress, chart=chart, unit_name=unit_name
        )
        return _fragment(html)

    async def campaigns(self, request: web.Request) -> web.Response:
        """The newest campaigns' delivery; refreshed by the page while any is still sending."""
        language = _language(request)
        if (refusal := await self._refusal(request, language)) is not None:
            return refusal
        t = texts(language)
        try:
            reports = await self._overview.campaigns()
        except Unavailable as error:
            return _unavailable(language, error)

        def kind(name: str) -> str:
            return _worded(t, f"tab.ict.kinds.{name}", name)

        def delivered(report: CampaignReport) -> int:
            # A message no longer needed (the person chose meanwhile) is settled, not delivered.
            return report.counts.get("delivered", 0) - report.outcomes.get("skipped", 0)

        def reasons(report: CampaignReport) -> str:
            parts = []
            for key, counts in (
                ("tab.ict.fails_for", report.failures),
                ("tab.ict.waits_for", report.waiting),
            ):
                if counts:
                    listed = ", ".join(
                        f"{_worded(t, f'admin.reasons.{reason}', reason)} {t.number(count)}"
                        for reason, count in sorted(counts.items())
                    )
                    parts.append(t(key, reasons=listed))
            return "; ".join(parts)

        sending = any(report.state == "active" and report.unsettled for report in reports)
        html = render(
            "campaigns.html",
            language,
            reports=reports,
            now=self._overview.now(),
            sending=sending,
            kind=kind,
            delivered=delivered,
            reasons=reasons,
        )
        return _fragment(html)

    async def helpdesk(self, request: web.Request) -> web.Response:
        """Tickets and their times per week; what the bot could not answer; 👍/👎 per topic."""
        language = _language(request)
        if (refusal := await self._refusal(request, language)) is not None:
            return refusal
        t = texts(language)
        try:
            view = await self._overview.helpdesk()
        except Unavailable as error:
            return _unavailable(language, error)

        def hours(value: float | None) -> str:
            if value is None:
                return t("tab.ict.no_figure")
            return t("tab.ict.hours", hours=t.number(round(value, 1), decimals=1))

        def topic_title(topic_id: str) -> str:
            try:
                return self._faq.topic(topic_id).text(language).title
            except KeyError:
                return topic_id  # a topic since removed from the content

        oldest_first = list(reversed(view.figures.weeks))
        tickets_chart = bars(
            [
                (
                    t("tab.ict.week_short", day=week.monday.day, month=week.monday.month),
                    week.tickets,
                )
                for week in oldest_first
            ],
            title=t("tab.ict.tickets_chart", weeks=len(oldest_first)),
        )
        html = render(
            "helpdesk.html",
            language,
            figures=view.figures,
            tickets_chart=tickets_chart,
            hours=hours,
            unanswered=view.unanswered,
            feedback=view.feedback,
            topic_title=topic_title,
        )
        return _fragment(html)

    async def waiting(self, request: web.Request) -> web.Response:
        language = _language(request)
        if (refusal := await self._refusal(request, language)) is not None:
            return refusal
        code = request.match_info["code"]
        try:
            unit = await self._overview.waiting(code)
        except Unavailable as error:
            return _unavailable(language, error)
        if unit is None:
            return _message(language, "tab.unit_not_found", status=404)
        name = unit.name_en if language == "en" and unit.name_en else unit.name_fi
        html = render(
            "waiting.html",
            language,
            unit=name,
            people=unit.people,
            closes_on=unit.closes_on,
            csv_url=f"/tabs/ict/units/{_path_part(code)}/waiting.csv",
            csv_file=texts(language)("tab.ict.csv_file", unit=_file_part(code)),
        )
        return _fragment(html)

    async def waiting_csv(self, request: web.Request) -> web.Response:
        """The same list for a supervisor's Excel: UTF-8 with BOM, `;`, formulas defused."""
        language = _language(request)
        if (refusal := await self._refusal(request, language)) is not None:
            return refusal
        code = request.match_info["code"]
        try:
            unit = await self._overview.waiting(code)
        except Unavailable as error:
            return _unavailable(language, error)
        if unit is None:
            return _message(language, "tab.unit_not_found", status=404)
        t = texts(language)
        stream = io.StringIO(newline="")
        stream.write("\ufeff")
        writer = csv.writer(stream, delimiter=";")
        writer.writerow([t("tab.ict.name"), t("tab.ict.email"), t("tab.ict.employee_number")])
        for person in unit.people:
            writer.writerow(
                [
                    excel_text(person.name),
                    excel_text(person.email),
                    excel_text(person.employee_number),
                ]
            )
        filename = t("tab.ict.csv_file", unit=_file_part(code))
        return web.Response(
            body=stream.getvalue().encode("utf-8"),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
        )

    async def _refusal(self, request: web.Request, language: str) -> web.Response | None:
        """None when the request is an ICT admin's; else the 401 or 403 fragment to answer."""
        try:
            await self._access.require(request.headers.get("Authorization", ""), Role.ICT_ADMIN)
        except NotSignedIn:
            return _message(
                language, "tab.not_signed_in", status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        except Forbidden:
            return _message(language, "tab.forbidden", status=403)
        return None


async def static_file(request: web.Request) -> web.StreamResponse:
    """The tabs' own script and style, and the Teams library from node_modules."""
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


def _language(request: web.Request) -> str:
    """Teams fills `lang` with the user's locale (contentUrl …?lang={locale}); Finnish first."""
    return resolve_language(request.query.get("lang"))


def _worded(t: Texts, key: str, fallback: str) -> str:
    """A code's wording in the catalog, or the code itself when the catalog has none."""
    return t(key) if key in catalog_keys(t.language) else fallback


def _fragment(html: str) -> web.Response:
    return web.Response(text=html, content_type="text/html", headers=NO_STORE)


def _message(
    language: str, key: str, *, status: int, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=render("message.html", language, key=key),
        status=status,
        content_type="text/html",
        headers={**NO_STORE, **(headers or {})},
    )


def _unavailable(language: str, error: Exception) -> web.Response:
    log.error("ICT tab: the database did not answer (%s)", error)
    return _message(language, "tab.unavailable", status=503)


def _path_part(code: str) -> str:
    return quote(code, safe="")


def _file_part(code: str) -> str:
    """A unit code as a safe file name part: letters, digits, '-' and '_' only."""
    return "".join(char if char.isalnum() or char in "-_" else "_" for char in code)[:64]

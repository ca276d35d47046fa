"""ICT's tab: rollout progress, who has not chosen, campaigns, and the helpdesk and questions.

The page itself (`/tabs/ict`) holds no data; its script signs in with Teams and fetches the
views below with the token, each checked for its role (bot/tabs/web.py). Names appear only in
the views and the CSV, never in a URL or a log line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

from aiohttp import web

from bot.faq.topics import FaqContent
from bot.i18n import Texts, texts
from bot.ict.overview import ProgramOverview, Unavailable, UnitWaiting
from bot.ict.progress import UnitProgress, WaveProgress
from bot.notifications.outbox import CampaignReport
from bot.spreadsheet import excel_text
from bot.tabs.access import Role
from bot.tabs.charts import bars, choices_against_window, delivered_over_time
from bot.tabs.pages import render
from bot.tabs.web import (
    ICT,
    NO_STORE,
    TEAMS_JS,
    Gate,
    Page,
    language_of,
    message,
    page,
    unavailable,
)

Read = TypeVar("Read")


class IctTab:
    """The handlers of ICT's views, given what they read and who may see them."""

    def __init__(self, overview: ProgramOverview, gate: Gate, faq: FaqContent) -> None:
        self._overview = overview
        self._gate = gate
        self._faq = faq

    async def shell(self, request: web.Request) -> web.Response:
        """The page Teams opens; its script fetches the first view the viewer may see."""
        html = render(
            "shell.html",
            language_of(request),
            title="tab.ict.title",
            start="/tabs/ict/start",
            teams_js=TEAMS_JS.is_file(),
        )
        return page(html)

    async def configure(self, request: web.Request) -> web.Response:
        """The channel tab's configuration page, which Teams shows when the tab is added."""
        return page(render("configure.html", language_of(request), teams_js=TEAMS_JS.is_file()))

    async def start(self, request: web.Request) -> web.Response:
        """The first view the viewer may open: progress for ICT, the payroll file for payroll."""
        entered = await self._gate.enter(request, frozenset(Role))
        if isinstance(entered, web.Response):
            return entered
        first = entered.views()[0]
        raise web.HTTPSeeOther(f"{first.path}?lang={entered.language}", headers=NO_STORE)

    async def progress(self, request: web.Request) -> web.Response:
        opened = await self._open(request, self._overview.progress)
        if isinstance(opened, web.Response):
            return opened
        entered, progress = opened
        language = entered.language
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

        return entered.view(
            "/tabs/ict/progress",
            "progress.html",
            progress=progress,
            chart=chart,
            unit_name=unit_name,
        )

    async def campaigns(self, request: web.Request) -> web.Response:
        """The newest campaigns' delivery; refreshed by the page while any is still sending."""
        opened = await self._open(request, self._overview.campaigns)
        if isinstance(opened, web.Response):
            return opened
        entered, view = opened
        reports = view.reports
        t = texts(entered.language)

        def kind(name: str) -> str:
            return t.or_code(f"tab.ict.kinds.{name}", name)

        def reasons(report: CampaignReport) -> str:
            parts = []
            for key, counts in (
                ("tab.ict.fails_for", report.failures),
                ("tab.ict.waits_for", report.waiting),
            ):
                if counts:
                    listed = ", ".join(
                        f"{t.or_code(f'admin.reasons.{reason}', reason)} {t.number(count)}"
                        for reason, count in sorted(counts.items())
                    )
                    parts.append(t(key, reasons=listed))
            return "; ".join(parts)

        times = view.newest_deliveries
        timeline = _timeline(t, reports[0], times) if times else None
        return entered.view(
            "/tabs/ict/campaigns",
            "campaigns.html",
            timeline=timeline,
            reports=reports,
            receipts=view.receipts,
            now=self._overview.now(),
            sending=any(report.state == "active" and report.unsettled for report in reports),
            kind=kind,
            reasons=reasons,
        )

    async def helpdesk(self, request: web.Request) -> web.Response:
        """Tickets and their times per week; what the bot could not answer; 👍/👎 per topic."""
        opened = await self._open(request, self._overview.helpdesk)
        if isinstance(opened, web.Response):
            return opened
        entered, view = opened
        language = entered.language
        t = texts(language)

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
                    t("tab.ict.week_short", day=str(w.monday.day), month=str(w.monday.month)),
                    w.tickets,
                )
                for w in oldest_first
            ],
            title=t("tab.ict.tickets_chart", weeks=len(oldest_first)),
        )
        return entered.view(
            "/tabs/ict/helpdesk",
            "helpdesk.html",
            figures=view.figures,
            tickets_chart=tickets_chart,
            hours=hours,
            unanswered=view.unanswered,
            feedback=view.feedback,
            topic_title=topic_title,
        )

    async def waiting(self, request: web.Request) -> web.Response:
        found = await self._unit_waiting(request, "tab.waiting")
        if isinstance(found, web.Response):
            return found
        entered, code, unit = found
        language = entered.language
        return entered.view(
            "/tabs/ict/progress",
            "waiting.html",
            unit=unit.name_en if language == "en" and unit.name_en else unit.name_fi,
            people=unit.people,
            closes_on=unit.closes_on,
            csv_url=f"/tabs/ict/units/{quote(code, safe='')}/waiting.csv",
            csv_file=texts(language)("tab.ict.csv_file", unit=_file_part(code)),
        )

    async def waiting_csv(self, request: web.Request) -> web.Response:
        """The same list for a supervisor's Excel: UTF-8 with BOM, `;`, formulas defused."""
        found = await self._unit_waiting(request, "tab.waiting_csv")
        if isinstance(found, web.Response):
            return found
        entered, code, unit = found
        t = texts(entered.language)
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

    async def _unit_waiting(
        self, request: web.Request, action: str
    ) -> tuple[Page, str, UnitWaiting] | web.Response:
        """The unit in the route and its people without a choice, for ICT; or what to answer.
        The read logs who saw the names (`action`)."""
        code = request.match_info["code"]
        entered = await self._gate.enter(request, ICT)
        if isinstance(entered, web.Response):
            return entered
        try:
            unit = await self._overview.waiting(code, entered.viewer.object_id, action)
        except Unavailable as error:
            return unavailable(entered.language, error)
        if unit is None:
            return message(entered.language, "tab.unit_not_found", status=404)
        return entered, code, unit

    async def _open(
        self, request: web.Request, read: Callable[[], Awaitable[Read]]
    ) -> tuple[Page, Read] | web.Response:
        """An ICT admin's request and what `read` read for it; or the refusal or 503 to answer."""
        entered = await self._gate.enter(request, ICT)
        if isinstance(entered, web.Response):
            return entered
        try:
            return entered, await read()
        except Unavailable as error:
            return unavailable(entered.language, error)


@dataclass(frozen=True)
class Timeline:
    """The newest campaign's deliveries: a picture, and the moments it shows as a table."""

    title: str
    chart: str
    moments: list[tuple[str, str]]


def _timeline(t: Texts, report: CampaignReport, times: list[datetime]) -> Timeline:
    name = report.title or report.key
    half = times[(len(times) + 1) // 2 - 1] if len(times) * 2 >= report.total else None
    moments = [(t("tab.ict.first_delivered"), t.datetime(times[0]))]
    if half is not None:
        moments.append((t("tab.ict.half_delivered"), t.datetime(half)))
    moments.append((t("tab.ict.last_delivered"), t.datetime(times[-1])))
    moments.append(
        (t("tab.ict.delivered_so_far"), f"{t.number(len(times))} / {t.number(report.total)}")
    )
    title = t("tab.ict.timeline_title", campaign=name, delivered=len(times), total=report.total)
    chart = delivered_over_time(
        times, report.total, title=title, start=t.time(times[0]), end=t.time(times[-1])
    )
    return Timeline(title, chart, moments)


def _file_part(code: str) -> str:
    """A unit code as a safe file name part for a header: ASCII letters, digits, '-' and '_'."""
    safe = (char if char.isascii() and (char.isalnum() or char in "-_") else "_" for char in code)
    return "".join(safe)[:64]

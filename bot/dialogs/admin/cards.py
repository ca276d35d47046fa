"""ICT's cards: rollout waves with a form to schedule one, and how notification campaigns went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from bot.dialogs.actions import Verb, execute, submit
from bot.dialogs.cards import card, proportion_bar, text_block
from bot.i18n import Texts
from bot.notifications.outbox import CampaignReport


@dataclass(frozen=True)
class WaveLine:
    name: str
    opens_on: date
    closes_on: date
    units: list[str]


@dataclass(frozen=True)
class UnitOption:
    code: str
    name: str


def waves_card(
    t: Texts,
    waves: list[WaveLine],
    units: list[UnitOption],
    *,
    notice: str | None = None,
    problems: list[str] | None = None,
) -> dict[str, Any]:
    body = [text_block(t("admin.waves_title"), size="Large", weight="Bolder", style="heading")]
    if notice:
        body.append(text_block(notice, color="Good"))
    if problems:
        body.append(text_block(t("admin.not_scheduled"), color="Attention", weight="Bolder"))
        body += [
            text_block(f"- {problem}", color="Attention", spacing="None") for problem in problems
        ]
    if waves:
        body += [
            text_block(
                t(
                    "admin.wave_line",
                    name=wave.name,
                    opens=t.date(wave.opens_on),
                    closes=t.date(wave.closes_on),
                    units=", ".join(wave.units),
                ),
                spacing="Small",
            )
            for wave in waves
        ]
    else:
        body.append(text_block(t("admin.no_waves"), isSubtle=True))
    body += [
        text_block(t("admin.new_wave"), weight="Bolder", spacing="Large", separator=True),
        {"type": "Input.Text", "id": "name", "label": t("admin.name"), "maxLength": 200},
        {"type": "Input.Date", "id": "opens", "label": t("admin.opens")},
        {"type": "Input.Date", "id": "closes", "label": t("admin.closes")},
        {
            "type": "Input.ChoiceSet",
            "id": "units",
            "label": t("admin.units"),
            "isMultiSelect": True,
            "style": "expanded",
            # Teams joins the chosen values with commas: a code with a comma in it is escaped.
            "choices": [
                {"title": unit.name, "value": quote(unit.code, safe=" ")} for unit in units
            ],
        },
    ]
    return card(
        body,
        [
            submit(t("admin.schedule"), Verb.ADMIN_SCHEDULE_WAVE),
            submit(t("admin.campaigns"), Verb.ADMIN_CAMPAIGNS),
        ],
    )


def campaigns_card(t: Texts, reports: list[CampaignReport], now: datetime) -> dict[str, Any]:
    """Refreshed in place by its button (Action.Execute), so ICT can watch a campaign go out."""
    body = [text_block(t("admin.campaigns_title"), size="Large", weight="Bolder", style="heading")]
    if not reports:
        body.append(text_block(t("admin.no_campaigns"), isSubtle=True))
    for report in reports:
        body += _report_lines(t, report, now)
    body.append(text_block(t("admin.updated", time=t.datetime(now)), isSubtle=True, size="Small"))
    return card(
        body,
        [
            execute(t("admin.refresh"), Verb.ADMIN_CAMPAIGNS),
            submit(t("admin.waves"), Verb.ADMIN_WAVES),
        ],
    )


@dataclass(frozen=True)
class DraftLine:
    id: int
    title: str
    updated_at: datetime


def announcements_card(
    t: Texts,
    reports: list[CampaignReport],
    now: datetime,
    *,
    drafts: list[DraftLine] | None = None,
    notice: str | None = None,
    receipts: dict[int, int] | None = None,
) -> dict[str, Any]:
    """ICT's drafts, then its announcements, newest first: how each one's delivery goes
    (refreshed in place), how many acknowledged it where it asked, and a button to stop one
    that is scheduled or still going out."""
    body = [text_block(t("announce.list_title"), size="Large", weight="Bolder", style="heading")]
    if notice:
        body.append(text_block(notice, color="Good"))
    for draft in drafts or []:
        body.append(
            text_block(
                t(
                    "announce.draft_line",
                    title=draft.title or t("announce.untitled"),
                    when=t.datetime(draft.updated_at),
                ),
                separator=True,
            )
        )
        body.append(
            {
                "type": "ActionSet",
                "spacing": "Small",
                "actions": [
                    submit(t("announce.open_draft"), Verb.ADMIN_ANNOUNCE, draft=draft.id),
                    submit(t("announce.delete_draft"), Verb.ADMIN_ANNOUNCE_DELETE, draft=draft.id),
                ],
            }
        )
    if not reports:
        body.append(text_block(t("announce.none"), isSubtle=True))
    for report in reports:
        body += _report_lines(t, report, now)
        counts = report.counts
        body.append(
            proportion_bar(
                [
                    (counts.get("delivered", 0), "good"),
                    (report.unsettled, "emphasis"),
                    (counts.get("failed", 0), "attention"),
                ]
            )
        )
        if receipts and report.id in receipts:
            body.append(
                text_block(
                    t(
                        "announce.receipts",
                        acknowledged=receipts[report.id],
                        delivered=report.reached,
                    ),
                    spacing="None",
                )
            )
        if report.state == "active" and report.unsettled:
            stop = submit(t("announce.stop"), Verb.ADMIN_ANNOUNCE_CANCEL, campaign=report.id)
            body.append({"type": "ActionSet", "actions": [stop], "spacing": "Small"})
    body.append(text_block(t("admin.updated", time=t.datetime(now)), isSubtle=True, size="Small"))
    return card(
        body,
        [
            execute(t("admin.refresh"), Verb.ADMIN_ANNOUNCEMENTS),
            submit(t("announce.new"), Verb.ADMIN_ANNOUNCE),
        ],
    )


def _report_lines(t: Texts, report: CampaignReport, now: datetime) -> list[dict[str, Any]]:
    counts = report.counts
    lines = [
        text_block(
            f"{report.title or report.key} · {t.datetime(report.created_at)}",
            weight="Bolder",
            spacing="Medium",
            separator=True,
        ),
        text_block(
            t(
                "admin.campaign_counts",
                delivered=report.reached,
                skipped=report.skipped,
                total=report.total,
                waiting=report.unsettled,
                failed=counts.get("failed", 0),
            ),
            spacing="None",
        ),
    ]
    if report.state != "active":
        lines.append(text_block(t("announce.stopped"), isSubtle=True, spacing="None"))
    elif report.not_before is not None and report.not_before > now:
        lines.append(
            text_block(t("announce.scheduled", when=t.datetime(report.not_before)), spacing="None")
        )
    if report.failures:
        reasons = ", ".join(
            f"{t.or_code(f'admin.reasons.{reason}', reason)} {count}"
            for reason, count in sorted(report.failures.items())
        )
        lines.append(
            text_block(
                t("admin.campaign_reasons", reasons=reasons),
                color="Attention",
                size="Small",
                spacing="None",
            )
        )
    return lines

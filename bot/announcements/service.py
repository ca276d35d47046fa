"""What an announcement may say and whom it reaches; it goes out through the outbox.

An announcement is a campaign of kind `announcement` whose payload is the checked draft: the
dispatcher sends it (quiet hours, Teams' limits, retries) and the campaign report counts it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.announcements.models import AnnouncementDraft
from bot.directory.models import Employee, Unit
from bot.notifications import outbox
from bot.notifications.delivery import Outgoing
from bot.numbers import payload_int
from bot.rollout.models import RolloutWave, RolloutWaveUnit

ANNOUNCEMENT = "announcement"
LINK_FIELDS = (("link_title", "link_url"), ("link2_title", "link2_url"))
HELSINKI = ZoneInfo("Europe/Helsinki")
MAX_TITLE = 120
MAX_TEXT = 2000
MAX_REMIND_DAYS = 30
MAX_URL = 500
MAX_UPNS = 400  # about 12,000 characters: the form must fit in a Teams message
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")  # a tag, not "a < b ja c > d"
_UPN = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


@dataclass(frozen=True)
class Draft:
    """An announcement as ICT wrote it, checked; Finnish always, English when given."""

    title_fi: str
    text_fi: str
    title_en: str = ""
    text_en: str = ""
    image_url: str = ""
    links: tuple[tuple[str, str], ...] = ()  # (button text, https address), at most two
    everyone: bool = False
    units: tuple[str, ...] = ()
    waves: tuple[int, ...] = ()
    upns: tuple[str, ...] = ()
    send_at: datetime | None = None
    ask_receipt: bool = False  # recipients are asked to acknowledge it as read
    remind_after_days: int | None = None  # one reminder to those who have not, after this

    def payload(self) -> dict[str, Any]:
        values = asdict(self)
        values["units"], values["upns"] = list(self.units), list(self.upns)
        values["waves"] = list(self.waves)
        values["links"] = [list(link) for link in self.links]
        values["send_at"] = self.send_at.isoformat() if self.send_at else None
        return values


@dataclass
class Reading:
    """A form read: the draft if it is sound, else the problems (catalog keys with values)."""

    draft: Draft | None
    problems: list[tuple[str, dict[str, str | int]]] = field(default_factory=list)


def clean(text: str) -> str:
    """The author's Teams markdown without tags: no `<at>` mention or HTML reaches anyone."""
    return _TAG.sub("", text).strip()


async def read_draft(*, session: AsyncSession, form: dict[str, Any], now: datetime) -> Reading:
    """Checks every field; an unknown unit or person, a bad address or a past time is a problem."""
    problems: list[tuple[str, dict[str, str | int]]] = []
    value = {key: _text(form.get(key)) for key in FORM_FIELDS}
    title_fi, text_fi = clean(value["title_fi"]), clean(value["text_fi"])
    title_en, text_en = clean(value["title_en"]), clean(value["text_en"])
    if not title_fi or not text_fi:
        problems.append(("finnish_needed", {}))
    if bool(title_en) != bool(text_en):
        problems.append(("english_half", {}))
    for text, limit in ((title_fi, MAX_TITLE), (title_en, MAX_TITLE)):
        if len(text) > limit:
            problems.append(("title_too_long", {"count": limit}))
    for text in (text_fi, text_en):
        if len(text) > MAX_TEXT:
            problems.append(("text_too_long", {"count": MAX_TEXT}))
    image_url = value["image_url"].strip()
    links = []
    for title_key, url_key in LINK_FIELDS:
        link_title, link_url = clean(value[title_key]), value[url_key].strip()
        if bool(link_title) != bool(link_url):
            problems.append(("link_half", {}))
        elif link_url:
            links.append((link_title[:80], link_url))
    for url in (image_url, *(url for _, url in links)):
        if url and not _is_https(url):
            problems.append(("bad_url", {"url": url[:80]}))
    everyone = value["everyone"] == "true"
    units = tuple(code for code in value["units"].split(",") if code)
    upns = tuple(dict.fromkeys(part for part in re.split(r"[\s,;]+", value["upns"]) if part))
    wave_parts = [part for part in value["waves"].split(",") if part]
    waves = tuple(wave for wave in map(payload_int, wave_parts) if wave is not None)
    if len(waves) != len(wave_parts):
        problems.append(("unknown_wave", {}))
    if not (everyone or units or waves or upns):
        problems.append(("no_audience", {}))
    known_waves = set(
        await session.scalars(select(RolloutWave.id).where(RolloutWave.id.in_(waves)))
    )
    if len(known_waves) != len(set(waves)):
        problems.append(("unknown_wave", {}))
    known_units = set(await session.scalars(select(Unit.code).where(Unit.code.in_(units))))
    problems += [("unknown_unit", {"unit": code}) for code in units if code not in known_units]
    if len(upns) > MAX_UPNS:
        problems.append(("too_many_upns", {"count": MAX_UPNS}))
    malformed = [upn for upn in upns if not _UPN.match(upn)]
    problems += [("bad_upn", {"upn": upn[:80]}) for upn in malformed[:5]]
    found = await _aad_by_upn(session, upns)
    unknown = [upn for upn in upns if upn.casefold() not in found and upn not in malformed]
    problems += [("unknown_upn", {"upn": upn[:80]}) for upn in unknown[:5]]
    send_at, readable = _send_at(value["send_date"], value["send_time"])
    if not readable:
        problems.append(("bad_time", {}))
    elif send_at is not None and send_at <= now:
        problems.append(("time_passed", {}))
    ask_receipt = value["receipt"] == "true"
    remind_after_days = None
    if value["remind_days"].strip():
        remind_after_days = payload_int(value["remind_days"].strip())
        if remind_after_days is None or remind_after_days > MAX_REMIND_DAYS:
            problems.append(("bad_remind_days", {"count": MAX_REMIND_DAYS}))
        elif not ask_receipt:
            problems.append(("remind_without_receipt", {}))
    if problems:
        return Reading(None, problems)
    return Reading(
        Draft(
            title_fi=title_fi,
            text_fi=text_fi,
            title_en=title_en,
            text_en=text_en,
            image_url=image_url,
            links=tuple(links),
            everyone=everyone,
            units=units,
            waves=waves,
            upns=upns,
            send_at=send_at,
            ask_receipt=ask_receipt,
            remind_after_days=remind_after_days,
        )
    )


async def recipients(*, session: AsyncSession, draft: Draft) -> list[str]:
    """Everyone the audience names who is in the directory and still in the city's service,
    each once (someone who only ever chatted with the bot is not in the directory)."""
    active = (
        Employee.account_enabled.is_(True),
        Employee.left_at.is_(None),
        Employee.user_principal_name.is_not(None),
    )
    chosen: dict[str, None] = {}
    if draft.everyone:
        chosen.update(
            dict.fromkeys(await session.scalars(select(Employee.aad_object_id).where(*active)))
        )
    if draft.units:
        in_units = select(Employee.aad_object_id).where(
            Employee.unit_code.in_(draft.units), *active
        )
        chosen.update(dict.fromkeys(await session.scalars(in_units)))
    if draft.waves:
        wave_units = select(RolloutWaveUnit.unit_code).where(
            RolloutWaveUnit.wave_id.in_(draft.waves)
        )
        in_waves = select(Employee.aad_object_id).where(Employee.unit_code.in_(wave_units), *active)
        chosen.update(dict.fromkeys(await session.scalars(in_waves)))
    if draft.upns:
        found = await _aad_by_upn(session, draft.upns, active_only=True)
        chosen.update(dict.fromkeys(found.values()))
    return list(chosen)


async def send(
    *, session: AsyncSession, draft: Draft, token: str, author: str, now: datetime
) -> tuple[int, int]:
    """The campaign for this preview (created once, however often Send is pressed) and how many
    people it will reach."""
    people = await recipients(session=session, draft=draft)
    campaign = await outbox.create_campaign(
        session=session,
        key=f"{ANNOUNCEMENT}-{token}",
        kind=ANNOUNCEMENT,
        title=draft.title_fi[:200],
        payload=draft.payload(),
        created_by=author,
        not_before=draft.send_at,
        now=now,
    )
    await outbox.top_up(session=session, campaign=campaign, recipients=people, now=now)
    return campaign.id, len(people)


async def save_draft(
    *,
    session: AsyncSession,
    form: dict[str, str],
    author: str,
    now: datetime,
    draft_id: int | None = None,
) -> int:
    """Keeps the form as it is, complete or not; saving an open draft again updates it."""
    draft = await session.get(AnnouncementDraft, draft_id) if draft_id else None
    if draft is None:
        draft = AnnouncementDraft(author=author)
        session.add(draft)
    draft.form = {key: form[key] for key in FORM_FIELDS if key in form}
    draft.title = clean(form.get("title_fi", ""))[:200]
    draft.author, draft.updated_at = author, now
    await session.flush()
    return draft.id


async def drafts(*, session: AsyncSession) -> list[AnnouncementDraft]:
    return list(
        await session.scalars(
            select(AnnouncementDraft).order_by(AnnouncementDraft.updated_at.desc())
        )
    )


async def draft_form(*, session: AsyncSession, draft_id: int) -> dict[str, str] | None:
    draft = await session.get(AnnouncementDraft, draft_id)
    return {key: str(value) for key, value in draft.form.items()} if draft else None


async def delete_draft(*, session: AsyncSession, draft_id: int) -> bool:
    draft = await session.get(AnnouncementDraft, draft_id)
    if draft is None:
        return False
    await session.delete(draft)
    return True


def links_of(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The link buttons a sent announcement carries (checked when it was sent)."""
    links = payload.get("links")
    if not isinstance(links, list):
        return []
    return [
        (str(link[0]), str(link[1])) for link in links if isinstance(link, list) and len(link) == 2
    ]


def content_for(payload: dict[str, Any], language: str) -> tuple[str, str]:
    """The title and text a recipient reads: English if they read English and it was written."""
    if language == "en" and payload.get("title_en") and payload.get("text_en"):
        return str(payload["title_en"]), str(payload["text_en"])
    return str(payload.get("title_fi", "")), str(payload.get("text_fi", ""))


FORM_FIELDS = (
    "title_fi",
    "text_fi",
    "title_en",
    "text_en",
    "image_url",
    "link_title",
    "link_url",
    "link2_title",
    "link2_url",
    "everyone",
    "units",
    "waves",
    "upns",
    "send_date",
    "send_time",
    "receipt",
    "remind_days",
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_https(url: str) -> bool:
    return url.startswith("https://") and len(url) <= MAX_URL and not re.search(r"[\s<>\"]", url)


def _send_at(day: str, clock: str) -> tuple[datetime | None, bool]:
    """(None for now, or a moment in Helsinki time; whether the fields could be read)."""
    if not day.strip() and not clock.strip():
        return None, True
    try:
        moment = datetime.fromisoformat(f"{day.strip()}T{(clock.strip() or '08:00')}")
    except ValueError:
        return None, False
    return moment.replace(tzinfo=HELSINKI), True


async def _aad_by_upn(
    session: AsyncSession, upns: tuple[str, ...], *, active_only: bool = False
) -> dict[str, str]:
    if not upns:
        return {}
    query = select(Employee.user_principal_name, Employee.aad_object_id).where(
        func.lower(Employee.user_principal_name).in_([upn.casefold() for upn in upns])
    )
    if active_only:
        query = query.where(Employee.account_enabled.is_(True), Employee.left_at.is_(None))
    rows = (await session.execute(query)).all()
    return {str(upn).casefold(): aad for upn, aad in rows if upn}


@dataclass(frozen=True)
class SentAnnouncement:
    """An announcement as its recipients get it, in both languages as written; `campaign_id`
    is the announcement's own, which its "acknowledge" button names."""

    payload: dict[str, Any]
    campaign_id: int | None = None
    acknowledged_at: datetime | None = None
    reminder: bool = False  # sent again to someone who has not acknowledged it

    @property
    def asks_receipt(self) -> bool:
        return bool(self.payload.get("ask_receipt")) and self.campaign_id is not None

    def content(self, language: str) -> tuple[str, str]:
        """The title and text in the recipient's language (see content_for)."""
        return content_for(self.payload, language)

    @property
    def image_url(self) -> str:
        return str(self.payload.get("image_url") or "")

    @property
    def links(self) -> list[tuple[str, str]]:
        return links_of(self.payload)


async def announcement_to_tell(
    session: AsyncSession, outgoing: Outgoing, now: datetime
) -> SentAnnouncement:
    """An announcement travels whole in its outbox row: nothing to read, nothing goes stale."""
    return SentAnnouncement(outgoing.payload, outgoing.campaign_id)

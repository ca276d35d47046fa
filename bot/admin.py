"""ICT's commands in the chat: rollout waves and campaign reports, for the admin role only.

The role is checked on every action, not only when a form is shown: a copied card payload from
someone else's chat reaches the same check.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cards.admin import UnitOption, WaveLine, campaigns_card, waves_card
from bot.clock import Clock
from bot.deductions.service import LIFE_EVENT
from bot.directory.service import all_units
from bot.i18n import Texts
from bot.notifications.outbox import list_campaigns
from bot.rollout.service import WaveError, all_waves, schedule_wave

log = logging.getLogger(__name__)

Card = dict[str, Any]


class AdminDesk:
    """What the admin commands read and change, one short transaction per action."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, admins: frozenset[str]
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._admins = admins

    def allows(self, aad_object_id: str | None) -> bool:
        allowed = aad_object_id is not None and aad_object_id in self._admins
        if not allowed:
            log.warning("refused an admin action by %s", aad_object_id or "an unknown sender")
        return allowed

    async def waves(self, t: Texts, *, notice: str | None = None) -> Card:
        async with self._sessions() as session:
            return await self._waves_card(session, t, notice=notice)

    async def schedule(self, t: Texts, value: dict[str, Any], *, author: str) -> Card:
        """Schedules the wave the form describes, or shows its problems; saves all or none."""
        name = str(value.get("name") or "").strip()
        units = [unquote(code) for code in str(value.get("units") or "").split(",") if code]
        opens, closes = _date(value.get("opens")), _date(value.get("closes"))
        async with self._sessions() as session, session.begin():
            if opens is None or closes is None:
                return await self._waves_card(session, t, problems=[t("admin.bad_date")])
            try:
                wave = await schedule_wave(
                    session=session, name=name, opens_on=opens, closes_on=closes, unit_codes=units
                )
            except WaveError as error:
                problems = [t(f"wave_problem.{key}", **values) for key, values in error.problems]
                return await self._waves_card(session, t, problems=problems)
            log.info("wave %s scheduled by %s", wave.id, author)
            notice = t(
                "admin.scheduled", name=wave.name, opens=t.date(opens), closes=t.date(closes)
            )
            return await self._waves_card(session, t, notice=notice)

    async def campaigns(self, t: Texts) -> Card:
        """The newest campaigns ICT runs; each life event's one-person campaign would crowd it."""
        async with self._sessions() as session:
            reports = await list_campaigns(session=session, limit=10, except_kinds=[LIFE_EVENT])
        return campaigns_card(t, reports, self._clock())

    async def _waves_card(
        self,
        session: AsyncSession,
        t: Texts,
        *,
        notice: str | None = None,
        problems: list[str] | None = None,
    ) -> Card:
        waves = [
            WaveLine(wave.name, wave.opens_on, wave.closes_on, units)
            for wave, units in await all_waves(session=session)
        ]
        units = [
            UnitOption(unit.code, unit.name_en if t.language == "en" else unit.name_fi)
            for unit in await all_units(session=session)
        ]
        return waves_card(t, waves, units, notice=notice, problems=problems)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None

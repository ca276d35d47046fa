"""Unit rollout waves: scheduling a unit's choice window and listing them."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from typing import TYPE_CHECKING

from bot.cli.common import open_session
from bot.settings import Settings

if TYPE_CHECKING:
    pass


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    rollout = commands.add_parser("rollout", help="unit rollout waves").add_subparsers(
        title="rollout commands"
    )
    schedule = rollout.add_parser("schedule", help="open units' choice window on given dates")
    schedule.add_argument("--name", required=True)
    schedule.add_argument("--opens", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    schedule.add_argument("--closes", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    schedule.add_argument("units", nargs="+", metavar="UNIT_CODE")
    schedule.set_defaults(run=_rollout_schedule)
    rollout.add_parser("list", help="every wave with its units").set_defaults(run=_rollout_list)


def _rollout_schedule(args: argparse.Namespace, settings: Settings) -> int:
    from bot.rollout.service import WaveError, schedule_wave

    async def run() -> int:
        async with open_session(settings) as session, session.begin():
            wave = await schedule_wave(
                session=session,
                name=args.name,
                opens_on=args.opens,
                closes_on=args.closes,
                unit_codes=args.units,
            )
            return wave.id

    try:
        wave_id = asyncio.run(run())
    except WaveError as error:
        print(f"phonebot: aaltoa ei tallennettu: {error}", file=sys.stderr)
        return 1
    print(f"aalto {wave_id} tallennettu: {', '.join(args.units)} {args.opens}–{args.closes}")
    return 0


def _rollout_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
    from bot.rollout.service import all_waves

    async def run() -> list[str]:
        async with open_session(settings) as session:
            t = cli_texts()
            return [
                f"{wave.id}: {wave.name} {t.date(wave.opens_on)}–{t.date(wave.closes_on)}: "
                f"{', '.join(units)}"
                for wave, units in await all_waves(session=session)
            ]

    lines = asyncio.run(run())
    print("\n".join(lines) if lines else "ei aaltoja: kaikki voivat valita heti")
    return 0

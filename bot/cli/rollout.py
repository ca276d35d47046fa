"""Unit rollout waves: scheduling a unit's choice window and listing them."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

from bot.cli.common import open_session, refusal_text, say
from bot.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    rollout = commands.add_parser("rollout", help=say("cli.rollout.help.rollout")).add_subparsers(
        title=say("cli.help.commands")
    )
    schedule = rollout.add_parser("schedule", help=say("cli.rollout.help.schedule"))
    schedule.add_argument("--name", required=True, metavar=say("cli.metavar.name"))
    day = say("cli.metavar.date")
    schedule.add_argument(
        "--opens",
        required=True,
        type=date.fromisoformat,
        metavar=day,
        help=say("cli.rollout.help.opens"),
    )
    schedule.add_argument(
        "--closes",
        required=True,
        type=date.fromisoformat,
        metavar=day,
        help=say("cli.rollout.help.closes"),
    )
    schedule.add_argument("units", nargs="+", metavar=say("cli.metavar.unit"))
    schedule.set_defaults(run=_rollout_schedule)
    waves = rollout.add_parser("list", help=say("cli.rollout.help.list"))
    waves.set_defaults(run=_rollout_list)


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
        print(say("cli.rollout.not_saved", error=refusal_text(error)), file=sys.stderr)
        return 1
    print(
        say(
            "cli.rollout.saved",
            wave=str(wave_id),
            units=", ".join(args.units),
            opens=args.opens.isoformat(),
            closes=args.closes.isoformat(),
        )
    )
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
    print("\n".join(lines) if lines else say("cli.rollout.no_waves"))
    return 0

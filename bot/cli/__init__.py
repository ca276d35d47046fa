"""The `phonebot` command: each area's commands are registered by its module, next to their
handlers (serve, demo, database, catalog, choices, payroll, rollout, directory, campaigns,
tickets, manifest, FAQ, privacy and audit)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.cli import (
    campaigns,
    catalog,
    choices,
    directory,
    doctor,
    faq,
    manifest,
    payroll,
    privacy,
    rollout,
    server,
    tickets,
)
from bot.cli.common import say
from bot.cli.words import CommandParser
from bot.settings import Settings
from bot.telemetry.correlation import begin
from bot.telemetry.log_format import configure_logging


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        settings = Settings()
    except ValidationError as error:
        print(say("cli.configuration_error", error=_one_line(error)), file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    begin()  # one id for the command's own lines; the server's turns and jobs get their own
    return int(args.run(args, settings) or 0)


def _one_line(error: ValidationError) -> str:
    """Each problem as `VARIABLE: reason`, on one line, without pydantic's links."""
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"])
        reason = str(problem["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {reason}" if where else reason)
    return "; ".join(problems)


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="phonebot", description=say("cli.help.description"))
    commands = parser.add_subparsers(title=say("cli.help.commands"))
    for area in (
        server,
        catalog,
        choices,
        payroll,
        rollout,
        directory,
        campaigns,
        tickets,
        manifest,
        faq,
        privacy,
        doctor,
    ):
        area.register(commands)
    return parser

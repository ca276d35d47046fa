"""`phonebot doctor`: a production configuration checked before it goes live."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from bot.cli.common import open_engine, say
from bot.settings import SERVE_REFUSAL_CATALOG, Settings

if TYPE_CHECKING:
    from bot.doctor import Finding


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its command, with the handler below."""
    doctor = commands.add_parser("doctor", help=say("cli.doctor.help"))
    doctor.set_defaults(run=_doctor)


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from bot.doctor import Doctor, healthy

    async def examine() -> list[Finding]:
        async with open_engine(settings) as engine:
            return await Doctor(settings, engine).examine()

    findings = asyncio.run(examine())
    for finding in findings:
        print(worded(finding))
    print(say("cli.doctor.healthy" if healthy(findings) else "cli.doctor.unhealthy"))
    return 0 if healthy(findings) else 1


def worded(finding: Finding) -> str:
    """One finding in the commands' language: its mark and words, and the fix when wrong."""
    from bot.doctor import Status

    mark = say(f"cli.doctor.mark.{finding.status}")
    values = _worded_values(finding.values)
    key = f"cli.doctor.{finding.key}"
    if finding.status in (Status.OK, Status.NOT_CHECKED):
        return f"{mark} {say(key, **values)}"
    fix = say("cli.doctor.fix", fix=say(f"{key}.fix", **values))
    return f"{mark} {say(f'{key}.text', **values)}\n    {fix}"


def _worded_values(values: dict[str, Any]) -> dict[str, Any]:
    from bot.refusal import Reason

    worded = dict(values)
    reason = worded.get("reason")
    if isinstance(reason, Reason):
        worded["reason"] = say(f"{SERVE_REFUSAL_CATALOG}.{reason.key}", **reason.values)
    if "where" in worded:
        worded["where"] = ", ".join(
            say(f"cli.doctor.telemetry.where.{place}", url=worded.get("url", ""))
            for place in worded["where"]
        )
    if "kind" in worded:
        worded["kind"] = say(f"cli.doctor.kind.{worded['kind']}")
    return worded

"""The Teams app package."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.common import say
from bot.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    manifest = commands.add_parser(
        "manifest", help=say("cli.manifest.help.manifest")
    ).add_subparsers(title=say("cli.help.commands"))
    build = manifest.add_parser("build", help=say("cli.manifest.help.build"))
    build.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("puhelinbotti.zip"),
        metavar=say("cli.metavar.file"),
        help=say("cli.manifest.help.output"),
    )
    build.set_defaults(run=_manifest_build)


def _manifest_build(args: argparse.Namespace, settings: Settings) -> int:
    from bot.manifest import build_package

    path = build_package(settings, args.output)
    print(say("cli.package_written", path=str(path)))
    return 0

"""argparse in the commands' language: its own words ("usage:", "options", -h) from the catalog."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

from bot.cli.common import say


class CatalogHelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, with the usage line's "usage:" from the catalog."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        """argparse passes no prefix for the usage line (and '' when it builds a subcommand's
        name), so only a missing one is replaced."""
        if prefix is None:
            prefix = f"{say('cli.help.usage')} "
        super().add_usage(usage, actions, groups, prefix)


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose headings, -h text and complaints come from the catalog; its
    subcommands' parsers are made of this class too (argparse reuses the parent's class)."""

    def __init__(self, *, add_help: bool = True, **options: Any) -> None:
        options.setdefault("formatter_class", CatalogHelpFormatter)
        super().__init__(add_help=False, **options)
        self._positionals.title = say("cli.help.positionals")
        self._optionals.title = say("cli.help.options")
        if add_help:
            self.add_argument("-h", "--help", action="help", help=say("cli.help.help"))

    def error(self, message: str) -> NoReturn:
        """The usage line, then argparse's complaint behind the catalog's words; exit code 2."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{say('cli.help.invalid', prog=self.prog, error=message)}\n")

"""FAQ matching from the command line, the questions report and the facts ICT confirms."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import read_once, refusal_text, say
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.faq.service import TopicFeedback, Unanswered


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    faq = commands.add_parser("faq", help=say("cli.faq.help.faq")).add_subparsers(
        title=say("cli.help.commands")
    )
    faq_match = faq.add_parser("match", help=say("cli.faq.help.match"))
    faq_match.add_argument("--json", action="store_true", help=say("cli.faq.help.json"))
    faq_match.set_defaults(run=_faq_match)
    faq_report = faq.add_parser("report", help=say("cli.faq.help.report"))
    faq_report.add_argument("--limit", type=int, default=50, metavar=say("cli.metavar.limit"))
    faq_report.set_defaults(run=_faq_report)
    faq_facts = faq.add_parser("facts", help=say("cli.faq.help.facts"))
    faq_facts.add_argument(
        "--file", type=Path, metavar=say("cli.metavar.file"), help=say("cli.faq.help.file")
    )
    faq_facts.set_defaults(run=_faq_facts)


def _faq_match(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from bot.faq.matcher import default_matcher

    matcher = default_matcher()
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        match = matcher.match(question)
        if args.json:
            print(json.dumps(match.as_json(), ensure_ascii=False), flush=True)
        else:
            print(
                f"{match.band:<7} {match.score:.2f} {match.language} "
                f"{match.topic_id or '-'}: {question}",
                flush=True,
            )
    return 0


def _faq_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
    from bot.faq.service import feedback_report, unanswered_report

    async def read(session: AsyncSession) -> tuple[list[Unanswered], list[TopicFeedback]]:
        unanswered = await unanswered_report(session=session, limit=args.limit)
        return unanswered, await feedback_report(session=session)

    unanswered, feedback = asyncio.run(read_once(settings, read))
    t = cli_texts()
    print(say("cli.faq.unanswered_heading"))
    if not unanswered:
        print(f"  {say('cli.faq.no_unanswered')}")
    for item in unanswered:
        shown = say("cli.faq.no_answer" if item.band == "unknown" else "cli.faq.only_suggestions")
        line = say(
            "cli.faq.unanswered_line",
            times=item.times,
            question=item.text,
            shown=shown,
            when=t.datetime(item.last_asked),
        )
        print(f"  {line}")
    print()
    print(say("cli.faq.feedback_heading"))
    if not feedback:
        print(f"  {say('cli.faq.no_feedback')}")
    for topic in feedback:
        print(f"  {topic.topic_id}: 👍 {topic.helpful}, 👎 {topic.not_helpful}")
    return 0


def _faq_facts(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
    from bot.faq import facts as program
    from bot.faq.topics import packaged_content
    from bot.i18n import check_fact_texts

    try:
        facts = program.read_facts(args.file) if args.file else program.program_facts()
        check_fact_texts(facts)
        packaged_content(facts)  # every answer's {fact:key} names a fact
    except program.FactsError as error:
        print(say("cli.faq.facts_broken", error=refusal_text(error)), file=sys.stderr)
        return 2
    t = cli_texts()
    confirmed = sum(fact.confirmed for fact in facts.facts)
    unconfirmed = len(facts.facts) - confirmed
    print(say("cli.faq.facts_summary", confirmed=confirmed, unconfirmed=unconfirmed))
    for fact in facts.facts:
        if fact.confirmed and fact.confirmed_on:
            status = say(
                "cli.faq.fact_confirmed", by=fact.confirmed_by, on=t.date(fact.confirmed_on)
            )
        else:
            status = say("cli.faq.fact_unconfirmed")
        print(f"\n{fact.key} — {status}")
        for language in program.LANGUAGES:
            print(f"  {language}: {fact.statement[language]}")
    return 0

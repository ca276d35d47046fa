"""FAQ matching from the command line, the questions report and the facts ICT confirms."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import read_once
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.faq.service import TopicFeedback, Unanswered


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    faq = commands.add_parser("faq", help="FAQ matching").add_subparsers(title="faq commands")
    faq_match = faq.add_parser(
        "match", help="match questions from standard input, one per line, as the bot does"
    )
    faq_match.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per line: {"question", "id", "score", "lang", "band", "candidates"}',
    )
    faq_match.set_defaults(run=_faq_match)
    faq_report = faq.add_parser(
        "report", help="what people asked that the bot could not answer, and 👍/👎 per topic"
    )
    faq_report.add_argument("--limit", type=int, default=50)
    faq_report.set_defaults(run=_faq_report)
    faq_facts = faq.add_parser(
        "facts",
        help="the program facts ICT confirms: status, who confirmed and when, the statement; "
        "exits 2 if facts.yaml or a text referring to it is broken",
    )
    faq_facts.add_argument(
        "--file", type=Path, help="check and list this facts.yaml instead of the packaged one"
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
    print("Kysymykset, joihin botti ei osannut vastata (useimmin kysytyt ensin):")
    if not unanswered:
        print("  ei yhtään")
    for item in unanswered:
        shown = "ei vastausta" if item.band == "unknown" else "vain ehdotuksia"
        print(f"  {item.times} × {item.text}  ({shown}, viimeksi {t.datetime(item.last_asked)})")
    print("\nPalaute vastauksista (eniten 👎 ensin):")
    if not feedback:
        print("  ei palautetta")
    for topic in feedback:
        print(f"  {topic.topic_id}: 👍 {topic.helpful}, 👎 {topic.not_helpful}")
    return 0


def _faq_facts(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
    from bot.faq import facts as program
    from bot.faq.topics import packaged_content
    from bot.i18n import check_fact_texts

    try:
        if args.file:
            facts = program.load_facts(args.file.read_text(encoding="utf-8"))
        else:
            facts = program.program_facts()
        check_fact_texts(facts)
        packaged_content(facts)  # every answer's {fact:key} names a fact
    except (OSError, program.FactsError) as error:
        print(f"phonebot faq facts: {error}", file=sys.stderr)
        return 2
    t = cli_texts()
    confirmed = sum(fact.confirmed for fact in facts.facts)
    print(f"Ohjelman tiedot: {confirmed} vahvistettu, {len(facts.facts) - confirmed} vahvistamatta")
    for fact in facts.facts:
        if fact.confirmed and fact.confirmed_on:
            status = f"vahvistettu: {fact.confirmed_by}, {t.date(fact.confirmed_on)}"
        else:
            status = "vahvistamatta (botti kertoo, että ICT vahvistaa tämän vielä)"
        print(f"\n{fact.key} — {status}")
        for language in program.LANGUAGES:
            print(f"  {language}: {fact.statement[language]}")
    return 0

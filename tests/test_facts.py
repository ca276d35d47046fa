"""Only confirmed facts: facts.yaml is checked strictly, texts refer to facts and never state an
unconfirmed one, and ICT sees every fact's status with `phonebot faq facts`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.faq import facts as program
from bot.faq.facts import FactsError, ProgramFacts, load_facts, parse_facts
from bot.faq.topics import LANGUAGES as TOPIC_LANGUAGES
from bot.i18n import SUPPORTED_LANGUAGES, Texts, catalog_entry, catalog_keys, check_fact_texts
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest, running_bot
from tests.support.cards import all_text, buttons
from tests.support.facts import (
    CONFIRMED_BY,
    all_unconfirmed,
    content_with,
    packaged,
    use_facts,
    with_confirmed,
)

DAY = date(2026, 5, 4)
PORI_FREE_FI = "Pori-puhelin ei maksa sinulle mitään, eikä siitä vähennetä palkastasi mitään."
PORI_PENDING_FI = "ICT vahvistaa vielä, onko Pori-puhelin sinulle maksuton."
PORI_PENDING_EN = "ICT has yet to confirm whether the Pori-phone is free of charge for you."

# What the texts said before #16 item 5, stated as fact: none may come back while unconfirmed.
STATED_OUTRIGHT = re.compile(
    "|".join(
        [
            r"maksut(on|toman|ta)\b[^.]{0,40}Pori",
            r"Pori-puhelin(, joka)? on maksuton",
            r"Se ei maksa sinulle mitään, eikä palkastasi",
            r"pysyy (aina )?kaupungin omaisuutena",
            r"kahden kuukauden kuluttua",
            r"kahden SIM-kortin puhelimia",
            r"kuuluvat takuu",
            r"rikosilmoitus",
            r"saman työpäivän",
            r"sähköpostiisi",
            r"toimitetaan työpaikallesi",
            r"viimeinen vähennys siirty",
            r"rajaton data",
            r"saa käyttää myös kotona",
            r"bruttopalkasta(si)?\b(?! vai)",
            r"sisältävät arvonlisäveron",
            r"automaattisesti viimeisen",
            r"free,? (work-only )?Pori-phone",
            r"Pori-phone[^.]*(costs you nothing|free of charge)\.",
            r"(remains|stays) the city's property",
            r"two months after",
            r"phones are dual-SIM",
            r"the police",
            r"spare devices [^.]*come with the program",
            r"same working day",
            r"credentials [^.]*by email",
            r"delivered to your workplace",
            r"last deduction has therefore moved",
            r"unlimited data",
            r"avgiftsfria? Pori",
            r"förblir stadens egendom",
            r"samma arbetsdag",
            r"polisanmälan",
            r"till din arbetsplats",
            r"per e-post",
        ]
    ),
    re.IGNORECASE,
)


def good_entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "key": "pori_phone_free",
        "status": "unconfirmed",
        "statement": {"fi": "Ilmainen.", "en": "Free.", "sv": "Gratis."},
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


def data_with(entry: dict[str, object]) -> dict[str, object]:
    """The packaged facts with the first one replaced by `entry`."""
    facts = yaml.safe_load(facts_file_text())["facts"]
    return {"facts": [entry, *facts[1:]]}


def facts_file_text() -> str:
    return resources.files("bot.faq.content").joinpath("facts.yaml").read_text(encoding="utf-8")


# The loader


def test_the_packaged_facts_load_and_the_catalogs_say_ict_will_confirm_each():
    facts = load_facts(facts_file_text())
    assert len(facts.facts) >= 15
    check_fact_texts(facts)
    for fact in facts.facts:
        assert set(fact.statement) == {"fi", "en", "sv"}
        for language in SUPPORTED_LANGUAGES:
            pending = catalog_entry(language, f"facts.unconfirmed.{fact.key}")
            assert isinstance(pending, str) and pending.endswith("."), (language, fact.key)


def test_a_good_entry_parses_with_who_and_when():
    facts = parse_facts(
        data_with(good_entry(status="confirmed", confirmed_by="Iida ICT", confirmed_on=DAY))
    )
    fact = facts.fact("pori_phone_free")
    assert fact.confirmed and (fact.confirmed_by, fact.confirmed_on) == ("Iida ICT", DAY)
    assert fact.statement["sv"] == "Gratis."


# (entry, its problem's key, what the operator reads in English when the start-up fails on it)
BROKEN_ENTRIES = [
    (good_entry(statu="confirmed"), "unknown_field", "fact pori_phone_free: unknown field statu"),
    (
        good_entry(status="yes"),
        "bad_status",
        "status must be unconfirmed or confirmed, not 'yes'",
    ),
    (good_entry(status=None), "bad_status", "status must be unconfirmed or confirmed, not None"),
    (
        good_entry(statement={"fi": "Ilmainen.", "en": "Free."}),
        "statement_missing",
        "fact pori_phone_free: statement has no sv text",
    ),
    (
        good_entry(statement={"fi": "Ilmainen.", "en": "Free.", "sv": "Gratis.", "de": "X"}),
        "statement_unknown_language",
        "statement has an unknown language de",
    ),
    (
        good_entry(statement="Ilmainen."),
        "statement_not_mapping",
        "statement needs a text for each of fi, en, sv",
    ),
    (
        good_entry(statement={"fi": "Hinta {price}.", "en": "Free.", "sv": "Gratis."}),
        "statement_braces",
        "the fi statement may not contain { or }",
    ),
    (
        good_entry(status="confirmed"),
        "needs_confirmed_by",
        "a confirmed fact needs confirmed_by",
    ),
    (
        good_entry(status="confirmed", confirmed_by="Iida ICT", confirmed_on="eilen"),
        "needs_confirmed_on",
        "a confirmed fact needs confirmed_on as a date",
    ),
    (
        good_entry(confirmed_by="Iida ICT"),
        "confirmation_without_status",
        "confirmed_by/confirmed_on given but status is unconfirmed",
    ),
    (good_entry(key="Pori Free"), "bad_key", "entry 1 needs a key of a-z, 0-9 and _"),
    (
        good_entry(key="first_deduction_timing"),
        "repeated",
        "first_deduction_timing appears more than once",
    ),
]


@pytest.mark.parametrize(("entry", "key", "message"), BROKEN_ENTRIES)
def test_a_broken_entry_is_a_clear_error(entry, key, message):
    with pytest.raises(FactsError) as raised:
        parse_facts(data_with(entry))
    assert raised.value.reason == key
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("facts: [", "not_yaml_at", "facts.yaml is not valid YAML (line 1, column 9)"),
        ("facts: \x07", "not_yaml", "facts.yaml is not valid YAML"),
        ("- key: x", "not_one_list", "facts.yaml must hold exactly one list, `facts:`"),
        ("facts: []\nextra: 1", "not_one_list", "facts.yaml must hold exactly one list, `facts:`"),
        ("facts: [x]", "entry_not_mapping", "facts.yaml: entry 1 is not a mapping"),
        (
            "facts: []",
            "missing_named",
            "first_deduction_timing, missed_deduction_moves_end is missing",
        ),
    ],
)
def test_a_broken_file_is_a_clear_error(text, key, message):
    with pytest.raises(FactsError) as raised:
        load_facts(text)
    assert raised.value.reason == key
    assert message in str(raised.value)


def test_a_text_naming_an_unknown_fact_or_a_fact_without_its_ict_will_confirm_text_fails():
    with pytest.raises(FactsError, match="unknown fact 'no_such_fact'"):
        packaged().render("{fact:no_such_fact}", "fi", lambda key: key)
    fewer = ProgramFacts(tuple(fact for fact in packaged().facts if fact.key != "dual_sim"))
    with pytest.raises(FactsError) as raised:
        check_fact_texts(fewer)
    assert str(raised.value) == "fi.yaml facts.unconfirmed: missing -, unknown dual_sim"


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("facts.unconfirmed.dual_sim", "ICT {vahvistaa}.", "fi.yaml facts.unconfirmed.dual_sim"),
        ("menu.title", "{fact:no_such_fact}", "names an unknown fact 'no_such_fact'"),
    ],
)
def test_a_catalog_text_that_breaks_the_facts_is_a_clear_error(monkeypatch, key, text, message):
    from bot import i18n

    catalog = i18n._catalog

    def edited(language: str) -> dict[str, object]:
        if language != "fi":
            return catalog(language)
        changed = yaml.safe_load(yaml.safe_dump(catalog("fi")))
        section, name = key.rsplit(".", 1)
        node = changed
        for part in section.split("."):
            node = node[part]
        node[name] = text
        return changed

    monkeypatch.setattr(i18n, "_catalog", edited)
    with pytest.raises(FactsError) as raised:
        check_fact_texts(packaged())
    assert message in str(raised.value)


def test_start_up_fails_closed_on_a_broken_facts_file_and_says_what_is_wrong(monkeypatch):
    from bot import i18n

    def broken() -> ProgramFacts:
        return load_facts("facts: [")

    monkeypatch.setattr(program, "program_facts", broken)
    with pytest.raises(FactsError) as raised:
        i18n.load_catalogs()
    # What a failed start-up shows the operator: the problem in English, with where it is.
    assert str(raised.value) == "facts.yaml is not valid YAML (line 1, column 9)"
    assert raised.value.problems == [("not_yaml_at", {"line": 1, "column": 9})]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(("entry", "key", "message"), BROKEN_ENTRIES)
def test_every_facts_problem_is_worded_with_its_values_in_every_language(
    language, entry, key, message
):
    with pytest.raises(FactsError) as raised:
        parse_facts(data_with(entry))
    worded = raised.value.worded(Texts(language))
    assert worded.startswith("facts.yaml") and key not in worded
    for value in raised.value.reasons[0].values.values():
        assert str(value) in worded


# Rendering both ways


@pytest.mark.parametrize(
    ("language", "pending", "statement"),
    [
        ("fi", PORI_PENDING_FI, PORI_FREE_FI),
        ("en", PORI_PENDING_EN, "The Pori-phone costs you nothing"),
    ],
)
def test_a_fact_renders_as_ict_will_confirm_until_confirmed(language, pending, statement):
    unconfirmed = Texts(language, all_unconfirmed())
    confirmed = Texts(language, with_confirmed("pori_phone_free"))
    assert unconfirmed.fact("pori_phone_free") == pending
    assert confirmed.fact("pori_phone_free").startswith(statement)
    assert pending in unconfirmed("phone.pori_text")
    assert statement in confirmed("phone.pori_text")
    assert "{fact:" not in unconfirmed("phone.pori_confirm_text") + confirmed(
        "deductions.pori_phone"
    )


@pytest.mark.parametrize(
    ("language", "pending", "statement"),
    [
        ("fi", PORI_PENDING_FI, PORI_FREE_FI),
        ("en", PORI_PENDING_EN, "The Pori-phone costs you nothing"),
    ],
)
def test_an_answer_says_ict_will_confirm_and_offers_the_helpdesk_until_confirmed(
    language, pending, statement
):
    unconfirmed = content_with(all_unconfirmed()).topic("pori-phone")
    assert pending in unconfirmed.text(language).answer
    assert unconfirmed.text(language).unconfirmed == ("pori_phone_free", "pori_phone_city_property")
    assert "helpdesk" in unconfirmed.follow_ups

    confirmed = content_with(with_confirmed()).topic("pori-phone")
    assert statement in confirmed.text(language).answer
    assert "ICT" not in confirmed.text(language).answer
    assert confirmed.text(language).unconfirmed == ()
    assert confirmed.follow_ups == ("choose_phone",), "as topics.yaml has it"


def test_an_answer_reads_as_one_text_both_ways():
    for facts in (all_unconfirmed(), with_confirmed()):
        for topic in content_with(facts).topics:
            for language in TOPIC_LANGUAGES:
                answer = topic.text(language).answer
                assert "{" not in answer and "}" not in answer, topic.id
                assert "  " not in answer and ". ." not in answer, (topic.id, answer)


# No text states an unconfirmed fact


def rendered_texts(facts: ProgramFacts) -> Iterator[tuple[str, str]]:
    """(where, text) for every topic answer and every catalog text, rendered with the facts."""
    for topic in content_with(facts).topics:
        for language in TOPIC_LANGUAGES:
            yield f"{topic.id}:{language}", topic.text(language).answer
    for language in SUPPORTED_LANGUAGES:
        t = Texts(language, facts)
        for key in sorted(catalog_keys(language)):
            raw = catalog_entry(language, key)
            if isinstance(raw, str):
                yield f"{language}:{key}", t.with_facts(raw)


def test_no_answer_or_text_states_an_unconfirmed_fact():
    facts = all_unconfirmed()
    statements = [text for fact in facts.facts for text in fact.statement.values()]
    for where, text in rendered_texts(facts):
        for statement in statements:
            assert statement not in text, where
        stated = STATED_OUTRIGHT.search(text)
        assert stated is None, f"{where} states {stated.group(0)!r}: {text}"


@pytest.mark.parametrize("key", [fact.key for fact in program.program_facts().facts])
def test_each_fact_once_confirmed_is_said_somewhere(key):
    facts = with_confirmed(key)
    statements = facts.fact(key).statement.values()
    said = [where for where, text in rendered_texts(facts) if any(s in text for s in statements)]
    assert said, f"no answer or text refers to {key}"


def test_the_patterns_catch_what_the_texts_used_to_say():
    for old in [
        "Pori-puhelin on yksinkertainen puhelin. Se ei maksa sinulle mitään, eikä palkastasi "
        "vähennetä mitään.",
        "tai maksuttoman, vain työkäyttöön tarkoitetun Pori-puhelimen",
        "Ensimmäinen vähennys tehdään noin kahden kuukauden kuluttua valinnasta.",
        "yleensä saman työpäivän aikana",
        "or the free, work-only Pori-phone.",
        "Warranty, insurance, spare devices and a help desk come with the program",
        "and report a theft to the police.",
    ]:
        assert STATED_OUTRIGHT.search(old), old
    assert not STATED_OUTRIGHT.search(
        "Jos mallin hinta on enintään perusmallin hinta, puhelin ei maksa sinulle mitään."
    )


# The command ICT uses


def test_the_facts_command_lists_every_fact_with_its_status(monkeypatch, capsys):
    use_facts(monkeypatch, with_confirmed("pori_phone_free"))
    assert main(["faq", "facts"]) == 0
    out = capsys.readouterr().out
    count = len(packaged().facts)
    assert f"Ohjelman tiedot: 1 vahvistettu, {count - 1} vahvistamatta" in out
    assert f"pori_phone_free — vahvistettu: {CONFIRMED_BY}, 4.5.2026" in out
    assert f"  fi: {PORI_FREE_FI}" in out
    assert "  en: The Pori-phone costs you nothing" in out and "  sv: Pori-telefonen kostar" in out
    assert "dual_sim — vahvistamatta (botti kertoo, että ICT vahvistaa tämän vielä)" in out
    for fact in packaged().facts:
        assert f"\n{fact.key} — " in out


def test_the_facts_command_checks_an_edited_file_and_names_the_problem(tmp_path: Path, capsys):
    edited = tmp_path / "facts.yaml"
    edited.write_text(facts_file_text().replace("status: unconfirmed", "status: maybe", 1))
    assert main(["faq", "facts", "--file", str(edited)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "phonebot faq facts: facts.yaml: tieto pori_phone_free: tilan (status) pitää olla "
        "unconfirmed tai confirmed, ei 'maybe'"
    )
    edited.write_text(facts_file_text().replace("status: unconfirmed", "status: confirmed", 1))
    assert main(["faq", "facts", "--file", str(edited)]) == 2
    assert capsys.readouterr().err.strip() == (
        "phonebot faq facts: facts.yaml: tieto pori_phone_free: vahvistetulla tiedolla pitää "
        "olla confirmed_by (kuka ICT:ssä sen vahvisti)"
    )


def test_the_facts_command_says_when_the_file_cannot_be_read(tmp_path: Path, capsys):
    missing = tmp_path / "facts.yaml"
    assert main(["faq", "facts", "--file", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"phonebot faq facts: tiedostoa {missing} ei voi lukea: No such file or directory"
    )


# Through the bot


@pytest.fixture
async def unconfirmed_bot(engine, monkeypatch) -> AsyncIterator[BotUnderTest]:
    use_facts(monkeypatch, all_unconfirmed())
    async with running_bot(engine) as running:
        yield running


async def test_asking_if_the_pori_phone_is_free_gets_ict_will_confirm_and_the_helpdesk(
    unconfirmed_bot,
):
    user = TeamsUser.new("Maija Meikäläinen")
    await unconfirmed_bot.say(user, "hei")
    replies = await unconfirmed_bot.say(user, "onko Pori-puhelin ilmainen")
    text = all_text(replies)
    assert PORI_PENDING_FI in text
    assert PORI_FREE_FI not in text and "ei maksa sinulle mitään" not in text
    offered = buttons(replies)
    assert "Ota yhteyttä tukeen" in offered
    form = await unconfirmed_bot.press(user, offered["Ota yhteyttä tukeen"])
    assert "Mikä on Pori-puhelin?" in all_text(form), "the helpdesk sees what was answered"


async def test_english_asker_gets_the_english_ict_will_confirm(unconfirmed_bot):
    user = TeamsUser.new("James Walker", locale="en-US")
    await unconfirmed_bot.say(user, "hello")
    replies = await unconfirmed_bot.say(user, "Is the Pori-phone free?")
    assert PORI_PENDING_EN in all_text(replies)
    assert "Contact the helpdesk" in buttons(replies)


async def test_once_confirmed_the_bot_states_it(engine, monkeypatch):
    use_facts(monkeypatch, with_confirmed("pori_phone_free", "pori_phone_city_property"))
    user = TeamsUser.new("Maija Meikäläinen")
    async with running_bot(engine) as bot:
        await bot.say(user, "hei")
        replies = await bot.say(user, "onko Pori-puhelin ilmainen")
    text = all_text(replies)
    assert PORI_FREE_FI in text and "Pori-puhelin pysyy kaupungin omaisuutena." in text
    assert "ICT vahvistaa" not in text
    assert "Ota yhteyttä tukeen" not in buttons(replies)

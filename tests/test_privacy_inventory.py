"""The inventory of personal data covers every table and column, so nothing personal arrives
without a declared purpose, retention and readers."""

from __future__ import annotations

from bot.db.migrations.schema import Base
from bot.i18n import texts
from bot.privacy.inventory import BY_TABLE, HOLDINGS, Kind, kinds_held


def test_every_table_is_declared_once():
    tables = set(Base.metadata.tables)
    declared = [holding.table for holding in HOLDINGS]
    assert len(declared) == len(set(declared)), "a table is declared twice"
    assert tables - set(declared) == set(), "add these tables to bot/privacy/inventory.py"
    assert set(declared) - tables == set(), "the inventory names tables that do not exist"


def test_every_column_is_either_personal_or_not():
    for table in Base.metadata.sorted_tables:
        holding = BY_TABLE[table.name]
        columns = {column.name for column in table.columns}
        classified = [*holding.personal, *holding.other]
        assert len(classified) == len(set(classified)), f"{table.name}: a column twice"
        assert columns - set(classified) == set(), (
            f"{table.name}: say in bot/privacy/inventory.py whether these are personal"
        )
        assert set(classified) - columns == set(), f"{table.name}: no such columns"


def test_links_name_real_columns_and_show_only_the_tables_own():
    for holding in HOLDINGS:
        table = Base.metadata.tables[holding.table]
        if holding.personal and holding.table != "bot_state":
            assert holding.links, f"{holding.table}: personal data that no person is linked to"
        for link in holding.links:
            assert set(link.shows) <= set(table.columns.keys()), holding.table
            last = table
            for step in link.path:
                assert step.column in last.c
                last = Base.metadata.tables[step.parent]
                assert step.key in last.c
            assert link.column in last.c, holding.table


def test_personal_tables_are_not_filed_as_the_programs_own_facts():
    for holding in HOLDINGS:
        assert (holding.kind is Kind.PROGRAM) == (not holding.personal), holding.table


def test_every_kind_has_a_purpose_and_readers_in_every_language():
    for language in ("fi", "en", "sv"):
        words = texts(language)
        for kind in kinds_held():
            for part in ("name", "purpose", "readers"):
                key = f"privacy.kind.{kind}.{part}"
                assert words(key) != key, f"{language}: {key}"

"""Directory sync through the real msgraph-sdk client against the fake Graph, on both databases."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.graph.client import GraphDirectory, GraphError
from bot.adapters.graph.directory_sync import build_directory_sync, graph_directory, unit_mapping
from bot.adapters.graph.fake_graph import FakeGraph
from bot.background import repeat
from bot.cli import main
from bot.db import migrate
from bot.db.engine import create_session_factory
from bot.directory.models import DirectorySyncState, Employee, Unit
from bot.directory.service import choose_language, mark_welcomed, register_contact
from bot.directory.sync import (
    DirectoryChanges,
    DirectorySync,
    EmptyDirectory,
    SyncConflict,
    SyncReport,
    UnitMapping,
    UnitSource,
    read_department_map,
)
from bot.settings import Settings
from tests.support.clock import TEST_NOW as NOW

DIRECTORY_FIELDS = (
    "display_name",
    "user_principal_name",
    "employee_number",
    "department",
    "directory_language",
    "account_enabled",
    "unit_code",
    "left_at",
    "updated_at",
)


@dataclass
class Setup:
    graph: FakeGraph
    directory: GraphDirectory
    sessions: async_sessionmaker[AsyncSession]

    def sync(self, mapping: UnitMapping | None = None, **options: Any) -> DirectorySync:
        options.setdefault("clock", lambda: NOW)
        return DirectorySync(self.directory, self.sessions, mapping=mapping, **options)

    async def employees(self) -> dict[str, Employee]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Employee))
            return {row.aad_object_id: row for row in rows}

    async def employee(self, aad_object_id: str) -> Employee:
        async with self.sessions() as session:
            return await session.get_one(Employee, aad_object_id)

    async def state(self) -> DirectorySyncState:
        async with self.sessions() as session:
            return await session.get_one(DirectorySyncState, "graph")

    async def units(self) -> dict[str, Unit]:
        async with self.sessions() as session:
            return {unit.code: unit for unit in await session.scalars(select(Unit))}


@pytest.fixture
async def setup(engine: AsyncEngine) -> AsyncIterator[Setup]:
    async with FakeGraph() as graph:
        directory = GraphDirectory(base_url=graph.base_url, max_retries=3)
        try:
            yield Setup(graph, directory, create_session_factory(engine))
        finally:
            await directory.aclose()


def snapshot(employees: dict[str, Employee]) -> dict[str, tuple[Any, ...]]:
    return {
        aad_id: tuple(getattr(row, name) for name in DIRECTORY_FIELDS)
        for aad_id, row in employees.items()
    }


async def test_a_full_sync_stores_everyone_across_pages(setup):
    ids = setup.graph.add_synthetic_users(2500)

    report = await setup.sync().run()

    assert [request.path for request in setup.graph.requests] == [
        "/v1.0/users/delta()",
        *["/v1.0/users"] * 3,
    ]
    assert (report.full, report.seen, report.created, report.updated) == (True, 2500, 2500, 0)
    assert (report.left, report.disabled, report.units_created) == (0, 0, 5)
    employees = await setup.employees()
    assert set(employees) == set(ids)
    source = setup.graph.users[ids[9]]
    stored = employees[ids[9]]
    assert stored.display_name == source["displayName"]
    assert stored.user_principal_name == source["userPrincipalName"]
    assert stored.employee_number == source["employeeId"]
    assert stored.department == stored.unit_code == source["department"]
    assert stored.directory_language == "en-US"
    assert stored.account_enabled and stored.left_at is None
    assert stored.first_seen_at is None and stored.chosen_language is None
    state = await setup.state()
    assert state.delta_link and "$deltatoken=" in state.delta_link
    assert state.last_full_sync_at is not None and state.last_delta_sync_at is None
    assert state.last_counts == report.counts()


async def test_a_delta_sync_applies_exactly_the_changes(setup):
    ids = setup.graph.add_synthetic_users(30)
    sync = setup.sync()
    await sync.run()
    listed = len(setup.graph.requests)
    before = snapshot(await setup.employees())
    changed = ids[:3]
    setup.graph.update_user(changed[0], department="Kaupunkiympäristö")
    setup.graph.update_user(changed[1], displayName="Uusi Nimi", preferredLanguage="sv-FI")
    setup.graph.update_user(changed[2], userPrincipalName="vaihtunut@pori.example")
    setup.graph.disable_user(ids[3])
    setup.graph.remove_user(ids[4])
    new = setup.graph.add_user(
        displayName="Aino Uusi", userPrincipalName="aino.uusi@pori.example", employeeId="300001"
    )

    report = await sync.run()

    assert not report.full
    assert report.counts() == {
        "seen": 6,
        "created": 1,
        "updated": 4,
        "disabled": 1,
        "left": 1,
        "returned": 0,
        "units_created": 1,
    }
    (delta,) = setup.graph.requests[listed:]
    assert delta.path == "/v1.0/users/delta" and "$deltatoken" in delta.query
    after = snapshot(await setup.employees())
    rewritten = {aad_id for aad_id in before if before[aad_id] != after[aad_id]}
    assert rewritten == {*changed, ids[3], ids[4]}
    employees = await setup.employees()
    assert employees[changed[0]].unit_code == "Kaupunkiympäristö"
    assert employees[changed[1]].display_name == "Uusi Nimi"
    assert employees[changed[1]].directory_language == "sv-FI"
    assert employees[changed[1]].user_principal_name == before[changed[1]][1]
    assert employees[changed[2]].user_principal_name == "vaihtunut@pori.example"
    assert not employees[ids[3]].account_enabled and employees[ids[3]].left_at is None
    assert employees[ids[4]].left_at is not None and not employees[ids[4]].account_enabled
    assert employees[new].display_name == "Aino Uusi"
    assert (await setup.state()).last_delta_sync_at is not None


async def test_a_sync_with_nothing_new_changes_nothing(setup):
    setup.graph.add_synthetic_users(20)
    sync = setup.sync()
    await sync.run()
    before = snapshot(await setup.employees())

    delta = await sync.run()
    full = await sync.run(full=True)

    assert (delta.full, delta.seen, delta.created, delta.updated, delta.left) == (False, 0, 0, 0, 0)
    assert (full.seen, full.created, full.updated, full.left) == (20, 0, 0, 0)
    assert snapshot(await setup.employees()) == before


async def test_leavers_and_disabled_accounts_are_marked_never_deleted(setup):
    ids = setup.graph.add_synthetic_users(5)
    sync = setup.sync()
    await sync.run()
    setup.graph.disable_user(ids[0])
    del setup.graph.users[ids[1]]

    report = await sync.run(full=True)

    assert (report.disabled, report.left) == (1, 1)
    employees = await setup.employees()
    assert len(employees) == 5
    assert not employees[ids[0]].account_enabled and employees[ids[0]].left_at is None
    assert employees[ids[1]].left_at is not None and not employees[ids[1]].account_enabled
    assert employees[ids[1]].user_principal_name is not None
    again = await sync.run(full=True)
    assert again.left == 0


async def test_a_leaver_who_comes_back_is_no_longer_marked(setup):
    ids = setup.graph.add_synthetic_users(3)
    sync = setup.sync()
    await sync.run()
    person = dict(setup.graph.users[ids[0]])
    setup.graph.remove_user(ids[0])
    await sync.run()
    assert (await setup.employee(ids[0])).left_at is not None

    setup.graph.add_user(**person)
    report = await sync.run()

    assert report.returned == 1
    returned = await setup.employee(ids[0])
    assert returned.left_at is None and returned.account_enabled


async def test_the_sync_never_touches_what_the_chat_owns(setup):
    ids = setup.graph.add_synthetic_users(2)
    first_contact = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    async with setup.sessions() as session, session.begin():
        await register_contact(
            session=session, aad_object_id=ids[0], display_name="Teams Nimi", now=first_contact
        )
        await mark_welcomed(session=session, aad_object_id=ids[0], now=first_contact)
        await choose_language(session=session, aad_object_id=ids[0], language="en", now=NOW)
    sync = setup.sync()

    await sync.run()
    setup.graph.update_user(ids[0], preferredLanguage="sv-FI", department="Perusturva")
    await sync.run()
    directory_name = setup.graph.users[ids[0]]["displayName"]
    setup.graph.remove_user(ids[0])
    await sync.run()

    employee = await setup.employee(ids[0])
    assert employee.display_name == directory_name
    assert employee.chosen_language == "en"
    assert employee.first_seen_at is not None
    assert employee.first_seen_at.replace(tzinfo=UTC) == first_contact
    assert employee.welcomed_at is not None
    assert employee.directory_language == "sv-FI" and employee.left_at is not None
    assert (await setup.employee(ids[1])).first_seen_at is None


async def test_the_directory_fills_in_a_first_contact(setup):
    ids = setup.graph.add_synthetic_users(1)
    async with setup.sessions() as session, session.begin():
        await register_contact(
            session=session, aad_object_id=ids[0], display_name="Teams Nimi", now=NOW
        )

    report = await setup.sync().run()

    assert (report.created, report.updated) == (0, 1)
    employee = await setup.employee(ids[0])
    assert employee.display_name == setup.graph.users[ids[0]]["displayName"]
    assert employee.employee_number == setup.graph.users[ids[0]]["employeeId"]


async def test_departments_map_to_units_by_file_or_by_their_own_name(setup, tmp_path):
    async with setup.sessions() as session, session.begin():
        session.add(Unit(code="SIVISTYS", name_fi="Sivistystoimiala", name_en="Education"))
    mapping_file = tmp_path / "yksikot.yaml"
    mapping_file.write_text("Sivistystoimiala: SIVISTYS\n", encoding="utf-8")
    mapping = UnitMapping(departments=read_department_map(mapping_file))
    school = setup.graph.add_user(displayName="Opettaja", department="Sivistystoimiala")
    new_unit = setup.graph.add_user(displayName="Sihteeri", department="Uusi yksikkö ")
    nowhere = setup.graph.add_user(displayName="Konsultti")

    report = await setup.sync(mapping).run()

    assert report.units_created == 1
    employees = await setup.employees()
    assert employees[school].unit_code == "SIVISTYS"
    assert employees[school].department == "Sivistystoimiala"
    assert employees[new_unit].unit_code == "Uusi yksikkö"
    assert employees[nowhere].unit_code is None
    units = await setup.units()
    assert units["SIVISTYS"].name_en == "Education"
    assert (units["Uusi yksikkö"].name_fi, units["Uusi yksikkö"].name_en) == ("Uusi yksikkö",) * 2


async def test_unit_groups_map_members_to_units(setup):
    ids = setup.graph.add_synthetic_users(6)
    setup.graph.set_group("group-a", ids[:3], devices=2)
    setup.graph.set_group("group-b", ids[2:5])
    mapping = UnitMapping(
        source=UnitSource.GROUPS, groups={"group-a": "YKSIKKO_A", "group-b": "YKSIKKO_B"}
    )
    sync = setup.sync(mapping)

    report = await sync.run()

    assert report.units_created == 2
    units = {aad_id: row.unit_code for aad_id, row in (await setup.employees()).items()}
    assert [units[aad_id] for aad_id in ids] == [
        "YKSIKKO_A",
        "YKSIKKO_A",
        "YKSIKKO_A",
        "YKSIKKO_B",
        "YKSIKKO_B",
        None,
    ]
    setup.graph.set_group("group-b", [*ids[3:5], ids[5]])
    moved = await sync.run()
    assert (moved.seen, moved.updated) == (0, 1)
    assert (await setup.employee(ids[5])).unit_code == "YKSIKKO_B"


@pytest.mark.parametrize("full", [True, False])
async def test_a_run_that_fails_midway_changes_nothing(setup, full):
    setup.graph.delta_page_size = 2
    ids = setup.graph.add_synthetic_users(2500)
    sync = setup.sync()
    await sync.run()
    before = snapshot(await setup.employees())
    state = await setup.state()
    for aad_id in ids[:5]:
        setup.graph.update_user(aad_id, department="Muuttunut")
    del setup.graph.users[ids[-1]]
    setup.graph.remove_user(ids[-2])
    setup.graph.fail_next(1, status=500, after=2)

    with pytest.raises(GraphError):
        await sync.run(full=full)

    assert snapshot(await setup.employees()) == before
    after = await setup.state()
    assert (after.delta_link, after.generation) == (state.delta_link, state.generation)
    retried = await sync.run(full=full)
    assert retried.updated == 5 and retried.left == (2 if full else 1)


async def test_an_expired_delta_link_falls_back_to_a_full_listing(setup):
    ids = setup.graph.add_synthetic_users(4)
    sync = setup.sync()
    await sync.run()
    setup.graph.update_user(ids[0], department="Muuttunut")
    setup.graph.expire_delta_links()

    report = await sync.run()

    assert report.full and report.updated == 1
    assert (await setup.state()).last_full_sync_at is not None


async def test_a_listing_with_nobody_in_it_is_refused(setup):
    ids = setup.graph.add_synthetic_users(3)
    sync = setup.sync()
    await sync.run()
    for aad_id in ids:
        setup.graph.remove_user(aad_id)

    with pytest.raises(EmptyDirectory):
        await sync.run(full=True)

    assert all(row.left_at is None for row in (await setup.employees()).values())


@pytest.mark.parametrize("full", [False, True], ids=["delta", "full"])
async def test_a_leavers_name_and_number_move_to_whom_the_directory_gives_them(setup, full):
    old = setup.graph.add_user(
        displayName="Lähtijä", userPrincipalName="m.virtanen@pori.example", employeeId="123"
    )
    sync = setup.sync()
    await sync.run()
    setup.graph.remove_user(old)
    new = setup.graph.add_user(
        displayName="Tulija", userPrincipalName="m.virtanen@pori.example", employeeId="123"
    )
    twin = setup.graph.add_user(displayName="Kaksoisnumero", employeeId="123")

    await sync.run(full=full)

    employees = await setup.employees()
    assert employees[new].user_principal_name == "m.virtanen@pori.example"
    assert employees[new].employee_number == "123"
    assert employees[old].user_principal_name is None and employees[old].employee_number is None
    assert employees[old].left_at is not None
    assert employees[twin].employee_number is None


@pytest.mark.parametrize("full", [False, True], ids=["delta", "full"])
async def test_an_active_employee_keeps_their_number_and_name(setup, full, caplog):
    holder = setup.graph.add_user(
        displayName="Pitäjä", userPrincipalName="m.virtanen@pori.example", employeeId="123"
    )
    other = setup.graph.add_user(
        displayName="Toinen", userPrincipalName="toinen@pori.example", employeeId="456"
    )
    sync = setup.sync()
    await sync.run()
    newcomer = setup.graph.add_user(
        displayName="Tulija", userPrincipalName="m.virtanen@pori.example", employeeId="123"
    )
    setup.graph.update_user(other, employeeId="123")

    with caplog.at_level(logging.WARNING, logger="bot.directory.sync"):
        await sync.run(full=full)
        await sync.run(full=full)

    employees = await setup.employees()
    assert employees[holder].user_principal_name == "m.virtanen@pori.example"
    assert employees[holder].employee_number == "123"
    assert employees[newcomer].user_principal_name is None
    assert employees[newcomer].employee_number is None
    assert employees[other].employee_number is None
    assert employees[other].user_principal_name == "toinen@pori.example"
    warnings = [record.getMessage() for record in caplog.records]
    assert any(newcomer in message and holder in message for message in warnings)
    assert any(other in message and holder in message for message in warnings)
    # The number and the name never appear (the random ids may contain "123" by chance).
    without_ids = [
        message.replace(holder, "").replace(newcomer, "").replace(other, "") for message in warnings
    ]
    assert not any("123" in message or "virtanen" in message for message in without_ids)

    setup.graph.remove_user(holder)
    setup.graph.update_user(other, employeeId="456")
    await sync.run()
    await sync.run(full=True)
    employees = await setup.employees()
    assert employees[newcomer].user_principal_name == "m.virtanen@pori.example"
    assert employees[newcomer].employee_number == "123"
    assert employees[other].employee_number == "456"


@pytest.mark.parametrize("full", [False, True], ids=["delta", "full"])
@pytest.mark.parametrize("together", [False, True], ids=["disabled-before", "disabled-then"])
async def test_a_disabled_accounts_number_moves_to_an_enabled_user(setup, full, together):
    holder = setup.graph.add_user(displayName="Pitäjä", employeeId="123")
    sync = setup.sync()
    await sync.run()
    setup.graph.disable_user(holder)
    if not together:
        await sync.run(full=full)
    newcomer = setup.graph.add_user(displayName="Tulija", employeeId="123")
    disabled_twin = setup.graph.add_user(
        displayName="Suljettu", employeeId="123", accountEnabled=False
    )

    await sync.run(full=full)

    employees = await setup.employees()
    assert employees[newcomer].employee_number == "123"
    assert employees[holder].employee_number is None and not employees[holder].account_enabled
    assert employees[disabled_twin].employee_number is None


@pytest.mark.parametrize("full", [False, True], ids=["delta", "full"])
async def test_numbers_and_names_swapped_in_the_directory_are_swapped(setup, full):
    first = setup.graph.add_user(
        displayName="Eka", userPrincipalName="eka@pori.example", employeeId="111"
    )
    second = setup.graph.add_user(
        displayName="Toka", userPrincipalName="toka@pori.example", employeeId="222"
    )
    sync = setup.sync()
    await sync.run()
    setup.graph.update_user(first, userPrincipalName="toka@pori.example", employeeId="222")
    setup.graph.update_user(second, userPrincipalName="eka@pori.example", employeeId="111")

    report = await sync.run(full=full)

    employees = await setup.employees()
    assert (employees[first].user_principal_name, employees[first].employee_number) == (
        "toka@pori.example",
        "222",
    )
    assert (employees[second].user_principal_name, employees[second].employee_number) == (
        "eka@pori.example",
        "111",
    )
    assert report.updated == 2


class RacingDirectory:
    """A source during whose reading another sync finishes first."""

    def __init__(self, inner: GraphDirectory, other: DirectorySync) -> None:
        self.inner = inner
        self.other = other

    async def list_users(self):
        return await self.inner.list_users()

    async def latest_delta_link(self) -> str:
        return await self.inner.latest_delta_link()

    async def user_changes(self, delta_link: str) -> DirectoryChanges:
        changes = await self.inner.user_changes(delta_link)
        await self.other.run()
        return changes

    async def group_member_ids(self, group_id: str) -> list[str]:
        return await self.inner.group_member_ids(group_id)

    async def aclose(self) -> None:
        pass


async def test_a_sync_that_another_one_overtook_changes_nothing(setup):
    ids = setup.graph.add_synthetic_users(3)
    await setup.sync().run()
    setup.graph.update_user(ids[0], department="Muuttunut")
    racing = DirectorySync(
        RacingDirectory(setup.directory, setup.sync()), setup.sessions, clock=lambda: NOW
    )

    with pytest.raises(SyncConflict):
        await racing.run()

    state = await setup.state()
    assert state.generation == 2 and state.last_counts["updated"] == 1


async def test_periodic_sync_logs_a_failure_and_keeps_going(setup, caplog):
    setup.graph.add_synthetic_users(3)
    setup.graph.fail_next(1, status=500)
    sync = setup.sync()
    stop = asyncio.Event()
    task = asyncio.create_task(repeat(sync.run, 0.01, stop, "directory sync"))

    async def synced() -> bool:
        async with setup.sessions() as session:
            return bool(await session.scalar(select(func.count()).select_from(Employee)))

    with caplog.at_level(logging.ERROR, logger="bot.background"):
        for _ in range(500):
            if await synced():
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    assert await synced()
    assert any("failed" in record.getMessage() for record in caplog.records)


async def test_migration_0004_goes_down_and_up_again(engine):
    await migrate.downgrade(engine, "0003")
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()


def test_settings_build_a_graph_directory_and_unit_mapping():
    local = Settings(_env_file=None, app_id="", graph_base_url="http://127.0.0.1:1/v1.0")
    assert unit_mapping(local) == UnitMapping()
    assert graph_directory(local).graph.request_adapter.base_url == "http://127.0.0.1:1/v1.0"
    with pytest.raises(ValueError, match="DIRECTORY_UNIT_GROUPS"):
        unit_mapping(Settings(_env_file=None, directory_unit_source="groups"))
    with pytest.raises(ValueError, match="MicrosoftAppTenantId"):
        graph_directory(Settings(_env_file=None, app_id="app", app_password="secret"))
    groups = Settings(
        _env_file=None, directory_unit_source="groups", directory_unit_groups={"g": "U"}
    )
    assert unit_mapping(groups) == UnitMapping(source=UnitSource.GROUPS, groups={"g": "U"})


async def test_production_settings_use_the_apps_client_secret():
    settings = Settings(_env_file=None, app_id="app", app_password="secret", app_tenant_id="tenant")
    directory = graph_directory(settings)
    try:
        provider = directory.graph.request_adapter._authentication_provider
        assert type(provider).__name__ == "AzureIdentityAuthenticationProvider"
    finally:
        await directory.aclose()


def test_directory_sync_command_against_the_fake(tmp_path, monkeypatch, capsys):
    graph = FakeGraph().run_in_thread()
    try:
        ids = graph.add_synthetic_users(12)
        monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
        monkeypatch.setenv("GRAPH_BASE_URL", graph.base_url)
        monkeypatch.setenv("MicrosoftAppId", "")
        assert main(["db", "upgrade"]) == 0
        capsys.readouterr()

        assert main(["directory", "sync"]) == 0
        assert "12 käyttäjää, 12 uutta" in capsys.readouterr().out
        graph.disable_user(ids[0])
        assert main(["directory", "sync"]) == 0
        assert "1 poistettu käytöstä" in capsys.readouterr().out
        assert main(["directory", "sync", "--full"]) == 0
        assert "täysi" in capsys.readouterr().out

        graph.fail_next(1, status=500)
        assert main(["directory", "sync"]) == 1
        assert "mitään ei muutettu" in capsys.readouterr().err
    finally:
        graph.stop_thread()


async def test_build_directory_sync_runs_against_the_fake(engine):
    async with FakeGraph() as graph:
        graph.add_synthetic_users(3)
        settings = Settings(_env_file=None, app_id="", graph_base_url=graph.base_url)
        sync = build_directory_sync(settings, create_session_factory(engine), clock=lambda: NOW)
        try:
            report = await sync.run()
        finally:
            await sync.aclose()
    assert isinstance(report, SyncReport) and report.created == 3


async def test_the_demos_people_sync_into_the_demos_units(engine):
    from bot.demo.loader import demo_data, load_demo_data

    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await load_demo_data(session=session)
    async with FakeGraph() as graph:
        departments = graph.add_demo_people(demo_data())
        directory = GraphDirectory(base_url=graph.base_url)
        try:
            sync = DirectorySync(
                directory,
                sessions,
                mapping=UnitMapping(departments=departments),
                clock=lambda: NOW,
            )
            report = await sync.run()
            again = await sync.run(full=True)
        finally:
            await directory.aclose()
    assert (report.created, report.updated, report.units_created, report.left) == (0, 12, 0, 0)
    assert (again.seen, again.updated) == (12, 0)
    async with sessions() as session:
        maija = await session.get_one(Employee, "00000000-0000-4000-8000-000000000001")
    assert (maija.unit_code, maija.department) == ("SIVISTYS", "Sivistystoimiala")


class WatchingDirectory:
    """A source that notes whether Python's cyclic collector could run while it was read."""

    def __init__(self, inner: GraphDirectory, *, fail: bool = False) -> None:
        self.inner = inner
        self.fail = fail
        self.collector_enabled: list[bool] = []

    async def list_users(self):
        self.collector_enabled.append(gc.isenabled())
        if self.fail:
            raise RuntimeError("Graph went away")
        return await self.inner.list_users()

    async def latest_delta_link(self) -> str:
        return await self.inner.latest_delta_link()

    async def user_changes(self, delta_link: str) -> DirectoryChanges:
        return await self.inner.user_changes(delta_link)

    async def group_member_ids(self, group_id: str) -> list[str]:
        return await self.inner.group_member_ids(group_id)

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("fail", [False, True], ids=["succeeds", "fails"])
async def test_a_sync_never_lets_a_full_collection_walk_its_working_set(setup, fail):
    """A full collection in mid-sync stalled every chat turn for 30-50 ms (the benchmark's
    largest loop lag); the collector waits until the sync's objects are freed."""
    setup.graph.add_synthetic_users(3)
    watching = WatchingDirectory(setup.directory, fail=fail)
    assert gc.isenabled()
    with contextlib.suppress(RuntimeError):
        await DirectorySync(watching, setup.sessions, clock=lambda: NOW).run(full=True)
    assert watching.collector_enabled == [False]
    assert gc.isenabled()


def test_pauses_of_the_collector_nest_and_keep_a_disabled_collector_disabled():
    from bot.collector import collector_paused

    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

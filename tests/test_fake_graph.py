"""GraphDirectory (the real msgraph-sdk client) against the local fake Graph: paging, delta,
Retry-After, errors, unit groups and Teams app installation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.adapters.graph import client as graph_client
from bot.adapters.graph.client import (
    OFFLOAD_BYTES,
    USER_SELECT,
    GraphDirectory,
    GraphError,
    InstallResult,
)
from bot.adapters.graph.fake_graph import FakeGraph
from bot.directory.sync import DeltaLinkExpired, DirectoryUser

APP_ID = "6f3d5c1e-2b7a-4c0e-9a51-7f0d2e8b4c11"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph() as fake:
        yield fake


@pytest.fixture
async def directory(graph: FakeGraph) -> AsyncIterator[GraphDirectory]:
    client = GraphDirectory(base_url=graph.base_url, max_retries=3)
    yield client
    await client.aclose()


async def test_users_are_listed_page_by_page_with_only_the_fields_needed(graph, directory):
    ids = graph.add_synthetic_users(2500)

    users = await directory.list_users()

    assert [user.aad_object_id for user in users] == ids
    pages = graph.requests_to("/v1.0/users")
    assert len(pages) == 3
    assert all(request.query["$top"] == "999" for request in pages)
    assert all(request.query["$select"].split(",") == USER_SELECT for request in pages)
    first = graph.users[ids[0]]
    assert users[0] == DirectoryUser(
        aad_object_id=ids[0],
        display_name=first["displayName"],
        user_principal_name=first["userPrincipalName"],
        employee_number=first["employeeId"],
        department=first["department"],
        preferred_language=first["preferredLanguage"],
        account_enabled=True,
    )


async def test_next_links_are_absolute_and_followed_as_given(graph, directory):
    graph.add_synthetic_users(1000)
    await directory.list_users()
    second = graph.requests_to("/v1.0/users")[1]
    assert second.query["$skiptoken"] == "999"


async def test_a_delta_round_reports_only_what_changed(graph, directory):
    ids = graph.add_synthetic_users(10)
    link = await directory.latest_delta_link()
    graph.update_user(ids[0], department="Kaupunkiympäristö")
    graph.disable_user(ids[1])
    graph.remove_user(ids[2])
    new = graph.add_user(displayName="Uusi Henkilö", userPrincipalName="uusi@pori.example")

    changes = await directory.user_changes(link)

    by_id = {user.aad_object_id: user for user in changes.users}
    assert set(by_id) == {ids[0], ids[1], ids[2], new}
    assert by_id[ids[0]].reported == {"department"}
    assert by_id[ids[0]].department == "Kaupunkiympäristö"
    assert by_id[ids[1]].reported == {"account_enabled"}
    assert by_id[ids[1]].account_enabled is False
    assert by_id[ids[2]].removed
    assert by_id[new].display_name == "Uusi Henkilö" and by_id[new].account_enabled is True
    assert (await directory.user_changes(changes.delta_link)).users == []


async def test_the_first_delta_round_lists_everyone_page_by_page(graph, directory):
    graph.delta_page_size = 4
    ids = graph.add_synthetic_users(10)

    first = await directory.initial_delta()

    assert [user.aad_object_id for user in first.users] == ids
    assert len(graph.requests_to("/users/delta")) == 3
    graph.update_user(ids[5], displayName="Muutettu Nimi")
    later = await directory.user_changes(first.delta_link)
    assert [(user.aad_object_id, user.display_name) for user in later.users] == [
        (ids[5], "Muutettu Nimi")
    ]


async def test_an_expired_delta_link_says_so(graph, directory):
    graph.add_synthetic_users(3)
    link = await directory.latest_delta_link()
    graph.expire_delta_links()
    with pytest.raises(DeltaLinkExpired):
        await directory.user_changes(link)


async def test_throttling_is_retried_after_the_time_graph_asks_for(graph, directory):
    graph.add_synthetic_users(1500)
    graph.fail_next(1, status=429, retry_after=1, after=1)

    users = await directory.list_users()

    assert len(users) == 1500
    first, throttled, retried = graph.requests_to("/v1.0/users")
    assert (first.status, throttled.status, retried.status) == (200, 429, 200)
    assert throttled.query == retried.query
    assert retried.at - throttled.at >= 1.0


async def test_throttling_beyond_the_retries_allowed_is_a_clear_error(graph):
    graph.add_synthetic_users(3)
    graph.fail_next(2, status=429, retry_after=1)
    directory = GraphDirectory(base_url=graph.base_url, max_retries=1)
    try:
        with pytest.raises(GraphError) as raised:
            await directory.list_users()
    finally:
        await directory.aclose()
    assert raised.value.status == 429
    assert len(graph.requests) == 2


@pytest.mark.parametrize("status", [400, 403, 500])
async def test_other_errors_are_not_retried_and_carry_graphs_message(graph, directory, status):
    graph.add_synthetic_users(3)
    graph.fail_next(1, status=status)
    with pytest.raises(GraphError, match="Injected failure") as raised:
        await directory.list_users()
    assert raised.value.status == status
    assert len(graph.requests) == 1


async def test_a_page_size_graph_refuses_is_an_error(graph):
    directory = GraphDirectory(base_url=graph.base_url, page_size=1000)
    try:
        with pytest.raises(GraphError, match="page size") as raised:
            await directory.list_users()
    finally:
        await directory.aclose()
    assert raised.value.status == 400


async def test_unreachable_graph_is_a_graph_error():
    directory = GraphDirectory(base_url="http://127.0.0.1:9/v1.0", max_retries=0)
    try:
        with pytest.raises(GraphError):
            await directory.list_users()
    finally:
        await directory.aclose()


async def test_group_members_are_read_page_by_page_and_only_users_count(graph, directory):
    ids = graph.add_synthetic_users(1200)
    graph.set_group("group-sivistys", ids, devices=3)

    members = await directory.group_member_ids("group-sivistys")

    assert members == ids
    requests = graph.requests_to("/members")
    assert len(requests) == 2 and requests[0].query["$select"] == "id"


async def test_app_install_binds_the_catalog_id_201_then_409_and_the_fake_tells_who_got_it(
    graph, directory
):
    told: list[str] = []

    async def on_install(user_id: str) -> None:
        told.append(user_id)

    graph.on_install = on_install
    catalog_id = graph.publish_app(APP_ID)
    user = graph.add_user(displayName="Maija Meikäläinen")

    assert await directory.install_app_for_user(user, APP_ID) is InstallResult.INSTALLED
    assert await directory.install_app_for_user(user, APP_ID) is InstallResult.ALREADY_INSTALLED

    assert catalog_id != APP_ID
    assert graph.installed == {user: {catalog_id}}
    assert told == [user]
    post = graph.requests_to("/teamwork/installedApps")
    assert [request.status for request in post] == [201, 409]
    (lookup,) = graph.requests_to("/appCatalogs/teamsApps")
    assert lookup.query["$filter"] == (
        f"externalId eq '{APP_ID}' and distributionMethod eq 'organization'"
    )


async def test_an_app_missing_from_the_catalog_is_a_404_and_nothing_is_installed(graph, directory):
    user = graph.add_user(displayName="Maija Meikäläinen")

    with pytest.raises(GraphError, match="not in the organisation's app catalog") as raised:
        await directory.install_app_for_user(user, APP_ID)

    assert raised.value.status == 404
    assert graph.requests_to("/teamwork/installedApps") == []
    graph.publish_app(APP_ID)
    assert await directory.install_app_for_user(user, APP_ID) is InstallResult.INSTALLED


async def test_the_catalog_is_asked_once_for_many_installs(graph, directory):
    catalog_id = graph.publish_app(APP_ID)
    users = [graph.add_user(displayName=f"Henkilö {number}") for number in range(5)]

    first = await asyncio.gather(*(directory.install_app_for_user(u, APP_ID) for u in users[:3]))
    later = [await directory.install_app_for_user(user, APP_ID) for user in users[2:]]

    assert set(first) == {InstallResult.INSTALLED}
    assert later == [
        InstallResult.ALREADY_INSTALLED,
        InstallResult.INSTALLED,
        InstallResult.INSTALLED,
    ]
    assert len(graph.requests_to("/appCatalogs/teamsApps")) == 1
    assert graph.installed == {user: {catalog_id} for user in users}


async def test_a_manifest_id_with_a_quote_is_escaped_in_the_filter(graph, directory):
    odd_id = "puhelin'botti"
    catalog_id = graph.publish_app(odd_id)
    assert await directory.catalog_app_id(odd_id) == catalog_id


async def test_the_fake_refuses_to_install_by_manifest_id(graph):
    graph.publish_app(APP_ID)
    user = graph.add_user(displayName="Maija Meikäläinen")
    bind = {"teamsApp@odata.bind": f"{graph.base_url}/appCatalogs/teamsApps/{APP_ID}"}
    async with aiohttp.ClientSession() as http:
        url = f"{graph.base_url}/users/{user}/teamwork/installedApps"
        async with http.post(url, json=bind) as response:
            assert response.status == 404
        async with http.get(
            f"{graph.base_url}/appCatalogs/teamsApps", params={"$filter": "startswith(id, 'a')"}
        ) as response:
            assert response.status == 400
    assert graph.installed == {}


async def test_app_install_for_someone_graph_does_not_know_fails(graph, directory):
    graph.publish_app(APP_ID)
    with pytest.raises(GraphError, match="not found") as raised:
        await directory.install_app_for_user("no-such-user", APP_ID)
    assert raised.value.status == 404


async def test_large_pages_are_parsed_off_the_event_loop(graph, directory, monkeypatch):
    """The cause of event-loop stalls in a big sync is guarded, not timed."""
    parsed: list[tuple[int, bool]] = []
    real_parse = graph_client.parse_json

    def recording_parse(body: bytes):
        parsed.append((len(body), threading.current_thread() is threading.main_thread()))
        return real_parse(body)

    monkeypatch.setattr(graph_client, "parse_json", recording_parse)
    graph.add_synthetic_users(2500)

    await directory.list_users()

    large = [on_loop for size, on_loop in parsed if size >= OFFLOAD_BYTES]
    assert len(large) == 3 and not any(large)


async def test_the_fake_also_runs_in_a_thread_of_its_own():
    graph = FakeGraph().run_in_thread()
    try:
        graph.add_synthetic_users(5)
        directory = GraphDirectory(base_url=graph.base_url)
        try:
            assert len(await directory.list_users()) == 5
        finally:
            await directory.aclose()
    finally:
        graph.stop_thread()

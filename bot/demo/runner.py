"""`phonebot demo`: a migrated SQLite database with demo data, the bot, and the Playground."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from bot.access_log import RedactingAccessLogger
from bot.adapters.botframework.fake_connector import FakeBotConnector
from bot.adapters.graph.fake_graph import FakeGraph
from bot.app import create_app
from bot.cli.common import say
from bot.clock import helsinki_today, system_clock
from bot.db import migrate
from bot.db.engine import create_engine, create_session_factory
from bot.demo.loader import demo_data, load_demo_data, load_demo_waves
from bot.demo.playground import (
    DEFAULT_PORT,
    TENANT_ID,
    Playground,
    PlaygroundError,
    node_available,
    playground_config,
)
from bot.serving import serve
from bot.settings import Settings

log = logging.getLogger(__name__)


async def prepare_database(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with create_session_factory(engine)() as session, session.begin():
            counts = await load_demo_data(session=session)
            await load_demo_waves(session=session, today=helsinki_today(system_clock()))
        log.info(
            "demo data: %d units, %d employees, %d sample phones",
            counts.units,
            counts.employees,
            counts.phone_models,
        )
    finally:
        await engine.dispose()


# The bot accepts activities from its own tenant only: the Playground's is the demo's.
DEMO_TENANT = TENANT_ID


@contextmanager
def local_microsoft(settings: Settings) -> Iterator[Settings]:
    """A fake Graph (the demo's people) and a fake Teams for everyone not in the Playground.

    The directory sync reads the people from the fake Graph; a notification to someone who has
    never opened the bot installs the app there and opens a chat in the fake Teams.
    """
    teams = FakeBotConnector(installed=set())
    graph = FakeGraph(on_install=teams.mark_installed)
    graph.publish_app(settings.teams_app_id)
    departments = graph.add_demo_people(demo_data())
    departments_file = Path("var") / "demo-departments.yaml"
    departments_file.parent.mkdir(parents=True, exist_ok=True)
    departments_file.write_text(yaml.safe_dump(departments, allow_unicode=True), encoding="utf-8")
    graph.run_in_thread()
    try:
        with teams.running_in_thread() as teams_url:
            yield settings.model_copy(
                update={
                    "graph_base_url": graph.base_url,
                    "directory_department_units_file": departments_file,
                    "teams_service_url": teams_url,
                    "teams_tenant_id": settings.teams_tenant_id or DEMO_TENANT,
                    "planner_interval_seconds": min(settings.planner_interval_seconds, 15.0),
                    # Someone trying the demo in the evening, at the weekend or on a public
                    # holiday should still see a notification.
                    "notify_working_hours": "00:00-24:00",
                    "notify_working_days": "mon-sun",
                    "notify_public_holidays": False,
                    "notify_extra_holidays": "",
                    # The Playground's one user can try ICT's commands and set up the helpdesk.
                    "ict_admin_ids": settings.ict_admin_ids
                    or demo_data()["employees"][0]["aad_object_id"],
                    # ... and is signed in to ICT's tab in a browser on this machine.
                    "tab_local_user_id": settings.tab_local_user_id
                    or demo_data()["employees"][0]["aad_object_id"],
                }
            )
    finally:
        graph.stop_thread()


def run_demo(settings: Settings, *, port: int, playground: bool = True) -> int:
    asyncio.run(prepare_database(settings))
    with local_microsoft(settings) as demo_settings:
        return _serve_with_playground(demo_settings, port=port, playground=playground)


def _serve_with_playground(settings: Settings, *, port: int, playground: bool) -> int:
    endpoint = f"http://127.0.0.1:{port}/api/messages"
    client: Playground | None = None
    if playground and node_available():
        client = Playground(
            bot_endpoint=endpoint,
            config=playground_config(demo_data()["employees"]),
            workdir=Path("var") / "playground",
            port=DEFAULT_PORT,
        )
        try:
            client.start()
        except PlaygroundError as error:
            log.error("%s", error)
            client = None
    if client is not None:
        print(say("cli.demo.running", url=client.url))
        print(say("cli.demo.hints"), flush=True)
    elif playground:
        print(say("cli.demo.no_node", endpoint=endpoint), flush=True)
    print(say("cli.demo.ict_tab", url=f"http://127.0.0.1:{port}/tabs/ict"), flush=True)
    try:
        # One person on this machine: no load balancer to wait for, so no grace.
        asyncio.run(
            serve(
                create_app(settings, freeze_after_start=True),
                host="127.0.0.1",
                port=port,
                grace=0,
                turn_timeout=settings.shutdown_timeout_seconds,
                access_log_class=RedactingAccessLogger,
            )
        )
    finally:
        if client is not None:
            client.stop()
    return 0

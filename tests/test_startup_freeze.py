"""A serving app moves what start-up built out of the garbage collector's reach, after start-up."""

from __future__ import annotations

import gc

from aiohttp.test_utils import TestServer

from bot.app import COMPONENTS, create_app
from bot.settings import Settings


async def test_a_serving_app_freezes_its_components_once_they_are_built(sqlite_engine):
    gc.unfreeze()
    app = create_app(
        Settings(app_id="", background_jobs=False), engine=sqlite_engine, freeze_after_start=True
    )
    server = TestServer(app)
    try:
        await server.start_server()
        handler = app[COMPONENTS].handler  # built during start-up, so frozen only if after it
        assert gc.get_freeze_count() > 0
        assert not any(candidate is handler for candidate in gc.get_objects())
    finally:
        await server.close()
        gc.unfreeze()


async def test_an_app_built_for_tests_freezes_nothing(sqlite_engine):
    gc.unfreeze()
    server = TestServer(
        create_app(Settings(app_id="", background_jobs=False), engine=sqlite_engine)
    )
    try:
        await server.start_server()
        assert gc.get_freeze_count() == 0
    finally:
        await server.close()

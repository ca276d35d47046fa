"""Liveness and readiness endpoints."""

from __future__ import annotations

from bot.db import migrate
from tests.support.bot import running_bot


async def test_healthz_says_ok(bot):
    response = await bot.client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_readyz_is_ready_when_migrated(engine):
    async with running_bot(engine) as bot:
        response = await bot.client.get("/readyz")
        assert response.status == 200
        assert (await response.json())["revision"] == migrate.head_revision()


async def test_readyz_reports_pending_migrations(engine):
    await migrate.downgrade(engine, "base")
    async with running_bot(engine) as bot:
        response = await bot.client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["status"] == "migrations pending"
    await migrate.upgrade(engine)


async def test_readyz_reports_an_unreachable_database(tmp_path):
    from bot.db.engine import create_engine

    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with running_bot(engine) as bot:
        response = await bot.client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["status"] == "database unreachable"
    await engine.dispose()


async def test_migrations_upgrade_downgrade_upgrade(engine):
    await migrate.downgrade(engine, "base")
    assert await migrate.current_revision(engine) is None
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()


async def test_the_migrations_build_exactly_the_tables_the_models_declare(sqlite_engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bot.db.migrations.schema import Base

    async with sqlite_engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert differences == []


async def test_a_stop_turns_readiness_off_first_then_refuses_new_turns_whole(bot):
    from bot.serving import SHUTDOWN
    from tests.support.activities import TeamsUser, message

    shutdown = bot.client.app[SHUTDOWN]
    user = TeamsUser.new()
    shutdown.stopping = True
    response = await bot.client.get("/readyz")
    assert (response.status, (await response.json())["status"]) == (503, "stopping")
    assert await bot.say(user, "moi"), "during the grace a turn is still answered"

    shutdown.refusing = True
    before = len(bot.connector.activities)
    response = await bot.post(message(user, bot.service_url, "moi"))
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    assert len(bot.connector.activities) == before, "a refused turn is not started"
    assert (await bot.client.get("/healthz")).status == 200, "alive while it stops"

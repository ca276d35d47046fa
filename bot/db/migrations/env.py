"""Alembic environment: always runs on a connection handed in by `bot.db.migrate`."""

from alembic import context

from bot.db.migrations.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `phonebot db upgrade` (bot.db.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""The directory sync built from Settings: Graph with the app's own credentials, or a local fake."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.graph.client import GraphDirectory
from bot.clock import Clock
from bot.directory.sync import (
    DirectorySource,
    DirectorySync,
    UnitMapping,
    UnitSource,
    read_department_map,
)
from bot.settings import Settings


def graph_directory(settings: Settings) -> GraphDirectory:
    """With an app id and secret, app-only tokens from the tenant; without, no auth (the fake)."""
    base_url, retries = settings.graph_base_url, settings.graph_max_retries
    secret = settings.app_password.get_secret_value()
    if not (settings.app_id and secret):
        return GraphDirectory(base_url=base_url, max_retries=retries)
    if not settings.app_tenant_id:
        raise ValueError("the directory sync needs MicrosoftAppTenantId to get Graph tokens")
    return GraphDirectory.with_client_secret(
        tenant_id=settings.app_tenant_id,
        client_id=settings.app_id,
        client_secret=secret,
        base_url=base_url,
        max_retries=retries,
    )


def unit_mapping(settings: Settings) -> UnitMapping:
    source = UnitSource(settings.directory_unit_source)
    if source is UnitSource.GROUPS and not settings.directory_unit_groups:
        raise ValueError("DIRECTORY_UNIT_SOURCE=groups needs DIRECTORY_UNIT_GROUPS")
    path = settings.directory_department_units_file
    return UnitMapping(
        source=source,
        departments=read_department_map(path) if path else {},
        groups=settings.directory_unit_groups,
    )


def build_directory_sync(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Clock,
    source: DirectorySource | None = None,
) -> DirectorySync:
    """What the app schedules and `phonebot directory sync` runs.

    Without `source`, it gets a GraphDirectory of its own: `aclose()` the sync when done.
    """
    return DirectorySync(
        source or graph_directory(settings), sessions, mapping=unit_mapping(settings), clock=clock
    )

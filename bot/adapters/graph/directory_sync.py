"""The directory sync built from Settings: Graph with the app's own credentials, or a local fake."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.entra.credentials import credential_kind, graph_credential
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


def graph_directory(
    settings: Settings, tracer: trace.Tracer | None = None, **pipeline: Any
) -> GraphDirectory:
    """With the app's identity (secret, certificate or managed identity), app-only tokens from
    the city's tenant; without, no auth (a local fake). `pipeline`: azure-core's options."""
    base_url, retries = settings.graph_base_url, settings.graph_max_retries
    if credential_kind(settings) is None:
        return GraphDirectory(base_url=base_url, max_retries=retries, tracer=tracer)
    return GraphDirectory(
        credential=graph_credential(settings, **pipeline),
        base_url=base_url,
        max_retries=retries,
        tracer=tracer,
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

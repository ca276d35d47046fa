"""The one type every service opens its sessions with."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession

# An async_sessionmaker, or one over lone_statements() for reads that need no transaction.
SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]

"""What the dispatcher hands to whoever really sends, and what it gets back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Outgoing:
    """One claimed outbox row: everything the deliverer needs for one attempt.

    `failing_since` is when its current run of failures began (None: none yet); `lost` says its
    previous attempt never came back (the dispatcher making it stopped mid-send).
    """

    notification_id: int
    campaign_id: int
    kind: str
    payload: dict[str, Any]
    recipient: str
    attempt: int
    failing_since: datetime | None = None
    lost: bool = False


@dataclass(frozen=True)
class Delivered:
    outcome: str  # "continued" | "created" | "installed" | "skipped"
    conversation_id: str | None = None
    activity_id: str | None = None
    reached_connector: bool = True  # False: nothing was sent (skipped), so it says nothing of it


class DeliveryFailed(Exception):
    """One attempt failed; `final` means no later attempt can succeed for this recipient."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        final: bool = False,
        message: str = "",
        reached_connector: bool = True,
    ) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.final = final
        # False: it failed before the Bot Connector was asked (a Graph install, no address), so
        # it says nothing of whether the connector is up.
        self.reached_connector = reached_connector


class ConfigurationError(DeliveryFailed):
    """No attempt can succeed until someone fixes the bot's set-up (a missing Graph permission, an
    unpublished app): the dispatcher stops and leaves the rows waiting, not failed."""


INSTALL_FORBIDDEN = "install_forbidden"


class InstallForbidden(DeliveryFailed):
    """Graph refused to install the app for this person: a policy for them alone, or a missing
    permission for everyone, which the dispatcher tells apart by how many come in a row."""


class Deliverer(Protocol):
    """Makes exactly one attempt per call; the dispatcher owns retries."""

    async def deliver(self, outgoing: Outgoing) -> Delivered: ...


Found = TypeVar("Found")
# What one kind of outbox row is about, read when it is sent (None: nothing to tell any more,
# e.g. the window closed or the notice was told in a chat), and what to record once it is sent.
Lookup = Callable[[AsyncSession, Outgoing, datetime], Awaitable[Found | None]]
AfterSending = Callable[[AsyncSession, Outgoing, datetime], Awaitable[None]]

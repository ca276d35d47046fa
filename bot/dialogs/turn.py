"""One turn's facts, read from the activity once by the handler, so no dialog reads the activity
for who wrote, where, or in which language to answer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from botbuilder.core import TurnContext

from bot.deductions.service import Notice
from bot.directory.service import Contact
from bot.i18n import Texts, texts
from bot.tickets.service import Actor

PERSONAL = "personal"
_TURN_KEY = "puhelinbotti.turn"


@dataclass(frozen=True)
class ChannelPlace:
    """Where a channel message or card press came from."""

    team_id: str | None
    channel_id: str | None
    service_url: str
    tenant_id: str | None


@dataclass(frozen=True)
class Sender:
    """Who wrote, as Teams names them; the Entra object id is the only id the program trusts."""

    aad_object_id: str | None
    teams_id: str | None
    name: str

    @property
    def actor(self) -> Actor:
        """The sender as the ticket desk knows people (no Entra id: nobody it will let act)."""
        return Actor(self.aad_object_id or "", self.name)


@dataclass(frozen=True)
class Turn:
    """What every area may know of this turn."""

    texts: Texts
    sender: Sender
    personal: bool  # a one-to-one chat; anything Teams does not call personal is shared
    from_bot: bool
    place: ChannelPlace
    contact: Contact | None = None  # the employee, known only in a personal chat
    notices: tuple[Notice, ...] = ()

    def speaking(self, chosen: Texts) -> Turn:
        """The same turn answered in another language, from the moment it was chosen."""
        return replace(self, texts=chosen)


def read_turn(
    activity: Any,
    *,
    language_texts: Texts,
    contact: Contact | None = None,
    notices: tuple[Notice, ...] = (),
) -> Turn:
    """Read the sender and the place from an activity, once."""
    return Turn(
        texts=language_texts,
        sender=sender_of(activity),
        personal=is_personal(activity),
        from_bot=_from_bot(activity),
        place=_place_of(activity),
        contact=contact,
        notices=notices,
    )


def sender_of(activity: Any) -> Sender:
    user = activity.from_property
    return Sender(
        aad_object_id=getattr(user, "aad_object_id", None) or None,
        teams_id=getattr(user, "id", None) or None,
        name=getattr(user, "name", None) or "",
    )


def is_personal(activity: Any) -> bool:
    """Only a conversation Teams calls personal: anything unknown is treated as shared."""
    conversation = activity.conversation
    return bool(conversation) and conversation.conversation_type == PERSONAL


def remember(turn_context: TurnContext, turn: Turn) -> None:
    turn_context.turn_state[_TURN_KEY] = turn


def turn_of(turn_context: TurnContext) -> Turn:
    """This turn's facts; read from the activity here if the handler has not (a failed start)."""
    found = turn_context.turn_state.get(_TURN_KEY)
    if isinstance(found, Turn):
        return found
    turn = read_turn(turn_context.activity, language_texts=texts(turn_context.activity.locale))
    remember(turn_context, turn)
    return turn


def texts_of(turn_context: TurnContext) -> Texts:
    """The texts of the language resolved for this turn (the client's locale if none was)."""
    return turn_of(turn_context).texts


def _from_bot(activity: Any) -> bool:
    sender = activity.from_property
    recipient = activity.recipient
    return bool(sender and recipient and sender.id == recipient.id)


def _place_of(activity: Any) -> ChannelPlace:
    """The team and channel an activity came from, as Teams' channel data names them."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = channel_data.get("team") or {}
    channel = channel_data.get("channel") or {}
    tenant = (channel_data.get("tenant") or {}).get("id")
    return ChannelPlace(
        team_id=team.get("id") if isinstance(team, dict) else None,
        channel_id=channel.get("id") if isinstance(channel, dict) else None,
        service_url=activity.service_url or "",
        tenant_id=tenant,
    )

"""Teams activities as the Bot Connector delivers them, for tests and benchmarks."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

TENANT_ID = "0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
BOT_ID = "28:puhelinbotti"
_counter = itertools.count(1)


@dataclass(frozen=True)
class TeamsUser:
    aad_object_id: str
    name: str
    locale: str = "fi-FI"

    @property
    def teams_id(self) -> str:
        return f"29:{self.aad_object_id}"

    @property
    def conversation_id(self) -> str:
        return f"a:personal-{self.aad_object_id}"

    @staticmethod
    def new(name: str = "Testi Käyttäjä", locale: str = "fi-FI") -> TeamsUser:
        return TeamsUser(str(uuid.uuid4()), name, locale)


def _base(user: TeamsUser, service_url: str, activity_type: str) -> dict[str, Any]:
    return {
        "type": activity_type,
        "id": f"activity-{next(_counter)}",
        "timestamp": "2026-11-26T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad_object_id},
        "conversation": {
            "id": user.conversation_id,
            "conversationType": "personal",
            "tenantId": TENANT_ID,
        },
        "recipient": {"id": BOT_ID, "name": "Puhelinbotti"},
        "locale": user.locale,
        "channelData": {"tenant": {"id": TENANT_ID}},
    }


def message(user: TeamsUser, service_url: str, text: str = "", value: Any = None) -> dict[str, Any]:
    activity = _base(user, service_url, "message")
    activity["text"] = text
    if value is not None:
        activity["value"] = value
    return activity


def installation_added(user: TeamsUser, service_url: str) -> dict[str, Any]:
    activity = _base(user, service_url, "installationUpdate")
    activity["action"] = "add"
    return activity


def bot_added(user: TeamsUser, service_url: str) -> dict[str, Any]:
    activity = _base(user, service_url, "conversationUpdate")
    activity["membersAdded"] = [{"id": BOT_ID}]
    return activity


def channel_message(
    user: TeamsUser,
    service_url: str,
    text: str,
    team_id: str = "19:team@thread.tacv2",
    channel_id: str | None = None,
) -> dict[str, Any]:
    """A new post in a team channel; `<at>Puhelinbotti</at>` in `text` mentions the bot."""
    channel_id = channel_id or team_id
    activity = _base(user, service_url, "message")
    activity["text"] = text
    _in_channel(activity, team_id, channel_id, f"{channel_id};messageid={next(_counter)}")
    if "<at>" in text:
        activity["entities"] = [
            {
                "type": "mention",
                "text": "<at>Puhelinbotti</at>",
                "mentioned": {"id": BOT_ID, "name": "Puhelinbotti"},
            }
        ]
    return activity


def channel_card_action(
    user: TeamsUser,
    service_url: str,
    verb: str,
    data: dict[str, Any],
    *,
    team_id: str,
    channel_id: str,
    thread_id: str,
) -> dict[str, Any]:
    """An Action.Execute pressed on a card in a channel thread."""
    activity = card_action(user, service_url, verb, data)
    _in_channel(activity, team_id, channel_id, thread_id)
    return activity


def _in_channel(activity: dict[str, Any], team_id: str, channel_id: str, thread_id: str) -> None:
    """Address an activity to a thread of a team's channel, as Teams does."""
    activity["conversation"] = {
        "id": thread_id,
        "conversationType": "channel",
        "tenantId": TENANT_ID,
        "isGroup": True,
    }
    activity["channelData"] = {
        "tenant": {"id": TENANT_ID},
        "team": {"id": team_id},
        "channel": {"id": channel_id},
    }


def team_member(user: TeamsUser) -> dict[str, str]:
    """A user as the Bot Connector lists a team's members."""
    return {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad_object_id}


def team_members_event(
    user: TeamsUser,
    service_url: str,
    team_id: str,
    *,
    added: tuple[TeamsUser, ...] = (),
    removed: tuple[TeamsUser, ...] = (),
) -> dict[str, Any]:
    """Teams' conversationUpdate when people join or leave a team the bot is in."""
    activity = _base(user, service_url, "conversationUpdate")
    activity["conversation"] = {
        "id": team_id,
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": TENANT_ID,
    }
    activity["channelData"] = {
        "tenant": {"id": TENANT_ID},
        "team": {"id": team_id},
        "eventType": "teamMemberAdded" if added else "teamMemberRemoved",
    }
    if added:
        activity["membersAdded"] = [team_member(member) for member in added]
    if removed:
        activity["membersRemoved"] = [team_member(member) for member in removed]
    return activity


def card_action(
    user: TeamsUser, service_url: str, verb: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The invoke Teams sends when an Action.Execute button is pressed."""
    activity = _base(user, service_url, "invoke")
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": verb, "data": data or {}},
        "trigger": "manual",
    }
    return activity


def installation_removed(user: TeamsUser, service_url: str) -> dict[str, Any]:
    activity = _base(user, service_url, "installationUpdate")
    activity["action"] = "remove"
    return activity

"""Which area owns each verb, which area a message opens, which area answers a press in place
(Action.Execute), and which renders each kind of card sent unasked.

Every verb a card can carry belongs to exactly one area; the composition root checks it at
start-up, so a verb added without an owner stops the bot before it can be pressed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from botbuilder.core import TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.dialogs.actions import Verb
from bot.dialogs.admin.area import VERBS as ADMIN
from bot.dialogs.announcements.cards import UNASKED as ANNOUNCEMENTS_UNASKED
from bot.dialogs.announcements.receipt import VERBS as ANNOUNCEMENTS
from bot.dialogs.deductions import dialog as deductions
from bot.dialogs.deductions.cards import UNASKED as DEDUCTIONS_UNASKED
from bot.dialogs.deductions.dialog import VERBS as DEDUCTIONS
from bot.dialogs.helpdesk import dialog as helpdesk
from bot.dialogs.helpdesk.dialog import VERBS as HELPDESK
from bot.dialogs.intents import Intent
from bot.dialogs.menu import dialog as menu
from bot.dialogs.menu.dialog import VERBS as MENU
from bot.dialogs.opening import Opens
from bot.dialogs.phone import dialog as phone
from bot.dialogs.phone.dialog import VERBS as PHONE
from bot.dialogs.privacy import dialog as privacy
from bot.dialogs.privacy.dialog import VERBS as PRIVACY
from bot.dialogs.questions import dialog as questions
from bot.dialogs.questions.dialog import VERBS as QUESTIONS
from bot.dialogs.rollout import dialog as rollout
from bot.dialogs.rollout.dialog import VERBS as ROLLOUT
from bot.dialogs.rollout.notice_cards import UNASKED as ROLLOUT_UNASKED
from bot.dialogs.unasked import Unasked, unasked_by_kind

AREA_VERBS: dict[str, frozenset[Verb]] = {
    "menu": MENU,
    "phone": PHONE,
    "questions": QUESTIONS,
    "deductions": DEDUCTIONS,
    "rollout": ROLLOUT,
    "helpdesk": HELPDESK,
    "admin": ADMIN,
    "announcements": ANNOUNCEMENTS,
    "privacy": PRIVACY,
}
# What each area a message can open says about a message: the router asks them in this order.
OPENINGS: tuple[Opens, ...] = (
    menu.opening,
    phone.opening,
    questions.opening,
    deductions.opening,
    rollout.opening,
    helpdesk.opening,
    privacy.opening,
)
# The cards areas send unasked, by the kind of outbox row: delivery renders with these.
UNASKED: dict[str, Unasked[Any]] = unasked_by_kind(
    [ROLLOUT_UNASKED, DEDUCTIONS_UNASKED, ANNOUNCEMENTS_UNASKED]
)


class VerbsNotPartitioned(ValueError):
    """A verb no area owns, or one that two areas claim."""


def check_partition(areas: Mapping[str, frozenset[Verb]], verbs: Iterable[Verb] = Verb) -> None:
    """Raise unless every verb has exactly one owning area."""
    owners: dict[Verb, list[str]] = defaultdict(list)
    for name, owned in areas.items():
        for verb in owned:
            owners[verb].append(name)
    unowned = sorted(verb.value for verb in verbs if not owners[verb])
    shared = sorted(
        f"{verb.value} ({', '.join(names)})" for verb, names in owners.items() if len(names) > 1
    )
    if unowned or shared:
        raise VerbsNotPartitioned(f"verbs with no area: {unowned}; verbs in two areas: {shared}")


class AnswersOutright(Protocol):
    """An area that answers a message at once, outside the dialog stack (ICT's commands,
    "remind me later"): whatever flow was waiting stays where it was."""

    def owns(self, intent: Intent) -> bool: ...

    async def on_message(self, turn_context: TurnContext, intent: Intent) -> None: ...


class AnswersInPlace(Protocol):
    """An area with Action.Execute buttons: its answer replaces the pressed card."""

    @property
    def in_place(self) -> frozenset[Verb]: ...

    async def on_invoke(
        self, turn_context: TurnContext, verb: Verb, data: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse: ...


def in_place_routes(areas: Iterable[AnswersInPlace]) -> dict[Verb, AnswersInPlace]:
    """Each in-place verb to the one area that answers it."""
    routes: dict[Verb, AnswersInPlace] = {}
    for area in areas:
        for verb in area.in_place:
            if verb in routes:
                raise VerbsNotPartitioned(f"two areas answer {verb.value} in place")
            routes[verb] = area
    return routes

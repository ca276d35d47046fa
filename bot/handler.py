"""Routes each Teams activity to a dialog or a domain service; nothing else lives here."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogContext,
    DialogInstance,
    DialogSet,
    DialogTurnStatus,
)
from botbuilder.schema import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, ChannelAccount
from botbuilder.schema.teams import TeamInfo, TeamsChannelAccount
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.botframework.wire import serialize_model
from bot.adapters.conversation_state import TurnConversationState
from bot.clock import Clock
from bot.conversations import service as conversations
from bot.deductions import service as deductions
from bot.dialogs.actions import Verb, verb_of
from bot.dialogs.areas import AnswersInPlace, AnswersOutright, in_place_routes
from bot.dialogs.aside import Aside, AsideRouter, Flow
from bot.dialogs.deductions.cards import notice_card
from bot.dialogs.helpdesk.desk import Helpdesk
from bot.dialogs.intents import Intent, IntentKind, read_intent
from bot.dialogs.menu.cards import language_set_card, menu_card, welcome_card
from bot.dialogs.menu.dialog import MainMenuDialog
from bot.dialogs.opening import Opening, Router
from bot.dialogs.questions.cards import answer_card
from bot.dialogs.replies import (
    card_invoke_response,
    error_invoke_response,
    send_card,
    send_text,
)
from bot.dialogs.turn import PERSONAL, read_turn, remember, texts_of, turn_of
from bot.directory import service as directory
from bot.faq.service import FaqDesk
from bot.i18n import SUPPORTED_LANGUAGES, resolve_language, texts
from bot.privacy.service import PrivacyDesk
from bot.telemetry.providers import Telemetry
from bot.telemetry.turns import TurnObserver
from bot.tickets.service import Member
from bot.turn_start import Person, TurnStarter

log = logging.getLogger(__name__)

_RESTARTS = (IntentKind.MENU, IntentKind.CANCEL, IntentKind.SWITCH_LANGUAGE)


class PuhelinbottiHandler(TeamsActivityHandler):
    """Keeps references and language current, then hands the turn to the right dialog."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        conversation_state: TurnConversationState,
        turn_starter: TurnStarter,
        main_dialog: MainMenuDialog,
        areas: Mapping[Verb, Dialog],
        router: Router,
        default_language: str,
        instalments: int,
        clock: Clock,
        faq: FaqDesk | None = None,
        helpdesk: Helpdesk | None = None,
        outright: Iterable[AnswersOutright] = (),
        in_place: Iterable[AnswersInPlace] = (),
        privacy_notice_url: str = "",
        privacy: PrivacyDesk | None = None,
        observer: TurnObserver | None = None,
    ) -> None:
        self._sessions = sessions
        self._observer = observer or TurnObserver(Telemetry.off())
        self._conversation_state = conversation_state
        self._turn_starter = turn_starter
        self._dialog_state = conversation_state.create_property("DialogState")
        self._dialogs = DialogSet(self._dialog_state)
        self._dialogs.add(main_dialog)
        self._main_dialog = main_dialog
        self._area_dialogs: dict[Verb, str] = {}
        for verb, dialog in areas.items():
            self.add_area(verb, dialog)
        self._router = router
        self._default_language = default_language
        self._instalments = instalments
        self._notice_url = privacy_notice_url
        self._privacy = privacy
        self._clock = clock
        self._outright = tuple(outright)
        self._faq = faq
        self._asides = AsideRouter(faq)
        self._helpdesk = helpdesk
        self._in_place = in_place_routes(in_place)

    @property
    def area_verbs(self) -> frozenset[Verb]:
        """The verbs whose area has a dialog of its own here."""
        return frozenset(self._area_dialogs)

    def add_area(self, verb: Verb, dialog: Dialog) -> None:
        """The dialog a message that opens `verb`'s area begins (a later one for the same verb
        is begun instead; dialog ids must differ)."""
        self._dialogs.add(dialog)
        self._area_dialogs[verb] = dialog.id

    async def on_turn(self, turn_context: TurnContext) -> None:
        with self._observer.turn(turn_context.activity.type):
            await self._prepare_turn(turn_context)
            await super().on_turn(turn_context)
            await self._conversation_state.save_changes(turn_context)

    async def _prepare_turn(self, turn_context: TurnContext) -> None:
        """Remember where to reach this conversation, load its state, settle the language."""
        activity = turn_context.activity
        seen = read_turn(activity, language_texts=texts(activity.locale))
        sender = seen.sender
        has_reference = bool(activity.conversation and activity.service_url)
        person = (
            Person(sender.aad_object_id, sender.name)
            if sender.aad_object_id and seen.personal and not seen.from_bot
            else None
        )
        start = await self._turn_starter.start(
            facts=_facts_of(activity, sender.aad_object_id if seen.personal else None)
            if has_reference
            else None,
            reference=_reference_of(turn_context) if has_reference else None,
            person=person,
            state_key=_state_key(self._conversation_state, turn_context),
            wants_notices=activity.type == "message",
        )
        self._conversation_state.preload(
            turn_context, *((start.state.etag, start.state.data) if start.state else (None, None))
        )
        contact = start.contact
        # The city's directory knows an employee's language better than a Teams client's locale,
        # which is often English only because that is how the app was installed.
        language = resolve_language(
            contact.chosen_language if contact else None,
            contact.directory_language if contact else None,
            activity.locale,
            default=self._default_language,
        )
        notices = tuple(start.notices) if contact else ()
        remember(
            turn_context, replace(seen, texts=texts(language), contact=contact, notices=notices)
        )

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if not turn_of(turn_context).personal:
            await self._shared_message(turn_context)
            return
        await self._tell_notices(turn_context)
        named = _someone_else(turn_context)
        if named is not None:
            log.warning("refused a card payload naming another employee")
            if self._privacy is not None:
                sender = turn_of(turn_context).sender
                verb = verb_of(turn_context.activity.value)
                action = verb.value if verb is not None else "card"
                await self._privacy.refuse(str(sender.aad_object_id), named, action)
            await send_text(turn_context, texts_of(turn_context)("privacy.card.only_own"))
            return
        intent = read_intent(turn_context.activity.text, turn_context.activity.value)
        outright = next((area for area in self._outright if area.owns(intent)), None)
        if outright is not None:
            await outright.on_message(turn_context, intent)
            return
        if intent.kind is IntentKind.SWITCH_LANGUAGE and intent.language:
            await self._switch_language(turn_context, intent.language)
        dialog_context = await self._dialogs.create_context(turn_context)
        if await self._welcome_if_new(turn_context):
            await dialog_context.cancel_all_dialogs()
            await self._start(dialog_context, intent)
            return
        _lift_from_the_menu(dialog_context, self._main_dialog.id, set(self._area_dialogs.values()))
        if intent.kind in _RESTARTS:
            await dialog_context.cancel_all_dialogs()
            await dialog_context.begin_dialog(self._main_dialog.id)
            return
        if await self._aside_of_a_flow(dialog_context, intent):
            return
        if intent.kind is IntentKind.TEXT and (area := await self._asides.area_of(intent.text)):
            # "paljonko minulla on vähennyksiä jäljellä?" opens one's deductions, not the FAQ.
            intent = Intent(area, text=intent.text)
        waiting = dialog_context.active_dialog
        opening = self._router.opening(intent, waiting.id if waiting else None)
        if opening is not None:
            # A menu button, a command or a question leaves whatever was going on.
            await dialog_context.cancel_all_dialogs()
            await self._open(dialog_context, opening)
            return
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await self._start(dialog_context, intent)

    async def _start(self, dialog_context: DialogContext, intent: Intent) -> None:
        """With nothing waiting: the area the message opens, or the menu."""
        opening = self._router.opening(intent)
        if opening is not None:
            await self._open(dialog_context, opening)
        else:
            await dialog_context.begin_dialog(self._main_dialog.id)

    async def _open(self, dialog_context: DialogContext, opening: Opening) -> None:
        """The area's own dialog; what has none (the language card, an area still to come) is
        the menu's."""
        dialog_id = self._area_dialogs.get(opening.verb)
        if dialog_id is not None:
            await dialog_context.begin_dialog(dialog_id, opening.options)
        else:
            await dialog_context.begin_dialog(self._main_dialog.id, opening.menu_options())

    async def _shared_message(self, turn_context: TurnContext) -> None:
        """In a channel: an ICT admin may make it the helpdesk's; the rest belongs in 1:1 chats."""
        activity = turn_context.activity
        text = (
            TurnContext.remove_recipient_mention(activity) if activity.entities else activity.text
        )
        intent = read_intent(text, None)
        turn = turn_of(turn_context)
        place = turn.place
        if self._helpdesk is not None and intent.kind is IntentKind.HELPDESK_CHANNEL:
            answer = await self._helpdesk.set_channel(
                texts(intent.language), turn.sender.actor, place
            )
            await send_text(turn_context, answer)
            return
        hint = await self._helpdesk.channel_hint(place.team_id) if self._helpdesk else None
        if hint is not None:
            await send_text(turn_context, hint)
            return
        await send_text(turn_context, texts_of(turn_context)("errors.not_personal"))

    async def _aside_of_a_flow(self, dialog_context: DialogContext, intent: Intent) -> bool:
        """Text typed while a flow waits: the flow's own, or answered while the flow waits."""
        waiting = await self._waiting_flow(dialog_context)
        if waiting is None:
            return False
        flow, state = waiting
        turn_context = dialog_context.context
        routing = await self._asides.route(
            intent,
            expects_text=flow.expects_text(state),
            asker=turn_of(turn_context).sender.aad_object_id,
        )
        if routing is None:
            return False
        t = texts_of(turn_context)
        if routing.aside is Aside.AREA and routing.area is not None:
            # The area opens above the flow and ends at once, so the flow is waiting again.
            await self._start(dialog_context, Intent(routing.area, text=intent.text))
        elif routing.aside is Aside.ANSWER and routing.asked and self._faq is not None:
            asked = routing.asked
            topic = self._faq.content.topic(asked.match.topic_id or "")
            card = answer_card(t, topic, asked.question_id, asked=asked.match.question)
            await send_card(turn_context, card)
        else:
            await dialog_context.continue_dialog()
            return True
        await send_text(turn_context, t(flow.wait_line))
        return True

    async def _waiting_flow(
        self, dialog_context: DialogContext
    ) -> tuple[Flow, dict[str, Any]] | None:
        """The flow waiting for this message, with its state, if one is."""
        waiting = dialog_context.active_dialog
        flow = await self._dialogs.find(waiting.id) if waiting else None
        return (flow, waiting.state) if waiting and isinstance(flow, Flow) else None

    async def _tell_notices(self, turn_context: TurnContext) -> None:
        """Life events, each claimed before it is sent and released if the send fails."""
        for notice in turn_of(turn_context).notices:
            async with self._sessions() as session, session.begin():
                claimed = await deductions.mark_notice_sent(
                    session=session, notice_id=notice.id, now=self._clock()
                )
                if claimed:
                    await send_card(turn_context, notice_card(texts_of(turn_context), notice))

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """Universal Actions (Action.Execute): the answer replaces the pressed card."""
        action = invoke_value.action if isinstance(invoke_value.action, dict) else {}
        data = action.get("data")
        data = data if isinstance(data, dict) else {}
        verb = verb_of({"verb": action.get("verb")})
        language = data.get("language")
        if verb is Verb.SET_LANGUAGE and language in SUPPORTED_LANGUAGES:
            await self._store_language(turn_context, language)
            return card_invoke_response(language_set_card(texts_of(turn_context)))
        area = self._in_place.get(verb) if verb else None
        if verb is not None and area is not None:
            return await area.on_invoke(turn_context, verb, data)
        log.warning("refused Action.Execute with verb %r", action.get("verb"))
        return error_invoke_response(
            400, "BadRequest", texts_of(turn_context)("errors.unknown_action")
        )

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._greet_on_install(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        async with self._sessions() as session, session.begin():
            await conversations.mark_uninstalled(
                session=session,
                conversation_id=turn_context.activity.conversation.id,
                now=self._clock(),
            )

    async def on_teams_members_added_dispatch(
        self,
        members_added: list[ChannelAccount],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        """Upstream looks every new member up with a connector call; we only need the bot itself."""
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added):
            await self._greet_on_install(turn_context)
        people = [_member(account) for account in members_added if account.id != bot_id]
        if self._helpdesk is not None and people:
            await self._helpdesk.members_changed(turn_of(turn_context).place, people, [])

    async def on_teams_members_removed_dispatch(
        self,
        members_removed: list[ChannelAccount],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        """Someone left a team: if it is the helpdesk's, they can no longer act on tickets."""
        gone = [account.aad_object_id for account in members_removed if account.aad_object_id]
        if self._helpdesk is not None and gone:
            await self._helpdesk.members_changed(turn_of(turn_context).place, [], gone)

    async def on_teams_members_added(
        self,
        teams_members_added: list[TeamsChannelAccount],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        return None

    async def _greet_on_install(self, turn_context: TurnContext) -> None:
        if turn_of(turn_context).personal:
            if await self._welcome_if_new(turn_context):
                await send_card(turn_context, menu_card(texts_of(turn_context)))
            return
        await send_card(
            turn_context,
            welcome_card(texts_of(turn_context), None, self._instalments, self._notice_url),
        )

    async def _welcome_if_new(self, turn_context: TurnContext) -> bool:
        """Send the welcome card once per person, whether they installed or just wrote."""
        contact = turn_of(turn_context).contact
        if contact is None or not contact.needs_welcome:
            return False
        async with self._sessions() as session, session.begin():
            first = await directory.mark_welcomed(
                session=session, aad_object_id=contact.aad_object_id, now=self._clock()
            )
        if first:
            name = (contact.display_name or "").split(" ")[0] or None
            await send_card(
                turn_context,
                welcome_card(texts_of(turn_context), name, self._instalments, self._notice_url),
            )
        return first

    async def _switch_language(self, turn_context: TurnContext, language: str) -> None:
        await self._store_language(turn_context, language)
        await send_text(turn_context, texts_of(turn_context)("language.switched"))

    async def _store_language(self, turn_context: TurnContext, language: str) -> None:
        """Remember the choice and speak it from this turn on."""
        turn = turn_of(turn_context)
        aad_object_id = turn.sender.aad_object_id
        if aad_object_id:
            async with self._sessions() as session, session.begin():
                await directory.choose_language(
                    session=session,
                    aad_object_id=aad_object_id,
                    language=language,
                    now=self._clock(),
                )
        remember(turn_context, turn.speaking(texts(language)))


def _member(account: ChannelAccount) -> Member:
    return Member(account.aad_object_id or "", account.id or "", account.name or "")


_PERSON_KEYS = (
    "aad_object_id",
    "aadObjectId",
    "employee",
    "employee_number",
    "user_id",
    "person",
    "user",
)


def _someone_else(turn_context: TurnContext) -> str | None:
    """Our cards never carry a person; a payload that names anyone but the sender is forged:
    whom it names, or None."""
    sender = turn_of(turn_context).sender
    own = {str(sender.aad_object_id), str(sender.teams_id)}
    others = [
        str(value) for value in _person_values(turn_context.activity.value) if str(value) not in own
    ]
    return others[0][:64] if others else None


def _person_values(node: Any) -> list[Any]:
    """Values under person-like keys anywhere in a submitted payload."""
    found: list[Any] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _PERSON_KEYS:
                found.append(value)
            found += _person_values(value)
    elif isinstance(node, list):
        for value in node:
            found += _person_values(value)
    return found


def _lift_from_the_menu(dialog_context: DialogContext, menu_id: str, areas: set[str]) -> None:
    """Dialog state saved before the areas were dialogs of their own (until 2026-12-07) has the
    waiting area inside the main menu: its stack is lifted to the top, so the conversation goes
    on where it was. Migration code: it can go once no conversation of that time can wait."""
    stack = dialog_context.stack
    if not stack or stack[0].id != menu_id:
        return
    inner = stack[0].state.get(ComponentDialog.persisted_dialog_state)
    waiting: list[DialogInstance] = getattr(inner, "dialog_stack", None) or []
    if waiting and waiting[0].id in areas:
        stack[0:1] = waiting


def _facts_of(activity: Any, personal_id: str | None) -> conversations.ConversationFacts:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (channel_data.get("tenant") or {}).get("id") or getattr(
        activity.conversation, "tenant_id", None
    )
    team = (channel_data.get("team") or {}).get("id")
    return conversations.ConversationFacts(
        conversation_id=activity.conversation.id,
        conversation_type=activity.conversation.conversation_type or PERSONAL,
        channel_id=activity.channel_id or "msteams",
        service_url=activity.service_url,
        tenant_id=tenant,
        aad_object_id=personal_id,
        team_id=team,
    )


def _reference_of(turn_context: TurnContext) -> dict[str, Any]:
    """The reference without this turn's activity id, so it changes only when it must."""
    reference = TurnContext.get_conversation_reference(turn_context.activity)
    reference.activity_id = None
    return serialize_model(reference)


def _state_key(state: TurnConversationState, turn_context: TurnContext) -> str:
    """Where this conversation's dialog state is stored ("" when the activity names none)."""
    activity = turn_context.activity
    if not activity.channel_id or not _conversation_id(activity):
        return ""
    return str(state.get_storage_key(turn_context))


def _conversation_id(activity: Any) -> str | None:
    conversation = activity.conversation
    return conversation.id if conversation else None

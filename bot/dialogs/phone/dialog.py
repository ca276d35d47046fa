"""Choosing a phone: Free Choice (wishes, list, details, summary, consent) or the Pori-phone.

```mermaid
stateDiagram-v2
    [*] --> Current: an open choice exists
    [*] --> Options
    Current --> Options: change
    Current --> [*]: keep / withdraw
    Options --> Preferences: Free Choice
    Options --> PoriConfirm: Pori-phone
    Preferences --> List: show phones
    List --> Details: tap a model
    Details --> Summary: choose this
    Summary --> [*]: accept (consent recorded)
    PoriConfirm --> [*]: confirm
    note right of Summary: back, start over and cancel work at every step
    note left of List: a question typed at any step is answered and the step waits (aside.py)
```
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.catalog.service import Preferences
from bot.choices.service import (
    Eligibility,
    PhoneChoices,
    RecordOutcome,
    RecordResult,
    ShownFigures,
    WithdrawOutcome,
)
from bot.dialogs.actions import Verb, verb_of
from bot.dialogs.aside import Flow
from bot.dialogs.intents import Intent, IntentKind
from bot.dialogs.menu.cards import menu_card
from bot.dialogs.opening import Opening
from bot.dialogs.phone.cards import (
    FLOW_KEY,
    blocked_text,
    confirmation_card,
    current_choice_card,
    current_line,
    model_detail_card,
    model_list_card,
    options_card,
    pori_confirm_card,
    preferences_card,
    summary_card,
)
from bot.dialogs.replies import send_card, send_text
from bot.dialogs.turn import texts_of, turn_of
from bot.numbers import payload_int

FLOW_VERBS = frozenset(verb for verb in Verb if verb.value.startswith(("phone.", "flow.")))
VERBS = FLOW_VERBS | {Verb.CHOOSE_PHONE}
_OS_VALUES = {"ios", "android"}
_SIZE_VALUES = {"compact", "large"}

Step = Callable[[DialogContext, dict[str, Any], dict[str, Any]], Awaitable[DialogTurnResult]]


def opening(intent: Intent) -> Opening | None:
    """ "Choose a phone" opens the choice; a card of a choice that has ended reopens it with the
    press, and the dialog decides what the press means now."""
    if intent.kind is IntentKind.CHOOSE_PHONE or intent.verb is Verb.CHOOSE_PHONE:
        return Opening(Verb.CHOOSE_PHONE)
    if intent.kind is IntentKind.VERB and intent.verb in FLOW_VERBS:
        return Opening(
            Verb.CHOOSE_PHONE,
            {"stale_value": intent.value},
            unless_waiting=ChoosePhoneDialog.__name__,
        )
    return None


class ChoosePhoneDialog(Flow, Dialog):
    """A small state machine rather than a waterfall, so Back and Start over work everywhere.

    Every step is answered with the card's buttons, so typed text is never the flow's own.
    """

    wait_line = "flow_waits.choose_phone"

    def __init__(self, choices: PhoneChoices, webshop_url: str) -> None:
        super().__init__(ChoosePhoneDialog.__name__)
        self._choices = choices
        self._webshop_url = webshop_url
        self._on_verb: dict[Verb, Step] = {
            Verb.FLOW_CANCEL: self._cancel,
            Verb.FLOW_RESTART: self._restart,
            Verb.FLOW_BACK: self._back,
            Verb.PHONE_CHANGE: self._change,
            Verb.PHONE_KEEP: self._keep,
            Verb.PHONE_WITHDRAW: self._withdraw,
            Verb.PHONE_FREE: self._free_choice,
            Verb.PHONE_PORI: self._pori_phone,
            Verb.PHONE_FILTER: self._filter,
            Verb.PHONE_SHOW_ALL: self._show_all,
            Verb.PHONE_DETAILS: self._details,
            Verb.PHONE_PICK: self._pick,
            Verb.PHONE_ACCEPT: self._accept,
            Verb.PHONE_CONFIRM_PORI: self._confirm_pori,
        }

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        state = dialog_context.active_dialog.state
        state.update(flow=uuid.uuid4().hex[:12], step="options", history=[], prefs={})
        stale = options.get("stale_value") if isinstance(options, dict) else None
        if isinstance(stale, dict):
            if await self._answer_replayed_consent(dialog_context, stale):
                return await dialog_context.end_dialog()
            await send_text(dialog_context.context, texts_of(dialog_context.context)("phone.stale"))
        return await self._start(dialog_context, state)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        state = dialog_context.active_dialog.state
        value = dialog_context.context.activity.value
        verb = verb_of(value)
        if verb not in FLOW_VERBS or not isinstance(value, dict):
            await send_text(
                dialog_context.context, texts_of(dialog_context.context)("phone.use_buttons")
            )
            return Dialog.end_of_turn
        if value.get(FLOW_KEY) != state["flow"]:
            if await self._answer_replayed_consent(dialog_context, value):
                return Dialog.end_of_turn
            await send_text(dialog_context.context, texts_of(dialog_context.context)("phone.stale"))
            await self._show(dialog_context, state)
            return Dialog.end_of_turn
        return await self._on_verb[verb](dialog_context, state, value)

    # -- the steps ---------------------------------------------------------------------------

    async def _start(self, dc: DialogContext, state: dict[str, Any]) -> DialogTurnResult:
        eligibility = await self._choices.eligibility(_aad(dc))
        t = texts_of(dc.context)
        if not eligibility.may_choose:
            await send_text(dc.context, blocked_text(t, eligibility))
            if eligibility.current is not None:
                await send_text(dc.context, current_line(t, eligibility.current))
            return await dc.end_dialog()
        state["history"] = []
        state["step"] = "current" if eligibility.current else "options"
        await self._show(dc, state, eligibility)
        return Dialog.end_of_turn

    async def _cancel(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        await send_text(dc.context, texts_of(dc.context)("phone.cancelled"))
        return await dc.end_dialog()

    async def _restart(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        state["prefs"] = {}
        return await self._start(dc, state)

    async def _back(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        if not state["history"]:
            return await self._start(dc, state)
        state["step"] = state["history"].pop()
        await self._show(dc, state)
        return Dialog.end_of_turn

    async def _change(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        return await self._go(dc, state, "options")

    async def _keep(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        await send_card(dc.context, menu_card(texts_of(dc.context)))
        return await dc.end_dialog()

    async def _withdraw(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        t = texts_of(dc.context)
        outcome = await self._choices.withdraw(_aad(dc))
        if outcome is WithdrawOutcome.BLOCKED:
            await send_text(dc.context, blocked_text(t, await self._choices.eligibility(_aad(dc))))
        else:
            await send_text(dc.context, t(f"phone.{outcome.value}"))
        return await dc.end_dialog()

    async def _free_choice(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        return await self._go(dc, state, "preferences")

    async def _pori_phone(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        state["token"] = uuid.uuid4().hex
        return await self._go(dc, state, "pori")

    async def _filter(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        state["prefs"] = _clean_preferences(value)
        state["filtered"] = True
        return await self._go(dc, state, "list")

    async def _show_all(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        state["filtered"] = False
        return await self._go(dc, state, "list", remember=False)

    async def _details(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        if not await self._remember_model(dc, state, value):
            return Dialog.end_of_turn
        return await self._go(dc, state, "details")

    async def _pick(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        if not await self._remember_model(dc, state, value):
            return Dialog.end_of_turn
        return await self._go(dc, state, "summary")

    async def _accept(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        t = texts_of(dc.context)
        if value.get("consent_token") != state.get("token") or value.get("model_id") != state.get(
            "model_id"
        ):
            await send_text(dc.context, t("phone.stale"))
            await self._show(dc, state)
            return Dialog.end_of_turn
        shown = _shown_figures(state["shown"])
        if shown.employee_share_cents > 0 and value.get("consent") != "true":
            await send_text(dc.context, t("phone.consent_needed"))
            return Dialog.end_of_turn
        result = await self._choices.record_free_choice(
            aad_object_id=_aad(dc),
            model_id=state["model_id"],
            shown=shown,
            consent_token=state["token"],
            language=t.language,
        )
        return await self._after_recording(dc, state, result)

    async def _confirm_pori(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> DialogTurnResult:
        if value.get("consent_token") != state.get("token"):
            await send_text(dc.context, texts_of(dc.context)("phone.stale"))
            await self._show(dc, state)
            return Dialog.end_of_turn
        result = await self._choices.record_pori_phone(
            aad_object_id=_aad(dc),
            consent_token=state["token"],
            language=texts_of(dc.context).language,
        )
        return await self._after_recording(dc, state, result)

    async def _after_recording(
        self, dc: DialogContext, state: dict[str, Any], result: RecordResult
    ) -> DialogTurnResult:
        t = texts_of(dc.context)
        if result.outcome is RecordOutcome.WITHDRAWN:
            await send_text(dc.context, t("phone.model_withdrawn"))
            await self._back_to_list(dc, state)
            return Dialog.end_of_turn
        if result.outcome is RecordOutcome.PRICE_CHANGED:
            await send_text(dc.context, t("phone.price_changed"))
            await self._show(dc, state)
            return Dialog.end_of_turn
        eligibility = await self._choices.eligibility(_aad(dc))
        if result.outcome is RecordOutcome.BLOCKED:
            await send_text(dc.context, blocked_text(t, eligibility))
            return await dc.end_dialog()
        if result.outcome is RecordOutcome.CHANGED_MEANWHILE or result.choice is None:
            await send_text(dc.context, t("phone.changed_meanwhile"))
            return await self._start(dc, state)
        if result.outcome is RecordOutcome.ALREADY_RECORDED:
            await send_text(dc.context, t("phone.already_recorded"))
        await send_card(
            dc.context, confirmation_card(t, result.choice, eligibility, self._webshop_url)
        )
        return await dc.end_dialog()

    async def _answer_replayed_consent(self, dc: DialogContext, value: dict[str, Any]) -> bool:
        """A consent pressed again after it was saved: say so instead of recording it twice."""
        token = value.get("consent_token")
        if not isinstance(token, str) or verb_of(value) not in (
            Verb.PHONE_ACCEPT,
            Verb.PHONE_CONFIRM_PORI,
        ):
            return False
        if await self._choices.recorded(_aad(dc), token) is None:
            return False
        await send_text(dc.context, texts_of(dc.context)("phone.already_recorded"))
        return True

    # -- moving between steps ----------------------------------------------------------------

    async def _go(
        self, dc: DialogContext, state: dict[str, Any], step: str, *, remember: bool = True
    ) -> DialogTurnResult:
        if remember and state["step"] != step:
            state["history"].append(state["step"])
        state["step"] = step
        await self._show(dc, state)
        return Dialog.end_of_turn

    async def _remember_model(
        self, dc: DialogContext, state: dict[str, Any], value: dict[str, Any]
    ) -> bool:
        model_id = payload_int(value.get("model_id"))
        quote = await self._choices.quote(model_id) if model_id is not None else None
        if quote is None:
            await send_text(dc.context, texts_of(dc.context)("phone.model_withdrawn"))
            await self._back_to_list(dc, state)
            return False
        state["model_id"] = quote.model_id
        return True

    async def _back_to_list(self, dc: DialogContext, state: dict[str, Any]) -> None:
        """Back to the model list, as if Back had been pressed until it showed."""
        while state["history"] and state["step"] != "list":
            state["step"] = state["history"].pop()
        state["step"] = "list"
        await self._show(dc, state)

    async def _show(
        self, dc: DialogContext, state: dict[str, Any], eligibility: Eligibility | None = None
    ) -> None:
        """Send the card of the current step, built from fresh domain data (or from the
        eligibility this same turn has just read)."""
        t = texts_of(dc.context)
        flow = state["flow"]
        step = state["step"]
        if step in ("options", "current"):
            eligibility = eligibility or await self._choices.eligibility(_aad(dc))
            if step == "current" and eligibility.current is not None:
                await send_card(dc.context, current_choice_card(t, flow, eligibility.current))
            else:
                await send_card(
                    dc.context, options_card(t, flow, eligibility, self._choices.policy.instalments)
                )
        elif step == "preferences":
            await send_card(dc.context, preferences_card(t, flow, state["prefs"]))
        elif step == "list":
            filtered = bool(state.get("filtered"))
            quotes = await self._choices.quotes(_preferences(state["prefs"]) if filtered else None)
            await send_card(dc.context, model_list_card(t, flow, quotes, filtered=filtered))
        elif step == "pori":
            await send_card(dc.context, pori_confirm_card(t, flow, state["token"]))
        else:
            quote = await self._choices.quote(state["model_id"])
            if quote is None:
                await send_text(dc.context, t("phone.model_withdrawn"))
                await self._back_to_list(dc, state)
            elif step == "details":
                await send_card(dc.context, model_detail_card(t, flow, quote))
            else:
                # A fresh token per summary: only the card showing these figures can accept them.
                state["token"] = uuid.uuid4().hex
                state["shown"] = _figures_state(ShownFigures.of(quote))
                await send_card(dc.context, summary_card(t, flow, quote, state["token"]))


def _aad(dc: DialogContext) -> str:
    """The chooser; with no Entra id, nobody the directory knows (so not allowed to choose)."""
    return turn_of(dc.context).sender.aad_object_id or ""


def _clean_preferences(value: dict[str, Any]) -> dict[str, str]:
    """Only values our own card offers; anything else in a submitted payload is dropped."""
    prefs: dict[str, str] = {}
    if value.get("os") in _OS_VALUES:
        prefs["os"] = value["os"]
    if value.get("size") in _SIZE_VALUES:
        prefs["size"] = value["size"]
    monthly = payload_int(value.get("max_monthly"), smallest=0)
    if monthly is not None:
        prefs["max_monthly"] = str(monthly)
    if value.get("camera") == "true":
        prefs["camera"] = "true"
    return prefs


def _preferences(prefs: dict[str, str]) -> Preferences:
    return Preferences(
        os=prefs.get("os"),
        max_monthly_cents=int(prefs["max_monthly"]) if "max_monthly" in prefs else None,
        camera_first=prefs.get("camera") == "true",
        size=prefs.get("size"),
    )


def _figures_state(figures: ShownFigures) -> dict[str, Any]:
    month = figures.first_deduction_month
    return {**asdict(figures), "first_deduction_month": month.isoformat() if month else None}


def _shown_figures(stored: dict[str, Any]) -> ShownFigures:
    month = stored.get("first_deduction_month")
    return ShownFigures(
        **{**stored, "first_deduction_month": date.fromisoformat(month) if month else None}
    )

"""The main menu: show the areas and wait for a button (or say honestly an area is coming).

The areas are dialogs of their own: the handler's router opens them, whether their button is
pressed here or anywhere else. The menu itself opens only the language card.

```mermaid
stateDiagram-v2
    [*] --> ShowMenu: menu / start / a press no area opens
    [*] --> LanguageCard: language button
    ShowMenu --> WaitChoice
    WaitChoice --> WaitChoice: a press that is not a menu button (menu again)
    WaitChoice --> [*]: a menu button (the router ends the menu and opens the area)
    LanguageCard --> [*]
```
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    PromptOptions,
    PromptRecognizerResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import Prompt
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.dialogs.actions import VERB_KEY, Verb
from bot.dialogs.intents import Intent
from bot.dialogs.menu.cards import MENU_AREAS, coming_soon_card, language_card, menu_card
from bot.dialogs.opening import Opening
from bot.dialogs.replies import card_activity, card_invoke_response, send_card, send_text
from bot.dialogs.turn import texts_of

# What the menu opens itself when the handler starts it with one of these: the language card,
# or "coming soon" for a button whose area has no dialog.
MENU_BUTTON_VERBS = frozenset(verb for verb, _ in MENU_AREAS) | {Verb.PICK_LANGUAGE}
# The menu itself and the language: each area owns the verb that opens it.
VERBS = frozenset({Verb.OPEN_MENU, Verb.PICK_LANGUAGE, Verb.SET_LANGUAGE})
_AREA_LABELS = dict(MENU_AREAS)
MENU_STEPS = "main_menu.steps"


def opening(intent: Intent) -> Opening | None:
    """The language button opens the language card."""
    return Opening(Verb.PICK_LANGUAGE) if intent.verb is Verb.PICK_LANGUAGE else None


class MenuChoicePrompt(Prompt):
    """Waits while the menu is shown. Every button of the menu is opened by the handler's router
    before the prompt sees it, so what reaches the prompt is something else: it explains that
    and shows the menu again."""

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        if is_retry:
            await _explain_not_understood(turn_context, turn_context.activity.text)
        await send_card(turn_context, menu_card(texts_of(turn_context)))

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, object], options: PromptOptions
    ) -> PromptRecognizerResult:
        return PromptRecognizerResult()


class MainMenuDialog(ComponentDialog):
    """Shows the menu and waits for a button; the areas are dialogs of their own, which the
    handler opens. What the menu opens itself: the language card, and an area still to come."""

    def __init__(self) -> None:
        super().__init__(MainMenuDialog.__name__)
        self.add_dialog(MenuChoicePrompt(MenuChoicePrompt.__name__))
        self.add_dialog(WaterfallDialog(MENU_STEPS, [self._ask_for_area, self._open_area]))
        self.initial_dialog_id = MENU_STEPS

    async def _ask_for_area(self, step: WaterfallStepContext) -> DialogTurnResult:
        options: dict[str, Any] = step.options if isinstance(step.options, dict) else {}
        chosen = options.get(VERB_KEY)
        if chosen in MENU_BUTTON_VERBS:
            return await step.next(chosen)
        return await step.prompt(MenuChoicePrompt.__name__, PromptOptions())

    async def _open_area(self, step: WaterfallStepContext) -> DialogTurnResult:
        verb = Verb(step.result)
        t = texts_of(step.context)
        if verb is Verb.PICK_LANGUAGE:
            await send_card(step.context, language_card(t))
            return await step.end_dialog()
        await step.context.send_activity(card_activity(coming_soon_card(t, _AREA_LABELS[verb])))
        return await step.end_dialog()


class MenuInPlace:
    """ "Menu" on a card that answers in place: the menu replaces that card."""

    in_place = frozenset({Verb.OPEN_MENU})

    async def on_invoke(
        self, turn_context: TurnContext, verb: Verb, data: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse:
        return card_invoke_response(menu_card(texts_of(turn_context)))


async def _explain_not_understood(turn_context: TurnContext, text: str | None) -> None:
    t = texts_of(turn_context)
    shown = (text or "").strip()
    if len(shown) > 80:
        shown = shown[:77] + "…"
    await send_text(
        turn_context, t("not_understood.text", text=shown) if shown else t("not_understood.empty")
    )

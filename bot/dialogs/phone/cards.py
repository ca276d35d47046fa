"""Cards of the choose-a-phone conversation; every button carries the flow it belongs to."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.choices.cost import CostBreakdown, InstalmentRule, last_deduction_month
from bot.choices.models import ChoiceOption
from bot.choices.service import Blocked, CurrentChoice, Eligibility, Quote
from bot.clock import helsinki_today
from bot.dialogs.actions import Verb, submit
from bot.dialogs.cards import card, text_block
from bot.faq.facts import FIRST_DEDUCTION_TIMING
from bot.i18n import Texts

FLOW_KEY = "flow"
ANY = "any"  # an Adaptive Card choice needs a non-empty value, even for "no preference"
MONTHLY_LIMITS_EUR = (0, 10, 20, 30, 50)


def _flow_buttons(t: Texts, flow: str, *, back: bool = True) -> list[dict[str, Any]]:
    buttons = [submit(t("phone.back"), Verb.FLOW_BACK, flow=flow)] if back else []
    return [
        *buttons,
        submit(t("phone.restart"), Verb.FLOW_RESTART, flow=flow),
        submit(t("phone.cancel"), Verb.FLOW_CANCEL, flow=flow),
    ]


def options_card(
    t: Texts, flow: str, eligibility: Eligibility, rule: InstalmentRule
) -> dict[str, Any]:
    """The two options, two sentences each."""
    body = [text_block(t("phone.title"), size="Large", weight="Bolder", style="heading")]
    if eligibility.current is not None:
        body.append(text_block(current_line(t, eligibility.current), isSubtle=True))
    body += [
        text_block(t("phone.free_title"), weight="Bolder", spacing="Medium"),
        text_block(t("phone.free_text", months=rule.max_count, minimum=t.money(rule.min_cents))),
        text_block(t("phone.pori_title"), weight="Bolder", spacing="Medium"),
        text_block(t("phone.pori_text")),
    ]
    if eligibility.window.closes_on:
        body.append(
            text_block(t("phone.window_open_until", date=t.date(eligibility.window.closes_on)))
        )
    return card(
        body,
        [
            submit(t("phone.choose_free"), Verb.PHONE_FREE, flow=flow),
            submit(t("phone.choose_pori"), Verb.PHONE_PORI, flow=flow),
            submit(t("phone.cancel"), Verb.FLOW_CANCEL, flow=flow),
        ],
    )


def current_choice_card(t: Texts, flow: str, current: CurrentChoice) -> dict[str, Any]:
    return card(
        [
            text_block(t("phone.title"), size="Large", weight="Bolder", style="heading"),
            text_block(current_line(t, current)),
        ],
        [
            submit(t("phone.change_choice"), Verb.PHONE_CHANGE, flow=flow),
            submit(t("phone.keep_choice"), Verb.PHONE_KEEP, flow=flow),
            submit(t("phone.withdraw_choice"), Verb.PHONE_WITHDRAW, flow=flow),
        ],
    )


def preferences_card(t: Texts, flow: str, chosen: dict[str, str]) -> dict[str, Any]:
    """What matters: operating system, monthly amount, camera, size; all optional."""
    limits = [{"title": t("phone.monthly_any"), "value": ANY}]
    for euros in MONTHLY_LIMITS_EUR:
        title = (
            t("phone.monthly_free")
            if euros == 0
            else t("phone.monthly_upto", amount=t.money(euros * 100))
        )
        limits.append({"title": title, "value": str(euros * 100)})
    return card(
        [
            text_block(
                t("phone.preferences_title"), size="Medium", weight="Bolder", style="heading"
            ),
            text_block(t("phone.preferences_hint"), isSubtle=True),
            _choice_set(
                "os",
                t("phone.os_label"),
                chosen.get("os", ANY),
                [
                    (t("phone.os_any"), ANY),
                    (t("phone.os_ios"), "ios"),
                    (t("phone.os_android"), "android"),
                ],
            ),
            {
                "type": "Input.ChoiceSet",
                "id": "max_monthly",
                "label": t("phone.monthly_label"),
                "style": "compact",
                "value": chosen.get("max_monthly", ANY),
                "choices": limits,
            },
            text_block(t("phone.monthly_hint"), isSubtle=True, size="Small", spacing="None"),
            _choice_set(
                "size",
                t("phone.size_label"),
                chosen.get("size", ANY),
                [
                    (t("phone.size_any"), ANY),
                    (t("phone.size_compact"), "compact"),
                    (t("phone.size_large"), "large"),
                ],
            ),
            {
                "type": "Input.Toggle",
                "id": "camera",
                "title": t("phone.camera_label"),
                "value": chosen.get("camera", "false"),
                "valueOn": "true",
                "valueOff": "false",
            },
        ],
        [submit(t("phone.show_models"), Verb.PHONE_FILTER, flow=flow), *_flow_buttons(t, flow)],
    )


def _choice_set(
    input_id: str, label: str, value: str, options: list[tuple[str, str]]
) -> dict[str, Any]:
    return {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "compact",
        "value": value,
        "choices": [{"title": title, "value": option} for title, option in options],
    }


def model_list_card(t: Texts, flow: str, quotes: list[Quote], *, filtered: bool) -> dict[str, Any]:
    """A compact, tappable list: price, the employee's share and the monthly deduction."""
    body = [text_block(t("phone.list_title"), size="Medium", weight="Bolder", style="heading")]
    if not quotes:
        body.append(text_block(t("phone.list_empty")))
    else:
        body.append(text_block(t("phone.tap_for_details"), isSubtle=True, size="Small"))
    for quote in quotes:
        body.append(_model_row(t, flow, quote))
    actions = [submit(t("phone.change_preferences"), Verb.FLOW_BACK, flow=flow)]
    if filtered:
        actions.append(submit(t("phone.show_all"), Verb.PHONE_SHOW_ALL, flow=flow))
    actions += [
        submit(t("phone.restart"), Verb.FLOW_RESTART, flow=flow),
        submit(t("phone.cancel"), Verb.FLOW_CANCEL, flow=flow),
    ]
    return card(body, actions)


def _model_row(t: Texts, flow: str, quote: Quote) -> dict[str, Any]:
    cost = quote.cost
    price, share = t.money(cost.price_cents), t.money(cost.employee_share_cents)
    if cost.costs_employee_nothing:
        line = t("phone.list_line_free", price=price)
    elif cost.instalment_count == 1:
        line = t("phone.list_line_single", price=price, share=share)
    else:
        line = t(
            "phone.list_line_uneven" if cost.has_remainder else "phone.list_line",
            price=price,
            share=share,
            monthly=t.money(quote.monthly_cents),
            count=cost.instalment_count,
            first=t.money(cost.first_instalment_cents),
        )
    title = f"{quote.brand} {quote.name}"
    items = [text_block(title, weight="Bolder"), text_block(line, spacing="None", size="Small")]
    if quote.is_base:
        items.append(text_block(t("phone.base_badge"), color="Good", size="Small", spacing="None"))
    return {
        "type": "Container",
        "style": "emphasis",
        "spacing": "Small",
        "items": items,
        "selectAction": submit(title, Verb.PHONE_DETAILS, flow=flow, model_id=quote.model_id),
    }


def model_detail_card(t: Texts, flow: str, quote: Quote) -> dict[str, Any]:
    cost = quote.cost
    sim = t("phone.sim_dual_esim") if quote.esim else t("phone.sim_dual")
    inches = t.number(quote.screen_inches, decimals=1)
    facts = [
        (t("phone.details_price"), t.money(cost.price_cents)),
        (t("phone.details_storage"), t("phone.storage_value", gb=quote.storage_gb)),
        (t("phone.details_screen"), t("phone.screen_value", inches=inches)),
        (t("phone.details_camera"), t("phone.camera_value", mp=quote.camera_mp)),
        (t("phone.details_sim"), sim if quote.dual_sim else "1"),
        (t("phone.details_5g"), t("phone.answer_yes") if quote.five_g else t("phone.answer_no")),
        (t("phone.details_os"), "iOS" if quote.os == "ios" else "Android"),
        (t("phone.details_city_pays"), city_share_text(t, cost)),
        (t("phone.details_you_pay"), t.money(cost.employee_share_cents)),
    ]
    if not cost.costs_employee_nothing:
        facts.append((t("phone.summary_instalments"), instalments_text(t, quote)))
    return card(
        [
            text_block(
                f"{quote.brand} {quote.name}", size="Large", weight="Bolder", style="heading"
            ),
            _fact_set(facts),
        ],
        [
            submit(t("phone.choose_this"), Verb.PHONE_PICK, flow=flow, model_id=quote.model_id),
            *_flow_buttons(t, flow),
        ],
    )


def summary_card(t: Texts, flow: str, quote: Quote, consent_token: str) -> dict[str, Any]:
    """The full cost breakdown and the explicit consent to the salary deduction; the months
    only once ICT has confirmed when deductions start."""
    cost = quote.cost
    facts = [
        (t("phone.summary_phone"), f"{quote.brand} {quote.name}"),
        (t("phone.summary_price"), t.money(cost.price_cents)),
        (t("phone.summary_city"), city_share_text(t, cost)),
        (t("phone.summary_share"), t.money(cost.employee_share_cents)),
    ]
    body = [text_block(t("phone.summary_title"), size="Medium", weight="Bolder", style="heading")]
    data = {"model_id": quote.model_id, "consent_token": consent_token}
    if cost.costs_employee_nothing or quote.first_deduction_month is None:
        body += [_fact_set(facts), text_block(t("phone.summary_free"))]
        accept = submit(t("phone.confirm"), Verb.PHONE_ACCEPT, flow=flow, **data)
        return card(body, [accept, *_flow_buttons(t, flow)])
    first = quote.first_deduction_month
    facts.append((t("phone.summary_instalments"), instalments_text(t, quote)))
    start = [text_block(t.fact(FIRST_DEDUCTION_TIMING))]
    if t.fact_confirmed(FIRST_DEDUCTION_TIMING):
        start = []
        if cost.instalment_count == 1:
            facts.append((t("phone.summary_only_month"), t.month(first)))
        else:
            last = last_deduction_month(first, instalments=cost.instalment_count)
            facts += [
                (t("phone.summary_first_month"), t.month(first)),
                (t("phone.summary_last_month"), t.month(last)),
            ]
    body += [
        _fact_set(facts),
        *start,
        text_block(t("phone.summary_ownership")),
        text_block(consent_text(t, quote), weight="Bolder", spacing="Medium"),
        {
            "type": "Input.Toggle",
            "id": "consent",
            "title": t("phone.consent_toggle"),
            "value": "false",
            "valueOn": "true",
            "valueOff": "false",
        },
    ]
    accept = submit(t("phone.accept"), Verb.PHONE_ACCEPT, flow=flow, **data)
    return card(body, [accept, *_flow_buttons(t, flow)])


def city_share_text(t: Texts, cost: CostBreakdown) -> str:
    """What the city pays, saying whether it is the base model's price or the model's own."""
    key = "phone.city_whole_price" if cost.city_pays_whole_price else "phone.city_base_price"
    return t(key, amount=t.money(cost.city_share_cents))


def instalments_text(t: Texts, quote: Quote) -> str:
    """The deductions as planned: one, equal ones, or a first one that carries the remainder."""
    cost = quote.cost
    if cost.instalment_count == 1:
        return t("phone.summary_instalments_single", amount=t.money(cost.first_instalment_cents))
    if not cost.has_remainder:
        return t(
            "phone.summary_instalments_even",
            count=cost.instalment_count,
            amount=t.money(cost.instalment_cents),
        )
    return t(
        "phone.summary_instalments_value",
        count=cost.instalment_count,
        first=t.money(cost.first_instalment_cents),
        rest_count=cost.instalment_count - 1,
        rest=t.money(cost.instalment_cents),
    )


def consent_text(t: Texts, quote: Quote) -> str:
    """The sentence the employee accepts: the share, its instalments and, once ICT has
    confirmed when deductions start, the first month."""
    cost = quote.cost
    first = quote.first_deduction_month
    if first is None:
        raise ValueError("a share without a first deduction month cannot be consented to")
    share = t.money(cost.employee_share_cents)
    if cost.instalment_count == 1:
        consent = t("phone.consent_text_single", share=share)
    else:
        consent = t(
            "phone.consent_text" if cost.has_remainder else "phone.consent_text_even",
            share=share,
            count=cost.instalment_count,
            first=t.money(cost.first_instalment_cents),
            rest=t.money(cost.instalment_cents),
        )
    if t.fact_confirmed(FIRST_DEDUCTION_TIMING):
        consent += " " + t("phone.next_first_deduction", month_in=t.month(first, "inessive"))
    return consent


def pori_confirm_card(t: Texts, flow: str, consent_token: str) -> dict[str, Any]:
    return card(
        [
            text_block(
                t("phone.pori_confirm_title"), size="Medium", weight="Bolder", style="heading"
            ),
            text_block(t("phone.pori_confirm_text")),
        ],
        [
            submit(
                t("phone.confirm_pori"),
                Verb.PHONE_CONFIRM_PORI,
                flow=flow,
                consent_token=consent_token,
            ),
            *_flow_buttons(t, flow),
        ],
    )


def confirmation_card(
    t: Texts, choice: CurrentChoice, eligibility: Eligibility, webshop_url: str
) -> dict[str, Any]:
    """What was saved and what happens next."""
    body = [text_block(t("phone.done_title"), size="Large", weight="Bolder", style="heading")]
    actions: list[dict[str, Any]] = []
    if choice.option is ChoiceOption.PORI_PHONE:
        body += [text_block(t("phone.done_pori")), text_block(t("phone.next_pori"))]
    else:
        body.append(text_block(t("phone.done_model", model=choice.model_name or "")))
        steps = [t("phone.next_credentials"), t("phone.next_order"), t("phone.next_delivery")]
        if choice.first_deduction_month is not None:
            steps.append(first_deduction_text(t, choice.first_deduction_month))
        body.append(text_block(t("phone.next_steps"), weight="Bolder", spacing="Medium"))
        body.append(text_block("\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))))
        actions.append(
            {"type": "Action.OpenUrl", "title": t("phone.open_webshop"), "url": webshop_url}
        )
    closes = eligibility.window.closes_on
    body.append(
        text_block(
            t("phone.change_until", date=t.date(closes))
            if closes
            else t("phone.change_until_no_window"),
            isSubtle=True,
        )
    )
    actions.append(submit(t("menu.open_menu"), Verb.OPEN_MENU))
    return card(body, actions)


def first_deduction_text(t: Texts, month: date) -> str:
    """The month of the first deduction once ICT has confirmed the rule, else that it will."""
    if t.fact_confirmed(FIRST_DEDUCTION_TIMING):
        return t("phone.next_first_deduction", month_in=t.month(month, "inessive"))
    return t.fact(FIRST_DEDUCTION_TIMING)


def blocked_text(t: Texts, eligibility: Eligibility) -> str:
    blocked = eligibility.blocked or Blocked.UNSCHEDULED
    window = eligibility.window
    return t(
        f"phone.blocked.{blocked.value}",
        opens=t.date(window.opens_on) if window.opens_on else "",
        closes=t.date(window.closes_on) if window.closes_on else "",
    )


def current_line(t: Texts, current: CurrentChoice) -> str:
    name = (
        t("phone.choose_pori") if current.option is ChoiceOption.PORI_PHONE else current.model_name
    )
    return t("phone.current_is", choice=name or "", date=t.date(helsinki_today(current.chosen_at)))


def _fact_set(facts: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "FactSet",
        "facts": [{"title": title, "value": value} for title, value in facts],
    }

"""Every card the bot can send, in every language: add each new card of an area's cards module
(bot/dialogs/<area>/*cards.py) here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.announcements.service import SentAnnouncement
from bot.choices.cost import InstalmentRule, cost_breakdown
from bot.choices.models import ChoiceOption, ChoiceStatus
from bot.choices.service import CurrentChoice, Eligibility, Quote
from bot.deductions import ledger
from bot.deductions.service import DeductionKind, MyDeductions, Notice
from bot.dialogs.admin.announcement_cards import compose_card, preview_controls_card
from bot.dialogs.admin.cards import (
    DraftLine,
    UnitOption,
    WaveLine,
    announcements_card,
    campaigns_card,
    waves_card,
)
from bot.dialogs.announcements.cards import announcement_card, sent_announcement_card
from bot.dialogs.deductions.cards import deductions_card, notice_card
from bot.dialogs.helpdesk.cards import (
    Draft,
    answer_added_card,
    answer_again_card,
    my_tickets_card,
    request_form_card,
    request_sent_card,
    ticket_card,
    update_for_requester_card,
)
from bot.dialogs.menu.cards import (
    MENU_AREAS,
    coming_soon_card,
    language_card,
    language_set_card,
    menu_card,
    welcome_card,
)
from bot.dialogs.phone.cards import (
    confirmation_card,
    current_choice_card,
    model_detail_card,
    model_list_card,
    options_card,
    pori_confirm_card,
    preferences_card,
    summary_card,
)
from bot.dialogs.privacy.cards import my_data_card
from bot.dialogs.questions.cards import answer_card, ask_card, suggestions_card, unknown_card
from bot.dialogs.rollout.cards import my_turn_card
from bot.dialogs.rollout.notice_cards import window_open_card, window_reminder_card
from bot.faq.topics import faq_content
from bot.i18n import SUPPORTED_LANGUAGES, Texts, texts
from bot.notifications.outbox import CampaignReport
from bot.privacy.inventory import kinds_held
from bot.privacy.policy import RetentionPolicy
from bot.privacy.service import MyData
from bot.rollout.service import ChoiceWindow, UnitTurn, WindowState
from bot.tickets.views import TicketLine

SAMPLE_NAME = "Maija Meikäläinen"
FLOW = "flow-sample"
TOKEN = "token-sample"


def sample_quote(price_cents: int, *, is_base: bool = False) -> Quote:
    return Quote(
        model_id=7,
        catalog_version_id=1,
        sku="DEMO-A56",
        brand="Samsung",
        name="Galaxy A56",
        os="android",
        storage_gb=256,
        screen_inches=6.7,
        camera_mp=50,
        dual_sim=True,
        esim=True,
        five_g=True,
        is_base=is_base,
        cost=cost_breakdown(price_cents=price_cents, base_price_cents=19900, rule=InstalmentRule()),
        first_deduction_month=None if price_cents <= 19900 else date(2027, 1, 1),
    )


SAMPLE_WINDOW = Eligibility(
    window=ChoiceWindow(WindowState.OPEN, date(2026, 11, 1), date(2026, 12, 15)),
    current=None,
    blocked=None,
)
SAMPLE_CHOICE = CurrentChoice(
    id=1,
    option=ChoiceOption.FREE_CHOICE,
    status=ChoiceStatus.CHOSEN,
    model_name="Samsung Galaxy A56",
    employee_share_cents=25000,
    chosen_at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
    first_deduction_month=date(2027, 1, 1),
)
PORI_CHOICE = CurrentChoice(
    1, ChoiceOption.PORI_PHONE, ChoiceStatus.CHOSEN, None, 0, SAMPLE_CHOICE.chosen_at
)


def phone_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    costly, base = sample_quote(44901), sample_quote(19900, is_base=True)
    url = "https://www.tiera.fi/"
    return [
        (f"options_card[{language}]", options_card(t, FLOW, SAMPLE_WINDOW, InstalmentRule())),
        (f"current_choice_card[{language}]", current_choice_card(t, FLOW, SAMPLE_CHOICE)),
        (f"preferences_card[{language}]", preferences_card(t, FLOW, {"os": "ios"})),
        (f"model_list_card[{language}]", model_list_card(t, FLOW, [base, costly], filtered=True)),
        (f"model_list_card:empty[{language}]", model_list_card(t, FLOW, [], filtered=False)),
        (f"model_detail_card[{language}]", model_detail_card(t, FLOW, costly)),
        (f"summary_card[{language}]", summary_card(t, FLOW, costly, TOKEN)),
        (f"summary_card:free[{language}]", summary_card(t, FLOW, base, TOKEN)),
        (f"pori_confirm_card[{language}]", pori_confirm_card(t, FLOW, TOKEN)),
        (
            f"confirmation_card[{language}]",
            confirmation_card(t, SAMPLE_CHOICE, SAMPLE_WINDOW, url),
        ),
        (
            f"confirmation_card:pori[{language}]",
            confirmation_card(t, PORI_CHOICE, SAMPLE_WINDOW, url),
        ),
    ]


def every_card() -> list[tuple[str, dict[str, Any]]]:
    """(name, card) pairs such as ("menu_card[fi]", {...}); a name starts with its function's."""
    gallery: list[tuple[str, dict[str, Any]]] = []
    for language in SUPPORTED_LANGUAGES:
        t = texts(language)
        gallery += [
            (f"welcome_card[{language}]", welcome_card(t, SAMPLE_NAME, 24)),
            (f"welcome_card:anonymous[{language}]", welcome_card(t, None, 24)),
            (
                f"welcome_card:notice[{language}]",
                welcome_card(t, None, 24, "https://www.pori.fi/tietosuoja/puhelinbotti"),
            ),
            (f"menu_card[{language}]", menu_card(t)),
            (f"language_card[{language}]", language_card(t)),
            (f"language_set_card[{language}]", language_set_card(t)),
        ]
        gallery += [
            (f"coming_soon_card:{label}[{language}]", coming_soon_card(t, label))
            for _, label in MENU_AREAS
        ]
        gallery += phone_cards(t, language)
        gallery += deduction_cards(t, language)
        gallery += turn_cards(t, language)
        gallery += notification_cards(t, language)
        gallery += admin_cards(t, language)
        gallery += faq_cards(t, language)
        gallery += ticket_cards(t, language)
        gallery += announcement_cards(t, language)
        gallery += privacy_cards(t, language)
    return gallery


def card_function_name(gallery_name: str) -> str:
    """The function behind a gallery name: "coming_soon_card:menu.helpdesk[fi]" -> its name."""
    return gallery_name.split("[", 1)[0].split(":", 1)[0]


TERMS = ledger.PlanTerms(25000, 24, 1057, 1041, date(2027, 1, 1))


def deduction_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    on_time = {date(2027, month, 1): (1057 if month == 1 else 1041) for month in range(1, 7)}
    missed = {month: amount for month, amount in on_time.items() if month.month != 3}
    cards = [
        (
            "deductions_card",
            MyDeductions(
                DeductionKind.PAYING, "Samsung Galaxy A56", TERMS, ledger.status(TERMS, on_time)
            ),
        ),
        (
            "deductions_card:missed",
            MyDeductions(
                DeductionKind.PAYING, "Samsung Galaxy A56", TERMS, ledger.status(TERMS, missed)
            ),
        ),
        ("deductions_card:paid_off", MyDeductions(DeductionKind.PAID_OFF, "Samsung Galaxy A56")),
        ("deductions_card:no_choice", MyDeductions(DeductionKind.NO_CHOICE)),
        ("deductions_card:pori", MyDeductions(DeductionKind.PORI_PHONE)),
        (
            "deductions_card:not_delivered",
            MyDeductions(
                DeductionKind.NOT_DELIVERED, "Apple iPhone 17", first_month=date(2027, 5, 1)
            ),
        ),
    ]
    notice = Notice("phone_paid_off", {"model_name": "Samsung Galaxy A56"})
    return [(f"{name}[{language}]", deductions_card(t, mine)) for name, mine in cards] + [
        (f"notice_card[{language}]", notice_card(t, notice))
    ]


def turn_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    dates = (date(2027, 1, 10), date(2027, 1, 31))
    turns = [
        (
            "open",
            UnitTurn(
                "SIVISTYS", "Sivistystoimiala", "Education", ChoiceWindow(WindowState.OPEN, *dates)
            ),
        ),
        (
            "not_yet",
            UnitTurn(
                "SIVISTYS",
                "Sivistystoimiala",
                "Education",
                ChoiceWindow(WindowState.NOT_YET, *dates),
            ),
        ),
        ("no_unit", UnitTurn(None, None, None, ChoiceWindow(WindowState.UNSCHEDULED))),
    ]
    return [(f"my_turn_card:{name}[{language}]", my_turn_card(t, turn)) for name, turn in turns]


def notification_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    closes = date(2027, 1, 31)
    return [
        (
            f"window_open_card[{language}]",
            window_open_card(t, wave_id=3, unit="Sivistystoimiala", closes_on=closes),
        ),
        (
            f"window_open_card:no_unit[{language}]",
            window_open_card(t, wave_id=3, unit=None, closes_on=closes),
        ),
        (f"window_reminder_card[{language}]", window_reminder_card(t, wave_id=3, closes_on=closes)),
    ]


def admin_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    waves = [WaveLine("Kevät 1", date(2027, 1, 11), date(2027, 1, 29), ["SIVISTYS", "TEKNINEN"])]
    units = [UnitOption("SIVISTYS", "Sivistystoimiala"), UnitOption("TEKNINEN", "Tekninen")]
    sending = CampaignReport(
        id=1,
        key="wave-1-window_open",
        kind="window_open",
        title="Kevät 1: avautui",
        state="active",
        created_by="system",
        created_at=datetime(2027, 1, 11, 6, 0, tzinfo=UTC),
        not_before=None,
        counts={"pending": 170, "sending": 10, "delivered": 110, "failed": 10, "cancelled": 0},
        failures={"blocked": 7, "not_installed": 3},
    )
    now = datetime(2027, 1, 11, 6, 5, tzinfo=UTC)
    return [
        (f"waves_card[{language}]", waves_card(t, waves, units, notice="Aalto tallennettu.")),
        (f"waves_card:empty[{language}]", waves_card(t, [], units, problems=["ei nimeä"])),
        (f"campaigns_card[{language}]", campaigns_card(t, [sending], now)),
        (f"campaigns_card:empty[{language}]", campaigns_card(t, [], now)),
        (
            f"announcements_card[{language}]",
            announcements_card(
                t,
                [sending],
                now,
                drafts=[DraftLine(4, "Jakelu alkaa", now), DraftLine(5, "", now)],
                notice=t("announce.stopped_notice", count=3),
            ),
        ),
        (f"announcements_card:empty[{language}]", announcements_card(t, [], now)),
    ]


def faq_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    topics = list(faq_content().topics)
    return [
        (f"answer_card[{language}]", answer_card(t, topics[1], 7)),
        (f"answer_card:thanks[{language}]", answer_card(t, topics[1], 7, helpful=False)),
        (f"suggestions_card[{language}]", suggestions_card(t, topics[:3])),
        (f"unknown_card[{language}]", unknown_card(t, "mikä on *lounaslista* [tänään](x)?")),
        (f"ask_card[{language}]", ask_card(t, topics[:4])),
    ]


SAMPLE_AT = datetime(2026, 11, 26, 8, 15, tzinfo=UTC)
SAMPLE_TICKET = TicketLine(
    id=12,
    version=3,
    state="open",
    topic="device_problem",
    description="Näyttö meni rikki.\nPuhelin putosi *portaissa*.",
    urgent=False,
    requester_name=SAMPLE_NAME,
    unit_name="Sivistystoimiala",
    asked="mitä teen, jos puhelin hajoaa?",
    bot_answer="Vie puhelin huoltoon.",
    assignee_aad=None,
    assignee_name=None,
    created_at=SAMPLE_AT,
    updated_at=SAMPLE_AT,
)
AGENT_ID = "agent-aad"


def ticket_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    now = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    taken = TicketLine(
        **{
            **SAMPLE_TICKET.__dict__,
            "id": 13,
            "state": "taken",
            "assignee_aad": AGENT_ID,
            "assignee_name": "Aki Tukinen",
            "last_message": "Aki Tukinen: Viethän puhelimen huoltoon?",
        }
    )
    resolved = TicketLine(**{**taken.__dict__, "id": 11, "state": "resolved"})
    urgent = TicketLine(**{**SAMPLE_TICKET.__dict__, "urgent": True, "topic": "lost_or_stolen"})
    ids = [f"29:member-{number}" for number in range(70)]
    draft = Draft(token=TOKEN, asked="mikä on *lounaslista*?", bot_answer="En osaa vastata.")
    typed = Draft(token=TOKEN, topic="deductions", description="x" * 20, urgent=True)
    return [
        (f"request_form_card[{language}]", request_form_card(t, Draft(token=TOKEN))),
        (f"request_form_card:prefilled[{language}]", request_form_card(t, draft)),
        (
            f"request_form_card:problems[{language}]",
            request_form_card(t, typed, ["empty_description", "unknown_topic"]),
        ),
        (f"request_sent_card[{language}]", request_sent_card(t, 12, urgent=False, again=False)),
        (
            f"request_sent_card:urgent[{language}]",
            request_sent_card(t, 12, urgent=True, again=True),
        ),
        *[
            (
                f"update_for_requester_card:{kind}[{language}]",
                update_for_requester_card(
                    t,
                    12,
                    kind,
                    agent="Aki Tukinen",
                    message="Viethän **huoltoon**?" if kind == "replied" else None,
                    form="answer-form-token",
                ),
            )
            for kind in ("taken", "released", "replied", "resolved", "reopened")
        ],
        (f"answer_added_card[{language}]", answer_added_card(t, 12, reopened=False)),
        (f"answer_added_card:reopened[{language}]", answer_added_card(t, 12, reopened=True)),
        (
            f"answer_added_card:again[{language}]",
            answer_added_card(t, 12, reopened=False, again=True),
        ),
        (
            f"answer_again_card[{language}]",
            answer_again_card(t, 12, form="answer-form-token", typed="Vien **huomenna**."),
        ),
        (f"my_tickets_card:none[{language}]", my_tickets_card(t, [], now, {})),
        (
            f"my_tickets_card[{language}]",
            my_tickets_card(
                t, [taken, SAMPLE_TICKET, resolved], now, {taken.id: "a", SAMPLE_TICKET.id: "b"}
            ),
        ),
        (
            f"ticket_card[{language}]",
            ticket_card(t, SAMPLE_TICKET, viewer=None, refresh_ids=ids, now=now),
        ),
        (
            f"ticket_card:assignee[{language}]",
            ticket_card(t, taken, viewer=AGENT_ID, refresh_ids=ids, now=now),
        ),
        (
            f"ticket_card:resolved[{language}]",
            ticket_card(t, resolved, viewer=None, refresh_ids=ids, now=now),
        ),
        (
            f"ticket_card:urgent_refused[{language}]",
            ticket_card(
                t,
                urgent,
                viewer=AGENT_ID,
                refresh_ids=ids,
                now=now,
                notice=t("tickets.problem.stale"),
                reply_draft="Kesken jäänyt vastaus",
            ),
        ),
    ]


def announcement_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    units = [UnitOption("SIVISTYS", "Sivistystoimiala"), UnitOption("PERUSTURVA", "Perusturva")]
    form = {"title_fi": "Jakelu alkaa", "text_fi": "**Maanantaina**", "units": "SIVISTYS"}
    return [
        (f"compose_card[{language}]", compose_card(t, units)),
        (
            f"compose_card:problems[{language}]",
            compose_card(
                t,
                units,
                form,
                [t("announce.problem.no_audience")],
                waves=[UnitOption("1", "Syksy 2026"), UnitOption("2", "Kevät 2027")],
            ),
        ),
        (
            f"preview_controls_card[{language}]",
            preview_controls_card(
                t, recipients=640, when=t("announce.now"), token=TOKEN, draft_id=4
            ),
        ),
        (
            f"announcement_card[{language}]",
            announcement_card(
                t,
                title="Puhelinten jakelu alkaa",
                text="Jakelu alkaa **maanantaina**. Lue [ohje](https://intra.pori.fi/puhelin).",
                image_url="https://intra.pori.fi/kuvat/puhelin.png",
                links=[
                    ("Verkkokauppa", "https://www.tiera.fi/"),
                    ("Ohje", "https://intra.pori.fi/"),
                ],
            ),
        ),
        (
            f"announcement_card:plain[{language}]",
            announcement_card(t, title="Tiedote", text="Teksti."),
        ),
        (
            f"announcement_card:receipt_asked[{language}]",
            announcement_card(t, title="Tiedote", text="Teksti.", receipt_for=42),
        ),
        (
            f"announcement_card:acknowledged[{language}]",
            announcement_card(
                t, title="Tiedote", text="Teksti.", receipt_for=42, acknowledged_at=SAMPLE_AT
            ),
        ),
        (
            f"sent_announcement_card:reminder[{language}]",
            sent_announcement_card(
                t,
                SentAnnouncement(
                    {"title_fi": "Tiedote", "text_fi": "Teksti.", "ask_receipt": True},
                    42,
                    reminder=True,
                ),
            ),
        ),
        (
            f"preview_controls_card:receipt[{language}]",
            preview_controls_card(
                t,
                recipients=640,
                when=t("announce.now"),
                token=TOKEN,
                draft_id=4,
                receipt=t("announce.receipt_with_reminder", count=3),
            ),
        ),
    ]


def privacy_cards(t: Texts, language: str) -> list[tuple[str, dict[str, Any]]]:
    link = "https://puhelinbotti.example.pori.fi/privacy/copy/abc"
    notice = "https://www.pori.fi/tietosuoja/puhelinbotti"
    every = MyData(kinds=dict.fromkeys(kinds_held(), 3), rows=3 * len(kinds_held()), token="abc")
    empty = MyData(kinds={}, rows=0, token="abc")
    policy = RetentionPolicy()
    return [
        (f"my_data_card[{language}]", my_data_card(t, every, policy, link, notice)),
        (f"my_data_card:none[{language}]", my_data_card(t, empty, policy, link, "")),
    ]

"""What the bot keeps about people, table by table: which columns are personal, how a row
belongs to a person, why it is kept, for how long, and who may see it.

One declaration per table; `tests/test_privacy_inventory.py` fails when a table or a column is
not declared here, so a new personal column cannot arrive without a purpose and a retention.
The records of processing (`phonebot privacy records`), each person's copy and the purge are
all read from this one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    """How long a table's rows are kept; the lengths are settings (`bot.privacy.policy`)."""

    LEAVER = "leaver"  # anonymised N months after the person left, once their plan is settled
    LEFT = "left"  # deleted as soon as the person has left
    TICKET = "ticket"  # deleted N months after the ticket was resolved
    OUTBOX = "outbox"  # deleted N days after it was settled (sent, failed, cancelled)
    STATE = "state"  # deleted N days after the conversation last changed it
    QUESTION = "question"  # deleted N days after it was asked
    AUDIT = "audit"  # deleted N months after it was written
    LINK = "link"  # deleted when it expires
    PROGRAM = "program"  # kept while the program runs (no person, or a role's own record)


class Kind(StrEnum):
    """The kinds of data an employee is told about; each has a purpose and readers in the
    locale catalog (`privacy.kind.<kind>`)."""

    DIRECTORY = "directory"
    CHOICE = "choice"
    DEDUCTION = "deduction"
    CONVERSATION = "conversation"
    MESSAGE = "message"
    TICKET = "ticket"
    QUESTION = "question"
    ADMINISTRATION = "administration"
    AUDIT = "audit"
    PROGRAM = "program"  # the program's own facts: catalog, units, waves; nobody's data


@dataclass(frozen=True)
class Step:
    """From a row to its parent: this table's `column` is the parent table's `key`."""

    column: str
    parent: str
    key: str


@dataclass(frozen=True)
class Link:
    """Rows belong to the person whose id is in `column` (of the last table on `path`), and
    their copy shows `shows`."""

    column: str
    shows: tuple[str, ...]
    path: tuple[Step, ...] = ()
    role: str = "own"  # "own", or the role the person had in it: "handler", "author", ...


@dataclass(frozen=True)
class Holding:
    """One table: its personal and other columns, how rows find their person, and its rule."""

    table: str
    kind: Kind
    rule: Rule
    personal: tuple[str, ...]
    other: tuple[str, ...]
    links: tuple[Link, ...] = ()


def _cols(names: str) -> tuple[str, ...]:
    return tuple(names.split())


_PLAN = Step("plan_id", "deduction_plan", "id")
_POSTING = Step("posting_id", "payroll_posting", "id")
_TICKET = Step("ticket_id", "ticket", "id")
_QUESTION = Step("question_id", "faq_question", "id")

HOLDINGS: tuple[Holding, ...] = (
    Holding(
        "employee",
        Kind.DIRECTORY,
        Rule.LEAVER,
        personal=_cols(
            "aad_object_id display_name user_principal_name employee_number unit_code "
            "directory_language chosen_language department account_enabled first_seen_at "
            "welcomed_at left_at"
        ),
        other=_cols("created_at updated_at"),
        links=(
            Link(
                "aad_object_id",
                _cols(
                    "display_name user_principal_name employee_number unit_code department "
                    "directory_language chosen_language account_enabled first_seen_at "
                    "welcomed_at left_at"
                ),
            ),
        ),
    ),
    Holding(
        "phone_choice",
        Kind.CHOICE,
        Rule.LEAVER,
        personal=_cols(
            "aad_object_id option status sku model_name price_cents city_share_cents "
            "employee_share_cents instalment_count instalment_cents first_instalment_cents "
            "first_deduction_month consented_at consent_language consent_summary created_at "
            "closed_at"
        ),
        other=_cols("id phone_model_id catalog_version_id consent_token updated_at"),
        links=(
            Link(
                "aad_object_id",
                _cols(
                    "option status model_name sku price_cents city_share_cents "
                    "employee_share_cents instalment_count first_instalment_cents "
                    "instalment_cents first_deduction_month consented_at consent_language "
                    "consent_summary created_at closed_at"
                ),
            ),
        ),
    ),
    Holding(
        "deduction_plan",
        Kind.DEDUCTION,
        Rule.LEAVER,
        personal=_cols(
            "aad_object_id model_name total_cents instalment_count first_instalment_cents "
            "instalment_cents first_month created_at"
        ),
        other=_cols("id choice_id source"),
        links=(
            Link(
                "aad_object_id",
                _cols(
                    "id model_name total_cents instalment_count first_instalment_cents "
                    "instalment_cents first_month created_at"
                ),
            ),
        ),
    ),
    Holding(
        "payroll_posting",
        Kind.DEDUCTION,
        Rule.LEAVER,
        personal=_cols("period amount_cents"),
        other=_cols("id plan_id import_id updated_at"),
        links=(Link("aad_object_id", _cols("plan_id period amount_cents"), (_PLAN,)),),
    ),
    Holding(
        "payroll_correction",
        Kind.DEDUCTION,
        Rule.LEAVER,
        personal=_cols("old_amount_cents new_amount_cents corrected_at"),
        other=_cols("id posting_id import_id"),
        links=(
            Link(
                "aad_object_id",
                _cols("old_amount_cents new_amount_cents corrected_at"),
                (_POSTING, _PLAN),
            ),
        ),
    ),
    Holding(
        "payroll_import",
        Kind.PROGRAM,
        Rule.PROGRAM,
        personal=(),
        other=_cols("id file_name sha256 rows added corrected imported_at"),
    ),
    Holding(
        "pending_notice",
        Kind.DEDUCTION,
        Rule.OUTBOX,
        personal=_cols("aad_object_id kind payload created_at sent_at"),
        other=_cols("id"),
        links=(Link("aad_object_id", _cols("kind payload created_at sent_at")),),
    ),
    Holding(
        "conversation_reference",
        Kind.CONVERSATION,
        Rule.LEFT,
        personal=_cols("aad_object_id conversation_id reference created_at updated_at"),
        other=_cols("id conversation_type channel_id service_url tenant_id team_id installed"),
        links=(
            Link(
                "aad_object_id",
                _cols("conversation_id conversation_type installed created_at updated_at"),
            ),
        ),
    ),
    Holding(
        "bot_state",
        Kind.CONVERSATION,
        Rule.STATE,
        # Rows belong to a person through their conversations' keys (see bot.privacy.copy).
        personal=_cols("key data updated_at"),
        other=_cols("etag"),
    ),
    Holding(
        "campaign",
        Kind.ADMINISTRATION,
        Rule.PROGRAM,
        personal=_cols("created_by"),
        other=_cols("id key kind payload title created_at not_before state"),
        links=(Link("created_by", _cols("id kind title created_at"), role="author"),),
    ),
    Holding(
        "notification",
        Kind.MESSAGE,
        Rule.OUTBOX,
        personal=_cols("recipient conversation_id activity_id sent_at outcome"),
        other=_cols(
            "id campaign_id state attempts next_attempt_at failing_since lease_until "
            "claimed_by last_status last_error reason created_at updated_at"
        ),
        links=(Link("recipient", _cols("campaign_id state outcome created_at sent_at")),),
    ),
    Holding(
        "announcement_draft",
        Kind.ADMINISTRATION,
        Rule.PROGRAM,
        personal=_cols("author"),
        other=_cols("id title form updated_at"),
        links=(Link("author", _cols("id title updated_at"), role="author"),),
    ),
    Holding(
        "announcement_receipt",
        Kind.MESSAGE,
        Rule.OUTBOX,
        personal=_cols("aad_object_id acknowledged_at"),
        other=_cols("campaign_id"),
        links=(Link("aad_object_id", _cols("campaign_id acknowledged_at")),),
    ),
    Holding(
        "ticket",
        Kind.TICKET,
        Rule.TICKET,
        personal=_cols(
            "requester_aad requester_name requester_language unit_code description asked "
            "bot_answer assignee_aad assignee_name"
        ),
        other=_cols(
            "id request_token topic urgent state version created_at updated_at resolved_at "
            "reraised_on relay_pending relay_claimed_until relay_attempts relay_retry_at "
            "relay_error card_conversation_id card_activity_id card_version"
        ),
        links=(
            Link(
                "requester_aad",
                _cols(
                    "id requester_name requester_language unit_code topic description asked "
                    "bot_answer urgent state created_at resolved_at"
                ),
            ),
            Link("assignee_aad", _cols("id state created_at resolved_at"), role="handler"),
        ),
    ),
    Holding(
        "ticket_event",
        Kind.TICKET,
        Rule.TICKET,
        personal=_cols("actor_aad actor_name text"),
        other=_cols("id ticket_id kind at note_state notify_state token"),
        links=(
            Link("requester_aad", _cols("ticket_id kind text at"), (_TICKET,)),
            Link("actor_aad", _cols("ticket_id kind at"), role="handler"),
        ),
    ),
    Holding(
        "helpdesk_channel",
        Kind.ADMINISTRATION,
        Rule.PROGRAM,
        personal=_cols("set_by"),
        other=_cols(
            "id team_id channel_id service_url tenant_id language set_at roster_fetched_at"
        ),
        links=(Link("set_by", _cols("set_at"), role="admin"),),
    ),
    Holding(
        "helpdesk_member",
        Kind.ADMINISTRATION,
        Rule.PROGRAM,
        personal=_cols("aad_object_id teams_id name"),
        other=_cols("added_at"),
        links=(Link("aad_object_id", _cols("name added_at"), role="helpdesk"),),
    ),
    Holding(
        "faq_question",
        Kind.QUESTION,
        Rule.QUESTION,
        personal=_cols("asker_aad text"),
        other=_cols("id language band topic_id score asked_at"),
        links=(Link("asker_aad", _cols("text language topic_id asked_at")),),
    ),
    Holding(
        "faq_feedback",
        Kind.QUESTION,
        Rule.QUESTION,
        personal=_cols("helpful"),
        other=_cols("question_id topic_id given_at"),
        links=(Link("asker_aad", _cols("topic_id helpful given_at"), (_QUESTION,)),),
    ),
    Holding(
        "file_upload",
        Kind.ADMINISTRATION,
        Rule.AUDIT,
        # `content` (payroll's file names people) is dropped when the file is decided on.
        personal=_cols("uploaded_by decided_by content summary"),
        other=_cols("id kind file_name sha256 size state uploaded_at decided_at"),
        links=(
            Link("uploaded_by", _cols("kind file_name size state uploaded_at"), role="admin"),
            Link("decided_by", _cols("kind file_name state decided_at"), role="admin"),
        ),
    ),
    Holding(
        "audit_event",
        Kind.AUDIT,
        Rule.AUDIT,
        personal=_cols("actor subject"),
        other=_cols("id at channel action rows outcome"),
        links=(
            # Who looked at a person's data is not theirs to see (only that it was used).
            Link("subject", _cols("at channel action rows outcome")),
            Link("actor", _cols("at channel action rows outcome"), role="actor"),
        ),
    ),
    Holding(
        "copy_link",
        Kind.AUDIT,
        Rule.LINK,
        personal=_cols("aad_object_id"),
        other=_cols("token_sha256 created_at expires_at"),
        links=(Link("aad_object_id", _cols("created_at expires_at")),),
    ),
    Holding(
        "directory_sync_state",
        Kind.PROGRAM,
        Rule.PROGRAM,
        personal=(),
        other=_cols(
            "source delta_link generation last_full_sync_at last_delta_sync_at last_counts "
            "updated_at"
        ),
    ),
    Holding("unit", Kind.PROGRAM, Rule.PROGRAM, personal=(), other=_cols("code name_fi name_en")),
    Holding(
        "send_pace",
        Kind.PROGRAM,
        Rule.PROGRAM,
        personal=(),
        other=_cols("name next_slot paused_until"),
    ),
    Holding(
        "catalog_version",
        Kind.PROGRAM,
        Rule.PROGRAM,
        personal=(),
        other=_cols("id source is_example is_current imported_at"),
    ),
    Holding(
        "phone_model",
        Kind.PROGRAM,
        Rule.PROGRAM,
        personal=(),
        other=_cols(
            "id catalog_version_id sku brand name price_cents storage_gb screen_inches "
            "camera_mp dual_sim esim five_g os available is_base"
        ),
    ),
    Holding(
        "rollout_wave",
        Kind.PROGRAM,
        Rule.PROGRAM,
        personal=(),
        other=_cols("id name opens_on closes_on created_at"),
    ),
    Holding(
        "rollout_wave_unit",
        Kind.PROGRAM,
        Rule.PROGRAM,
        personal=(),
        other=_cols("wave_id unit_code"),
    ),
)

BY_TABLE: dict[str, Holding] = {holding.table: holding for holding in HOLDINGS}


def personal_holdings() -> tuple[Holding, ...]:
    """The tables that hold anything about a person, in declaration order."""
    return tuple(holding for holding in HOLDINGS if holding.personal)


def kinds_held() -> tuple[Kind, ...]:
    """The kinds of personal data, in the order an employee is told about them."""
    seen: dict[Kind, None] = {}
    for holding in personal_holdings():
        seen.setdefault(holding.kind)
    return tuple(seen)

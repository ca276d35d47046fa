"""Who may choose, what each phone costs them, and recording a choice with its consent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog import service as catalog
from bot.catalog.models import CatalogVersion, PhoneModel
from bot.choices import lifecycle
from bot.choices.cost import CostBreakdown, InstalmentRule, cost_breakdown, first_deduction_month
from bot.choices.models import OPEN_STATUSES, ChoiceOption, ChoiceStatus, PhoneChoice
from bot.clock import Clock, helsinki_today
from bot.db.sessions import SessionFactory
from bot.deductions.models import DeductionPlan, PayrollPosting
from bot.directory.models import Employee
from bot.rollout.models import RolloutWave
from bot.rollout.service import ChoiceWindow, WindowState, window_for_unit


@dataclass(frozen=True)
class ChoicePolicy:
    """The program's rules that ICT may configure."""

    instalments: InstalmentRule = field(default_factory=InstalmentRule)
    first_deduction_delay_months: int = 2


class Blocked(StrEnum):
    WINDOW_NOT_YET = "window_not_yet"
    WINDOW_CLOSED = "window_closed"
    UNSCHEDULED = "unscheduled"
    PAYING_FOR_PHONE = "paying_for_phone"  # a Free Choice phone is still being paid for
    ALREADY_ORDERED = "already_ordered"
    NO_CATALOG = "no_catalog"
    NOT_IN_DIRECTORY = "not_in_directory"  # only the city's employees, as the directory knows them


@dataclass(frozen=True)
class CurrentChoice:
    """The open choice, as the employee should see it."""

    id: int
    option: ChoiceOption
    status: ChoiceStatus
    model_name: str | None
    employee_share_cents: int
    chosen_at: datetime
    first_deduction_month: date | None = None


@dataclass(frozen=True)
class Eligibility:
    window: ChoiceWindow
    current: CurrentChoice | None
    blocked: Blocked | None

    @property
    def may_choose(self) -> bool:
        return self.blocked is None


@dataclass(frozen=True)
class Quote:
    """A model and exactly what it would cost this employee if chosen today."""

    model_id: int
    catalog_version_id: int
    sku: str
    brand: str
    name: str
    os: str
    storage_gb: int
    screen_inches: float
    camera_mp: int
    dual_sim: bool
    esim: bool
    five_g: bool
    is_base: bool
    cost: CostBreakdown
    first_deduction_month: date | None

    @property
    def monthly_cents(self) -> int:
        """The regular monthly instalment: what the cards show per month and the monthly limit
        is compared with (the first instalment may be a few cents more, never less)."""
        return self.cost.instalment_cents


@dataclass(frozen=True)
class ShownFigures:
    """The figures on the summary card the employee accepted; the record must match them."""

    employee_share_cents: int
    instalment_count: int
    first_instalment_cents: int
    instalment_cents: int
    first_deduction_month: date | None

    @classmethod
    def of(cls, quote: Quote) -> ShownFigures:
        cost = quote.cost
        return cls(
            employee_share_cents=cost.employee_share_cents,
            instalment_count=cost.instalment_count,
            first_instalment_cents=cost.first_instalment_cents,
            instalment_cents=cost.instalment_cents,
            first_deduction_month=quote.first_deduction_month,
        )


class WithdrawOutcome(StrEnum):
    WITHDRAWN = "withdrawn"
    NOTHING_TO_WITHDRAW = "nothing_to_withdraw"
    BLOCKED = "blocked"


class RecordOutcome(StrEnum):
    RECORDED = "recorded"
    ALREADY_RECORDED = "already_recorded"
    WITHDRAWN = "withdrawn"
    PRICE_CHANGED = "price_changed"  # or any figure on the accepted card, such as the first month
    BLOCKED = "blocked"
    CHANGED_MEANWHILE = "changed_meanwhile"  # e.g. chosen at the same moment on another device


@dataclass(frozen=True)
class RecordResult:
    outcome: RecordOutcome
    choice: CurrentChoice | None = None
    blocked: Blocked | None = None
    quote: Quote | None = None


class PhoneChoices:
    """What the choose-a-phone conversation asks of the domain, one transaction per call."""

    def __init__(
        self,
        sessions: SessionFactory,
        policy: ChoicePolicy,
        clock: Clock,
        *,
        reads: SessionFactory | None = None,
    ) -> None:
        """`reads` may be sessions without a transaction (each statement still sees committed
        data, as in a READ COMMITTED transaction): on PostgreSQL that saves a BEGIN and a
        ROLLBACK around every eligibility check."""
        self._sessions = sessions
        self._reads = reads or sessions
        self.policy = policy
        self._clock = clock

    async def eligibility(self, aad_object_id: str) -> Eligibility:
        async with self._reads() as session:
            return await eligibility(
                session=session, aad_object_id=aad_object_id, today=self._today()
            )

    async def quotes(self, preferences: catalog.Preferences | None = None) -> list[Quote]:
        async with self._sessions() as session:
            models = await catalog.available_models(session=session)
            # All from the current catalog version, so one base price serves every model.
            base = await _base_price(session, models[0].catalog_version_id) if models else 0
            today = self._today()
            quotes = [_priced(model, base, self.policy, today) for model in models]
        if preferences is None:
            return quotes
        matching = [q for q in quotes if _matches(q, preferences)]
        if preferences.camera_first:
            matching.sort(key=lambda quote: -quote.camera_mp)
        return matching

    async def quote(self, model_id: int) -> Quote | None:
        """None when the model has been withdrawn or replaced by a newer catalog."""
        async with self._sessions() as session:
            model = await catalog.orderable_model(session=session, model_id=model_id)
            if model is None:
                return None
            return await _quote(session, model, self.policy, self._today())

    async def record_free_choice(
        self,
        *,
        aad_object_id: str,
        model_id: int,
        shown: ShownFigures,
        consent_token: str,
        language: str,
    ) -> RecordResult:
        async with self._sessions() as session, session.begin():
            return await record_choice(
                session=session,
                aad_object_id=aad_object_id,
                model_id=model_id,
                shown=shown,
                consent_token=consent_token,
                language=language,
                policy=self.policy,
                now=self._clock(),
            )

    async def record_pori_phone(
        self, *, aad_object_id: str, consent_token: str, language: str
    ) -> RecordResult:
        async with self._sessions() as session, session.begin():
            return await record_choice(
                session=session,
                aad_object_id=aad_object_id,
                model_id=None,
                shown=None,
                consent_token=consent_token,
                language=language,
                policy=self.policy,
                now=self._clock(),
            )

    async def withdraw(self, aad_object_id: str) -> WithdrawOutcome:
        """Withdraw a choice while it may still be changed (window open, not ordered)."""
        async with self._sessions() as session, session.begin():
            allowed = await eligibility(
                session=session, aad_object_id=aad_object_id, today=self._today()
            )
            if allowed.blocked is not None:
                return WithdrawOutcome.BLOCKED
            cancelled = await cancel_choice(
                session=session, aad_object_id=aad_object_id, now=self._clock()
            )
            return WithdrawOutcome.WITHDRAWN if cancelled else WithdrawOutcome.NOTHING_TO_WITHDRAW

    async def recorded(self, aad_object_id: str, consent_token: str) -> CurrentChoice | None:
        """The choice this person recorded with this consent, if any."""
        async with self._sessions() as session:
            choice = await session.scalar(
                select(PhoneChoice).where(
                    PhoneChoice.consent_token == consent_token,
                    PhoneChoice.aad_object_id == aad_object_id,
                )
            )
            return _current(choice) if choice else None

    def _today(self) -> date:
        return helsinki_today(self._clock())


async def open_choice(*, session: AsyncSession, aad_object_id: str) -> PhoneChoice | None:
    return await session.scalar(
        select(PhoneChoice).where(
            PhoneChoice.aad_object_id == aad_object_id,
            PhoneChoice.status.in_([status.value for status in OPEN_STATUSES]),
        )
    )


async def eligibility(*, session: AsyncSession, aad_object_id: str, today: date) -> Eligibility:
    facts = (await session.execute(_eligibility_facts(aad_object_id))).one()
    window = await window_for_unit(
        session=session, unit_code=facts.unit_code, today=today, waves_exist=facts.waves_exist
    )
    choice = (
        await session.get(PhoneChoice, facts.open_choice_id)
        if facts.open_choice_id is not None
        else None
    )
    current = _current(choice) if choice else None
    blocked: Blocked | None = None
    if facts.aad_object_id is None or not facts.employee_number or not facts.account_enabled:
        blocked = Blocked.NOT_IN_DIRECTORY
    elif facts.unpaid_plans:
        blocked = Blocked.PAYING_FOR_PHONE
    elif current and current.status is ChoiceStatus.DELIVERED:
        paying = current.option is ChoiceOption.FREE_CHOICE and current.employee_share_cents > 0
        blocked = Blocked.PAYING_FOR_PHONE if paying else Blocked.ALREADY_ORDERED
    elif current and current.status is ChoiceStatus.ORDERED:
        blocked = Blocked.ALREADY_ORDERED
    elif not window.is_open:
        blocked = {
            WindowState.NOT_YET: Blocked.WINDOW_NOT_YET,
            WindowState.CLOSED: Blocked.WINDOW_CLOSED,
        }.get(window.state, Blocked.UNSCHEDULED)
    elif facts.catalog_version_id is None:
        blocked = Blocked.NO_CATALOG
    return Eligibility(window=window, current=current, blocked=blocked)


def _eligibility_facts(aad_object_id: str) -> Any:
    """Everything the rules ask, in one statement: the employee, whether any waves exist,
    their open choice, unpaid deduction plans and the current catalog."""
    person = select(literal(aad_object_id).label("aad")).subquery("person")
    paid = (
        select(func.coalesce(func.sum(PayrollPosting.amount_cents), 0))
        .where(PayrollPosting.plan_id == DeductionPlan.id)
        .scalar_subquery()
    )
    return (
        select(
            Employee.aad_object_id,
            Employee.unit_code,
            Employee.employee_number,
            Employee.account_enabled,
            select(RolloutWave.id).limit(1).exists().label("waves_exist"),
            select(PhoneChoice.id)
            .where(
                PhoneChoice.aad_object_id == person.c.aad,
                PhoneChoice.status.in_([status.value for status in OPEN_STATUSES]),
            )
            .limit(1)
            .scalar_subquery()
            .label("open_choice_id"),
            select(func.count())
            .select_from(DeductionPlan)
            .where(DeductionPlan.aad_object_id == person.c.aad, DeductionPlan.total_cents > paid)
            .scalar_subquery()
            .label("unpaid_plans"),
            select(CatalogVersion.id)
            .where(CatalogVersion.is_current.is_(True))
            .order_by(CatalogVersion.id.desc())
            .limit(1)
            .scalar_subquery()
            .label("catalog_version_id"),
        )
        .select_from(person)
        .outerjoin(Employee, Employee.aad_object_id == person.c.aad)
    )


async def record_choice(
    *,
    session: AsyncSession,
    aad_object_id: str,
    model_id: int | None,
    shown: ShownFigures | None,
    consent_token: str,
    language: str,
    policy: ChoicePolicy,
    now: datetime,
) -> RecordResult:
    """Record a choice (model_id None: the Pori-phone) once per consent token.

    The token comes from the summary card the employee accepted, so a double click, a retried
    request or a replayed card records nothing twice. An open choice not yet ordered is replaced.
    """
    existing = await session.scalar(
        select(PhoneChoice).where(PhoneChoice.consent_token == consent_token)
    )
    if existing is not None:
        if existing.aad_object_id != aad_object_id:
            return RecordResult(RecordOutcome.CHANGED_MEANWHILE)
        return RecordResult(RecordOutcome.ALREADY_RECORDED, choice=_current(existing))
    today = helsinki_today(now)
    allowed = await eligibility(session=session, aad_object_id=aad_object_id, today=today)
    if allowed.blocked is not None:
        return RecordResult(RecordOutcome.BLOCKED, blocked=allowed.blocked)
    quote: Quote | None = None
    if model_id is not None:
        model = await catalog.orderable_model(session=session, model_id=model_id)
        if model is None:
            return RecordResult(RecordOutcome.WITHDRAWN)
        quote = await _quote(session, model, policy, today)
        if shown != ShownFigures.of(quote):
            return RecordResult(RecordOutcome.PRICE_CHANGED, quote=quote)
    choice = _new_choice(aad_object_id, quote, consent_token, language, now)
    try:
        async with session.begin_nested():
            await lifecycle.replace_open(session=session, aad_object_id=aad_object_id, now=now)
            session.add(choice)
            await session.flush()
    except IntegrityError:
        # A request with the same token won the race (a double click), or another choice by the
        # same person did (another device): the open-choice index allows only one. Rolling the
        # savepoint back has already taken the new choice out of the session.
        winner = await session.scalar(
            select(PhoneChoice).where(PhoneChoice.consent_token == consent_token)
        )
        if winner is None:
            return RecordResult(RecordOutcome.CHANGED_MEANWHILE)
        return RecordResult(RecordOutcome.ALREADY_RECORDED, choice=_current(winner))
    return RecordResult(RecordOutcome.RECORDED, choice=_current(choice), quote=quote)


async def cancel_choice(*, session: AsyncSession, aad_object_id: str, now: datetime) -> bool:
    """Withdraw a choice that has not been ordered yet; False if there is none to withdraw."""
    return await lifecycle.cancel_open(session=session, aad_object_id=aad_object_id, now=now)


def _new_choice(
    aad_object_id: str, quote: Quote | None, token: str, language: str, now: datetime
) -> PhoneChoice:
    choice = PhoneChoice(
        aad_object_id=aad_object_id,
        option=(ChoiceOption.FREE_CHOICE if quote else ChoiceOption.PORI_PHONE).value,
        status=ChoiceStatus.CHOSEN.value,
        consent_token=token,
        consented_at=now,
        consent_language=language,
        created_at=now,
        updated_at=now,
    )
    if quote is None:
        choice.consent_summary = {"option": ChoiceOption.PORI_PHONE.value}
        return choice
    cost = quote.cost
    choice.phone_model_id = quote.model_id
    choice.catalog_version_id = quote.catalog_version_id
    choice.sku = quote.sku
    choice.model_name = f"{quote.brand} {quote.name}"
    choice.price_cents = cost.price_cents
    choice.city_share_cents = cost.city_share_cents
    choice.employee_share_cents = cost.employee_share_cents
    choice.instalment_count = cost.instalment_count
    choice.instalment_cents = cost.instalment_cents
    choice.first_instalment_cents = cost.first_instalment_cents
    choice.first_deduction_month = quote.first_deduction_month
    choice.consent_summary = _consent_summary(quote)
    return choice


def _consent_summary(quote: Quote) -> dict[str, Any]:
    """Exactly what the employee saw and accepted, kept even if the catalog changes later."""
    return {
        "option": ChoiceOption.FREE_CHOICE.value,
        "model": f"{quote.brand} {quote.name}",
        "sku": quote.sku,
        "catalog_version_id": quote.catalog_version_id,
        **asdict(quote.cost),
        "first_deduction_month": (
            quote.first_deduction_month.isoformat() if quote.first_deduction_month else None
        ),
    }


async def _quote(
    session: AsyncSession, model: PhoneModel, policy: ChoicePolicy, today: date
) -> Quote:
    return _priced(model, await _base_price(session, model.catalog_version_id), policy, today)


async def _base_price(session: AsyncSession, catalog_version_id: int) -> int:
    base = await catalog.base_model(session=session, catalog_version_id=catalog_version_id)
    return base.price_cents if base else 0


def _priced(model: PhoneModel, base_price: int, policy: ChoicePolicy, today: date) -> Quote:
    """What `model` costs this employee if chosen today, given its catalog's base price."""
    cost = cost_breakdown(
        price_cents=model.price_cents, base_price_cents=base_price, rule=policy.instalments
    )
    first = (
        None
        if cost.costs_employee_nothing
        else first_deduction_month(today, delay_months=policy.first_deduction_delay_months)
    )
    return Quote(
        model_id=model.id,
        catalog_version_id=model.catalog_version_id,
        sku=model.sku,
        brand=model.brand,
        name=model.name,
        os=model.os,
        storage_gb=model.storage_gb,
        screen_inches=model.screen_inches,
        camera_mp=model.camera_mp,
        dual_sim=model.dual_sim,
        esim=model.esim,
        five_g=model.five_g,
        is_base=model.is_base,
        cost=cost,
        first_deduction_month=first,
    )


def _matches(quote: Quote, preferences: catalog.Preferences) -> bool:
    if preferences.os and quote.os != preferences.os:
        return False
    limit = preferences.max_monthly_cents
    if limit is not None and quote.monthly_cents > limit:
        return False
    if preferences.size == "compact" and quote.screen_inches > catalog.COMPACT_SCREEN_MAX_INCHES:
        return False
    return not (
        preferences.size == "large" and quote.screen_inches <= catalog.COMPACT_SCREEN_MAX_INCHES
    )


def _current(choice: PhoneChoice) -> CurrentChoice:
    return CurrentChoice(
        id=choice.id,
        option=ChoiceOption(choice.option),
        status=ChoiceStatus(choice.status),
        model_name=choice.model_name,
        employee_share_cents=choice.employee_share_cents,
        chosen_at=choice.consented_at or choice.created_at,
        first_deduction_month=choice.first_deduction_month,
    )


async def mark_all_ordered(*, session: AsyncSession, now: datetime) -> list[int]:
    """Lock every open, unordered choice for the web shop in one statement; returns their ids.

    One UPDATE … RETURNING, so a choice changed at the same moment is either locked and
    exported, or left out and still changeable: never exported while being replaced.
    """
    return await lifecycle.order_all_open(session=session, now=now)

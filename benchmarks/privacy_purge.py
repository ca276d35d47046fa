"""The retention purge at the city's scale: how long one run takes, and how long it holds the loop.

Each database is fresh (a SQLite file, or a PostgreSQL schema dropped afterwards) and holds two
years of history (2025-01-01 until "now", 2027-02-01 08:00 UTC, fixed dates throughout): 6,400
employees in 40 units, each with a conversation reference and its dialog state (the last turn
spread over the year before now), a Free Choice and its 24-instalment deduction plan with a
monthly payroll posting (24 for those still working, the plan paid off), one sent notice, about
20 notification rows (20 campaigns of 6,400 recipients, all delivered, one every 36 days), about
0.3 tickets with 3 events each (resolved a day or three after they came in; the last week's
still open), about 3 FAQ questions each with feedback, and 2,000 audit events. 10 % of them left
13–24 months before now: half of those paid their plan off from their last salary, half still
owe. The data are inserted in bulk; PostgreSQL is ANALYZEd afterwards, as autovacuum would have
done over two years (the bot never runs ANALYZE on SQLite, so neither does this).

Measured, each on a freshly seeded database, `--repeats` times: a dry run, then the full run of
`Purge(sessions, RetentionPolicy(), batch=...)` at now, wall time (and per step); meanwhile a
ticker task sleeps 5 ms in a loop and records how late each wake-up is, the event loop's lag
(max and p99), and the longest transaction (BEGIN to COMMIT: what a turn's write waits behind on
SQLite) and the collector's full collections are noted. A second full run must find nothing, and
the rows gone from each table are compared with the report's counts. Printed per database:
median seconds, loop lag, the report's counts, and PASS or FAIL against the targets (a full run
under 10 s, the loop held no longer than 50 ms, the worst full run counting); the exit status is
1 on a FAIL. The anchor, in the same run on one more fresh database: the notification rows the
purge removes, in one `DELETE FROM notification WHERE campaign_id IN (…)` statement and one
transaction. `--profile DIR` adds one more full run under pyinstrument.

    .venv/bin/python benchmarks/privacy_purge.py [--database sqlite|postgresql|both]
        [--repeats 3] [--batch 500] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.adapters.state_storage import BotStateRecord  # noqa: E402
from bot.choices.models import PhoneChoice  # noqa: E402
from bot.conversations.models import ConversationReferenceRecord  # noqa: E402
from bot.db.engine import create_session_factory  # noqa: E402
from bot.db.scratch import scratch_postgres, scratch_sqlite  # noqa: E402
from bot.deductions.models import (  # noqa: E402
    DeductionPlan,
    PayrollImport,
    PayrollPosting,
    PendingNotice,
)
from bot.directory.models import Employee, Unit  # noqa: E402
from bot.faq.models import FaqFeedback, FaqQuestion  # noqa: E402
from bot.notifications.models import Campaign, Notification  # noqa: E402
from bot.privacy.inventory import Rule  # noqa: E402
from bot.privacy.models import AuditEvent  # noqa: E402
from bot.privacy.policy import RetentionPolicy, months_before  # noqa: E402
from bot.privacy.purge import BATCH, Purge, PurgeReport  # noqa: E402
from bot.tickets.models import Ticket, TicketEvent  # noqa: E402

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
EMPLOYEES = 6_400
UNITS = 40
CAMPAIGNS = 20
TICKET_SHARE = 0.3
AUDIT_EVENTS = 2_000
HELPDESK = 8  # employees 0..7 take the tickets
INSTALMENTS = 24
INSTALMENT_CENTS = 1_000
START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
FIRST_MONTH = date(2025, 1, 1)
CHUNK = 5_000
TICK = 0.005
TARGET_SECONDS = 10.0
TARGET_LAG_MS = 50.0
STEP_METHODS = (
    "_left_conversations",
    "_idle_dialog_states",
    "_settled_messages",
    "_resolved_tickets",
    "_old_questions",
    "_old_records",
    "_leavers",
)
LOAD = (
    f"{EMPLOYEES:,} employees in {UNITS} units, two years of history: each a conversation and "
    f"its state, a choice and a plan with {INSTALMENTS} monthly postings, ~20 notifications "
    f"({CAMPAIGNS} campaigns × {EMPLOYEES:,}, all delivered), 1 sent notice, ~{TICKET_SHARE} "
    "tickets × 3 events, ~3 questions with feedback; "
    f"{AUDIT_EVENTS:,} audit events; 10 % left 13–24 months ago (half paid up, half owing)"
)


def person(index: int) -> str:
    return f"00000000-0000-4000-9000-{index:012d}"


def conversation(index: int) -> str:
    return f"a:1{uuid.UUID(int=index).hex}{'x' * 60}"


def left_at(index: int) -> datetime | None:
    """Every tenth employee left, 13 to 24 months before now."""
    if index % 10 != 9:
        return None
    leaver = index // 10
    return months_before(NOW, 13 + leaver % 11) - timedelta(days=leaver % 28, hours=leaver % 9)


def paid_up(index: int) -> bool:
    return (index // 10) % 2 == 0


def months_from_first(moment: datetime) -> int:
    """Payroll months from January 2025 up to and including `moment`'s month."""
    return (moment.year - FIRST_MONTH.year) * 12 + moment.month - FIRST_MONTH.month + 1


def period(month: int) -> date:
    return date(FIRST_MONTH.year + month // 12, month % 12 + 1, 1)


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


def campaign_start(campaign: int) -> datetime:
    return START + timedelta(days=6 + campaign * 36, hours=8)


@dataclass
class Rows:
    """Every table's rows, as dicts for bulk inserts."""

    tables: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.tables.setdefault(model, []).append(row)


def build_rows() -> Rows:
    """The load described above; the same rows every time (a fixed seed, fixed dates)."""
    rng = random.Random(2027)
    rows = Rows()
    for unit in range(UNITS):
        rows.add(
            Unit, {"code": f"U{unit:02d}", "name_fi": f"Yksikkö {unit}", "name_en": f"U{unit}"}
        )
    for month in range(INSTALMENTS):
        rows.add(
            PayrollImport,
            {
                "id": month + 1,
                "file_name": f"palkat-{period(month):%Y-%m}.csv",
                "sha256": f"{month:064x}",
                "rows": EMPLOYEES,
                "added": EMPLOYEES,
                "corrected": 0,
                "imported_at": datetime.combine(period(month), datetime.min.time(), UTC)
                + timedelta(days=27),
            },
        )
    posting_id = ticket_id = question_id = 0
    for index in range(EMPLOYEES):
        aad = person(index)
        left = left_at(index)
        until = left or NOW
        seen = START + timedelta(days=index % 5, minutes=index)
        rows.add(
            Employee,
            {
                "aad_object_id": aad,
                "display_name": f"Työntekijä {index}",
                "user_principal_name": f"tyontekija.{index}@pori.fi",
                "employee_number": str(500_000 + index),
                "unit_code": f"U{index % UNITS:02d}",
                "chosen_language": "fi",
                "account_enabled": left is None,
                "first_seen_at": seen,
                "welcomed_at": seen,
                "left_at": left,
                "created_at": seen,
                "updated_at": left or seen,
            },
        )
        last_turn = left or NOW - timedelta(days=rng.uniform(0, 365))
        rows.add(
            ConversationReferenceRecord,
            {
                "conversation_id": conversation(index),
                "channel_id": "msteams",
                "service_url": "https://smba.trafficmanager.net/emea/",
                "tenant_id": "pori-tenant",
                "aad_object_id": aad,
                "reference": {"user": {"id": f"29:{index}", "aadObjectId": aad}},
                "created_at": seen,
                "updated_at": last_turn,
            },
        )
        rows.add(
            BotStateRecord,
            {
                "key": f"msteams/conversations/{conversation(index)}",
                "etag": uuid.UUID(int=index).hex,
                "data": '{"DialogState": {"dialogStack": []}, "language": "fi", "pad": "'
                + "x" * 300
                + '"}',
                "updated_at": last_turn,
            },
        )
        chose = seen + timedelta(days=3)
        rows.add(
            PhoneChoice,
            {
                "id": index + 1,
                "aad_object_id": aad,
                "option": "free_choice",
                "status": "delivered",
                "model_name": "Puhelin X",
                "price_cents": 74_800,
                "city_share_cents": 50_800,
                "employee_share_cents": INSTALMENTS * INSTALMENT_CENTS,
                "instalment_count": INSTALMENTS,
                "instalment_cents": INSTALMENT_CENTS,
                "first_instalment_cents": INSTALMENT_CENTS,
                "first_deduction_month": FIRST_MONTH,
                "consent_token": uuid.UUID(int=index).hex,
                "consented_at": chose,
                "consent_language": "fi",
                "created_at": chose,
                "updated_at": chose,
            },
        )
        rows.add(
            DeductionPlan,
            {
                "id": index + 1,
                "aad_object_id": aad,
                "choice_id": index + 1,
                "source": "choice",
                "model_name": "Puhelin X",
                "total_cents": INSTALMENTS * INSTALMENT_CENTS,
                "instalment_count": INSTALMENTS,
                "first_instalment_cents": INSTALMENT_CENTS,
                "instalment_cents": INSTALMENT_CENTS,
                "first_month": FIRST_MONTH,
                "created_at": chose,
            },
        )
        months = INSTALMENTS if left is None else months_from_first(left)
        for month in range(months):
            amount = INSTALMENT_CENTS
            if left is not None and paid_up(index) and month == months - 1:
                amount = (INSTALMENTS - month) * INSTALMENT_CENTS  # the rest from the last salary
            posting_id += 1
            rows.add(
                PayrollPosting,
                {
                    "id": posting_id,
                    "plan_id": index + 1,
                    "period": period(month),
                    "amount_cents": amount,
                    "import_id": month + 1,
                    "updated_at": NOW,
                },
            )
        sent = between(rng, START, until)
        rows.add(
            PendingNotice,
            {
                "aad_object_id": aad,
                "kind": "phone_paid_off",
                "payload": {},
                "created_at": sent,
                "sent_at": sent,
            },
        )
        if rng.random() < TICKET_SHARE:
            ticket_id += 1
            created = between(rng, START, until)
            handler = person(rng.randrange(HELPDESK))
            resolved = created + timedelta(hours=rng.uniform(2, 72))
            open_ = created > NOW - timedelta(days=7)
            rows.add(
                Ticket,
                {
                    "id": ticket_id,
                    "request_token": uuid.UUID(int=ticket_id).hex,
                    "requester_aad": aad,
                    "requester_name": f"Työntekijä {index}",
                    "requester_language": "fi",
                    "unit_code": f"U{index % UNITS:02d}",
                    "topic": "other",
                    "description": "Puhelin ei käynnisty " + "y" * 200,
                    "state": "taken" if open_ else "resolved",
                    "assignee_aad": handler,
                    "assignee_name": "Tukihenkilö",
                    "created_at": created,
                    "updated_at": created if open_ else resolved,
                    "resolved_at": None if open_ else resolved,
                    "relay_pending": False,
                },
            )
            for kind, actor, hours in (("created", aad, 0.0), ("taken", handler, 1.0)):
                rows.add(
                    TicketEvent,
                    {
                        "ticket_id": ticket_id,
                        "kind": kind,
                        "actor_aad": actor,
                        "actor_name": "",
                        "at": created + timedelta(hours=hours),
                        "note_state": "done",
                        "notify_state": "done",
                    },
                )
            rows.add(
                TicketEvent,
                {
                    "ticket_id": ticket_id,
                    "kind": "replied" if open_ else "resolved",
                    "actor_aad": handler,
                    "actor_name": "Tukihenkilö",
                    "text": "Kokeile käynnistää uudelleen.",
                    "at": min(resolved, NOW),
                    "note_state": "done",
                    "notify_state": "done",
                },
            )
        for _ in range(rng.randint(1, 5)):
            question_id += 1
            asked = between(rng, START, until)
            rows.add(
                FaqQuestion,
                {
                    "id": question_id,
                    "text": f"Milloin saan puhelimen {question_id % 700}?",
                    "language": "fi",
                    "band": "answer",
                    "topic_id": "when",
                    "score": 0.9,
                    "asked_at": asked,
                    "asker_aad": aad,
                },
            )
            rows.add(
                FaqFeedback,
                {
                    "question_id": question_id,
                    "topic_id": "when",
                    "helpful": bool(question_id % 3),
                    "given_at": asked + timedelta(minutes=1),
                },
            )
    for number in range(AUDIT_EVENTS):
        rows.add(
            AuditEvent,
            {
                "at": between(rng, START, NOW),
                "actor": "cli:ict",
                "channel": "cli",
                "action": "choices.export",
                "subject": person(rng.randrange(EMPLOYEES)) if number % 2 else None,
                "rows": 1,
                "outcome": "shown",
            },
        )
    for campaign in range(CAMPAIGNS):
        rows.add(
            Campaign,
            {
                "id": campaign + 1,
                "key": f"tiedote-{campaign + 1}",
                "kind": "announcement",
                "title": f"Tiedote {campaign + 1}",
                "payload": {},
                "created_by": person(0),
                "created_at": campaign_start(campaign),
                "state": "active",
            },
        )
    return rows


def notifications(campaign: int) -> Iterator[dict[str, Any]]:
    """A campaign's rows: everybody, delivered at Teams' 50 a second."""
    created = campaign_start(campaign)
    for index in range(EMPLOYEES):
        sent = created + timedelta(seconds=index / 50)
        yield {
            "campaign_id": campaign + 1,
            "recipient": person(index),
            "state": "delivered",
            "attempts": 1,
            "last_status": 201,
            "outcome": "sent",
            "conversation_id": conversation(index),
            "activity_id": f"1:{campaign}-{index:06d}",
            "created_at": created,
            "sent_at": sent,
            "updated_at": sent,
        }


# Parents before children, for the foreign keys.
ORDER = (
    Unit,
    PayrollImport,
    Employee,
    ConversationReferenceRecord,
    BotStateRecord,
    PhoneChoice,
    DeductionPlan,
    PayrollPosting,
    PendingNotice,
    Ticket,
    TicketEvent,
    FaqQuestion,
    FaqFeedback,
    AuditEvent,
    Campaign,
)
EXPLICIT_IDS = (
    "phone_choice",
    "deduction_plan",
    "payroll_posting",
    "payroll_import",
    "ticket",
    "faq_question",
    "campaign",
)


async def seed(engine: AsyncEngine, rows: Rows) -> dict[str, int]:
    """Writes `rows` and every campaign's notifications; returns each table's row count."""
    counts: dict[str, int] = {}
    async with create_session_factory(engine)() as session, session.begin():
        for model in ORDER:
            table = rows.tables.get(model, [])
            for start in range(0, len(table), CHUNK):
                await session.execute(insert(model), table[start : start + CHUNK])
            counts[model.__tablename__] = len(table)
        for campaign in range(CAMPAIGNS):
            batch = list(notifications(campaign))
            for start in range(0, len(batch), CHUNK):
                await session.execute(insert(Notification), batch[start : start + CHUNK])
        counts["notification"] = CAMPAIGNS * EMPLOYEES
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            for name in EXPLICIT_IDS:
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    return counts


@contextlib.asynccontextmanager
async def fresh(kind: str, workdir: Path) -> AsyncIterator[AsyncEngine]:
    if kind == "sqlite":
        async with scratch_sqlite(workdir, f"{uuid.uuid4().hex}.sqlite3") as engine:
            yield engine
    else:
        async with scratch_postgres(POSTGRES_URL) as engine:
            yield engine


class LoopWatch:
    """How late a ticker task that sleeps TICK at a time wakes up, and the garbage collector's
    full collections, while active.

    Beside the ticker, the longest single callback the loop ran (wall time, and this thread's
    CPU time in it): a ticker's lag also counts time the operating system gave the cores to
    another process, a callback's CPU time does not, which tells the purge's own holding of the
    loop from a busy machine.
    """

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.full_collections: list[float] = []
        self.longest_callback = 0.0
        self.longest_callback_cpu = 0.0
        self._collecting = 0.0

    def _timed(self, original: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(handle: Any) -> None:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                original(handle)
            finally:
                self.longest_callback = max(self.longest_callback, time.perf_counter() - wall)
                self.longest_callback_cpu = max(self.longest_callback_cpu, time.thread_time() - cpu)

        return run

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._collecting = time.perf_counter()
        elif info["generation"] == 2:
            self.full_collections.append(time.perf_counter() - self._collecting)

    async def _tick(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(TICK)
            self.lags.append(time.perf_counter() - started - TICK)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        stop = asyncio.Event()
        ticker = asyncio.create_task(self._tick(stop))
        await asyncio.sleep(0)  # the ticker is running before the work starts
        gc.callbacks.append(self._on_gc)
        original = asyncio.events.Handle._run
        asyncio.events.Handle._run = self._timed(original)  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            asyncio.events.Handle._run = original  # type: ignore[method-assign]
            gc.callbacks.remove(self._on_gc)
            stop.set()
            await ticker

    @property
    def max_ms(self) -> float:
        return max(self.lags, default=0.0) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.lags) or [0.0]
        return ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)] * 1000


class Transactions:
    """The longest transaction on `engine` while active (BEGIN to COMMIT or ROLLBACK): what a
    turn's write waits behind, on SQLite (one writer, one pooled connection) at least."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.sync_engine
        self._open: dict[int, float] = {}
        self.longest = 0.0

    def _begin(self, connection: Any) -> None:
        self._open[id(connection)] = time.perf_counter()

    def _end(self, connection: Any) -> None:
        started = self._open.pop(id(connection), None)
        if started is not None:
            self.longest = max(self.longest, time.perf_counter() - started)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        hooks = (("begin", self._begin), ("commit", self._end), ("rollback", self._end))
        for name, hook in hooks:
            event.listen(self._engine, name, hook)
        try:
            yield
        finally:
            for name, hook in hooks:
                event.remove(self._engine, name, hook)


@dataclass
class Run:
    seconds: float
    max_lag_ms: float
    p99_lag_ms: float
    longest_callback_ms: float
    longest_callback_cpu_ms: float
    longest_transaction: float
    full_collections: list[float]
    report: PurgeReport
    steps: dict[str, float]
    gone: dict[str, int] = field(default_factory=dict)


def time_steps(purge: Purge) -> dict[str, float]:
    """Seconds per step of `purge.run`: each step method wrapped on this instance only."""
    steps: dict[str, float] = {}

    def timed(name: str, method: Callable[..., Awaitable[None]]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            try:
                await method(*args, **kwargs)
            finally:
                steps[name] = steps.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    for name in STEP_METHODS:
        setattr(purge, name, timed(name.lstrip("_"), getattr(purge, name)))
    return steps


async def measured(engine: AsyncEngine, batch: int, *, dry_run: bool) -> Run:
    purge = Purge(create_session_factory(engine), RetentionPolicy(), batch=batch)
    steps = time_steps(purge)
    watch = LoopWatch()
    transactions = Transactions(engine)
    before = await table_counts(engine)
    with transactions.watching():
        async with watch.watching():
            started = time.perf_counter()
            report = await purge.run(NOW, dry_run=dry_run)
            seconds = time.perf_counter() - started
    after = await table_counts(engine)
    gone = {table: before[table] - after[table] for table in before}
    return Run(
        seconds,
        watch.max_ms,
        watch.p99_ms,
        watch.longest_callback * 1000,
        watch.longest_callback_cpu * 1000,
        transactions.longest,
        watch.full_collections,
        report,
        steps,
        gone,
    )


# The report's counts and the tables they are rows of.
REPORTED = {
    "conversations": "conversation_reference",
    "dialog_states": "bot_state",
    "notifications": "notification",
    "notices": "pending_notice",
    "receipts": "announcement_receipt",
    "tickets": "ticket",
    "ticket_events": "ticket_event",
    "questions": "faq_question",
    "feedback": "faq_feedback",
    "uploads": "file_upload",
    "audit_events": "audit_event",
    "links": "copy_link",
}


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows in each table the report counts, and in the directory."""
    tables = [*REPORTED.values(), "employee"]
    query = " UNION ALL ".join(f"SELECT '{name}', count(*) FROM {name}" for name in tables)
    async with engine.connect() as connection:
        return {name: int(count) for name, count in await connection.execute(text(query))}


async def anchor(engine: AsyncEngine) -> tuple[float, int]:
    """One statement deleting the notification rows of the campaigns the purge finds over."""
    cutoff = RetentionPolicy().cutoff(Rule.OUTBOX, NOW)
    finished = [c + 1 for c in range(CAMPAIGNS) if campaign_start(c) + timedelta(days=1) < cutoff]
    started = time.perf_counter()
    async with engine.begin() as connection:
        result = await connection.execute(
            delete(Notification).where(Notification.campaign_id.in_(finished))
        )
    return time.perf_counter() - started, int(result.rowcount or 0)


async def profiled(engine: AsyncEngine, batch: int, directory: Path, kind: str) -> None:
    """One more full run under pyinstrument; its HTML and text go to `directory`."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="enabled")
    purge = Purge(create_session_factory(engine), RetentionPolicy(), batch=batch)
    with profiler:
        await purge.run(NOW)
    print(f"  profile: {save_profile(profiler, directory, kind)} (and .txt)")


def save_profile(profiler: Any, directory: Path, kind: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / f"privacy_purge_{kind}.html"
    page.write_text(profiler.output_html())
    page.with_suffix(".txt").write_text(profiler.output_text(unicode=True, show_all=False))
    return page


async def bench(kind: str, args: argparse.Namespace, rows: Rows, workdir: Path) -> bool:
    print(f"\n{kind}")
    dry_runs: list[Run] = []
    full_runs: list[Run] = []
    for repeat in range(args.repeats):
        async with fresh(kind, workdir) as engine:
            started = time.perf_counter()
            counts = await seed(engine, rows)
            if repeat == 0:
                total = sum(counts.values())
                print(
                    f"  seeded {total:,} rows in {time.perf_counter() - started:.1f} s "
                    f"(notifications {counts['notification']:,}, postings "
                    f"{counts['payroll_posting']:,}, questions {counts['faq_question']:,}, "
                    f"tickets {counts['ticket']:,}, events {counts['ticket_event']:,})"
                )
            dry_runs.append(await measured(engine, args.batch, dry_run=True))
            full_runs.append(await measured(engine, args.batch, dry_run=False))
            again = await measured(engine, args.batch, dry_run=False)
            if again.report.total:
                print(f"  ! a second run still removed {again.report.total} rows: {again.report}")
        run = full_runs[-1]
        print(
            f"  run {repeat + 1}: dry {dry_runs[-1].seconds:.2f} s, full {run.seconds:.2f} s, "
            f"loop lag max {run.max_lag_ms:.1f} ms, p99 {run.p99_lag_ms:.1f} ms, longest "
            f"callback {run.longest_callback_ms:.1f} ms ({run.longest_callback_cpu_ms:.1f} ms "
            f"CPU), longest transaction {run.longest_transaction:.2f} s, full collections "
            f"{len(run.full_collections)} (longest "
            f"{max(run.full_collections, default=0.0) * 1000:.1f} ms)"
        )
    async with fresh(kind, workdir) as engine:
        await seed(engine, rows)
        anchor_seconds, anchor_rows = await anchor(engine)
    if args.profile:
        async with fresh(kind, workdir) as engine:
            await seed(engine, rows)
            await profiled(engine, args.batch, Path(args.profile), kind)

    median = statistics.median(run.seconds for run in full_runs)
    dry_median = statistics.median(run.seconds for run in dry_runs)
    worst_lag = max(run.max_lag_ms for run in full_runs)
    report = full_runs[-1].report
    if any(run.report.counts != report.counts for run in full_runs):
        print("  ! the runs' counts differ:", [run.report.counts for run in full_runs])
    if dry_runs[-1].report.counts != report.counts:
        print(f"  ! the dry run counted differently: {dry_runs[-1].report.counts}")
    print(f"  full run:  median {median:.2f} s ({report.total:,} rows removed)")
    print(
        f"  loop lag:  max {statistics.median(run.max_lag_ms for run in full_runs):.1f} ms "
        f"(median of runs; worst {worst_lag:.1f} ms), "
        f"p99 {statistics.median(run.p99_lag_ms for run in full_runs):.1f} ms; longest "
        f"callback {max(run.longest_callback_ms for run in full_runs):.1f} ms wall, "
        f"{max(run.longest_callback_cpu_ms for run in full_runs):.1f} ms CPU (worst of runs)"
    )
    print(
        "  longest transaction: "
        f"{statistics.median(run.longest_transaction for run in full_runs):.2f} s (median of "
        f"runs; worst {max(run.longest_transaction for run in full_runs):.2f} s)"
    )
    print(
        f"  dry run:   median {dry_median:.2f} s, loop lag max "
        f"{max(run.max_lag_ms for run in dry_runs):.1f} ms"
    )
    print(
        f"  anchor:    one DELETE of the same {anchor_rows:,} notification rows "
        f"{anchor_seconds:.2f} s; the purge took {median / anchor_seconds:.1f}× that "
        f"(its notification step alone: "
        f"{statistics.median(run.steps['settled_messages'] for run in full_runs):.2f} s)"
    )
    if anchor_rows != report.counts["notifications"]:
        print(f"  ! the anchor removed {anchor_rows}, the purge {report.counts['notifications']}")
    print("  steps (median s):")
    for step in STEP_METHODS:
        name = step.lstrip("_")
        print(f"    {name:<22}{statistics.median(run.steps[name] for run in full_runs):>8.2f}")
    print("  counts:", ", ".join(f"{what} {count:,}" for what, count in report.counts.items()))
    gone = full_runs[-1].gone
    removed = sum(gone[table] for table in REPORTED.values())
    unreported = {
        table: gone[table] - report.counts[what]
        for what, table in REPORTED.items()
        if gone[table] != report.counts[what]
    }
    print(
        f"  rows gone from those tables: {removed:,} (the report's total {report.total:,})"
        + (f"; not in the report: {unreported}" if unreported else "")
    )
    fast = median < TARGET_SECONDS
    smooth = worst_lag <= TARGET_LAG_MS
    print(
        f"  {'PASS' if fast else 'FAIL'}: under {TARGET_SECONDS:.0f} s ({median:.2f} s); "
        f"{'PASS' if smooth else 'FAIL'}: loop held no longer than {TARGET_LAG_MS:.0f} ms "
        f"(worst {worst_lag:.1f} ms)"
    )
    return fast and smooth


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--profile", metavar="DIR", help="pyinstrument one more full run")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    print(LOAD)
    print(
        f"now {NOW:%Y-%m-%d %H:%M} UTC, RetentionPolicy() defaults, batch {args.batch}; "
        f"{args.repeats} runs on freshly seeded databases; loop lag from a {TICK * 1000:.0f} ms "
        "ticker"
    )
    rows = build_rows()
    # The rows stay for every seeding; kept out of the collector, as `serve` keeps what start-up
    # built, so that a full collection does not walk them during the runs (the bot has no such
    # heap of its own).
    gc.collect()
    gc.freeze()
    passed = True
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            passed &= await bench(kind, args, rows, Path(workdir))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

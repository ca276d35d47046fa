"""Data protection on SQLite and PostgreSQL: a person's copy holds everything about them and
nothing about anyone else; the purge removes exactly what the policy says and leaves running
plans; the audit log is append-only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.adapters.state_storage import BotStateRecord
from bot.choices.models import PhoneChoice
from bot.conversations.models import ConversationReferenceRecord
from bot.db.engine import create_session_factory
from bot.deductions.models import DeductionPlan, PayrollPosting
from bot.directory.models import Employee
from bot.privacy.audit import Use
from bot.privacy.inventory import personal_holdings
from bot.privacy.models import AuditEvent
from bot.privacy.policy import RetentionPolicy, months_before
from bot.privacy.purge import ANONYMOUS_PREFIX, STEPS, Purge
from bot.privacy.service import copy_for, find_person
from bot.tickets.models import Ticket
from tests.support.people import add_life, person

LIVED = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
LEFT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)  # every default length has passed but the log's


async def test_a_copy_holds_everything_about_the_person_and_nothing_about_others(engine):
    aino, bertta = person(1), person(2)
    await add_life(engine, aino, at=LIVED, handler=bertta)
    await add_life(engine, bertta, at=LIVED, handler=aino)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        assert await find_person(session=session, key=aino.upn.upper()) == aino.aad
        assert await find_person(session=session, key=aino.number) == aino.aad
        assert await find_person(session=session, key="nobody") is None

    copy = await copy_for(sessions, person=aino.aad, use=Use("cli:ict", "cli", "test"), now=LATER)

    linked = {holding.table for holding in personal_holdings() if holding.links}
    seeded = linked - {"campaign", "announcement_draft", "helpdesk_channel", "helpdesk_member"}
    seeded -= {"file_upload", "copy_link", "payroll_correction"}
    assert seeded | {"bot_state"} <= set(copy.tables), seeded - set(copy.tables)
    whole = json.dumps(copy.as_json(), ensure_ascii=False)
    for mine in (
        aino.name,
        aino.upn,
        aino.number,
        f"Kysymys {aino.marker}",
        f"Milloin {aino.marker}?",
    ):
        assert mine in whole
    for theirs in (bertta.aad, bertta.name, bertta.upn, bertta.number, bertta.marker):
        assert theirs not in whole
    assert len(copy.tables["payroll_posting"]) == 24
    handled = [row for row in copy.tables["ticket"] if row.get("as") == "handler"]
    assert len(handled) == 1 and set(handled[0]) == {
        "id",
        "state",
        "created_at",
        "resolved_at",
        "as",
    }

    async with sessions() as session:
        logged = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "test"))
        ).one()
    assert (logged.actor, logged.subject, logged.rows) == ("cli:ict", aino.aad, copy.rows)


async def count(engine, model, *where) -> int:
    async with create_session_factory(engine)() as session:
        query = select(func.count()).select_from(model)
        return int(await session.scalar(query.where(*where) if where else query) or 0)


async def test_the_purge_removes_what_the_policy_says_and_keeps_running_plans(engine):
    settled, owing, staying = person(1), person(2), person(3)
    await add_life(engine, settled, at=LIVED, left_at=LEFT)
    await add_life(engine, owing, at=LIVED, left_at=LEFT, paid_months=10)
    await add_life(engine, staying, at=LIVED)
    purge = Purge(create_session_factory(engine), RetentionPolicy(), batch=2)

    dry = await purge.run(LATER, dry_run=True)
    assert await count(engine, Employee) == 3 and await count(engine, Ticket) == 3

    done = await purge.run(LATER)
    assert done.counts == dry.counts
    assert done.counts == {
        **dict.fromkeys(STEPS, 0),
        "conversations": 2,  # the leavers' at once; the staying one's stays
        "dialog_states": 3,  # the leavers' with their conversations, then the idle one
        "notifications": 3,
        "notices": 3,
        "receipts": 3,
        "tickets": 3,
        "ticket_events": 6,
        "questions": 3,
        "feedback": 3,
        "leavers_anonymised": 1,
        "leavers_kept": 1,
    }
    # The settled leaver is detached from who they were; payroll's figures stay.
    assert await count(engine, Employee, Employee.aad_object_id == settled.aad) == 0
    async with create_session_factory(engine)() as session:
        stand_in = (
            await session.scalars(
                select(Employee).where(Employee.aad_object_id.startswith(ANONYMOUS_PREFIX))
            )
        ).one()
        assert stand_in.display_name == "" and stand_in.user_principal_name is None
        plan = (
            await session.scalars(
                select(DeductionPlan).where(DeductionPlan.aad_object_id == stand_in.aad_object_id)
            )
        ).one()
    assert await count(engine, PayrollPosting, PayrollPosting.plan_id == plan.id) == 24
    assert (
        await count(engine, PhoneChoice, PhoneChoice.aad_object_id == stand_in.aad_object_id) == 1
    )
    # The one still owing and the one staying keep their plans, names and postings.
    for kept in (owing, staying):
        assert await count(engine, Employee, Employee.display_name == kept.name) == 1
        assert await count(engine, DeductionPlan, DeductionPlan.aad_object_id == kept.aad) == 1
    assert await count(engine, PayrollPosting) == 24 + 10 + 24
    assert await count(engine, ConversationReferenceRecord) == 1
    assert await count(engine, BotStateRecord) == 0
    # The log outlives the rest (36 months by default), and a second run finds nothing.
    assert await count(engine, AuditEvent) == 3
    again = await purge.run(LATER)
    assert again.total == 0 and again.counts["leavers_kept"] == 1


async def test_nothing_is_due_before_its_time(engine):
    await add_life(engine, person(3), at=LIVED)
    report = await Purge(create_session_factory(engine), RetentionPolicy()).run(
        datetime(2025, 1, 16, tzinfo=UTC)
    )
    assert report.total == 0


async def test_the_audit_log_refuses_changes(engine):
    await add_life(engine, person(1), at=LIVED)
    async with create_session_factory(engine)() as session:
        with pytest.raises((DBAPIError, IntegrityError)):
            async with session.begin():
                await session.execute(update(AuditEvent).values(rows=99))
    assert await count(engine, AuditEvent, AuditEvent.rows == 99) == 0
    async with engine.begin() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM audit_event")) == 1


def test_months_are_calendar_months():
    assert months_before(datetime(2026, 3, 31, 10, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 10, tzinfo=UTC
    )
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


def test_the_manifest_links_the_configured_privacy_notice():
    from bot.manifest import build_manifest
    from bot.settings import Settings

    url = "https://www.pori.fi/tietosuoja/puhelinbotti"
    manifest = build_manifest(Settings(app_id="", privacy_notice_url=url))
    assert manifest["developer"]["privacyUrl"] == url
    with pytest.raises(ValueError, match="https"):
        Settings(app_id="", privacy_notice_url="http://example.invalid/")


async def test_the_running_app_applies_retention_as_a_daily_job(sqlite_engine):
    from tests.support.bot import running_bot

    await add_life(sqlite_engine, person(1), at=LIVED, left_at=LEFT)
    async with running_bot(sqlite_engine, clock=lambda: LATER) as bot:
        await bot.components.jobs.apply_retention()
    assert await count(sqlite_engine, Employee, Employee.aad_object_id == person(1).aad) == 0
    assert await count(sqlite_engine, Ticket) == 0


def test_the_access_log_keeps_no_link_token_and_no_client_address(caplog):
    import logging

    from aiohttp.test_utils import make_mocked_request
    from aiohttp.web import Response

    from bot.access_log import SECRET_PATHS, RedactingAccessLogger
    from bot.dialogs.privacy.dialog import COPY_PATH

    assert COPY_PATH in SECRET_PATHS
    logger = logging.getLogger("aiohttp.access")
    access = RedactingAccessLogger(logger, "")
    request = make_mocked_request("GET", f"{COPY_PATH}s3cr3t-t0ken")
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        access.log(request, Response(status=200), 0.012)
        access.log(make_mocked_request("GET", "/healthz"), Response(status=200), 0.001)
    lines = [record.getMessage() for record in caplog.records]
    assert lines == ['"GET /privacy/copy/…" 200 0.012 s', '"GET /healthz" 200 0.001 s']


async def test_receipts_stay_while_their_announcement_is_not_over(engine):
    from bot.announcements.models import AnnouncementReceipt
    from bot.notifications.models import Notification

    await add_life(engine, person(1), at=LIVED)
    async with create_session_factory(engine)() as session, session.begin():
        session.add(
            Notification(
                campaign_id=1,
                recipient="still-waiting",
                state="pending",
                created_at=LIVED,
                updated_at=LIVED,
            )
        )
    report = await Purge(create_session_factory(engine), RetentionPolicy()).run(LATER)
    assert (report.counts["notifications"], report.counts["receipts"]) == (0, 0)
    assert await count(engine, AnnouncementReceipt) == 1


async def test_a_ticket_a_leaver_had_taken_goes_back_to_the_queue(engine):
    handler, asker = person(1), person(2)
    await add_life(engine, handler, at=LIVED, left_at=LEFT)
    await add_life(engine, asker, at=LATER - timedelta(days=1))
    async with create_session_factory(engine)() as session, session.begin():
        session.add(
            Ticket(
                request_token="taken-by-leaver",
                requester_aad=asker.aad,
                requester_name=asker.name,
                requester_language="fi",
                topic="other",
                description="Odottaa",
                state="taken",
                assignee_aad=handler.aad,
                assignee_name=handler.name,
                version=3,
                relay_pending=False,
                created_at=LATER,
                updated_at=LATER,
            )
        )
    await Purge(create_session_factory(engine), RetentionPolicy()).run(LATER)
    async with create_session_factory(engine)() as session:
        ticket = (
            await session.scalars(select(Ticket).where(Ticket.request_token == "taken-by-leaver"))
        ).one()
    assert (ticket.state, ticket.assignee_aad, ticket.assignee_name) == ("open", None, None)
    assert ticket.version == 4 and ticket.relay_pending is True


async def test_only_one_process_purges_at_a_time(engine):
    await add_life(engine, person(1), at=LIVED, left_at=LEFT)
    purge = Purge(create_session_factory(engine), RetentionPolicy())
    if engine.dialect.name != "postgresql":
        assert (await purge.run(LATER)).skipped is False  # one process owns a SQLite file
        return
    from bot.privacy.purge import _PURGE_LOCK

    assert _PURGE_LOCK == 1886745191
    async with engine.connect() as other:
        assert await other.scalar(text("SELECT pg_try_advisory_lock(1886745191)"))
        busy = await purge.run(LATER)
        await other.execute(text("SELECT pg_advisory_unlock(1886745191)"))
    assert busy.skipped and busy.total == 0
    assert await count(engine, Employee, Employee.aad_object_id == person(1).aad) == 1
    assert (await purge.run(LATER)).counts["leavers_anonymised"] == 1

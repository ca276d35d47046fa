"""The outbox: idempotent campaigns and rows, leased claims, settling, cancelling, reports."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.cli.campaigns import _progress_bar
from bot.db.engine import create_engine, create_session_factory
from bot.notifications import outbox
from bot.notifications.delivery import Delivered
from bot.notifications.models import Notification
from tests.support.database import postgres_database

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def make_campaign(engine: AsyncEngine, recipients: list[str], **options) -> int:
    async with create_session_factory(engine)() as session, session.begin():
        campaign = await outbox.create_campaign(
            session=session,
            key=options.pop("key", "wave-1-window_open"),
            kind=options.pop("kind", "window_open"),
            payload=options.pop("payload", {"wave_id": 1}),
            title="Aalto 1 avautui",
            now=NOW,
            **options,
        )
        await outbox.enqueue(
            session=session, campaign_id=campaign.id, recipients=recipients, now=NOW
        )
        return campaign.id


async def claim(engine: AsyncEngine, limit: int = 100, now: datetime = NOW, worker: str = "w1"):
    async with create_session_factory(engine)() as session, session.begin():
        return await outbox.claim(session=session, worker=worker, limit=limit, now=now, lease=LEASE)


async def settle(engine: AsyncEngine, settlements) -> None:
    async with create_session_factory(engine)() as session, session.begin():
        await outbox.settle(session=session, settlements=settlements)


async def rows(engine: AsyncEngine) -> dict[str, Notification]:
    async with create_session_factory(engine)() as session:
        return {row.recipient: row for row in await session.scalars(select(Notification))}


async def report(engine: AsyncEngine, campaign_id: int) -> outbox.CampaignReport:
    async with create_session_factory(engine)() as session:
        found = await outbox.campaign_report(session=session, campaign_id=campaign_id)
        assert found is not None
        return found


async def test_creating_a_campaign_twice_returns_the_first(engine):
    async with create_session_factory(engine)() as session, session.begin():
        first = await outbox.create_campaign(
            session=session,
            key="wave-3-open",
            kind="window_open",
            payload={"wave_id": 3},
            now=NOW,
        )
        again = await outbox.create_campaign(
            session=session,
            key="wave-3-open",
            kind="announcement",
            title="other",
            now=NOW,
        )
    assert again.id == first.id
    assert (again.kind, again.payload, again.state) == ("window_open", {"wave_id": 3}, "active")


async def test_enqueue_adds_each_recipient_once(engine):
    campaign_id = await make_campaign(engine, ["anna", "bertil", "cecilia"])
    async with create_session_factory(engine)() as session, session.begin():
        added = await outbox.enqueue(
            session=session,
            campaign_id=campaign_id,
            recipients=["bertil", "daniel", "daniel", ""],
            now=NOW,
        )
    assert added == 1
    assert sorted(await rows(engine)) == ["anna", "bertil", "cecilia", "daniel"]


async def test_enqueue_handles_a_whole_city(engine):
    recipients = [f"person-{number:04}" for number in range(6400)]
    campaign_id = await make_campaign(engine, [])
    async with create_session_factory(engine)() as session, session.begin():
        added = await outbox.enqueue(
            session=session,
            campaign_id=campaign_id,
            recipients=recipients,
            now=NOW,
        )
        again = await outbox.enqueue(
            session=session,
            campaign_id=campaign_id,
            recipients=recipients,
            now=NOW,
        )
    assert (added, again) == (6400, 0)
    assert (await report(engine, campaign_id)).counts["pending"] == 6400


async def test_claim_leases_due_rows_with_what_the_deliverer_needs(engine):
    campaign_id = await make_campaign(engine, ["anna", "bertil"], payload={"wave_id": 7})
    claimed = await claim(engine)
    assert sorted(item.recipient for item in claimed) == ["anna", "bertil"]
    first = claimed[0]
    assert (first.campaign_id, first.kind, first.payload, first.attempt) == (
        campaign_id,
        "window_open",
        {"wave_id": 7},
        1,
    )
    stored = await rows(engine)
    assert {row.state for row in stored.values()} == {"sending"}
    assert {row.claimed_by for row in stored.values()} == {"w1"}
    assert await claim(engine, now=NOW + timedelta(seconds=59)) == []


async def test_claim_respects_its_limit(engine):
    await make_campaign(engine, [f"p{number}" for number in range(10)])
    first = await claim(engine, limit=4)
    second = await claim(engine, limit=4, worker="w2")
    third = await claim(engine, limit=4)
    assert (len(first), len(second), len(third)) == (4, 4, 2)
    ids = [item.notification_id for item in first + second + third]
    assert len(set(ids)) == 10


async def test_a_lease_that_ran_out_is_claimed_again_as_a_new_attempt(engine):
    await make_campaign(engine, ["anna"])
    (lost,) = await claim(engine, worker="crashed")
    (again,) = await claim(engine, now=NOW + LEASE + timedelta(seconds=1), worker="w2")
    assert again.notification_id == lost.notification_id
    assert again.attempt == 2
    # The crashed worker's late answer no longer counts.
    await settle(engine, [outbox.delivered(lost, Delivered("continued"), NOW)])
    row = (await rows(engine))["anna"]
    assert (row.state, row.claimed_by) == ("sending", "w2")


async def test_nothing_is_claimed_before_the_campaign_may_start(engine):
    await make_campaign(engine, ["anna"], not_before=NOW + timedelta(hours=1))
    assert await claim(engine) == []
    assert len(await claim(engine, now=NOW + timedelta(hours=1))) == 1


async def test_a_row_waiting_for_its_retry_is_not_claimed_early(engine):
    await make_campaign(engine, ["anna"])
    (item,) = await claim(engine)
    later = NOW + timedelta(seconds=30)
    await settle(engine, [outbox.retry_later(item, later, NOW, status=503, reason="server_error")])
    assert await claim(engine, now=later - timedelta(seconds=1)) == []
    (retry,) = await claim(engine, now=later)
    assert retry.attempt == 2


async def test_settling_writes_each_outcome(engine):
    await make_campaign(engine, ["anna", "bertil", "cecilia"])
    claimed = {item.recipient: item for item in await claim(engine)}
    done = NOW + timedelta(seconds=1)
    await settle(
        engine,
        [
            outbox.delivered(claimed["anna"], Delivered("created", "conv-a", "act-a"), done),
            outbox.failed(claimed["bertil"], done, status=403, reason="blocked", error="x" * 999),
            outbox.retry_later(
                claimed["cecilia"],
                done + timedelta(seconds=5),
                done,
                status=429,
                reason="throttled",
            ),
        ],
    )
    stored = await rows(engine)
    anna, bertil, cecilia = stored["anna"], stored["bertil"], stored["cecilia"]
    assert (anna.state, anna.outcome, anna.conversation_id, anna.activity_id) == (
        "delivered",
        "created",
        "conv-a",
        "act-a",
    )
    assert anna.sent_at is not None and anna.lease_until is None
    assert (bertil.state, bertil.last_status, bertil.reason) == ("failed", 403, "blocked")
    assert bertil.last_error is not None and len(bertil.last_error) == 300
    assert (cecilia.state, cecilia.last_status, cecilia.attempts) == ("pending", 429, 1)


async def test_postponed_rows_keep_their_attempt(engine):
    await make_campaign(engine, ["anna"])
    (item,) = await claim(engine)
    await settle(engine, [outbox.postpone(item, NOW + timedelta(seconds=2), NOW)])
    row = (await rows(engine))["anna"]
    assert (row.state, row.attempts) == ("pending", 0)


async def test_cancel_stops_what_was_not_sent_and_keeps_what_was(engine):
    campaign_id = await make_campaign(engine, ["anna", "bertil", "cecilia", "daniel"])
    claimed = {item.recipient: item for item in await claim(engine, limit=2)}
    sent, retried = sorted(claimed)
    await settle(engine, [outbox.delivered(claimed[sent], Delivered("continued"), NOW)])
    async with create_session_factory(engine)() as session, session.begin():
        cancelled = await outbox.cancel_campaign(session=session, campaign_id=campaign_id, now=NOW)
    assert cancelled == 2
    # A send under way when the campaign was cancelled that must be retried is cancelled too.
    await settle(
        engine,
        [outbox.retry_later(claimed[retried], NOW, NOW, status=503, reason="server_error")],
    )
    assert await claim(engine, now=NOW + timedelta(hours=1)) == []
    result = await report(engine, campaign_id)
    assert result.state == "cancelled"
    assert (result.counts["delivered"], result.counts["cancelled"], result.unsettled) == (1, 3, 0)
    async with create_session_factory(engine)() as session, session.begin():
        with pytest.raises(outbox.OutboxError):
            await outbox.enqueue(
                session=session, campaign_id=campaign_id, recipients=["eero"], now=NOW
            )


async def test_cancel_also_stops_rows_whose_worker_died_mid_send(engine):
    campaign_id = await make_campaign(engine, ["anna", "bertil", "cecilia"])
    await claim(engine, limit=1, worker="crashed")
    await claim(engine, limit=1, now=NOW + LEASE, worker="alive")
    async with create_session_factory(engine)() as session, session.begin():
        cancelled = await outbox.cancel_campaign(
            session=session, campaign_id=campaign_id, now=NOW + LEASE + timedelta(seconds=1)
        )
    assert cancelled == 2
    result = await report(engine, campaign_id)
    assert (result.counts["cancelled"], result.counts["sending"]) == (2, 1)
    assert {row.claimed_by for row in (await rows(engine)).values() if row.state == "sending"} == {
        "alive"
    }


async def test_sweep_settles_dead_sends_of_cancelled_campaigns(engine):
    cancelled_id = await make_campaign(engine, ["anna", "bertil"], key="cancelled")
    active_id = await make_campaign(engine, ["cecilia"], key="active")
    await claim(engine, worker="crashed")
    async with create_session_factory(engine)() as session, session.begin():
        assert await outbox.cancel_campaign(session=session, campaign_id=cancelled_id, now=NOW) == 0

    async def sweep(now: datetime) -> int:
        async with create_session_factory(engine)() as session, session.begin():
            return await outbox.sweep(session=session, now=now)

    later = NOW + LEASE + timedelta(seconds=1)
    assert await sweep(NOW + LEASE) == 0  # their leases still run: the sends may yet finish
    assert await sweep(later) == 2
    assert await sweep(later + timedelta(seconds=1)) == 0
    stopped = await report(engine, cancelled_id)
    assert (stopped.counts["cancelled"], stopped.unsettled) == (2, 0)
    # An active campaign's dead send is left to be claimed again.
    assert (await report(engine, active_id)).counts["sending"] == 1
    assert [item.recipient for item in await claim(engine, now=later)] == ["cecilia"]


async def retry_failed(engine: AsyncEngine, campaign_id: int, reason: str | None = None) -> int:
    async with create_session_factory(engine)() as session, session.begin():
        return await outbox.retry_failed(
            session=session, campaign_id=campaign_id, reason=reason, now=NOW + timedelta(seconds=1)
        )


async def test_retrying_requeues_failed_rows_only_and_by_reason(engine):
    campaign_id = await make_campaign(engine, ["anna", "bertil", "cecilia", "daniel", "eeva"])
    anna, bertil, cecilia, daniel, _ = await claim(engine)
    await settle(
        engine,
        [
            outbox.delivered(anna, Delivered("continued"), NOW),
            outbox.failed(bertil, NOW, status=503, reason=outbox.GAVE_UP),
            outbox.failed(cecilia, NOW, status=503, reason=outbox.GAVE_UP),
            outbox.failed(daniel, NOW, status=403, reason="blocked"),
            # eeva is still being sent
        ],
    )
    assert await retry_failed(engine, campaign_id, reason=outbox.GAVE_UP) == 2
    stored = await rows(engine)
    assert {name: row.state for name, row in stored.items()} == {
        "anna": "delivered",
        "bertil": "pending",
        "cecilia": "pending",
        "daniel": "failed",
        "eeva": "sending",
    }
    bertil_row = stored["bertil"]
    assert (bertil_row.reason, bertil_row.failing_since, bertil_row.next_attempt_at) == (
        None,
        None,
        None,
    )
    assert bertil_row.attempts == 1 and bertil_row.last_status == 503  # its history stays
    # eeva's lease still runs: only the requeued rows are claimed.
    assert sorted(item.recipient for item in await claim(engine, now=NOW + LEASE / 2)) == [
        "bertil",
        "cecilia",
    ]
    assert await retry_failed(engine, campaign_id, reason="no_such_reason") == 0
    assert await retry_failed(engine, campaign_id) == 1
    assert (await rows(engine))["daniel"].state == "pending"


async def test_retrying_refuses_an_unknown_or_cancelled_campaign(engine):
    campaign_id = await make_campaign(engine, ["anna"])
    async with create_session_factory(engine)() as session, session.begin():
        await outbox.cancel_campaign(session=session, campaign_id=campaign_id, now=NOW)
    with pytest.raises(outbox.OutboxError) as cancelled:
        await retry_failed(engine, campaign_id)
    assert cancelled.value.problems == [
        ("not_active", {"campaign": str(campaign_id), "state": "cancelled"})
    ]
    with pytest.raises(outbox.OutboxError) as unknown:
        await retry_failed(engine, campaign_id + 1)
    assert unknown.value.reason == "no_campaign"


async def test_report_counts_states_reasons_and_outcomes(engine):
    campaign_id = await make_campaign(engine, [f"p{number}" for number in range(8)])
    claimed = await claim(engine, limit=7)
    first, last = NOW + timedelta(seconds=1), NOW + timedelta(seconds=9)
    await settle(
        engine,
        [
            outbox.delivered(claimed[0], Delivered("continued"), first),
            outbox.delivered(claimed[1], Delivered("continued"), NOW + timedelta(seconds=5)),
            outbox.delivered(claimed[2], Delivered("installed"), last),
            outbox.failed(claimed[3], NOW, status=403, reason="blocked"),
            outbox.failed(claimed[4], NOW, status=404, reason="not_found"),
            outbox.retry_later(claimed[5], last, NOW, status=None, reason="timeout"),
        ],
    )
    result = await report(engine, campaign_id)
    assert result.counts == {
        "pending": 2,
        "sending": 1,
        "delivered": 3,
        "failed": 2,
        "cancelled": 0,
    }
    assert (result.total, result.unsettled, result.settled, result.retrying) == (8, 3, 5, 1)
    assert result.failures == {"blocked": 1, "not_found": 1}
    assert result.outcomes == {"continued": 2, "installed": 1}
    assert (result.first_sent_at, result.last_sent_at) == (first, last)
    assert result.title == "Aalto 1 avautui" and result.created_at == NOW


async def test_list_campaigns_newest_first(engine):
    first = await make_campaign(engine, ["anna"], key="a")
    second = await make_campaign(engine, ["anna", "bertil"], key="b")
    async with create_session_factory(engine)() as session:
        listed = await outbox.list_campaigns(session=session)
        missing = await outbox.campaign_report(session=session, campaign_id=999)
    assert [(item.id, item.total) for item in listed] == [(second, 2), (first, 1)]
    assert missing is None


async def test_a_personal_row_is_scheduled_moved_and_rearmed(engine):
    campaign_id = await make_campaign(engine, [], key="wave-1-later")
    tomorrow = NOW + timedelta(days=1)

    async def schedule(at: datetime) -> None:
        async with create_session_factory(engine)() as session, session.begin():
            await outbox.schedule_personal(
                session=session,
                campaign_id=campaign_id,
                recipient="anna",
                at=at,
                now=NOW,
            )

    await schedule(tomorrow)
    await schedule(tomorrow + timedelta(hours=2))
    assert await claim(engine, now=tomorrow + timedelta(hours=1)) == []
    (item,) = await claim(engine, now=tomorrow + timedelta(hours=2))
    await settle(engine, [outbox.delivered(item, Delivered("continued"), tomorrow)])
    await schedule(tomorrow + timedelta(days=1))
    row = (await rows(engine))["anna"]
    assert (row.state, row.attempts, row.outcome) == ("pending", 0, None)
    (again,) = await claim(engine, now=tomorrow + timedelta(days=1))
    assert again.attempt == 1


async def test_leases_of_rows_still_at_work_can_be_extended(engine):
    await make_campaign(engine, ["anna"])
    (item,) = await claim(engine)
    async with create_session_factory(engine)() as session, session.begin():
        await outbox.extend_leases(
            session=session,
            worker="w1",
            notification_ids=[item.notification_id],
            until=NOW + timedelta(minutes=5),
        )
    assert await claim(engine, now=NOW + LEASE + timedelta(seconds=1), worker="w2") == []


@pytest.mark.postgres
async def test_postgres_claims_skip_rows_another_transaction_holds():
    async with postgres_database() as engine:
        await make_campaign(engine, [f"p{number}" for number in range(20)])
        sessions = create_session_factory(engine)
        async with sessions() as first, first.begin():
            held = await outbox.claim(session=first, worker="a", limit=5, now=NOW, lease=LEASE)
            # The first transaction is still open: the second neither waits nor takes its rows.
            async with sessions() as second, second.begin():
                taken = await asyncio.wait_for(
                    outbox.claim(session=second, worker="b", limit=100, now=NOW, lease=LEASE),
                    timeout=10,
                )
        assert len(held) == 5 and len(taken) == 15
        assert not {item.notification_id for item in held} & {
            item.notification_id for item in taken
        }


def cli_database(tmp_path, monkeypatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    return url


async def half_sent_campaign(url: str) -> int:
    engine = create_engine(url)
    try:
        campaign_id = await make_campaign(engine, ["anna", "bertil", "cecilia"])
        claimed = await claim(engine, limit=2)
        await settle(
            engine,
            [
                outbox.delivered(claimed[0], Delivered("installed"), NOW),
                outbox.failed(claimed[1], NOW, status=403, reason="blocked"),
            ],
        )
        return campaign_id
    finally:
        await engine.dispose()


def test_cli_lists_shows_and_cancels_campaigns(tmp_path, monkeypatch, capsys):
    url = cli_database(tmp_path, monkeypatch)
    assert main(["campaigns", "list"]) == 0
    assert "ei kampanjoita" in capsys.readouterr().out
    campaign_id = asyncio.run(half_sent_campaign(url))

    assert main(["campaigns", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{campaign_id}: Aalto 1 avautui (window_open, active" in listed
    assert "toimitettu 1/3, epäonnistui 1, kesken 1" in listed

    assert main(["campaigns", "show", str(campaign_id)]) == 0
    shown = capsys.readouterr().out
    assert "vastaanottajia 3: toimitettu 1, epäonnistui 1, odottaa 1" in shown
    assert "epäonnistumisen syyt: blocked 1" in shown
    assert "toimitustapa: installed 1" in shown

    assert main(["campaigns", "cancel", str(campaign_id)]) == 0
    assert "1 lähettämätön viesti jää lähettämättä" in capsys.readouterr().out
    # Nothing is left to send, so following ends at once with the final counts.
    assert main(["campaigns", "show", str(campaign_id), "--follow"]) == 0
    assert "tila cancelled" in capsys.readouterr().out

    assert main(["campaigns", "show", "999"]) == 1
    assert main(["campaigns", "cancel", "999"]) == 1


def test_cli_retries_failed_notifications(tmp_path, monkeypatch, capsys):
    url = cli_database(tmp_path, monkeypatch)
    campaign_id = asyncio.run(half_sent_campaign(url))

    assert main(["campaigns", "retry", str(campaign_id), "--reason", "server_error"]) == 0
    out = capsys.readouterr().out
    assert "0 epäonnistunutta viestiä (syy server_error) palautettu jonoon" in out
    assert "epäonnistuneet syyn mukaan: blocked 1" in out

    assert main(["campaigns", "retry", str(campaign_id)]) == 0
    assert "1 epäonnistunut viesti palautettu jonoon; se lähetetään" in capsys.readouterr().out
    assert main(["campaigns", "show", str(campaign_id)]) == 0
    assert "epäonnistui 0, odottaa 2" in capsys.readouterr().out

    assert main(["campaigns", "retry", "999"]) == 1
    assert capsys.readouterr().err == "phonebot: kampanjaa 999 ei ole\n"
    assert main(["campaigns", "cancel", str(campaign_id)]) == 0
    capsys.readouterr()
    assert main(["campaigns", "retry", str(campaign_id)]) == 1
    assert f"kampanja {campaign_id} ei ole käynnissä (tila cancelled)" in capsys.readouterr().err


async def held_campaign(url: str) -> int:
    """Rows waiting for three reasons: a configuration error, a paused connector, a 503."""
    engine = create_engine(url)
    try:
        campaign_id = await make_campaign(engine, ["anna", "bertil", "cecilia", "daniel"])
        anna, bertil, cecilia = await claim(engine, limit=3)
        later = NOW + timedelta(seconds=30)
        await settle(
            engine,
            [
                outbox.postpone(anna, NOW, NOW, reason=outbox.CONFIGURATION, error="grant it"),
                outbox.postpone(bertil, later, NOW, reason=outbox.CONNECTOR_DOWN),
                outbox.retry_later(cecilia, later, NOW, status=503, reason="server_error"),
            ],
        )
        return campaign_id
    finally:
        await engine.dispose()


def test_cli_shows_why_rows_wait(tmp_path, monkeypatch, capsys):
    url = cli_database(tmp_path, monkeypatch)
    campaign_id = asyncio.run(held_campaign(url))
    assert main(["campaigns", "show", str(campaign_id)]) == 0
    shown = capsys.readouterr().out
    assert "odottaa 4 (uusintayrityksessä 1)" in shown
    assert (
        "odottavat viimeisen syyn mukaan: configuration 1, connector_down 1, server_error 1"
        in shown
    )
    assert "lähetys pysähtyi asetusvirheeseen" in shown
    assert "Teams (Bot Connector) ei vastannut" in shown


def test_progress_bar_shows_how_much_is_settled():
    counts = {"pending": 2, "sending": 1, "delivered": 6, "failed": 1, "cancelled": 0}
    report = outbox.CampaignReport(
        id=1,
        key="k",
        kind="announcement",
        title="",
        state="active",
        created_by="system",
        created_at=NOW,
        not_before=None,
        counts=counts,
    )
    bar = _progress_bar(report, width=10)
    assert bar.startswith("[#######...] 7/10 (70 %)")
    assert "odottaa 2, lähettämässä 1" in bar

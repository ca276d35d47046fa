"""The program's own metrics, by name: what an operator watches on a dashboard and alerts on.

Every label value comes from a short fixed list (an activity type, a state, a band, an HTTP
status), never from what a person typed or who they are, so no series names anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from opentelemetry.metrics import CallbackOptions, Meter, NoOpMeterProvider, Observation

METER_NAME = "puhelinbotti"
# Turn latency: a reply in Teams should come within a second; the Bot Connector gives up at 15 s.
TURN_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
WAIT_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
LAG_SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# Activity types the Bot Connector sends; anything else is counted as "other".
TURN_KINDS = frozenset(
    {"message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "event"}
)


@dataclass
class Readings:
    """What the database said at the last sample; the gauges show it when they are read."""

    outbox_by_state: dict[str, int] = field(default_factory=dict)
    relay_backlog: int | None = None
    directory_sync_age_seconds: dict[str, float] = field(default_factory=dict)


def turn_kind(activity_type: str | None) -> str:
    return activity_type if activity_type in TURN_KINDS else "other"


def status_label(status: int | None) -> str:
    """An HTTP status as a label; "none" when no answer came (a timeout, a refused connection)."""
    return "none" if status is None else str(status)


class Instruments:
    """Counters, histograms and gauges of one process, recorded where things happen."""

    def __init__(self, meter: Meter) -> None:
        self.readings = Readings()
        self._turns = meter.create_counter(
            "phonebot.turns", unit="{turn}", description="Turns by activity kind and outcome"
        )
        self._turn_seconds = meter.create_histogram(
            "phonebot.turn.duration",
            unit="s",
            description="How long a turn took, from the activity to the last reply",
            explicit_bucket_boundaries_advisory=TURN_SECONDS,
        )
        self._requests = meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description="HTTP requests by method, route and status",
            explicit_bucket_boundaries_advisory=TURN_SECONDS,
        )
        self._sends = meter.create_counter(
            "phonebot.notifications.sends",
            unit="{notification}",
            description="Notification attempts by outcome and HTTP status",
        )
        self._throttled = meter.create_counter(
            "phonebot.connector.throttled",
            unit="{response}",
            description="429 answers from the Bot Connector",
        )
        self._retry_after = meter.create_histogram(
            "phonebot.connector.retry_after",
            unit="s",
            description="Waits the Bot Connector asked for (Retry-After)",
            explicit_bucket_boundaries_advisory=WAIT_SECONDS,
        )
        self._job_runs = meter.create_counter(
            "phonebot.jobs.runs", unit="{run}", description="Background job runs by job and result"
        )
        self._faq_answers = meter.create_counter(
            "phonebot.faq.answers",
            unit="{question}",
            description="Questions by band: answer, suggest, unknown, refused, chosen",
        )
        self._loop_lag = meter.create_histogram(
            "phonebot.event_loop.lag",
            unit="s",
            description="How late the event loop ran a timer: time every turn waited for others",
            explicit_bucket_boundaries_advisory=LAG_SECONDS,
        )
        meter.create_observable_gauge(
            "phonebot.outbox.depth",
            callbacks=[self._outbox_depth],
            unit="{notification}",
            description="Notifications in the outbox by state (last database sample)",
        )
        meter.create_observable_gauge(
            "phonebot.helpdesk.relay_backlog",
            callbacks=[self._relay_backlog],
            unit="{ticket}",
            description="Tickets whose news the helpdesk channel or the requester is still owed",
        )
        meter.create_observable_gauge(
            "phonebot.directory_sync.age",
            callbacks=[self._directory_sync_age],
            unit="s",
            description="Time since the directory was last synced, by sync",
        )

    def turn(self, kind: str, outcome: str, seconds: float) -> None:
        attributes = {"kind": kind, "outcome": outcome}
        self._turns.add(1, attributes)
        self._turn_seconds.record(seconds, attributes)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.record(
            seconds,
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status,
            },
        )

    def send(self, outcome: str, status: int | None) -> None:
        """A delivered row keeps no status of its own: the connector said 2xx."""
        label = "2xx" if outcome == "delivered" and status is None else status_label(status)
        self._sends.add(1, {"outcome": outcome, "status": label})

    def throttled(self, retry_after: float | None) -> None:
        self._throttled.add(1)
        if retry_after is not None:
            self._retry_after.record(retry_after)

    def job_run(self, job: str, result: str) -> None:
        self._job_runs.add(1, {"background_job": job, "result": result})

    def faq_answer(self, band: str) -> None:
        self._faq_answers.add(1, {"band": band})

    def loop_lag(self, seconds: float) -> None:
        self._loop_lag.record(seconds)

    def _outbox_depth(self, options: CallbackOptions) -> Iterable[Observation]:
        for state, count in self.readings.outbox_by_state.items():
            yield Observation(count, {"state": state})

    def _relay_backlog(self, options: CallbackOptions) -> Iterable[Observation]:
        if self.readings.relay_backlog is not None:
            yield Observation(self.readings.relay_backlog)

    def _directory_sync_age(self, options: CallbackOptions) -> Iterable[Observation]:
        for name, age in self.readings.directory_sync_age_seconds.items():
            yield Observation(age, {"sync": name})


def unrecorded() -> Instruments:
    """Instruments that record nothing: telemetry off, or a test that does not look."""
    return Instruments(NoOpMeterProvider().get_meter(METER_NAME))

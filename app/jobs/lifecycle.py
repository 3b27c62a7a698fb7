"""A job's life, read top to bottom: the messages that carry it from process to process,
the live events that tell its owner's open pages, the moves its record may make, and the one
function that announces a change.

1. The topology: every topic, the queues subscribed to it and what each queue is for. This
   is the only place a topic or queue is named (the AWS templates in ``deploy/`` repeat them).
2. The messages on those queues and the live events, as typed values, each with its JSON in
   one place. The JSON is what deployed queues and the browser (app/static, app/templates)
   already read: its keys and their order do not change.
3. The job's two state machines: where they are, and who enforces them.
4. :func:`announce`: a job moved, its topic is told and its owner's pages hear of it.

A job's path: web (app/jobs/submissions.py) → ``job-requests[-small]`` → annotator
(annotator/worker.py) → ``job-results`` → notifier (daemons/notify.py) and, after the free
retention, archiver (daemons/archive.py); an upgrade (app/accounts/subscriptions.py) →
``user-upgraded`` → restorer (daemons/restore.py); the cold tier → ``restore-complete`` →
thawer (daemons/thaw.py). The storage moves they share are app/jobs/storage.py. Its owner
may cancel it or delete it at any point (app/jobs/control.py); each of them then treats it
as done.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from app.config import Settings
from app.infra.poison import PoisonMessage
from app.jobs.job import Job, Status, Storage
from app.ports.bus import Bus, QueueSpec
from app.ports.events import Events
from app.ports.jobs import JobStore

# -- 1. topology -----------------------------------------------------------------------

JOB_REQUESTS: Final = "job-requests"
JOB_REQUESTS_SMALL: Final = "job-requests-small"
JOB_RESULTS: Final = "job-results"
JOB_RESULTS_NOTIFY: Final = "job-results-notify"
JOB_RESULTS_ARCHIVE: Final = "job-results-archive"
USER_UPGRADED: Final = "user-upgraded"
RESTORE_COMPLETE: Final = "restore-complete"

# The annotator's two lanes, each a topic and a queue of the same name (app/jobs/scheduling.py).
Lane = Literal["job-requests", "job-requests-small"]
LARGE: Lane = JOB_REQUESTS
SMALL: Lane = JOB_REQUESTS_SMALL
LANES: tuple[Lane, ...] = (SMALL, LARGE)

# SQS's longest delay; a longer retention is waited out by re-queueing (daemons/archive.py).
MAX_QUEUE_DELAY_SECONDS = 900


def archive_delay(settings: Settings) -> int:
    """A result is archived once the free retention has passed: its message waits that long."""
    return min(settings.free_retention_seconds, MAX_QUEUE_DELAY_SECONDS)


@dataclass(frozen=True)
class Queue:
    """One queue: the topic it is subscribed to, the role that reads it (gas/serve.py), and its
    delay. Every queue has the settings' visibility and receive limit and a dead-letter queue
    (``<name>-dlq``)."""

    name: str
    topic: str
    consumer: str
    delay: Callable[[Settings], int] = field(default=lambda _: 0)


QUEUES: tuple[Queue, ...] = (
    Queue(JOB_REQUESTS, JOB_REQUESTS, "annotator"),  # the large lane
    Queue(JOB_REQUESTS_SMALL, JOB_REQUESTS_SMALL, "annotator"),  # the small lane
    Queue(JOB_RESULTS_NOTIFY, JOB_RESULTS, "notify"),
    Queue(JOB_RESULTS_ARCHIVE, JOB_RESULTS, "archive", archive_delay),
    Queue(USER_UPGRADED, USER_UPGRADED, "restore"),
    Queue(RESTORE_COMPLETE, RESTORE_COMPLETE, "thaw"),
)

# Each topic and the queues subscribed to it: what every bus backend provides.
TOPICS: dict[str, list[str]] = {
    topic: [q.name for q in QUEUES if q.topic == topic] for topic in dict.fromkeys(q.topic for q in QUEUES)
}


def queue_specs(settings: Settings) -> list[QueueSpec]:
    vis, receives = settings.queue_visibility_seconds, settings.queue_max_receives
    return [QueueSpec(q.name, q.delay(settings), vis, receives) for q in QUEUES]


# -- 2. messages and live events --------------------------------------------------------

def _id(body: dict[str, Any], name: str) -> str:
    """The message's ``<name>_id``, a UUID; a message without one can never succeed."""
    try:
        return str(uuid.UUID(str(body.get(f"{name}_id"))))
    except ValueError:
        raise PoisonMessage(f"no {name} id in the message: {body.get(f'{name}_id')!r}") from None


@dataclass(frozen=True)
class JobRequest:
    """On a lane (``job-requests[-small]``): annotate this job. ``deferrals`` counts the times
    the annotator put it back because its owner had their plan's most jobs running."""

    job_id: str
    user_id: str | None = None
    deferrals: int = 0

    def encode(self) -> str:
        body: dict[str, Any] = {"job_id": self.job_id, "user_id": self.user_id}
        if self.deferrals:
            body["deferrals"] = self.deferrals
        return json.dumps(body)

    @classmethod
    def decode(cls, body: dict[str, Any]) -> JobRequest:
        deferrals = body.get("deferrals")
        user_id = body.get("user_id")
        return cls(_id(body, "job"), user_id if isinstance(user_id, str) else None,
                   deferrals if isinstance(deferrals, int) else 0)


@dataclass(frozen=True)
class JobResult:
    """On ``job-results``: the job finished (completed or failed)."""

    job_id: str
    user_id: str | None = None
    status: str | None = None

    def encode(self) -> str:
        return json.dumps({"job_id": self.job_id, "user_id": self.user_id, "status": self.status})

    @classmethod
    def decode(cls, body: dict[str, Any]) -> JobResult:
        user_id, status = body.get("user_id"), body.get("status")
        return cls(_id(body, "job"), user_id if isinstance(user_id, str) else None,
                   status if isinstance(status, str) else None)


@dataclass(frozen=True)
class UserUpgraded:
    """On ``user-upgraded``: the user is Premium now; their archived results come back."""

    user_id: str

    def encode(self) -> str:
        return json.dumps({"user_id": self.user_id})

    @classmethod
    def decode(cls, body: dict[str, Any]) -> UserUpgraded:
        return cls(_id(body, "user"))


@dataclass(frozen=True)
class RestoreCompleted:
    """On ``restore-complete``: the cold tier's copy of an object can be thawed. S3 sends its
    own event, which the cold tier reads (``ColdTier.completed``); our own body is this one's.
    The local tier names the restore's tier; nothing reads it back."""

    bucket: str
    key: str
    tier: str | None = None

    def encode(self) -> str:
        body = {"bucket": self.bucket, "key": self.key}
        if self.tier is not None:
            body["tier"] = self.tier
        return json.dumps(body)


@dataclass(frozen=True)
class JobEvent:
    """Live: a job's status or progress changed (the job list and the job page listen).

    A submission's event never carried ``phase`` and ``file``: one without a file still
    does not."""

    job_id: str
    status: Status
    progress: int
    phase: str | None = None
    file: str | None = None

    def payload(self) -> dict[str, Any]:
        event: dict[str, Any] = {"type": "job", "job_id": self.job_id, "status": self.status,
                                 "progress": self.progress}
        if self.file is not None:
            event |= {"phase": self.phase, "file": self.file}
        return event


@dataclass(frozen=True)
class StorageEvent:
    """Live: a result was archived, is being restored, is back, or is stuck (its storage error)."""

    job_id: str
    storage: Storage

    def payload(self) -> dict[str, Any]:
        return {"type": "storage", "job_id": self.job_id, "storage": self.storage}


LiveEvent = JobEvent | StorageEvent


def live_event(event: dict[str, Any]) -> LiveEvent | None:
    """A live event as published (the events port hands back the JSON); None if not one of ours."""
    job_id = event.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        return None
    if event.get("type") == "job":
        file = event.get("file")
        return JobEvent(job_id, event.get("status"), event.get("progress", 0),  # type: ignore[arg-type]
                        event.get("phase"), str(file) if file else None)
    if event.get("type") == "storage":
        return StorageEvent(job_id, event.get("storage"))  # type: ignore[arg-type]
    return None


# -- 3. the state machines ----------------------------------------------------------------
# STATUS_MOVES and STORAGE_MOVES are in app/jobs/job.py, beside the states they join, because
# the job store (app/ports/jobs), which this module's announce() writes through, enforces
# them: every transition is checked against them, and any other move raises ForbiddenMove
# and writes nothing.


# -- 4. announcing a change --------------------------------------------------------------

class Announcer(Protocol):
    """What announcing needs of :class:`app.services.Services`."""

    jobs: JobStore
    bus: Bus
    events: Events


@dataclass(frozen=True)
class Move:
    """A conditional write of the job's record: its status from one of ``was`` to ``to``
    (and every ``when`` field as given), setting ``fields``."""

    was: Iterable[Status]
    to: Status
    when: dict[str, Any] | None = None
    fields: dict[str, Any] = field(default_factory=dict)


Wire = JobRequest | JobResult | UserUpgraded | RestoreCompleted


async def announce(
    services: Announcer, job: Job, *, move: Move | None = None,
    publish: tuple[str, Wire] | None = None, event: LiveEvent | None = None,
) -> bool:
    """Make ``move`` (if the job is no longer where it expects, nothing else happens: False),
    then publish the message on its topic (the next process's work), then tell the owner's
    open pages: once a page shows the change, the work it starts has been asked for."""
    if move is not None and not await services.jobs.transition(
        job.job_id, move.was, move.to, when=move.when, **move.fields
    ):
        return False
    if publish is not None:
        topic, message = publish
        await services.bus.publish(topic, message.encode())
    if event is not None:
        await services.events.publish(job.user_id, event.payload())
    return True

"""The lifecycle's topology, messages and live events: the JSON on the wire and in the browser
stays what deployed queues and app/static already read, and a bad body is poison."""

from __future__ import annotations

import json
import uuid

import pytest

from app.config import Settings
from app.infra.consumer import PoisonMessage
from app.jobs.job import STATUS_MOVES, STORAGE_MOVES
from app.jobs.lifecycle import (
    JOB_RESULTS,
    JOB_RESULTS_ARCHIVE,
    MAX_QUEUE_DELAY_SECONDS,
    QUEUES,
    TOPICS,
    JobEvent,
    JobRequest,
    JobResult,
    RestoreCompleted,
    StorageEvent,
    UserUpgraded,
    live_event,
    queue_specs,
)

JOB, USER = str(uuid.uuid4()), str(uuid.uuid4())


def test_every_queue_is_subscribed_once_and_job_results_feeds_notify_and_archive() -> None:
    """Each queue hangs off one topic; a finished job reaches both the notifier and the archiver."""
    subscribed = [queue for queues in TOPICS.values() for queue in queues]
    assert sorted(subscribed) == sorted(q.name for q in QUEUES)
    assert len(set(subscribed)) == len(subscribed)
    assert TOPICS[JOB_RESULTS] == ["job-results-notify", "job-results-archive"]


@pytest.mark.parametrize(("retention", "delay"), [(2, 2), (3600, MAX_QUEUE_DELAY_SECONDS)])
def test_only_the_archive_queue_waits_for_the_retention_at_most_sqs_longest_delay(
    retention: int, delay: int
) -> None:
    specs = queue_specs(Settings(free_retention_seconds=retention))
    assert {s.name: s.delay_seconds for s in specs if s.delay_seconds} == {JOB_RESULTS_ARCHIVE: delay}
    assert all(s.dead_letter_queue == f"{s.name}-dlq" for s in specs)


def test_messages_keep_their_json() -> None:
    """Byte for byte what the worker, web, subscriptions and the local cold tier published before."""
    assert JobRequest(JOB, USER).encode() == json.dumps({"job_id": JOB, "user_id": USER})
    assert JobRequest(JOB, USER, 2).encode() == json.dumps({"job_id": JOB, "user_id": USER, "deferrals": 2})
    assert JobResult(JOB, USER, "failed").encode() == json.dumps(
        {"job_id": JOB, "user_id": USER, "status": "failed"})
    assert UserUpgraded(USER).encode() == json.dumps({"user_id": USER})
    assert RestoreCompleted("b", "k", "Standard").encode() == json.dumps(
        {"bucket": "b", "key": "k", "tier": "Standard"})
    assert RestoreCompleted("b", "k").encode() == json.dumps({"bucket": "b", "key": "k"})


def test_messages_read_back_and_old_bodies_still_read() -> None:
    """Decoding undoes encoding; a request queued before user ids were sent still reads."""
    for message in (JobRequest(JOB, USER, 3), JobResult(JOB, USER, "completed")):
        assert type(message).decode(json.loads(message.encode())) == message
    assert UserUpgraded.decode({"user_id": USER.upper()}) == UserUpgraded(USER)
    assert JobRequest.decode({"job_id": JOB}) == JobRequest(JOB)
    assert JobRequest.decode({"job_id": JOB, "deferrals": "x"}).deferrals == 0


@pytest.mark.parametrize("body", [{}, {"job_id": "nope"}, {"job_id": 7}])
def test_a_message_naming_no_job_is_poison(body: dict[str, object]) -> None:
    for kind in (JobRequest, JobResult):
        with pytest.raises(PoisonMessage, match="no job id in the message"):
            kind.decode(body)
    with pytest.raises(PoisonMessage, match="no user id in the message"):
        UserUpgraded.decode(body)


def test_live_events_keep_their_keys() -> None:
    """The browser reads these payloads (app/static/app.js): a submission's event never had
    phase and file, the worker's always had both; a storage event names the storage."""
    assert JobEvent(JOB, "pending", 0).payload() == {
        "type": "job", "job_id": JOB, "status": "pending", "progress": 0}
    worker = JobEvent(JOB, "running", 40, "table", "a.vcf").payload()
    assert list(worker) == ["type", "job_id", "status", "progress", "phase", "file"]
    assert JobEvent(JOB, "running", 0, None, "a.vcf").payload()["phase"] is None
    assert StorageEvent(JOB, "cold").payload() == {"type": "storage", "job_id": JOB, "storage": "cold"}


def test_live_events_read_back() -> None:
    for event in (JobEvent(JOB, "completed", 100, None, "a.vcf"), JobEvent(JOB, "pending", 0),
                  StorageEvent(JOB, "restoring")):
        assert live_event(event.payload()) == event
    assert live_event({"type": "job", "job_id": ""}) is None
    assert live_event({"type": "plan", "job_id": JOB}) is None


def test_every_state_named_in_a_machine_is_a_state_it_has() -> None:
    """A move to a state the machine has no entry for would leave the job stuck there."""
    assert all(to in STATUS_MOVES for moves in STATUS_MOVES.values() for to in moves)
    assert all(to in STORAGE_MOVES for moves in STORAGE_MOVES.values() for to in moves)

"""The role table: every queue of the lifecycle's topology is read by a role that runs."""

from __future__ import annotations

from importlib import import_module

from app.jobs.lifecycle import LANES, QUEUES
from gas.serve import DAEMONS, ROLES


def test_every_queue_is_read_by_its_role() -> None:
    """A queue whose consumer no role runs would fill up unread; each daemon reads its own."""
    assert {queue.consumer for queue in QUEUES} == set(ROLES)
    for daemon in DAEMONS:
        [queue] = [q.name for q in QUEUES if q.consumer == daemon]
        assert import_module(f"daemons.{daemon}").QUEUE == queue
    assert sorted(q.name for q in QUEUES if q.consumer == "annotator") == sorted(LANES)


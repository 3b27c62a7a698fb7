"""A job put in the state a test needs, through moves the job store allows (STATUS_MOVES and
STORAGE_MOVES in app/jobs/job.py): a test cannot skip a step either."""

from __future__ import annotations

from typing import Any

from app.jobs.job import COMPLETED, PENDING, RUNNING, STORAGE_MOVES, Status, Storage
from app.ports.jobs import JobStore


def _storage_path(was: Storage, to: Storage) -> list[Storage]:
    """The fewest storage moves from ``was`` to ``to`` (``to`` last; none if it is ``was``)."""
    paths: dict[Storage, list[Storage]] = {was: []}
    frontier = [was]
    while to not in paths:
        reached = []
        for at in frontier:
            for step in sorted(STORAGE_MOVES[at]):
                if step not in paths:
                    paths[step] = [*paths[at], step]
                    reached.append(step)
        frontier = reached
    return paths[to]


async def move_result(store: JobStore, job_id: str, to: Storage, **fields: Any) -> bool:
    """Move a completed job's result to storage ``to``, setting ``fields`` on the last move;
    whether every move was made."""
    job = await store.get(job_id)
    assert job is not None and job.storage is not None, "a completed job with a result"
    was = job.storage
    path = _storage_path(was, to)
    for i, step in enumerate(path):
        last = fields if i == len(path) - 1 else {}
        if not await store.transition(job_id, [COMPLETED], COMPLETED, when={"storage": was}, storage=step,
                                      **last):
            return False
        was = step
    return True


async def advance(store: JobStore, job_id: str, status: Status, *, storage: Storage | None = None,
                  **fields: Any) -> bool:
    """Move the pending job ``job_id`` to ``status`` (a completed job's result to ``storage``),
    setting ``fields`` on the last move; whether every move was made."""
    if status == PENDING:
        return True
    moves: list[tuple[Status, Status, dict[str, Any]]] = []
    if status in (RUNNING, COMPLETED):
        moves.append((PENDING, RUNNING, {}))
    if status == COMPLETED:
        moves.append((RUNNING, COMPLETED, {} if storage is None else {"storage": "hot"}))
    elif status != RUNNING:
        moves.append((PENDING, status, {}))
    further = storage is not None and storage != "hot"
    if not further:
        moves[-1][2].update(fields)
    for was, to, values in moves:
        if not await store.transition(job_id, [was], to, **values):
            return False
    return not further or await move_result(store, job_id, storage, **fields)  # type: ignore[arg-type]

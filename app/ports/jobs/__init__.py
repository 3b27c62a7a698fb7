"""Job store: one record per job; a conditional update is the only way it changes."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from app.jobs.job import Job, JobSummary, Status, check_move

# A job's stored fields: every dataclass field.
COLUMNS = tuple(Job.__dataclass_fields__)


def check_fields(fields: Iterable[str], when: dict[str, Any] | None) -> None:
    """A transition sets and tests job fields only."""
    unknown = (set(fields) | set(when or {})) - set(COLUMNS)
    if unknown:
        raise ValueError(f"not job fields: {sorted(unknown)}")


class JobStore(abc.ABC):
    @abc.abstractmethod
    async def create(self, job: Job) -> bool:
        """Store a new job; False (and no change) when its id exists already."""

    @abc.abstractmethod
    async def get(self, job_id: str) -> Job | None:
        """The job as last written, every write before the call seen (a strongly consistent
        read), unlike the user's list: what the daemons decide a move on."""

    @abc.abstractmethod
    async def delete(self, job_id: str) -> bool:
        """Remove the job's record for good, only while it is ``deleting`` (app/jobs/control.py
        removes its objects first); True if it did."""

    @abc.abstractmethod
    async def list_for_user(
        self, user_id: str, *, limit: int = 50, before: tuple[datetime, str] | None = None
    ) -> list[Job]:
        """The user's jobs, newest first; ``before`` is the last (submitted_at, job_id) seen.
        A job may be listed as it was a moment ago (DynamoDB's user index is eventually
        consistent): read it with :meth:`get` before acting on it."""

    async def all_for_user(self, user_id: str) -> list[Job]:
        """Every job of the user, newest first, read a page at a time (the daemons that act on all
        of a user's results: restore, and thaw's one mail about them)."""
        found: list[Job] = []
        before: tuple[datetime, str] | None = None
        while page := await self.list_for_user(user_id, limit=200, before=before):
            found += page
            before = (page[-1].submitted_at, page[-1].job_id)
        return found

    async def summaries_for_user(
        self, user_id: str, *, limit: int = 50, before: tuple[datetime, str] | None = None
    ) -> list[JobSummary]:
        """What the job list shows of :meth:`list_for_user`'s jobs; a store may read less."""
        return [job.summary() for job in await self.list_for_user(user_id, limit=limit, before=before)]

    @abc.abstractmethod
    async def count_for_user(self, user_id: str) -> int: ...

    @abc.abstractmethod
    async def count_by_status(self, user_id: str, statuses: Iterable[Status]) -> dict[Status, int]:
        """How many of the user's jobs are in each of ``statuses`` (0 for none): the
        per-user caps on queued and running jobs."""

    async def transition(
        self,
        job_id: str,
        from_states: Iterable[Status],
        to_state: Status,
        *,
        when: dict[str, Any] | None = None,
        **fields: Any,
    ) -> bool:
        """Set ``status=to_state`` and ``fields`` only if the status is one of
        ``from_states`` (and every ``when`` field has the given value); True if it did.

        A move the job's state machines do not allow (app/jobs/job.py) raises
        :class:`ForbiddenMove` and writes nothing, on every backend alike.
        """
        states = list(from_states)
        check_fields(fields, when)
        check_move(states, to_state, when, fields)
        return await self.conditional_write(job_id, states, to_state, when, fields)

    @abc.abstractmethod
    async def conditional_write(self, job_id: str, from_states: list[Status], to_state: Status,
                                when: dict[str, Any] | None, fields: dict[str, Any]) -> bool:
        """:meth:`transition`'s write, once the move is known to be allowed."""

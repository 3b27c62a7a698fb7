"""Job store in PostgreSQL: the ``jobs`` table."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from databases import Database

from app.infra.db import fetch, fetchrow, fetchval
from app.jobs.job import DELETING, Job, JobSummary, Status
from app.ports.jobs import COLUMNS, JobStore

_SUMMARY_COLUMNS = ", ".join(JobSummary._fields)
_CREATE = (f"INSERT INTO jobs ({', '.join(COLUMNS)})"
           f" VALUES ({', '.join(f'${n}' for n in range(1, len(COLUMNS) + 1))})"
           " ON CONFLICT (job_id) DO NOTHING RETURNING job_id")


class PostgresJobStore(JobStore):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, job: Job) -> bool:
        return await fetchrow(self.db, _CREATE, *(getattr(job, name) for name in COLUMNS)) is not None

    async def get(self, job_id: str) -> Job | None:
        try:
            uid = uuid.UUID(job_id)
        except ValueError:
            return None
        row = await fetchrow(self.db, "SELECT * FROM jobs WHERE job_id = $1", uid)
        return Job.from_row(row) if row else None

    async def delete(self, job_id: str) -> bool:
        try:
            uid = uuid.UUID(job_id)
        except ValueError:
            return False
        return await fetchrow(self.db, "DELETE FROM jobs WHERE job_id = $1 AND status = $2 RETURNING job_id",
                              uid, DELETING) is not None

    async def _newest(self, columns: str, user_id: str, limit: int,
                      before: tuple[datetime, str] | None) -> list[Any]:
        args: list[Any] = [uuid.UUID(user_id), limit]
        after = ""
        if before is not None:
            after = " AND (submitted_at, job_id) < ($3, $4::uuid)"
            args += [before[0], before[1]]
        query = (f"SELECT {columns} FROM jobs WHERE user_id = $1{after}"
                 " ORDER BY submitted_at DESC, job_id DESC LIMIT $2")
        return await fetch(self.db, query, *args)

    async def list_for_user(
        self, user_id: str, *, limit: int = 50, before: tuple[datetime, str] | None = None
    ) -> list[Job]:
        return [Job.from_row(row) for row in await self._newest("*", user_id, limit, before)]

    async def summaries_for_user(
        self, user_id: str, *, limit: int = 50, before: tuple[datetime, str] | None = None
    ) -> list[JobSummary]:
        rows = await self._newest(_SUMMARY_COLUMNS, user_id, limit, before)
        return [JobSummary(str(job_id), *rest) for job_id, *rest in rows]

    async def count_for_user(self, user_id: str) -> int:
        return int(await fetchval(self.db, "SELECT count(*) FROM jobs WHERE user_id = $1", user_id))

    async def count_by_status(self, user_id: str, statuses: Iterable[Status]) -> dict[Status, int]:
        wanted = list(statuses)
        counts: dict[Status, int] = dict.fromkeys(wanted, 0)
        rows = await fetch(
            self.db, "SELECT status, count(*) FROM jobs WHERE user_id = $1 AND status = ANY($2::text[])"
            " GROUP BY status",
            uuid.UUID(user_id), wanted,
        )
        counts.update({row["status"]: int(row["count"]) for row in rows})
        return counts

    async def conditional_write(self, job_id: str, from_states: list[Status], to_state: Status,
                                when: dict[str, Any] | None, fields: dict[str, Any]) -> bool:
        values: dict[str, Any] = {"job_id": job_id, "to_state": to_state}
        sets = ["status = :to_state"]
        for name, value in fields.items():
            sets.append(f"{name} = :set_{name}")
            values[f"set_{name}"] = value
        states = list(from_states)
        where = ["job_id = :job_id", "status = ANY(CAST(:from_states AS text[]))"]
        values["from_states"] = states
        for name, value in (when or {}).items():
            if value is None:
                where.append(f"{name} IS NULL")
            else:
                where.append(f"{name} = :when_{name}")
                values[f"when_{name}"] = value
        row = await self.db.fetch_one(
            f"UPDATE jobs SET {', '.join(sets)} WHERE {' AND '.join(where)} RETURNING job_id",
            values,
        )
        return row is not None

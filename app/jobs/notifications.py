"""Mail about a job, sent once per kind however often the message that asks comes.

Plain SQL over the ``notifications`` table. A sender claims (job, kind) before
sending and marks it sent after; a failed send gives the claim back so the retry
sends. A sender killed between claim and send leaves a claim that another takes
over once ``lease_seconds`` have passed — longer than a duplicate racing the
first, shorter than the wait before a dead consumer's message is delivered again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from databases import Database

from app.infra.db import execute, fetchrow
from app.ports.mail import Mailer

log = logging.getLogger(__name__)

_CLAIM = """
INSERT INTO notifications (job_id, kind) VALUES ($1, $2)
ON CONFLICT (job_id, kind) DO UPDATE SET claimed_at = now()
WHERE notifications.sent_at IS NULL
  AND notifications.claimed_at < now() - make_interval(secs => $3)
RETURNING job_id
"""


async def claim(db: Database, job_id: str, kind: str, lease_seconds: float) -> bool:
    row = await fetchrow(db, _CLAIM, uuid.UUID(job_id), kind, float(lease_seconds))
    return row is not None


async def mark_sent(db: Database, job_id: str, kind: str) -> None:
    await execute(
        db, "UPDATE notifications SET sent_at = now() WHERE job_id = $1 AND kind = $2",
        uuid.UUID(job_id), kind,
    )


async def release(db: Database, job_id: str, kind: str) -> None:
    await execute(
        db, "DELETE FROM notifications WHERE job_id = $1 AND kind = $2 AND sent_at IS NULL",
        uuid.UUID(job_id), kind,
    )


async def send_once_about(
    db: Database, mail: Mailer, *, job_ids: list[str], kind: str, lease_seconds: float, to: str,
    compose: Callable[[list[str]], tuple[str, str, str]],
) -> list[str]:
    """One mail about those of ``job_ids`` no ``kind`` mail was sent or is being sent about: each
    claimed, the mail composed (subject, text, HTML) from the ids claimed, sent, each marked sent;
    the ids it told of (none: no mail)."""
    claimed = [job_id for job_id in job_ids if await claim(db, job_id, kind, lease_seconds)]
    if not claimed:
        return []
    try:
        await mail.send(to, *compose(claimed))
    except BaseException:
        for job_id in claimed:
            await release(db, job_id, kind)
        raise
    for job_id in claimed:
        await mark_sent(db, job_id, kind)
    return claimed


async def send_once(
    db: Database, mail: Mailer, *, job_id: str, kind: str, lease_seconds: float,
    to: str, subject: str, text: str, html: str,
) -> bool:
    """Send unless this (job, kind) was sent or is being sent; True if this call sent it."""
    told = await send_once_about(
        db, mail, job_ids=[job_id], kind=kind, lease_seconds=lease_seconds, to=to,
        compose=lambda _: (subject, text, html),
    )
    return bool(told)

"""The restorer: a user upgraded (``user-upgraded``) → every archived result of
theirs starts coming back from the cold tier, Expedited first, Standard if refused.
Each job is decided on as it is (read by its key), not as the list of the user's jobs
shows it: that list may be behind.
"""

from __future__ import annotations

import logging

from app.accounts import users
from app.infra.poison import PoisonMessage
from app.jobs.job import CANCELLED, COMPLETED, DELETING, FAILED, Job, utcnow
from app.jobs.lifecycle import USER_UPGRADED, UserUpgraded
from app.jobs.storage import JobMoved, as_stored, move, request_restore, stuck
from app.ports.bus import Message
from app.ports.objects import ObjectNotFound
from app.services import Services
from daemons import serve

log = logging.getLogger(__name__)
QUEUE = USER_UPGRADED
# Reads and moves of one job before the message is retried: each lost move means another
# daemon moved the job in between, which happens at most a step or two in a row.
MOVE_ATTEMPTS = 3


async def handle(services: Services, message: Message, upgraded: UserUpgraded) -> None:
    user_id = upgraded.user_id
    user = await users.get(services.db, user_id)
    if user is None:
        raise PoisonMessage(f"no such user: {user_id}")
    if not user.premium:
        log.warning("%s for a free account; nothing restored", QUEUE, extra={"user_id": user_id})
        return
    for listed in await services.jobs.all_for_user(user_id):
        # Only these never change again: anything else the index may show as it was.
        if listed.status not in (FAILED, CANCELLED, DELETING):
            await _bring_back(services, listed)


async def _bring_back(services: Services, listed: Job) -> None:
    """Start bringing the job's result back if it is archived or on its way there. The
    user's jobs are listed from an index that may be behind (DynamoDB's global secondary
    index is eventually consistent), so the job is read again by its key (strongly
    consistent) before anything is decided, and again after a move another daemon beat."""
    ctx = {"job_id": listed.job_id, "user_id": listed.user_id}
    seen, source = listed, "the user's job list"
    for _ in range(MOVE_ATTEMPTS):
        job = await services.jobs.get(listed.job_id)
        if job is None or job.status == DELETING:
            log.info("the job was deleted since %s named it; nothing to restore", source, extra=ctx)
            return
        if (job.status, job.storage) != (seen.status, seen.storage):
            log.info("the job is %s (%s), not %s (%s) as %s had it; acting on the job as it is",
                     job.status, job.storage, seen.status, seen.storage, source, extra=ctx)
        if job.status != COMPLETED or job.storage not in ("archiving", "cold"):
            return  # unfinished (the archiver keeps a Premium result hot), hot, or restoring
        if await _start(services, job, ctx):
            return
        seen, source = job, "a read a moment ago"
    raise JobMoved(f"job {listed.job_id} kept moving while its restore was asked for")


async def _start(services: Services, job: Job, ctx: dict[str, str]) -> bool:
    """Archiving or cold → restoring: True once this delivery is done with the job, False if
    the job moved on before it was marked."""
    if job.storage == "archiving":
        # The archiver still holds this job's message: when it finds the job
        # restoring it brings the result back itself (app.jobs.storage.keep_hot).
        if await move(services, job, "archiving", "restoring", restore_requested_at=utcnow()):
            log.info("upgraded while archiving; the archiver will bring it back", extra=ctx)
            return True
        return False
    # Asked before the job is marked, so a restorer killed in between asks
    # again on redelivery (the tier does not start a second restore).
    try:
        restore = await request_restore(services, job)
    except ObjectNotFound:
        log.error("the archived result is missing from the cold tier", extra=ctx)
        return True
    if await move(
        services, job, "cold", "restoring", restore_requested_at=utcnow(), restore_tier=restore.tier,
    ):
        log.info("restore requested (%s, about %ss)", restore.tier, restore.expected_seconds, extra=ctx)
        return True
    return False


async def give_up(services: Services, message: Message, upgraded: UserUpgraded, exc: Exception) -> None:
    """Asking the cold tier kept failing: every result of the user's still archived
    says so, instead of offering an upgrade they have made."""
    for job in await as_stored(services, await services.jobs.all_for_user(upgraded.user_id)):
        if job.status == COMPLETED and job.storage == "cold":
            await stuck(services, job, "cold", "Bringing this result back from the archive failed",
                        exc, message)


async def run(services: Services) -> None:
    await serve(services, QUEUE, UserUpgraded.decode, handle, give_up)

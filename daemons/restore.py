"""The restorer: a user upgraded (``user-upgraded``) → every archived result of
theirs starts coming back from the cold tier, Expedited first, Standard if refused.
"""

from __future__ import annotations

import logging

from app.accounts import users
from app.infra.poison import PoisonMessage
from app.jobs.job import COMPLETED, utcnow
from app.jobs.lifecycle import USER_UPGRADED, UserUpgraded
from app.jobs.storage import move, request_restore, stuck
from app.ports.bus import Message
from app.ports.objects import ObjectNotFound
from app.services import Services
from daemons import serve

log = logging.getLogger(__name__)
QUEUE = USER_UPGRADED


async def handle(services: Services, message: Message, upgraded: UserUpgraded) -> None:
    user_id = upgraded.user_id
    user = await users.get(services.db, user_id)
    if user is None:
        raise PoisonMessage(f"no such user: {user_id}")
    if not user.premium:
        log.warning("%s for a free account; nothing restored", QUEUE, extra={"user_id": user_id})
        return
    for job in await services.jobs.all_for_user(user_id):
        if job.status != COMPLETED:
            continue
        ctx = {"job_id": job.job_id, "user_id": user_id}
        if job.storage == "archiving":
            # The archiver still holds this job's message: when it finds the job
            # restoring it brings the result back itself (app.jobs.storage.keep_hot).
            if await move(services, job, "archiving", "restoring", restore_requested_at=utcnow()):
                log.info("upgraded while archiving; the archiver will bring it back", extra=ctx)
        elif job.storage == "cold":
            # Asked before the job is marked, so a restorer killed in between asks
            # again on redelivery (the tier does not start a second restore).
            try:
                restore = await request_restore(services, job)
            except ObjectNotFound:
                log.error("the archived result is missing from the cold tier", extra=ctx)
                continue
            if await move(
                services, job, "cold", "restoring", restore_requested_at=utcnow(), restore_tier=restore.tier,
            ):
                log.info("restore requested (%s, about %ss)", restore.tier, restore.expected_seconds,
                         extra=ctx)


async def give_up(services: Services, message: Message, upgraded: UserUpgraded, exc: Exception) -> None:
    """Asking the cold tier kept failing: every result of the user's still archived
    says so, instead of offering an upgrade they have made."""
    for job in await services.jobs.all_for_user(upgraded.user_id):
        if job.status == COMPLETED and job.storage == "cold":
            await stuck(services, job, "cold", "Bringing this result back from the archive failed",
                        exc, message)


async def run(services: Services) -> None:
    await serve(services, QUEUE, UserUpgraded.decode, handle, give_up)

"""Cancelling a pending or running job and deleting a job with all its files: through the
API (``POST /api/v1/jobs/<id>/cancel``, ``DELETE /api/v1/jobs/<id>``) and the pages (CSRF-
checked forms, a confirmation page before a deletion), for the job's owner only."""

from __future__ import annotations

import uuid

from quart.testing import QuartClient

from app.accounts.users import User
from app.jobs.control import cancel_job, delete_job, table_cache
from app.jobs.job import COMPLETED, RUNNING, Job, input_key, result_keys, utcnow
from app.jobs.submissions import resubmitted_id
from app.ports.objects import ObjectNotFound
from app.services import Services
from tests.job_states import advance, move_result
from tests.live_events import events_heard
from tests.run_annotator import annotate
from tests.web.conftest import bearer, csrf_from
from tests.web.test_api import error_code, submit
from tests.web.test_pages import signed_up_user
from tests.web.test_resubmit import _failed_job


async def stored(services: Services, bucket: str, key: str) -> bool:
    try:
        await services.objects.head(bucket, key)
    except ObjectNotFound:
        return False
    return True


async def test_api_cancel_is_for_pending_or_running_jobs_of_the_owner(
    client: QuartClient, services: Services, alice: tuple[User, str], bob: tuple[User, str]
) -> None:
    """The owner cancels a pending job (200, status cancelled) and again (the same); anyone
    else gets 404 and the job is untouched; a job that completed is 409 job_ended, saying
    what can be cancelled."""
    _, token = alice
    job = await submit(client, token)
    path = f"/api/v1/jobs/{job['job_id']}/cancel"
    other = await client.post(path, headers=bearer(bob[1]))
    assert other.status_code == 404
    assert (await services.jobs.get(job["job_id"])).status == "pending"  # type: ignore[union-attr]
    for _ in range(2):
        cancelled = await client.post(path, headers=bearer(token))
        assert cancelled.status_code == 200
        assert (await cancelled.get_json())["status"] == "cancelled"
    no_log = await client.get(f"/api/v1/jobs/{job['job_id']}/log", headers=bearer(token))
    assert no_log.status_code == 409 and await error_code(no_log) == "job_cancelled"

    done = await annotate(services, (await submit(client, token))["job_id"])
    assert done.status == COMPLETED
    refused = await client.post(f"/api/v1/jobs/{done.job_id}/cancel", headers=bearer(token))
    assert refused.status_code == 409 and await error_code(refused) == "job_ended"
    assert "only a pending or running job" in (await refused.get_json())["error"]["message"]


async def test_api_delete_removes_the_job_and_every_file(
    client: QuartClient, services: Services, alice: tuple[User, str], bob: tuple[User, str]
) -> None:
    """DELETE removes the input, the result, log, summary and results table, the archived
    copy, the web's cached table and its sort orders, then the job (204; 404 after);
    someone else's DELETE is 404 and removes nothing."""
    _, token = alice
    job = await annotate(services, (await submit(client, token))["job_id"])
    assert job.result_bucket and job.result_key
    await services.cold.archive(job.result_bucket, job.result_key)
    assert await move_result(services.jobs, job.job_id, "cold")
    cache = table_cache(services.settings)
    cache.mkdir(parents=True, exist_ok=True)
    cached = [cache / f"{job.job_id}.arrow", cache / f"{job.job_id}.pos.asc.npy"]
    for path in cached:
        path.write_bytes(b"x")
    others = result_keys(job)[1:]
    assert all([await stored(services, job.result_bucket, key) for key in others])

    assert (await client.delete(f"/api/v1/jobs/{job.job_id}", headers=bearer(bob[1]))).status_code == 404
    assert await services.jobs.get(job.job_id) is not None
    deleted = await client.delete(f"/api/v1/jobs/{job.job_id}", headers=bearer(token))
    assert deleted.status_code == 204
    assert await services.jobs.get(job.job_id) is None
    assert not await stored(services, job.input_bucket, job.input_key)
    for key in result_keys(job):
        assert not await stored(services, job.result_bucket, key)
    assert not await services.cold.is_archived(job.result_bucket, job.result_key)
    assert not any(path.exists() for path in cached)
    again = await client.delete(f"/api/v1/jobs/{job.job_id}", headers=bearer(token))
    assert again.status_code == 404


async def test_api_delete_of_a_running_job_cancels_it_first(
    client: QuartClient, services: Services, alice: tuple[User, str]
) -> None:
    """A running job is cancelled, then deleted (so no annotator stores its result after)."""
    _, token = alice
    job = await submit(client, token)
    assert await advance(services.jobs, job["job_id"], RUNNING)
    assert (await client.delete(f"/api/v1/jobs/{job['job_id']}", headers=bearer(token))).status_code == 204
    assert await services.jobs.get(job["job_id"]) is None


async def test_deleting_keeps_an_input_another_job_reads(client: QuartClient, services: Services) -> None:
    """A failed job and the job resubmitted from it skipping bad lines share one input:
    deleting either keeps it while the other exists; deleting the last removes it."""
    failed = await _failed_job(client, services)
    token = csrf_from(await (await client.get(f"/annotations/{failed.job_id}")).get_data(as_text=True))
    await client.post(f"/annotations/{failed.job_id}/resubmit", form={"csrf_token": token})
    again = await services.jobs.get(resubmitted_id(failed))
    assert again is not None and again.input_key == failed.input_key
    assert (await client.post(f"/annotations/{failed.job_id}/delete", form={"csrf_token": token})
            ).status_code == 303
    assert await stored(services, failed.input_bucket, failed.input_key)
    assert (await client.post(f"/annotations/{again.job_id}/delete", form={"csrf_token": token})
            ).status_code == 303
    assert not await stored(services, failed.input_bucket, failed.input_key)


async def _pending_job(client: QuartClient, services: Services) -> Job:
    """A new account signed in on ``client``, with one pending job of its own."""
    user = await signed_up_user(client, services)
    job_id = str(uuid.uuid4())
    job = Job(job_id=job_id, user_id=user.user_id, input_file_name="mine.vcf",
              input_bucket=services.settings.inputs_bucket,
              input_key=input_key(user.user_id, job_id, "mine.vcf"),
              input_size=1, submitted_at=utcnow())
    assert await services.jobs.create(job)
    return job


async def test_the_job_page_and_list_cancel_a_pending_job(client: QuartClient, services: Services) -> None:
    """The job page and the job list's row offer "Cancel" while the job is pending; the POST
    needs the session's CSRF token (403 without, nothing changes) and lands back on the
    job's page, which then says cancelled and offers to delete it instead."""
    job = await _pending_job(client, services)
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    assert "Cancel this job" in page and "Delete this job" not in page
    rows = await (await client.get("/annotations")).get_data(as_text=True)
    assert f'action="/annotations/{job.job_id}/cancel"' in rows
    token = csrf_from(rows)
    forged = await client.post(f"/annotations/{job.job_id}/cancel", form={})
    assert forged.status_code == 403
    assert (await services.jobs.get(job.job_id)).status == "pending"  # type: ignore[union-attr]
    cancelled = await client.post(f"/annotations/{job.job_id}/cancel", form={"csrf_token": token})
    assert cancelled.status_code == 303 and cancelled.headers["Location"] == f"/annotations/{job.job_id}"
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    assert "Not detected: the job ended first" in page
    assert "badge-cancelled" in page and "Cancel this job" not in page and "Delete this job" in page
    assert 'name="shown"' not in page and "data-poll" not in page  # ended: nothing to wait for
    rows = await (await client.get("/annotations")).get_data(as_text=True)
    assert f"/annotations/{job.job_id}/cancel" not in rows


async def test_deleting_from_the_page_asks_first(client: QuartClient, services: Services) -> None:
    """"Delete this job…" opens a confirmation page (a link, no script); its form's POST
    (CSRF-checked) deletes the job and lands on the job list, where it is gone. Another
    account gets 404 from both and the job stays."""
    job = await _pending_job(client, services)
    token = csrf_from(await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True))
    await client.post(f"/annotations/{job.job_id}/cancel", form={"csrf_token": token})

    stranger = QuartClient(client.app)
    await signed_up_user(stranger, services)
    their_token = csrf_from(await (await stranger.get("/annotations")).get_data(as_text=True))
    assert (await stranger.get(f"/annotations/{job.job_id}/delete")).status_code == 404
    assert (await stranger.post(f"/annotations/{job.job_id}/delete", form={"csrf_token": their_token})
            ).status_code == 404
    assert await services.jobs.get(job.job_id) is not None

    confirm = await (await client.get(f"/annotations/{job.job_id}/delete")).get_data(as_text=True)
    assert "cannot be undone" in confirm and "Delete the job and its files" in confirm
    assert (await client.post(f"/annotations/{job.job_id}/delete", form={})).status_code == 403
    deleted = await client.post(f"/annotations/{job.job_id}/delete", form={"csrf_token": csrf_from(confirm)})
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/annotations"
    assert await services.jobs.get(job.job_id) is None
    assert job.job_id not in await (await client.get("/annotations")).get_data(as_text=True)
    assert (await client.get(f"/annotations/{job.job_id}")).status_code == 404


async def test_the_owners_open_pages_hear_of_a_cancel_and_a_deletion(
    client: QuartClient, services: Services
) -> None:
    """Cancelling and deleting each tell the owner's open pages (the live-events port): the
    job page and the list show "cancelled", and drop a deleted job, without a reload."""
    job = await _pending_job(client, services)

    async def cancel_then_delete() -> None:
        await cancel_job(services, job)
        await delete_job(services, job)

    events = await events_heard(services, job.user_id, 2, cancel_then_delete)
    assert [(e["type"], e["job_id"], e["status"]) for e in events] == [
        ("job", job.job_id, "cancelled"), ("job", job.job_id, "deleting")]

"""Resubmitting a failed job skipping bad lines: a new job from the same stored input,
for its owner only, as a CSRF-checked POST, made once however often it is sent."""

from __future__ import annotations

import uuid

from quart.testing import QuartClient

from app.jobs.job import COMPLETED, FAILED, PENDING, Job, input_key, utcnow
from app.jobs.submissions import resubmitted_id
from app.services import Services
from tests.run_annotator import annotate
from tests.web.conftest import csrf_from
from tests.web.test_pages import signed_up_user, signup

# Line 6 has a position that is not a number: fatal unless bad lines are skipped.
BROKEN_VCF = (
    "##fileformat=VCFv4.2\n##reference=GRCh37\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "17\t7577120\t.\tC\tT\t50\tPASS\t.\n"
    "17\t41245466\t.\tG\tA\t50\tPASS\t.\n"
    "17\tnot-a-position\t.\tA\tG\t50\tPASS\t.\n"
)


async def _failed_job(client: QuartClient, services: Services, build: str | None = None) -> Job:
    """A new account signed in on ``client``, with a job that failed on a bad line."""
    user = await signed_up_user(client, services)
    job_id = str(uuid.uuid4())
    key = input_key(user.user_id, job_id, "broken.vcf")
    await services.objects.put_bytes(services.settings.inputs_bucket, key, BROKEN_VCF.encode(), "text/plain")
    assert await services.jobs.create(Job(
        job_id=job_id, user_id=user.user_id, input_file_name="broken.vcf",
        input_bucket=services.settings.inputs_bucket, input_key=key, input_size=len(BROKEN_VCF),
        submitted_at=utcnow(), build=build))
    job = await annotate(services, job_id)
    assert job.status == FAILED and job.error and "line 6" in job.error, job.error
    return job


async def _csrf(client: QuartClient, job: Job) -> str:
    return csrf_from(await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True))


async def test_owner_resubmits_a_failed_job_and_it_completes_skipping_the_line(
    client: QuartClient, services: Services
) -> None:
    """The failed job's page offers the button; its POST makes one new job from the
    same stored input (same key, same build, skip on) and lands on its page; sent
    again it finds that job instead of making another; annotated, it completes with
    the one bad line skipped and says so."""
    failed = await _failed_job(client, services, build="GRCh37")
    page = await (await client.get(f"/annotations/{failed.job_id}")).get_data(as_text=True)
    assert "Resubmit skipping bad lines" in page
    token = await _csrf(client, failed)
    made = await client.post(f"/annotations/{failed.job_id}/resubmit", form={"csrf_token": token})
    assert made.status_code == 303
    new_id = made.headers["Location"].rsplit("/", 1)[1]
    assert new_id != failed.job_id
    again = await services.jobs.get(new_id)
    assert again is not None and again.status == PENDING
    assert (again.input_key, again.build, again.skip_bad_lines) == (failed.input_key, "GRCh37", True)

    twice = await client.post(f"/annotations/{failed.job_id}/resubmit", form={"csrf_token": token})
    assert twice.headers["Location"] == made.headers["Location"]
    assert await services.jobs.count_for_user(failed.user_id) == 2

    done = await annotate(services, new_id)
    assert done.status == COMPLETED and done.lines_skipped == 1 and done.build_used == "GRCh37"
    shown = await (await client.get(made.headers["Location"])).get_data(as_text=True)
    assert "Skipped: 1 line left out" in shown and "GRCh37 (chosen)" in shown
    assert "Resubmit skipping bad lines" not in shown


async def test_another_user_gets_404_and_nothing_is_made(client: QuartClient, services: Services) -> None:
    """Bob, signed in with his own CSRF token, posting to Alice's failed job: 404,
    and no job is made from her file."""
    failed = await _failed_job(client, services)
    bob = QuartClient(client.app)
    await signup(bob)
    token = csrf_from(await (await bob.get("/annotate")).get_data(as_text=True))
    refused = await bob.post(f"/annotations/{failed.job_id}/resubmit", form={"csrf_token": token})
    assert refused.status_code == 404
    assert await services.jobs.get(resubmitted_id(failed)) is None


async def test_without_the_sessions_csrf_token_nothing_is_made(
    client: QuartClient, services: Services
) -> None:
    """The owner's own session, without a token or with a wrong one: 403, no new job."""
    failed = await _failed_job(client, services)
    for form in ({}, {"csrf_token": "forged"}):
        refused = await client.post(f"/annotations/{failed.job_id}/resubmit", form=form)
        assert refused.status_code == 403
        assert "did not come from GAS" in await refused.get_data(as_text=True)
    assert await services.jobs.get(resubmitted_id(failed)) is None


async def test_only_a_failed_job_that_did_not_skip_is_resubmitted(
    client: QuartClient, services: Services
) -> None:
    """A job that has not failed (here: pending) is refused with 409 and no button."""
    user = await signed_up_user(client, services)
    job = Job(job_id=str(uuid.uuid4()), user_id=user.user_id, input_file_name="in.vcf",
              input_bucket="b", input_key="k", input_size=1, submitted_at=utcnow())
    assert await services.jobs.create(job)
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    assert "Resubmit skipping" not in page
    refused = await client.post(f"/annotations/{job.job_id}/resubmit", form={"csrf_token": csrf_from(page)})
    assert refused.status_code == 409
    assert await services.jobs.get(resubmitted_id(job)) is None

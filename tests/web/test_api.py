"""The JSON API contract: every endpoint and every error the issue names."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from quart.testing import QuartClient

from app.accounts.users import User
from app.jobs.job import input_key
from app.jobs.lifecycle import LANES
from app.services import Services
from tests.web.conftest import SMALL_VCF, bearer, make_user, upload


async def submit(client: QuartClient, token: str, content: bytes = SMALL_VCF, **options: object) -> dict:
    response = await client.post("/api/v1/uploads", headers=bearer(token))
    assert response.status_code == 201
    policy = await response.get_json()
    assert await upload(client, policy, content) == 201
    made = await client.post(
        "/api/v1/jobs", headers=bearer(token), json={"key": policy["key"], "file_name": "x.vcf", **options}
    )
    assert made.status_code == 201, await made.get_data()
    return await made.get_json()


async def error_code(response) -> str:  # type: ignore[no-untyped-def]
    body = await response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return str(body["error"]["code"])


async def test_no_token_or_bad_token_is_401(client: QuartClient) -> None:
    """Every API endpoint needs a valid bearer token."""
    for path in ("/api/v1/me", "/api/v1/jobs"):
        response = await client.get(path)
        assert response.status_code == 401 and await error_code(response) == "unauthorized"
        response = await client.get(path, headers=bearer("gas_not-a-token"))
        assert response.status_code == 401 and await error_code(response) == "invalid_token"


async def test_me(client: QuartClient, alice: tuple[User, str]) -> None:
    """/me describes the token's owner."""
    user, token = alice
    body = await (await client.get("/api/v1/me", headers=bearer(token))).get_json()
    assert body == {"user_id": user.user_id, "email": user.email, "email_verified": False, "name": "Test",
                    "institution": "", "role": "free"}


async def test_upload_policy_is_for_the_callers_prefix_and_plan(
    client: QuartClient, services: Services, alice: tuple[User, str]
) -> None:
    """The presigned POST names a key under the caller's prefix, the plan's size
    limit, and an expiry; premium users get the larger limit."""
    user, token = alice
    response = await client.post("/api/v1/uploads", headers=bearer(token))
    assert response.status_code == 201
    body = await response.get_json()
    assert set(body) == {"url", "fields", "key", "max_bytes", "expires_at"}
    assert body["key"].startswith(f"inputs/{user.user_id}/")
    assert body["max_bytes"] == 153600
    assert body["fields"]["success_action_status"] == "201"
    policy = json.loads(base64.b64decode(body["fields"]["policy"]))
    assert ["content-length-range", 1, 153600] in policy["conditions"]
    _, premium_token = await make_user(services, "premium")
    premium = await (await client.post("/api/v1/uploads", headers=bearer(premium_token))).get_json()
    assert premium["max_bytes"] == services.settings.max_input_bytes


async def test_create_job_and_read_it(client: QuartClient, alice: tuple[User, str]) -> None:
    """An uploaded file becomes a pending job with the documented shape."""
    _, token = alice
    job = await submit(client, token)
    assert job["status"] in ("pending", "running", "completed")
    assert set(job) == {"job_id", "status", "progress", "phase", "input_file_name", "input_size",
                        "submitted_at", "started_at", "completed_at", "storage", "storage_error",
                        "variant_count", "build", "skip_bad_lines", "error", "links"}
    assert job["build"] is None and job["skip_bad_lines"] is False and job["storage_error"] is None
    assert job["input_file_name"] == "x.vcf" and job["input_size"] == len(SMALL_VCF)
    assert job["submitted_at"].endswith(("Z", "+00:00"))
    assert set(job["links"]) == {"self", "result", "log", "page"}
    fetched = await client.get(f"/api/v1/jobs/{job['job_id']}", headers=bearer(token))
    assert fetched.status_code == 200 and (await fetched.get_json())["job_id"] == job["job_id"]


async def test_job_options_are_kept(client: QuartClient, alice: tuple[User, str]) -> None:
    """The chosen build and the skip-bad-lines choice are stored on the job and shown."""
    _, token = alice
    job = await submit(client, token, build="GRCh38", skip_bad_lines=True)
    assert job["build"] == "GRCh38" and job["skip_bad_lines"] is True


async def test_same_upload_twice_is_one_job(client: QuartClient, alice: tuple[User, str]) -> None:
    """A retried POST /jobs with the same key returns the same job, not a second one."""
    _, token = alice
    policy = await (await client.post("/api/v1/uploads", headers=bearer(token))).get_json()
    assert await upload(client, policy, SMALL_VCF) == 201
    body = {"key": policy["key"], "file_name": "x.vcf"}
    first = await (await client.post("/api/v1/jobs", headers=bearer(token), json=body)).get_json()
    second = await (await client.post("/api/v1/jobs", headers=bearer(token), json=body)).get_json()
    assert first["job_id"] == second["job_id"]


async def test_job_list_newest_first(client: QuartClient, services: Services) -> None:
    """GET /jobs lists only the caller's jobs, newest first."""
    _, token = await make_user(services)
    ids = [(await submit(client, token))["job_id"] for _ in range(3)]
    listed = await (await client.get("/api/v1/jobs", headers=bearer(token))).get_json()
    assert [j["job_id"] for j in listed["jobs"]] == ids[::-1]


async def test_missing_upload_is_404(client: QuartClient, alice: tuple[User, str]) -> None:
    """Creating a job for a key nothing was uploaded to says so."""
    _, token = alice
    policy = await (await client.post("/api/v1/uploads", headers=bearer(token))).get_json()
    response = await client.post("/api/v1/jobs", headers=bearer(token), json={"key": policy["key"]})
    assert response.status_code == 404 and await error_code(response) == "upload_not_found"


async def test_someone_elses_key_is_403(
    client: QuartClient, alice: tuple[User, str], bob: tuple[User, str]
) -> None:
    """A key outside the caller's prefix is refused, even when the object exists."""
    _, alice_token = alice
    _, bob_token = bob
    policy = await (await client.post("/api/v1/uploads", headers=bearer(alice_token))).get_json()
    assert await upload(client, policy, SMALL_VCF) == 201
    for key in (policy["key"], "inputs/../" + policy["key"], "../etc/passwd"):
        response = await client.post("/api/v1/jobs", headers=bearer(bob_token), json={"key": key})
        assert response.status_code == 403 and await error_code(response) == "forbidden_key"


async def test_key_no_store_can_hold_is_403(client: QuartClient, alice: tuple[User, str]) -> None:
    """A key in the caller's prefix that no upload can have made (a NUL in it, or longer
    than S3's 1024 bytes) is refused as not theirs, not passed to the store to fail on."""
    user, token = alice
    job_id = str(uuid.uuid4())
    for name in ("a\x00b.vcf", "\u00e9" * 600):
        response = await client.post("/api/v1/jobs", headers=bearer(token),
                                     json={"key": input_key(user.user_id, job_id, name)})
        assert response.status_code == 403 and await error_code(response) == "forbidden_key"


async def test_deeply_nested_json_is_400(client: QuartClient, alice: tuple[User, str]) -> None:
    """A JSON body of 100,000 nested arrays (too deep for the parser) is a 400 in the
    API's error shape on every JSON route, never a 500 from a RecursionError."""
    _, token = alice
    for body in (b"[" * 100_000, b'{"key": ' + b"[" * 100_000):
        for path in ("/api/v1/jobs", "/api/v1/subscription"):
            response = await client.post(path, data=body, headers={
                **bearer(token), "Content-Type": "application/json"})
            assert response.status_code == 400 and await error_code(response) == "bad_request"
            assert "nested" in (await response.get_json())["error"]["message"]


async def test_another_users_job_is_404(
    client: QuartClient, alice: tuple[User, str], bob: tuple[User, str]
) -> None:
    """Another user's job is 'not found' on every job endpoint: never 403."""
    job = await submit(client, alice[1])
    for suffix in ("", "/result", "/log"):
        response = await client.get(f"/api/v1/jobs/{job['job_id']}{suffix}", headers=bearer(bob[1]))
        assert response.status_code == 404, suffix
        assert await error_code(response) == "not_found"
    response = await client.get("/api/v1/jobs/not-a-uuid", headers=bearer(bob[1]))
    assert response.status_code == 404


async def test_oversize_for_free_user_is_413(
    client: QuartClient, services: Services, alice: tuple[User, str]
) -> None:
    """A free user's file over 150 KB is refused at job creation even if the store
    let it through (moto does not enforce policies), and the object is removed."""
    user, token = alice
    key = f"inputs/{user.user_id}/00000000-0000-4000-8000-000000000001"
    await services.objects.put_bytes(services.settings.inputs_bucket, key, b"#" * 153601, "text/plain")
    response = await client.post("/api/v1/jobs", headers=bearer(token), json={"key": key})
    assert response.status_code == 413 and await error_code(response) == "input_too_large"
    again = await client.post("/api/v1/jobs", headers=bearer(token), json={"key": key})
    assert again.status_code == 404


async def test_inputs_are_requested_on_the_lane_their_size_calls_for(
    client: QuartClient, services: Services
) -> None:
    """An input of up to GAS_SMALL_JOB_BYTES (150 KB by default) is requested on
    job-requests-small, a larger one on job-requests; a retried submission of a
    pending job asks its lane again."""
    _, token = await make_user(services, "premium")
    big = SMALL_VCF.replace(b"#CHROM", b"##" + b"x" * services.settings.small_job_limit + b"\n#CHROM")
    lanes = LANES  # small, then large

    async def waiting() -> list[int]:
        return [await services.bus.count(lane) for lane in lanes]

    before = await waiting()
    await submit(client, token)
    assert await waiting() == [before[0] + 1, before[1]]
    policy = await (await client.post("/api/v1/uploads", headers=bearer(token))).get_json()
    assert await upload(client, policy, big) == 201
    body = {"key": policy["key"], "file_name": "big.vcf"}
    for _ in range(2):
        made = await client.post("/api/v1/jobs", headers=bearer(token), json=body)
        assert made.status_code == 201
    assert await waiting() == [before[0] + 1, before[1] + 2]


async def test_more_unfinished_jobs_than_the_plan_allows_is_429(
    client: QuartClient, services: Services
) -> None:
    """A free user with 5 jobs waiting or running (GAS_FREE_MAX_QUEUED_JOBS) gets 429
    too_many_jobs for a sixth, saying why; the upload stays, and once a job has
    finished the same key becomes a job. Premium's cap is higher."""
    _, token = await make_user(services)
    jobs = [await submit(client, token) for _ in range(5)]
    assert await services.jobs.transition(jobs[0]["job_id"], ["pending"], "running")
    policy = await (await client.post("/api/v1/uploads", headers=bearer(token))).get_json()
    assert await upload(client, policy, SMALL_VCF) == 201
    body = {"key": policy["key"], "file_name": "sixth.vcf"}
    refused = await client.post("/api/v1/jobs", headers=bearer(token), json=body)
    assert refused.status_code == 429 and await error_code(refused) == "too_many_jobs"
    message = (await refused.get_json())["error"]["message"]
    assert "5 jobs waiting or running" in message and "allows 5" in message
    assert await services.jobs.transition(jobs[0]["job_id"], ["running"], "completed")
    assert (await client.post("/api/v1/jobs", headers=bearer(token), json=body)).status_code == 201
    _, premium = await make_user(services, "premium")
    for _ in range(6):
        await submit(client, premium)


async def test_more_upload_policies_an_hour_than_the_plan_allows_is_429(
    client: QuartClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each policy may store an object until it expires, so a user is given only their
    plan's number an hour (GAS_FREE_MAX_UPLOADS_PER_HOUR): one more is 429
    too_many_uploads saying how long to wait; a premium user has more; a new hour
    gives policies again."""
    monkeypatch.setattr(services.settings, "free_max_uploads_per_hour", 3)
    user, token = await make_user(services)
    for _ in range(3):
        assert (await client.post("/api/v1/uploads", headers=bearer(token))).status_code == 201
    refused = await client.post("/api/v1/uploads", headers=bearer(token))
    assert refused.status_code == 429 and await error_code(refused) == "too_many_uploads"
    message = (await refused.get_json())["error"]["message"]
    assert "3 uploads in the last hour" in message and "Wait 60 minutes" in message
    _, premium = await make_user(services, "premium")
    for _ in range(4):
        assert (await client.post("/api/v1/uploads", headers=bearer(premium))).status_code == 201
    await services.db.execute(
        "UPDATE upload_grants SET window_start = now() - interval '61 minutes' WHERE user_id = :u",
        {"u": user.user_id},
    )
    assert (await client.post("/api/v1/uploads", headers=bearer(token))).status_code == 201


async def test_policy_refuses_oversize_upload(client: QuartClient, alice: tuple[User, str]) -> None:
    """The store itself refuses a file larger than the policy's content-length-range."""
    policy = await (await client.post("/api/v1/uploads", headers=bearer(alice[1]))).get_json()
    assert await upload(client, policy, b"x" * 153601) in (400, 403)


async def test_tampered_and_expired_policies_are_refused(
    client: QuartClient, services: Services, alice: tuple[User, str]
) -> None:
    """Changing the key or the policy breaks the signature; an old policy has expired."""
    user, token = alice
    policy = await (await client.post("/api/v1/uploads", headers=bearer(token))).get_json()
    moved = {**policy, "fields": {**policy["fields"], "key": f"inputs/{user.user_id}/other"}}
    assert await upload(client, moved, SMALL_VCF) == 403
    conditions = json.loads(base64.b64decode(policy["fields"]["policy"]))
    conditions["conditions"] = [c for c in conditions["conditions"]
                                if not (isinstance(c, list) and c[0] == "content-length-range")]
    forged = base64.b64encode(json.dumps(conditions).encode()).decode()
    assert await upload(client, {**policy, "fields": {**policy["fields"], "policy": forged}},
                        SMALL_VCF) == 403
    expired = await services.objects.presign_post(
        services.settings.inputs_bucket, f"inputs/{user.user_id}/x", max_bytes=1000,
        expires_in=-1, success_action_status=201,
    )
    assert await upload(client, {"url": expired.url, "fields": expired.fields}, SMALL_VCF) == 403


async def test_result_not_ready_is_409(client: QuartClient, alice: tuple[User, str]) -> None:
    """Asking for the result of an unfinished job is a 409 that says why."""
    job = await submit(client, alice[1])
    response = await client.get(f"/api/v1/jobs/{job['job_id']}/result", headers=bearer(alice[1]))
    if response.status_code != 303:  # a worker may have been fast
        assert response.status_code == 409 and await error_code(response) == "job_not_completed"


async def test_tampered_and_expired_download_links_are_refused(
    client: QuartClient, services: Services
) -> None:
    """A presigned GET stops working when changed or once expired."""
    bucket = services.settings.results_bucket
    await services.objects.put_bytes(bucket, "results/x/y~a.vcf", b"data", "text/plain")
    url = await services.objects.presign_get(bucket, "results/x/y~a.vcf", expires_in=60)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    assert (await client.get(path)).status_code == 200
    assert (await client.get(path.replace("y~a", "y~b"))).status_code in (403, 404)
    assert (await client.get(path[:-2] + ("00" if not path.endswith("00") else "11"))).status_code == 403
    old = await services.objects.presign_get(bucket, "results/x/y~a.vcf", expires_in=-1)
    assert (await client.get("/" + old.split("://", 1)[1].split("/", 1)[1])).status_code == 403


async def test_invalid_body_is_422(client: QuartClient, alice: tuple[User, str]) -> None:
    """A malformed job request gets a 422 in the API's error shape."""
    response = await client.post("/api/v1/jobs", headers=bearer(alice[1]), json={"nope": 1})
    assert response.status_code == 422 and await error_code(response) == "invalid_request"


async def test_health_and_openapi(client: QuartClient) -> None:
    """/health answers ok while the database does; the OpenAPI document is served."""
    response = await client.get("/health")
    assert response.status_code == 200 and await response.get_json() == {"status": "ok"}
    spec = await (await client.get("/openapi.json")).get_json()
    assert "/api/v1/jobs" in spec["paths"] and "/api/v1/uploads" in spec["paths"]


async def test_a_refusal_from_below_the_web_is_the_api_error_body_as_it_is(
    client: QuartClient, alice: tuple[User, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submitting refuses with app.errors.Refused, the error the API answers: its status,
    code and message reach the client with no translation between them."""
    from app.errors import Refused
    from app.web import api

    async def refuse(*args: object, **kwargs: object) -> None:
        raise Refused(429, "too_many_uploads", "Wait {n} minutes.")

    monkeypatch.setattr(api, "new_upload", refuse)
    response = await client.post("/api/v1/uploads", headers=bearer(alice[1]))
    assert response.status_code == 429
    body = {"error": {"code": "too_many_uploads", "message": "Wait {n} minutes."}}
    assert await response.get_json() == body

"""Uploads under attack: replayed and altered policies, expired ones, and bodies that
claim to be huge, refused with errors a person can read."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator

import pytest
from quart import Quart

from app.services import Services
from app.web import create_app
from tests.web.conftest import SMALL_VCF, bearer, hypercorn_serving, post_form
from tests.web.sessions import Person, person

TEN_GB = 10 * 1024**3


async def post_to_store(client, fields: dict[str, str], content: bytes, name: str = "in.vcf"):  # type: ignore[no-untyped-def]
    return await post_form(client, "/objects/gas-inputs", fields, content, name)


def s3_error(body: str) -> tuple[str, str]:
    code, message = re.search(r"<Code>(.*)</Code><Message>(.*)</Message>", body).groups()  # type: ignore[union-attr]
    return code, message


async def policy(who: Person) -> dict:
    response = await who.client.post("/api/v1/uploads", headers=bearer(who.token))
    assert response.status_code == 201
    return await response.get_json()


@pytest.fixture(scope="module")
async def people(app: Quart, services: Services) -> tuple[Person, Person]:
    """A free user and a premium one."""
    return await person(app, services, "free"), await person(app, services, "premium")


async def test_free_user_replaying_a_premium_policy_gets_no_job(
    services: Services, people: tuple[Person, Person]
) -> None:
    """A premium policy in a free user's hands: the file can only land under the
    premium user's prefix (the policy names it), and it never becomes the free
    user's job: 403 by the API and by the upload page's redirect."""
    free, premium = people
    theirs = await policy(premium)
    big = SMALL_VCF + b"#" * 200_000 + b"\n"  # over the free plan's 150 KB
    stored = await post_to_store(free.client, theirs["fields"], big)
    assert stored.status_code == 201
    assert theirs["key"].startswith(f"inputs/{premium.user.user_id}/")
    job = await free.client.post("/api/v1/jobs", headers=bearer(free.token),
                                 json={"key": theirs["key"], "file_name": "big.vcf"})
    body = await job.get_json()
    assert job.status_code == 403 and body["error"]["code"] == "forbidden_key"
    assert "does not belong to you" in body["error"]["message"]
    page = await free.client.get(f"/annotate/job?key={theirs['key']}")
    assert page.status_code == 403 and "does not belong to you" in await page.get_data(as_text=True)
    # Moving it into their own prefix breaks the policy's key condition.
    own_key = f"inputs/{free.user.user_id}/{theirs['key'].rsplit('/', 1)[1]}"
    moved = await post_to_store(free.client, {**theirs["fields"], "key": own_key}, big)
    assert moved.status_code == 403
    code, message = s3_error(await moved.get_data(as_text=True))
    assert code == "AccessDenied" and "Policy Condition failed" in message and '"key"' in message
    assert await services.jobs.list_for_user(free.user.user_id) == []


async def test_free_policy_with_a_raised_limit_is_refused(people: tuple[Person, Person]) -> None:
    """Rewriting the free policy's content-length-range breaks its signature."""
    free, _ = people
    mine = await policy(free)
    document = json.loads(base64.b64decode(mine["fields"]["policy"]))
    document["conditions"] = [
        ["content-length-range", 0, 10**12] if isinstance(c, list) and c[0] == "content-length-range" else c
        for c in document["conditions"]
    ]
    forged = base64.b64encode(json.dumps(document).encode()).decode()
    response = await post_to_store(free.client, {**mine["fields"], "policy": forged}, SMALL_VCF)
    assert response.status_code == 403
    assert s3_error(await response.get_data(as_text=True))[0] == "SignatureDoesNotMatch"
    too_big = await post_to_store(free.client, mine["fields"], b"#" * 153_601)
    assert too_big.status_code == 400
    code, message = s3_error(await too_big.get_data(as_text=True))
    assert code == "EntityTooLarge" and "maximum allowed size" in message


async def test_a_policy_for_another_key_is_refused(people: tuple[Person, Person]) -> None:
    """A policy is for its own key: another key, even in the same user's prefix, is 403."""
    free, _ = people
    mine = await policy(free)
    other_key = mine["key"][:-36] + "00000000-0000-4000-8000-000000000000"
    response = await post_to_store(free.client, {**mine["fields"], "key": other_key}, SMALL_VCF)
    assert response.status_code == 403
    code, message = s3_error(await response.get_data(as_text=True))
    assert code == "AccessDenied" and "Policy Condition failed" in message


async def test_an_expired_policy_is_refused(services: Services, people: tuple[Person, Person]) -> None:
    """A policy past its expiration is refused, with the reason."""
    free, _ = people
    key = f"inputs/{free.user.user_id}/00000000-0000-4000-8000-0000000000aa"
    old = await services.objects.presign_post(
        services.settings.inputs_bucket, key, max_bytes=153_600, expires_in=-1, success_action_status=201)
    response = await post_to_store(free.client, old.fields, SMALL_VCF)
    assert response.status_code == 403
    code, message = s3_error(await response.get_data(as_text=True))
    assert code == "AccessDenied" and "Policy expired" in message


async def test_a_presigned_download_cannot_be_stretched(
    services: Services, people: tuple[Person, Person]
) -> None:
    """A download link with its expiry pushed back, or for another key, is refused."""
    free, _ = people
    key = f"inputs/{free.user.user_id}/00000000-0000-4000-8000-0000000000bb~x.vcf"
    await services.objects.put_bytes(services.settings.inputs_bucket, key, SMALL_VCF, "text/plain")
    url = await services.objects.presign_get(services.settings.inputs_bucket, key, expires_in=60)
    path = url.removeprefix("http://localhost")
    assert (await free.client.get(path)).status_code == 200
    later = re.sub(r"expires=(\d+)", lambda m: f"expires={int(m[1]) + 86400}", path)
    assert (await free.client.get(later)).status_code == 403
    assert (await free.client.get(path.replace("~x.vcf", "~y.vcf"))).status_code == 403
    # Signed with our own secret, an expired link is refused for being expired.
    expired = int(time.time()) - 1
    sig = hmac.new(services.settings.secret, "\n".join(
        ("GET", services.settings.inputs_bucket, key, str(expired), "")).encode(), hashlib.sha256).hexdigest()
    response = await free.client.get(path.split("?")[0] + f"?expires={expired}&signature={sig}")
    assert response.status_code == 403 and "expired" in await response.get_data(as_text=True)


@pytest.fixture(scope="module")
async def live(services: Services) -> AsyncIterator[int]:
    """The web app under hypercorn on a free local port, in this event loop; its port."""
    async with hypercorn_serving(create_app(services.settings, services)) as port:
        yield port


async def raw_request(host: str, port: int, head: str, body: bytes = b"", within: float = 5) -> str:
    """Send a request's head (and the first bytes of its body, if any) and read the
    answer without sending the rest: it must come back while the body is unsent."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(within):
            status = await reader.readline()
            rest = await reader.read(4096)
        return (status + rest).decode(errors="replace")
    finally:
        writer.close()


async def test_a_10_gb_upload_is_refused_before_its_body_is_read(live: int) -> None:
    """A POST to the store that claims 10 GB gets its 400 EntityTooLarge while the
    body is still unsent: the store never reads (or stages) a byte of it."""
    head = (f"POST /objects/gas-inputs HTTP/1.1\nHost: 127.0.0.1\nContent-Length: {TEN_GB}\n"
            "Content-Type: multipart/form-data; boundary=x\n")
    answer = await raw_request("127.0.0.1", live, head, b"--x\r\n")
    assert answer.startswith("HTTP/1.1 400"), answer
    assert "<Code>EntityTooLarge</Code>" in answer and "largest size accepted" in answer


@pytest.mark.parametrize(("path", "kind"), [
    ("/login", "application/x-www-form-urlencoded"), ("/api/v1/jobs", "application/json"),
    ("/signup", "multipart/form-data; boundary=x"),
])
async def test_other_routes_refuse_bodies_over_a_megabyte_unread(live: int, path: str, kind: str) -> None:
    """Forms and JSON are small: a body claiming 100 MiB (well under the store's limit)
    anywhere but the store is 413 before it is read, so nobody can make a web process
    buffer an input-sized body; the API says so in its error shape."""
    head = (f"POST {path} HTTP/1.1\nHost: 127.0.0.1\nContent-Length: {100 * 1024**2}\n"
            f"Content-Type: {kind}\nAuthorization: Bearer x\n")
    answer = await raw_request("127.0.0.1", live, head, b"{")
    assert answer.startswith("HTTP/1.1 413"), answer
    if path.startswith("/api/"):
        assert '"code":"request_entity_too_large"' in answer.replace(" ", ""), answer

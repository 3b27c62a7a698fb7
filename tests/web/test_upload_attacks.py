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

from app.ports.objects import ObjectNotFound
from app.ports.objects.local import LocalObjectStore
from app.services import Services
from app.web import create_app
from tests.ports.conftest import multipart
from tests.web.conftest import SMALL_VCF, bearer, hypercorn_serving, post_form, upload
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


EIGHT_HUNDRED_MB = 800 * 1024**2


def form_head(fields: dict[str, str]) -> tuple[bytes, str]:
    """An upload form's fields and its file's part header: all the store needs to
    judge it, and all a client sends before the file itself."""
    body, content_type = multipart(fields, "big.vcf", b"")
    return body[: body.index(b"\r\n\r\n", body.index(b'name="file"')) + 4], content_type


async def test_a_bogus_policy_is_refused_before_the_file_is_read(live: int) -> None:
    """A form claiming 800 MB with a made-up policy is refused (403, S3's XML) from the
    fields before its file, while the file is still unsent: the store reads its first
    KB, not its 800 MB."""
    fields = {"key": "inputs/x/y~z.vcf", "policy": "bogus", "x-amz-algorithm": "GAS-HMAC-SHA256",
              "x-amz-signature": "0" * 64}
    head, content_type = form_head(fields)
    answer = await raw_request("127.0.0.1", live, (
        f"POST /objects/gas-inputs HTTP/1.1\nHost: 127.0.0.1\nContent-Length: {EIGHT_HUNDRED_MB}\n"
        f"Content-Type: {content_type}\n"), head)
    assert answer.startswith("HTTP/1.1 403"), answer
    assert "<Code>SignatureDoesNotMatch</Code>" in answer


async def test_a_body_larger_than_its_policy_is_refused_unread(
    live: int, people: tuple[Person, Person]
) -> None:
    """A valid free policy (150 KB) with a Content-Length of 800 MB: 400 EntityTooLarge
    as soon as the fields are read, before a byte of the file."""
    free, _ = people
    head, content_type = form_head((await policy(free))["fields"])
    answer = await raw_request("127.0.0.1", live, (
        f"POST /objects/gas-inputs HTTP/1.1\nHost: 127.0.0.1\nContent-Length: {EIGHT_HUNDRED_MB}\n"
        f"Content-Type: {content_type}\n"), head)
    assert answer.startswith("HTTP/1.1 400"), answer
    assert "<Code>EntityTooLarge</Code>" in answer and "maximum allowed size" in answer


async def test_a_chunked_upload_is_cut_off_once_over_its_policy(
    live: int, people: tuple[Person, Person], services: Services
) -> None:
    """Without a Content-Length (chunked), the file is read only until it is over the
    policy's size: 400 EntityTooLarge while the body goes on, nothing stored or staged."""
    free, _ = people
    granted = await policy(free)
    head, content_type = form_head(granted["fields"])
    piece = b"#" * 16384
    chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in [head] + [piece] * 20)
    answer = await raw_request("127.0.0.1", live, (
        "POST /objects/gas-inputs HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked\n"
        f"Content-Type: {content_type}\n"), chunks)
    assert answer.startswith("HTTP/1.1 400"), answer
    assert "<Code>EntityTooLarge</Code>" in answer
    store = services.objects
    assert isinstance(store, LocalObjectStore)
    with pytest.raises(ObjectNotFound):
        await store.head(services.settings.inputs_bucket, granted["key"])
    assert not list(store.staging_dir.iterdir())


async def test_an_uploaded_script_downloads_as_bytes_to_save(
    services: Services, people: tuple[Person, Person]
) -> None:
    """An input called evil.js, fetched through its job's download link, comes as an
    attachment of bytes (not text/javascript), with nosniff and a sandboxing CSP."""
    free, _ = people
    granted = await policy(free)
    assert await upload(free.client, granted, b"alert(document.cookie)", "evil.js") == 201
    job = await free.client.post("/api/v1/jobs", headers=bearer(free.token),
                                 json={"key": granted["key"], "file_name": "evil.js"})
    assert job.status_code == 201, await job.get_data(as_text=True)
    link = await free.client.get(f"/annotations/{(await job.get_json())['job_id']}/input")
    download = await free.client.get(link.headers["Location"].removeprefix("http://localhost"))
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="evil.js"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


async def test_creating_a_job_claims_its_upload(
    services: Services, people: tuple[Person, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload a job is made from is claimed (on S3 its "unclaimed" tag goes, so the
    lifecycle rule keeps it); an upload that became no job is not."""
    free, _ = people
    claimed: list[str] = []
    real_claim = services.objects.claim

    async def claim(bucket: str, key: str) -> None:
        claimed.append(key)
        await real_claim(bucket, key)

    monkeypatch.setattr(services.objects, "claim", claim)
    used, unused = await policy(free), await policy(free)
    for granted in (used, unused):
        assert await upload(free.client, granted, SMALL_VCF) == 201
    job = await free.client.post("/api/v1/jobs", headers=bearer(free.token),
                                 json={"key": used["key"], "file_name": "in.vcf"})
    assert job.status_code == 201
    assert claimed == [used["key"]]

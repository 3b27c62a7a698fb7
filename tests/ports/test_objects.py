"""Contract of the object store port: objects, presigned POST and presigned GET."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import shutil
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.jobs.job import safe_file_name
from app.ports.objects import KeyConflict, ObjectNotFound, PresignedPost
from app.ports.objects.local import LocalObjectStore

from .conftest import HttpResult, ObjectsHarness, multipart

PREFIX = "inputs/user-1/job-1~"
VCF = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n1\t100\t.\tA\tG\n"


def xml_value(result: HttpResult, element: str) -> str:
    match = re.search(rf"<{element}>(.*?)</{element}>", result.body.decode())
    assert match, result.body
    return match[1]


def store_enforces_policy(objects: ObjectsHarness) -> None:
    """Skip where the store under test does not check presigned requests itself.

    S3 does; moto (standing in for it) checks no policy, signature or expiry. The
    app does not rely on the store: it re-checks each upload's key and size when the
    job is created (``app/jobs/submissions.py``, covered by the API tests).
    """
    if objects.adapter == "aws":
        pytest.skip("moto does not enforce presigned policies, signatures or expiry")


def s3_response_checkable(objects: ObjectsHarness, what: str) -> None:
    """Skip on moto, whose answer to a form POST lacks what S3 sends (``what``)."""
    if objects.adapter == "aws":
        pytest.skip(f"moto's POST answer has no {what}")


async def presign(objects: ObjectsHarness, key: str = PREFIX + "${filename}", **kw: Any
                  ) -> PresignedPost:
    options: dict[str, Any] = {"max_bytes": 1000, "expires_in": 60, "success_action_status": 201}
    options.update(kw)
    return await objects.store.presign_post(objects.bucket, key, **options)


async def test_put_head_get_stream_delete(objects: ObjectsHarness, tmp_path: Path) -> None:
    """Objects round-trip whole through every read path, and delete is idempotent."""
    store, bucket = objects.store, objects.bucket
    data = bytes(range(256)) * 1000
    await store.put_bytes(bucket, "results/a/b.vcf", data, "text/plain")
    info = await store.head(bucket, "results/a/b.vcf")
    assert (info.size, info.tier) == (len(data), "hot")
    assert await store.get_bytes(bucket, "results/a/b.vcf") == data
    assert b"".join([c async for c in store.stream(bucket, "results/a/b.vcf", 4096)]) == data
    await store.get_file(bucket, "results/a/b.vcf", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == data
    source = tmp_path / "source"
    source.write_bytes(b"from a file")
    await store.put_file(bucket, "results/a/c.log", source, "text/plain")
    assert await store.get_bytes(bucket, "results/a/c.log") == b"from a file"
    await store.delete(bucket, "results/a/b.vcf")
    await store.delete(bucket, "results/a/b.vcf")
    with pytest.raises(ObjectNotFound):
        await store.head(bucket, "results/a/b.vcf")


async def test_missing_object(objects: ObjectsHarness, tmp_path: Path) -> None:
    """Every read of an absent key raises ObjectNotFound, never returns empty data."""
    store, bucket = objects.store, objects.bucket
    with pytest.raises(ObjectNotFound):
        await store.head(bucket, "nope")
    with pytest.raises(ObjectNotFound):
        await store.get_bytes(bucket, "nope")
    with pytest.raises(ObjectNotFound):
        await store.get_file(bucket, "nope", tmp_path / "x")
    with pytest.raises(ObjectNotFound):
        async for _ in store.stream(bucket, "nope"):
            pass


async def test_readers_never_see_a_partial_overwrite(objects: ObjectsHarness) -> None:
    """Atomic writes: while a key is rewritten, every read is one whole version."""
    store, bucket = objects.store, objects.bucket
    versions = [bytes([65 + i]) * 300_000 for i in range(2)]
    await store.put_bytes(bucket, "k", versions[0], "text/plain")
    seen: set[bytes] = set()

    async def write() -> None:
        for i in range(10):
            await store.put_bytes(bucket, "k", versions[i % 2], "text/plain")

    async def read() -> None:
        for _ in range(20):
            seen.add(await store.get_bytes(bucket, "k"))

    await asyncio.gather(write(), read(), read())
    assert seen <= set(versions)


async def test_failed_write_keeps_the_old_object(
    objects: ObjectsHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails half way leaves the previous object whole and no debris."""
    if objects.adapter != "local":
        pytest.skip("failure injection into the local file writer")
    store, bucket = objects.store, objects.bucket
    await store.put_bytes(bucket, "k", b"old", "text/plain")
    source = tmp_path / "new"
    source.write_bytes(b"new content")

    def broken_copy(src: Any, dst: Any, length: int = 0) -> None:
        dst.write(src.read(3))
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfileobj", broken_copy)
    with pytest.raises(OSError, match="disk full"):
        await store.put_file(bucket, "k", source, "text/plain")
    assert await store.get_bytes(bucket, "k") == b"old"
    assert isinstance(store, LocalObjectStore)
    assert [p.name for p in (store.root / bucket).iterdir()] == ["k"]


@pytest.mark.parametrize("key", ["/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a\x00b",
                                 "", "a/"])
async def test_keys_cannot_escape_the_bucket(objects: ObjectsHarness, key: str) -> None:
    """Keys that would name another path on disk are refused before any IO."""
    if objects.adapter != "local":
        pytest.skip("S3 keys are opaque strings")
    with pytest.raises(ValueError, match="invalid object key"):
        await objects.store.put_bytes(objects.bucket, key, b"x", "text/plain")
    with pytest.raises(ValueError, match="invalid object key"):
        await objects.store.presign_get(objects.bucket, key, expires_in=60)


# -- presigned POST ----------------------------------------------------------------

async def _post_201(objects: ObjectsHarness) -> HttpResult:
    post = await presign(objects, PREFIX + "in.vcf")
    return await objects.post(post.url, post.fields, "ignored.vcf", VCF)


async def test_post_with_status_201(objects: ObjectsHarness) -> None:
    """An upload within its policy is stored; the store answers 201."""
    result = await _post_201(objects)
    assert result.status == 201, result.body
    assert (await objects.store.head(objects.bucket, PREFIX + "in.vcf")).size == len(VCF)


async def test_post_with_status_201_answers_key_and_etag(objects: ObjectsHarness) -> None:
    """The 201 answer's PostResponse names the key stored and its ETag."""
    s3_response_checkable(objects, "PostResponse body")
    result = await _post_201(objects)
    assert xml_value(result, "Key") == PREFIX + "in.vcf"
    assert xml_value(result, "ETag").strip('"&quot;') == hashlib.md5(VCF).hexdigest()


async def test_post_with_status_204_by_default(objects: ObjectsHarness) -> None:
    """Without a status or redirect the answer is 204, as on S3."""
    post = await objects.store.presign_post(objects.bucket, PREFIX + "x", max_bytes=100,
                                            expires_in=60)
    result = await objects.post(post.url, post.fields, "x", b"hello")
    assert result.status == 204, result.body
    assert await objects.store.get_bytes(objects.bucket, PREFIX + "x") == b"hello"


async def _redirected(objects: ObjectsHarness) -> tuple[HttpResult, str, dict[str, str]]:
    """An upload with success_action_redirect: the answer, and where it redirects to."""
    redirect = "http://gas.test/annotate/done?step=2"
    post = await presign(objects, success_action_redirect=redirect, success_action_status=None)
    result = await objects.post(post.url, post.fields, "sample.vcf", VCF)
    location = urllib.parse.urlsplit(result.headers.get("location", ""))
    return result, location._replace(query="").geturl(), dict(urllib.parse.parse_qsl(location.query))


async def test_post_redirects_with_bucket(objects: ObjectsHarness) -> None:
    """With success_action_redirect the store answers 303 to it, keeping its query and
    adding the bucket."""
    result, url, query = await _redirected(objects)
    assert result.status == 303, result.body
    assert url == "http://gas.test/annotate/done"
    assert query["step"] == "2"
    assert query["bucket"] == objects.bucket


async def test_post_redirect_names_key_and_etag(objects: ObjectsHarness) -> None:
    """The redirect also names the key stored (``${filename}`` filled in) and its ETag."""
    s3_response_checkable(objects, "${filename} substitution nor ETag in the redirect")
    _, _, query = await _redirected(objects)
    assert query["key"] == PREFIX + "sample.vcf"
    assert query["etag"].strip('"') == hashlib.md5(VCF).hexdigest()


@pytest.mark.parametrize("name", [
    "../../etc/passwd", "a\x00b.vcf", 'quo"te\'s.vcf', "\u202egnp.vcf", "..", "dir\\..\\x.vcf",
])
async def test_filename_substitution_is_safe(objects: ObjectsHarness, name: str) -> None:
    """``${filename}`` becomes a safe name right after the signed prefix, whatever is sent."""
    if objects.adapter == "aws":
        pytest.skip("S3 puts the file name in as sent (keys are opaque) and moto not at all; "
                    "the app accepts only keys parse_input_key reads as the user's own")
    post = await presign(objects)
    result = await objects.post(post.url, post.fields, name, VCF)
    assert result.status == 201, result.body
    key = xml_value(result, "Key")
    assert key.startswith(PREFIX)
    stored_name = key.removeprefix(PREFIX)
    assert "/" not in stored_name and stored_name == safe_file_name(stored_name)
    if "\\" not in name:  # multipart parsers differ on backslash escapes
        assert stored_name == safe_file_name(name)
    assert await objects.store.get_bytes(objects.bucket, key) == VCF


@dataclass(frozen=True)
class Attack:
    """How to spoil a valid upload, and the S3 error it must get."""

    name: str
    spoil: Callable[[str, dict[str, str]], str]  # may edit the fields; returns the URL
    status: int
    code: str
    content: bytes = VCF


def _set(field: str, value: str) -> Callable[[str, dict[str, str]], str]:
    def spoil(url: str, fields: dict[str, str]) -> str:
        fields[field] = value
        return url
    return spoil


def _bigger_policy(url: str, fields: dict[str, str]) -> str:
    document = json.loads(base64.b64decode(fields["policy"]))
    document["conditions"][2] = ["content-length-range", 0, 10**9]
    fields["policy"] = base64.b64encode(json.dumps(document).encode()).decode()
    return url


def _flip_signature(url: str, fields: dict[str, str]) -> str:
    signature = fields["x-amz-signature"]
    fields["x-amz-signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]
    return url


ATTACKS = [
    Attack("tampered policy", _bigger_policy, 403, "SignatureDoesNotMatch"),
    Attack("tampered signature", _flip_signature, 403, "SignatureDoesNotMatch"),
    Attack("no signature", lambda u, f: f.pop("x-amz-signature") and u, 403, "AccessDenied"),
    Attack("other prefix", _set("key", "inputs/user-2/job-1~x.vcf"), 403, "AccessDenied"),
    Attack("dot-dot before prefix", _set("key", "../" + PREFIX + "x"), 403, "AccessDenied"),
    Attack("other redirect", _set("success_action_status", "200"), 403, "AccessDenied"),
    Attack("unsigned field", _set("acl", "public-read"), 403, "AccessDenied"),
    Attack("wrong bucket", lambda u, f: u.rsplit("/", 1)[0] + "/gas-other-bucket", 403,
           "AccessDenied"),
    Attack("too large", lambda u, f: u, 400, "EntityTooLarge", content=b"x" * 1001),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
async def test_post_outside_policy_is_refused(objects: ObjectsHarness, attack: Attack) -> None:
    """Tampering or stepping outside the policy gets S3's error, and nothing is stored."""
    store_enforces_policy(objects)
    post = await presign(objects)
    fields = dict(post.fields)
    url = attack.spoil(post.url, fields)
    result = await objects.post(url, fields, "x.vcf", attack.content)
    assert (result.status, xml_value(result, "Code")) == (attack.status, attack.code)
    with pytest.raises(ObjectNotFound):
        await objects.store.head(objects.bucket, PREFIX + "x.vcf")


async def test_expired_post_is_refused(objects: ObjectsHarness) -> None:
    """A policy past its expiration is refused, even with a valid signature."""
    store_enforces_policy(objects)
    post = await presign(objects, expires_in=-5)
    result = await objects.post(post.url, post.fields, "x.vcf", VCF)
    assert (result.status, xml_value(result, "Code")) == (403, "AccessDenied")
    assert "expired" in xml_value(result, "Message")


async def test_post_without_file_is_refused(objects: ObjectsHarness) -> None:
    """A form with no file part is a client error (400), not a crash."""
    if objects.adapter == "aws":
        pytest.skip("moto answers 500 to a form without a file (S3: 400 InvalidArgument)")
    post = await presign(objects)
    body, content_type = multipart(post.fields, "x", b"")
    body = body.replace(b'name="file"', b'name="notfile"')
    result = await objects.post_raw(post.url, body, content_type)
    assert result.status == 400


async def test_signed_prefix_cannot_climb_out(objects: ObjectsHarness, tmp_path: Path) -> None:
    """A key that starts with the prefix but climbs out with ``..`` is refused on disk."""
    if objects.adapter != "local":
        pytest.skip("S3 keys are opaque: there is no directory to climb out of")
    post = await presign(objects)
    fields = {**post.fields, "key": PREFIX + "../../../../escape"}
    result = await objects.post(post.url, fields, "x.vcf", VCF)
    assert (result.status, xml_value(result, "Code")) == (400, "InvalidArgument")
    found = await asyncio.to_thread(lambda: [p for p in tmp_path.rglob("*") if p.name == "escape"])
    assert found == []


# -- presigned GET -----------------------------------------------------------------

async def _stored_url(objects: ObjectsHarness, **kw: Any) -> str:
    await objects.store.put_bytes(objects.bucket, PREFIX + "out.vcf", VCF, "text/plain")
    options: dict[str, Any] = {"expires_in": 60}
    options.update(kw)
    return await objects.store.presign_get(objects.bucket, PREFIX + "out.vcf", **options)


async def test_presigned_get(objects: ObjectsHarness) -> None:
    """A presigned GET serves the object, as an attachment under the name asked for."""
    url = await _stored_url(objects, download_name='résumé "1".vcf')
    result = await objects.get(url)
    assert result.status == 200
    assert result.body == VCF
    disposition = result.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert "r%C3%A9sum%C3%A9%20%221%22.vcf" in disposition


def _edit_query(url: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(changes)
    return parts._replace(query=urllib.parse.urlencode(query)).geturl()


@pytest.mark.parametrize("tamper", ["key", "filename", "signature", "expires"])
async def test_tampered_get_is_refused(objects: ObjectsHarness, tamper: str) -> None:
    """Changing any signed part of a GET URL gets 403 and no content."""
    store_enforces_policy(objects)
    url = await _stored_url(objects, download_name="out.vcf")
    await objects.store.put_bytes(objects.bucket, PREFIX + "other.vcf", b"secret", "text/plain")
    if tamper == "key":
        url = url.replace("out.vcf?", "other.vcf?")
    elif tamper == "signature":
        url = _edit_query(url, signature="0" * 64)
    elif tamper == "filename":
        url = _edit_query(url, filename="evil.html")
    else:
        expires = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["expires"]
        url = _edit_query(url, expires=str(int(expires) + 3600))
    result = await objects.get(url)
    assert result.status == 403
    assert VCF not in result.body and b"secret" not in result.body


async def test_expired_get_is_refused(objects: ObjectsHarness) -> None:
    """A GET URL past its expiry gets 403."""
    store_enforces_policy(objects)
    result = await objects.get(await _stored_url(objects, expires_in=-1))
    assert result.status == 403


async def test_get_of_a_deleted_object_is_404(objects: ObjectsHarness) -> None:
    """A valid URL for an object that is gone answers 404."""
    if objects.adapter == "aws":
        pytest.skip("moto reads a missing key's response-content-type override as a signed "
                    "header (s3/responses.py _invalid_headers) and answers 403; S3 answers 404")
    url = await _stored_url(objects)
    await objects.store.delete(objects.bucket, PREFIX + "out.vcf")
    result = await objects.get(url)
    assert result.status == 404


async def test_a_prefix_is_not_an_object(objects: ObjectsHarness) -> None:
    """A key that is only the prefix of other keys does not exist, and deleting it is a no-op."""
    await objects.store.put_bytes(objects.bucket, "dir/file", b"x", "text/plain")
    with pytest.raises(ObjectNotFound):
        await objects.store.head(objects.bucket, "dir")
    await objects.store.delete(objects.bucket, "dir")
    assert await objects.store.get_bytes(objects.bucket, "dir/file") == b"x"


# -- downloads are data, never a page of this origin ---------------------------------

DOWNLOADS = [
    ("evil.js", "application/octet-stream"), ("page.html", "application/octet-stream"),
    ("image.svg", "application/octet-stream"), ("in.vcf.gz", "application/octet-stream"),
    ("in.vcf", "text/plain"), ("job.log.txt", "text/plain"), ("variants.tsv", "text/plain"),
    (None, "text/plain"),
]


async def downloaded(objects: ObjectsHarness, name: str | None) -> dict[str, str]:
    """The headers (lower-cased names) of a script stored as ``name`` and downloaded by
    its link."""
    key = PREFIX + (name or "out.vcf")
    await objects.store.put_bytes(objects.bucket, key, b"<script>alert(1)</script>",
                                  "text/javascript")
    url = await objects.store.presign_get(objects.bucket, key, expires_in=60, download_name=name)
    result = await objects.get(url)
    assert result.status == 200
    return {k.lower(): v for k, v in result.headers.items()}


@pytest.mark.parametrize(("name", "content_type"), DOWNLOADS)
async def test_downloads_are_attachments_of_a_type_no_browser_runs(
    objects: ObjectsHarness, name: str | None, content_type: str
) -> None:
    """Whatever an object is called or was uploaded as, its download link serves it as
    an attachment, typed as text/plain (VCF, log, TSV) or bytes, never as script or
    HTML."""
    headers = await downloaded(objects, name)
    assert headers["content-type"].split(";")[0] == content_type
    assert headers["content-disposition"].startswith("attachment;")
    assert (name or "out.vcf").replace("~", "_") in headers["content-disposition"]


@pytest.mark.parametrize("name", [name for name, _ in DOWNLOADS])
async def test_local_downloads_are_nosniff_and_sandboxed(objects: ObjectsHarness, name: str | None
                                                         ) -> None:
    """The local store serves downloads from GAS's own origin, so it also forbids type
    sniffing and sandboxes whatever is served (a CSP)."""
    if objects.adapter != "local":
        pytest.skip("S3 serves downloads from its own origin, with no such headers to set")
    headers = await downloaded(objects, name)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "default-src 'none'; sandbox"


# -- claiming an upload ----------------------------------------------------------------

async def test_claim_keeps_an_upload(objects: ObjectsHarness) -> None:
    """Claiming an upload (its job exists) keeps it readable, is idempotent, and names
    a missing key as ObjectNotFound."""
    await objects.store.put_bytes(objects.bucket, PREFIX + "in.vcf", VCF, "text/plain")
    await objects.store.claim(objects.bucket, PREFIX + "in.vcf")
    await objects.store.claim(objects.bucket, PREFIX + "in.vcf")
    assert await objects.store.get_bytes(objects.bucket, PREFIX + "in.vcf") == VCF
    with pytest.raises(ObjectNotFound):
        await objects.store.claim(objects.bucket, PREFIX + "nothing.vcf")


async def test_s3_uploads_are_tagged_unclaimed_until_claimed(
    objects: ObjectsHarness, request: pytest.FixtureRequest
) -> None:
    """On S3 every upload policy requires the "unclaimed" tag (which the bucket's
    lifecycle rule expires) and bytes as the stored type; claim removes the tag.
    moto applies no POST tagging, so the tag is put as S3 would put it."""
    if objects.adapter != "aws":
        pytest.skip("the local store's sweep asks the job store instead of a tag")
    from app.ports.objects.aws import UNCLAIMED_TAG, UNCLAIMED_TAGGING

    post = await presign(objects)
    assert post.fields["tagging"] == UNCLAIMED_TAGGING
    assert post.fields["Content-Type"] == "application/octet-stream"
    conditions = json.loads(base64.b64decode(post.fields["policy"]))["conditions"]
    assert {"tagging": UNCLAIMED_TAGGING} in conditions
    s3 = await request.getfixturevalue("aws_session").client("s3")
    await objects.store.put_bytes(objects.bucket, PREFIX + "in.vcf", VCF, "text/plain")
    tag = {"Key": UNCLAIMED_TAG[0], "Value": UNCLAIMED_TAG[1]}
    await s3.put_object_tagging(Bucket=objects.bucket, Key=PREFIX + "in.vcf",
                                Tagging={"TagSet": [tag]})
    await objects.store.claim(objects.bucket, PREFIX + "in.vcf")
    tags = await s3.get_object_tagging(Bucket=objects.bucket, Key=PREFIX + "in.vcf")
    assert tags["TagSet"] == []


# -- the local store: one object per policy, keys that conflict on disk ---------------

def local_only(objects: ObjectsHarness) -> None:
    if objects.adapter != "local":
        pytest.skip("S3 policies cannot be made single-use, and S3 keys are opaque")


async def test_a_policy_stores_one_object(objects: ObjectsHarness) -> None:
    """A policy that stored an object is refused the second time, whatever the key
    (even with ${filename}); an upload that failed leaves it usable."""
    local_only(objects)
    post = await presign(objects)
    too_big = await objects.post(post.url, post.fields, "a.vcf", b"x" * 1001)
    assert (too_big.status, xml_value(too_big, "Code")) == (400, "EntityTooLarge")
    first = await objects.post(post.url, post.fields, "a.vcf", VCF)
    assert first.status == 201, first.body
    for name in ("a.vcf", "b.vcf"):
        again = await objects.post(post.url, post.fields, name, b"replaced")
        assert (again.status, xml_value(again, "Code")) == (403, "AccessDenied")
        assert "already used" in xml_value(again, "Message")
    assert await objects.store.get_bytes(objects.bucket, PREFIX + "a.vcf") == VCF
    with pytest.raises(ObjectNotFound):
        await objects.store.head(objects.bucket, PREFIX + "b.vcf")


@pytest.mark.parametrize(("first", "second"), [("zz", "zz/inner"), ("zz/inner", "zz")])
async def test_keys_that_conflict_on_disk_are_refused_not_500(
    objects: ObjectsHarness, first: str, second: str
) -> None:
    """A key that is an object here and a prefix of another key there (``zz`` and
    ``zz/inner``) is refused with 409 in S3's XML at upload and KeyConflict on put;
    head, get and delete of it answer as for a missing object."""
    local_only(objects)
    await objects.store.put_bytes(objects.bucket, PREFIX + first, b"first", "text/plain")
    post = await presign(objects)
    result = await objects.post(post.url, {**post.fields, "key": PREFIX + second}, "x", VCF)
    assert (result.status, xml_value(result, "Code")) == (409, "KeyConflict")
    with pytest.raises(KeyConflict):
        await objects.store.put_bytes(objects.bucket, PREFIX + second, b"x", "text/plain")
    with pytest.raises(ObjectNotFound):
        await objects.store.head(objects.bucket, PREFIX + second)
    with pytest.raises(ObjectNotFound):
        await objects.store.get_bytes(objects.bucket, PREFIX + second)
    await objects.store.delete(objects.bucket, PREFIX + second)
    url = await objects.store.presign_get(objects.bucket, PREFIX + second, expires_in=60)
    assert (await objects.get(url)).status == 404
    assert await objects.store.get_bytes(objects.bucket, PREFIX + first) == b"first"


def form_of(*parts: tuple[str, bytes, str | None]) -> tuple[bytes, str]:
    """A multipart form of (name, value, file name or None) parts, in this order."""
    boundary = "gas-test-boundary"
    body = b""
    for name, value, file_name in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value
        body += b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def test_fields_after_the_file_are_ignored(objects: ObjectsHarness) -> None:
    """As on S3 the file is the form's last field: fields after it are not read as
    part of the form (a policy there is no policy; an unsigned field there is no
    "extra field"), so the form is judged before its file."""
    store_enforces_policy(objects)
    post = await presign(objects, PREFIX + "in.vcf")
    fields = [(name, value.encode(), None) for name, value in post.fields.items()]
    result = await objects.post_raw(post.url, *form_of(("file", VCF, "in.vcf"), *fields))
    assert (result.status, xml_value(result, "Code")) == (403, "AccessDenied"), result.body
    assert "must contain a policy" in xml_value(result, "Message")
    result = await objects.post_raw(
        post.url, *form_of(*fields, ("file", VCF, "in.vcf"), ("acl", b"public-read", None)))
    assert result.status == 201, result.body
    assert await objects.store.get_bytes(objects.bucket, PREFIX + "in.vcf") == VCF


async def test_fields_before_the_file_are_limited(objects: ObjectsHarness) -> None:
    """More than 20 KB of fields before the file is refused as S3 refuses it
    (MaxPostPreDataLengthExceeded), having read no more than that."""
    store_enforces_policy(objects)
    post = await presign(objects)
    fields = {**post.fields, "x-ignore-padding": "p" * 30_000}
    result = await objects.post(post.url, fields, "x.vcf", VCF)
    assert (result.status, xml_value(result, "Code")) == (400, "MaxPostPreDataLengthExceeded")

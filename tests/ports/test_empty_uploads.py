"""An upload policy allows no empty file: an empty input could never become a job."""

from __future__ import annotations

import re

import pytest

from app.ports.objects import ObjectNotFound

from .conftest import ObjectsHarness
from .test_objects import PREFIX, presign, store_enforces_policy


async def test_an_empty_upload_is_refused_too_small(objects: ObjectsHarness) -> None:
    """The store refuses a zero-byte file under the policy (S3: EntityTooSmall) and
    stores nothing; one byte is enough."""
    store_enforces_policy(objects)
    post = await presign(objects)
    empty = await objects.post(post.url, post.fields, "empty.vcf", b"")
    assert empty.status == 400
    assert re.search(r"<Code>EntityTooSmall</Code>", empty.body.decode()), empty.body
    with pytest.raises(ObjectNotFound):
        await objects.store.head(objects.bucket, PREFIX + "empty.vcf")
    one_byte = await objects.post(post.url, post.fields, "one.vcf", b"#")
    assert one_byte.status == 201, one_byte.body

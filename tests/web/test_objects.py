"""The local object store's HTTP face (app/web/objects.py), beyond the port's contract."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from quart import Quart

from app.ports.objects.local import LocalObjectStore
from app.web import objects as objects_web
from tests.ports.conftest import multipart


async def test_an_upload_that_stalls_is_cut_off(tmp_path: Path) -> None:
    """A client that sends a valid form's fields and then stops is answered 400
    RequestTimeout after the app's BODY_TIMEOUT, and nothing is left staged: reading
    the body as a stream keeps the limit Quart puts on reading it whole."""
    store = LocalObjectStore(tmp_path, b"secret", "http://gas.test/objects")
    app = Quart(__name__)
    app.register_blueprint(objects_web.bp)
    app.config.update(GAS=SimpleNamespace(objects=store), BODY_TIMEOUT=0.5)
    post = await store.presign_post("gas-inputs", "inputs/u/j~x.vcf", max_bytes=10_000,
                                    expires_in=60, success_action_status=201)
    body, content_type = multipart(post.fields, "x.vcf", b"#" * 5000)
    async with app.test_client().request(
        "/objects/gas-inputs", method="POST", headers={"Content-Type": content_type}
    ) as connection:
        await connection.send(body[:-1000])  # the rest never comes
        async with asyncio.timeout(5):
            answer = await connection.receive()
    assert connection.status_code == 400
    assert b"<Code>RequestTimeout</Code>" in answer
    assert not list(store.staging_dir.iterdir())


async def test_a_signature_that_is_not_ascii_is_refused(tmp_path: Path) -> None:
    """An upload form or a download link whose signature is not ASCII is refused 403
    SignatureDoesNotMatch, as any wrong signature is: not a 500 from comparing it."""
    store = LocalObjectStore(tmp_path, b"secret", "http://gas.test/objects")
    app = Quart(__name__)
    app.register_blueprint(objects_web.bp)
    app.config.update(GAS=SimpleNamespace(objects=store))
    client = app.test_client()
    post = await store.presign_post("gas-inputs", "inputs/u/j~x.vcf", max_bytes=10_000,
                                    expires_in=60, success_action_status=201)
    body, content_type = multipart({**post.fields, "x-amz-signature": "\u00e9" * 64}, "x.vcf", b"#")
    response = await client.post("/objects/gas-inputs", data=body, headers={"Content-Type": content_type})
    assert response.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in await response.get_data()
    await store.put_bytes("gas-inputs", "inputs/u/j~x.vcf", b"#", "text/plain")
    url = await store.presign_get("gas-inputs", "inputs/u/j~x.vcf", expires_in=60)
    path = url.removeprefix("http://gas.test").split("signature=")[0] + "signature=%C3%A9"
    response = await client.get(path)
    assert response.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in await response.get_data()

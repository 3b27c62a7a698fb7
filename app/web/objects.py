"""The local object store's HTTP face: presigned POST uploads and presigned GETs.

With the AWS backend browsers talk to S3 instead and these routes answer 404.
Both are authorised by their signature alone, so they are exempt from CSRF checks.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import uuid
from xml.sax.saxutils import escape

from quart import Blueprint, ResponseReturnValue, current_app, redirect, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.disk_full import is_disk_full
from app.ports.objects import ObjectNotFound, PresignError, attachment_disposition
from app.ports.objects.local import LocalObjectStore
from app.web import csrf

bp = Blueprint("objects", __name__, url_prefix="/objects")
log = logging.getLogger(__name__)


def _store() -> LocalObjectStore | None:
    store = current_app.config["GAS"].objects
    return store if isinstance(store, LocalObjectStore) else None


def _xml(root: str, status: int, **elements: str) -> ResponseReturnValue:
    body = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in elements.items())
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{body}</{root}>'
    return xml, status, {"Content-Type": "application/xml"}


def _error(code: str, message: str, status: int) -> ResponseReturnValue:
    return _xml("Error", status, Code=code, Message=message)


def _disk_full(exc: OSError) -> ResponseReturnValue:
    log.error("upload refused: out of disk space (%s)", exc)
    return _error(
        "InsufficientStorage",
        "The server has run out of disk space, so the file was not stored. Please try again later.",
        507,
    )


@bp.post("/<bucket>")
@csrf.exempt
async def upload(bucket: str) -> ResponseReturnValue:
    store = _store()
    if store is None:
        return _error("NoSuchBucket", "This store takes uploads at S3.", 404)
    try:
        form = await request.form
        files = await request.files
    except RequestEntityTooLarge:
        return _error("EntityTooLarge", "The upload exceeds the largest size accepted.", 400)
    except OSError as exc:  # the request body is spooled to the temp dir, which can fill too
        if not is_disk_full(exc):
            raise
        return _disk_full(exc)
    file = files.get("file")
    if file is None:
        return _error("InvalidArgument", "POST requires exactly one file upload per request.", 400)
    staged = store.staging_dir / uuid.uuid4().hex
    try:
        await file.save(staged)
        accepted = await store.accept_post(bucket, form.to_dict(), file.filename or "", staged)
    except PresignError as exc:
        return _error(exc.code, exc.message, exc.status)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        return _disk_full(exc)
    finally:
        staged.unlink(missing_ok=True)
    etag = f'"{accepted.etag}"'
    if accepted.redirect:
        return redirect(accepted.redirect, 303)
    if accepted.status == 201:
        return _xml(
            "PostResponse", 201, Location=f"{store.base_url}/{bucket}/{accepted.key}",
            Bucket=bucket, Key=accepted.key, ETag=etag,
        )
    return "", accepted.status, {"ETag": etag}


@bp.route("/<bucket>/<path:key>", methods=["GET", "HEAD"])
@csrf.exempt
async def download(bucket: str, key: str) -> ResponseReturnValue:
    store = _store()
    if store is None:
        return _error("NoSuchBucket", "This store serves downloads from S3.", 404)
    try:
        path, name = await store.open_get(bucket, key, request.args.to_dict())
    except PresignError as exc:
        return _error(exc.code, exc.message, exc.status)
    except ObjectNotFound:
        return _error("NoSuchKey", "The specified key does not exist.", 404)
    mimetype = mimetypes.guess_type(name or key)[0] or "application/octet-stream"
    response = current_app.response_class(
        current_app.response_class.file_body_class(path), mimetype=mimetype
    )
    size = (await asyncio.to_thread(path.stat)).st_size
    response.content_length = size
    # The URL is a bearer credential: keep shared caches from storing the file.
    response.cache_control.private = True
    response.cache_control.no_store = True
    if name:
        response.headers["Content-Disposition"] = attachment_disposition(name)
    await response.make_conditional(request, accept_ranges=True, complete_length=size)
    return response


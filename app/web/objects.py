"""The local object store's HTTP face: presigned POST uploads and presigned GETs.

With the AWS backend browsers talk to S3 instead and these routes answer 404.
Both are authorised by their signature alone, so they are exempt from CSRF checks.
"""

from __future__ import annotations

import asyncio
import logging
from xml.sax.saxutils import escape

from quart import Blueprint, ResponseReturnValue, current_app, redirect, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.infra.disk_full import is_disk_full
from app.ports.objects import (
    DOWNLOAD_CSP,
    KeyConflict,
    ObjectNotFound,
    PresignError,
    attachment_disposition,
    attachment_name,
    download_content_type,
)
from app.ports.objects.local import LocalObjectStore
from app.web import csrf
from app.web.upload_form import AFTER_FILE_LIMIT, FormError, UploadForm

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
    """Check the form from the fields before its file, then stream the file to the
    store: a form that fails its policy costs the server its first few KB, never its
    file, and a file over the policy's size is refused before (by Content-Length) or
    as soon as it is over."""
    store = _store()
    if store is None:
        return _error("NoSuchBucket", "This store takes uploads at S3.", 404)
    try:
        # Reading the body ourselves, we keep Quart's limit on how long it may take.
        async with asyncio.timeout(request.body_timeout):
            form = UploadForm(request.headers.get("Content-Type", ""), aiter(request.body))
            fields = await form.fields()
            post = await store.check_post(bucket, fields, form.file_name)
            declared = form.file_bytes_declared(request.content_length)
            if declared is not None and declared > post.max_bytes + AFTER_FILE_LIMIT:
                return _too_large()
            accepted = await store.receive_post(post, form.file())
            await form.finish()
    except TimeoutError:
        return _error("RequestTimeout", "Your socket connection to the server was not read "
                      "from or written to within the timeout period.", 400)
    except RequestEntityTooLarge:
        return _error("EntityTooLarge", "The upload exceeds the largest size accepted.", 400)
    except (FormError, PresignError) as exc:
        return _error(exc.code, exc.message, exc.status)
    except KeyConflict as exc:
        return _error("KeyConflict", str(exc), 409)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        return _disk_full(exc)
    etag = f'"{accepted.etag}"'
    if accepted.redirect:
        return redirect(accepted.redirect, 303)
    if accepted.status == 201:
        return _xml(
            "PostResponse", 201, Location=f"{store.base_url}/{bucket}/{accepted.key}",
            Bucket=bucket, Key=accepted.key, ETag=etag,
        )
    return "", accepted.status, {"ETag": etag}


def _too_large() -> ResponseReturnValue:
    return _error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.", 400)


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
    name = attachment_name(key, name)
    response = current_app.response_class(
        current_app.response_class.file_body_class(path), content_type=download_content_type(name)
    )
    size = (await asyncio.to_thread(path.stat)).st_size
    response.content_length = size
    # The URL is a bearer credential: keep shared caches from storing the file.
    response.cache_control.private = True
    response.cache_control.no_store = True
    # Saved, never shown: whatever was uploaded, no browser runs it as this origin's.
    response.headers["Content-Disposition"] = attachment_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    await response.make_conditional(request, accept_ranges=True, complete_length=size)
    return response


"""What a refused upload costs the local object store: an 800 MB form with a bogus
policy, and one with a valid free-plan policy (150 KB) but an 800 MB file.

    .venv/bin/python bench/upload_refusal.py [--megabytes 800]

The store's upload route runs under hypercorn, as in ``gas serve``; the client
streams the body from a generator in 1 MiB pieces until the answer comes. It prints
the bytes the app received (counted at the ASGI boundary: what hypercorn read from
the socket and handed on), the bytes the client got into the socket before the
answer (the kernel's buffers hold some), and the time to the answer; then, for
scale, the time to store the same body under a premium policy.

Measured on the shared 2-core development machine (2026-11-30), 800 MB bodies:
a bogus policy is refused 3 ms after the request, having read 651,770 bytes (what
hypercorn and Quart had queued by then; it does not grow with the body), where the
store used to read, spool and stage all 838,861,326 bytes and answer after 9.4 s;
a valid free policy with an 800 MB body: 14 ms and 1.7 MB (was 13.3 s, all of it).
Storing the 800 MB under a premium policy: 8.9 s (was 9.8 s: one pass to staging,
the MD5 taken on the way, instead of a spool, a copy and a second read).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from app.ports.objects.local import LocalObjectStore
from app.web import objects as objects_web

PIECE = 1 << 20
BOUNDARY = "----gasbench"


class Counting:
    """ASGI middleware: counts the request body bytes the app receives, and times the
    app from the request to its answer."""

    def __init__(self, app: Any) -> None:
        self.app, self.received, self.answered_after = app, 0, 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()

        async def counted() -> Any:
            message = await receive()
            self.received += len(message.get("body", b""))
            return message

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.answered_after = time.perf_counter() - started
            await send(message)

        await self.app(scope, counted, timed)


def form(fields: dict[str, str], file_bytes: int) -> tuple[bytes, Iterator[bytes], bytes]:
    """The form's head (fields and the file's part header), its file, and its end."""
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items())
    head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.vcf"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode()

    def pieces() -> Iterator[bytes]:
        left = file_bytes
        while left > 0:
            yield b"#" * min(PIECE, left)
            left -= PIECE

    return head, pieces(), f"\r\n--{BOUNDARY}--\r\n".encode()


async def post(port: int, path: str, fields: dict[str, str], file_bytes: int) -> tuple[str, int, float]:
    """Stream the form until the server answers: (status line, bytes sent, seconds)."""
    head, pieces, tail = form(fields, file_bytes)
    length = len(head) + file_bytes + len(tail)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    started = time.perf_counter()

    async def send() -> None:
        nonlocal sent
        writer.write((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
                      f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n").encode())
        for chunk in (head, *pieces, tail):
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)

    sender = asyncio.create_task(send())
    try:
        status = await reader.readline()
        elapsed = time.perf_counter() - started
    finally:
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender
        with contextlib.suppress(OSError):
            writer.close()
    return status.decode().strip(), sent, elapsed


async def main(megabytes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalObjectStore(Path(tmp), b"bench-secret", "http://127.0.0.1/objects")
        app = Quart(__name__)
        app.config["MAX_CONTENT_LENGTH"] = 6 * 1024**3
        app.register_blueprint(objects_web.bp)
        app.config["GAS"] = SimpleNamespace(objects=store)
        counting = Counting(app)
        config = Config()
        config.bind = ["127.0.0.1:0"]
        config.accesslog = None
        config.errorlog = logging.getLogger("bench")
        stop = asyncio.Event()
        sockets = config.create_sockets()
        port = sockets.insecure_sockets[0].getsockname()[1]
        config.bind = [f"127.0.0.1:{port}"]
        sockets.insecure_sockets[0].close()
        server = asyncio.create_task(serve(counting, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        await asyncio.sleep(0.5)
        free = await store.presign_post("gas-inputs", "inputs/u/j~${filename}", max_bytes=153_600,
                                         expires_in=60, success_action_status=201)
        path = urllib.parse.urlsplit(free.url).path
        cases = {
            "bogus policy": {"key": "inputs/u/j~x.vcf", "policy": "bogus",
                             "x-amz-algorithm": "GAS-HMAC-SHA256", "x-amz-signature": "0" * 64},
            "valid free policy, file too large": free.fields,
        }
        size = megabytes * 1024**2
        # Warm-up, not counted: the first large request costs the server ~0.5 s more
        # (first-time allocations and socket buffers), refused or not.
        await post(port, path, cases["bogus policy"], size)
        for name, fields in cases.items():
            counting.received = 0
            status, sent, elapsed = await post(port, path, fields, size)
            await asyncio.sleep(0.2)
            print(f"{name}, {megabytes} MB body: {status!r}; the app answered after "
                  f"{counting.answered_after * 1000:.0f} ms (the client saw it after "
                  f"{elapsed * 1000:.0f} ms), having read {counting.received:,} bytes "
                  f"({counting.received / size:.4%}); the client got {sent:,} bytes into the socket")
        # For scale: the same body under a premium policy, read and stored whole.
        premium = await store.presign_post("gas-inputs", "inputs/u/k~${filename}",
                                           max_bytes=5 * 1024**3, expires_in=60,
                                           success_action_status=201)
        status, sent, elapsed = await post(port, path, premium.fields, size)
        print(f"valid premium policy, {megabytes} MB stored: {status!r} after {elapsed:.1f} s "
              f"({megabytes / elapsed:.0f} MB/s)")
        stop.set()
        await server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=800)
    asyncio.run(main(parser.parse_args().megabytes))

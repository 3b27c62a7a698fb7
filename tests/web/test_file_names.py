"""Hostile file names: stored safely, shown escaped, served in a header that cannot
break, never a path outside the user's prefix and never part of a command."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from markupsafe import escape
from quart import Quart
from werkzeug.http import parse_options_header

from annotator.worker import Annotator
from app.jobs.job import display_file_name
from app.jobs.lifecycle import LARGE, JobRequest
from app.ports.bus import Message
from app.services import Services
from tests.web.conftest import SMALL_VCF, bearer, post_form, upload
from tests.web.sessions import Person, person

NAMES = {
    "traversal": "../../../../tmp/gas-escape/passwd.vcf",
    "windows traversal": "..\\..\\evil.vcf",
    "nul": "evil\x00.vcf.sh",
    "quotes": "it's \"quoted\".vcf",
    "script": "<script>alert(1)</script>.vcf",
    "html": "<img src=x onerror=alert(1)>.vcf",
    "long": "a" * 296 + ".vcf",
    "rtl override": "invoice\u202efcv.exe",
    "header injection": "x.vcf\r\nSet-Cookie: owned=1",
}
SAFE_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CONTROL_OR_BIDI = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
async def alice(app: Quart, services: Services) -> AsyncIterator[Person]:
    """One free user for the module, whose jobs stay pending by the dozen: their plan's
    cap on unfinished jobs is lifted here (tests/web/test_api.py tests it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services.settings, "free_max_queued_jobs", 1000)
        yield await person(app, services)


async def browser_upload(alice: Person, name: str) -> str:
    """The upload form's way: the store names the key from the file's name; the job id."""
    html = await (await alice.client.get("/annotate/fields")).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
    stored = await post_form(alice.client, "/objects/gas-inputs", fields, SMALL_VCF, name)
    assert stored.status_code == 303, await stored.get_data(as_text=True)
    made = await alice.client.get(stored.headers["Location"].removeprefix("http://localhost"))
    assert made.status_code == 303, await made.get_data(as_text=True)
    return made.headers["Location"].rsplit("/", 1)[1]


async def api_job(alice: Person, name: str):  # type: ignore[no-untyped-def]
    policy = await (await alice.client.post("/api/v1/uploads", headers=bearer(alice.token))).get_json()
    # The API's key is exact: the name that counts is the one in the JSON body.
    assert await upload(alice.client, policy, SMALL_VCF) == 201
    return await alice.client.post("/api/v1/jobs", headers=bearer(alice.token),
                                   json={"key": policy["key"], "file_name": name})


def _files_under(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, files in os.walk(root) for f in files]


# A browser percent-encodes CR and LF in a multipart file name (the HTML form-data
# rules), so a raw line break never reaches the store that way; the API test sends it.
@pytest.mark.parametrize("kind", [k for k in NAMES if k != "header injection"])
async def test_browser_upload_key_stays_in_the_users_prefix(
    alice: Person, services: Services, kind: str
) -> None:
    """Whatever the file is called, its key is <prefix>/<user>/<job>~<letters, digits, . _ ->
    (120 at most) and the file lies under the user's directory; nothing is written
    anywhere else."""
    job_id = await browser_upload(alice, NAMES[kind])
    job = await services.jobs.get(job_id)
    assert job is not None
    prefix = f"inputs/{alice.user.user_id}/{job_id}~"
    assert job.input_key.startswith(prefix)
    stored_name = job.input_key.removeprefix(prefix)
    assert SAFE_KEY_NAME.fullmatch(stored_name) and len(stored_name) <= 120, stored_name
    assert job.input_file_name == stored_name
    root = services.settings.data_path / "objects"
    user_dir = (root / "gas-inputs" / "inputs" / alice.user.user_id).resolve()
    assert (user_dir / f"{job_id}~{stored_name}").resolve().parent == user_dir
    strays = [p for p in _files_under(root / "gas-inputs") if not p.resolve().is_relative_to(
        (root / "gas-inputs" / "inputs").resolve())]
    assert not strays
    assert not Path("/tmp/gas-escape").exists()
    assert not list((root / ".staging").iterdir())


@pytest.mark.parametrize("kind", [k for k in NAMES if k != "long"])
async def test_api_name_is_kept_for_display_without_controls(
    alice: Person, services: Services, kind: str
) -> None:
    """A name given to the API is kept as the person typed it for display, minus
    directories, control and bidi characters; the key is the one the policy named."""
    response = await api_job(alice, NAMES[kind])
    assert response.status_code == 201, await response.get_data(as_text=True)
    job = await response.get_json()
    shown = job["input_file_name"]
    assert shown == display_file_name(NAMES[kind])
    assert not CONTROL_OR_BIDI.search(shown) and "/" not in shown and "\\" not in shown


async def test_api_refuses_a_300_character_name_clearly(alice: Person) -> None:
    """A file name longer than 255 characters is a 422 with the API's error shape."""
    response = await api_job(alice, "b" * 296 + ".vcf")
    body = await response.get_json()
    assert response.status_code == 422 and body["error"]["code"] == "invalid_request"
    assert "file_name" in body["error"]["message"]


async def test_names_are_escaped_on_every_page_and_in_downloads(
    app: Quart, alice: Person, services: Services
) -> None:
    """The job list, the job page and the log page show each name HTML-escaped; the
    input download's Content-Disposition is one header with an ASCII fallback and
    the exact name percent-encoded, with no control or bidi character in it."""
    jobs = {}
    for kind in ("quotes", "script", "html", "rtl override", "header injection", "nul"):
        jobs[kind] = (await (await api_job(alice, NAMES[kind])).get_json())["job_id"]
    listing = await (await alice.client.get("/annotations")).get_data(as_text=True)
    for kind, job_id in jobs.items():
        page = await (await alice.client.get(f"/annotations/{job_id}")).get_data(as_text=True)
        log = await (await alice.client.get(f"/annotations/{job_id}/log")).get_data(as_text=True)
        for html in (listing, page, log):
            assert "<script>alert(1)" not in html and "<img src=x" not in html
            assert "\u202e" not in html and "\x00" not in html
            assert 'it\'s "quoted"' not in html and "\r\nSet-Cookie" not in html
        shown = str(escape(display_file_name(NAMES[kind])))
        assert shown in page and shown in listing, (kind, shown)
        if kind == "quotes":
            assert "it&#39;s &#34;quoted&#34;.vcf" in page
        link = await alice.client.get(f"/annotations/{job_id}/input")
        assert link.status_code == 302
        download = await alice.client.get(link.headers["Location"].removeprefix("http://localhost"))
        assert download.status_code == 200 and await download.get_data() == SMALL_VCF
        disposition = download.headers.getlist("Content-Disposition")
        assert len(disposition) == 1 and "owned" not in download.headers.get("Set-Cookie", "")
        value = disposition[0]
        assert not CONTROL_OR_BIDI.search(value) and value.isascii()
        kind_of, params = parse_options_header(value)
        # What a client reads: the exact name (filename*, RFC 6266), else the ASCII fallback.
        assert kind_of == "attachment" and params["filename"] == display_file_name(NAMES[kind])
        fallback = re.fullmatch(r'attachment; filename="([^"]*)"; filename\*=UTF-8\'\'(\S+)', value)
        assert fallback and SAFE_KEY_NAME.fullmatch(fallback[1]), value
        assert urllib.parse.unquote(fallback[2]) == display_file_name(NAMES[kind])


async def test_names_never_reach_a_command(
    alice: Person, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Annotating jobs with hostile names starts no process (no shell, no exec) in this
    process, and no module a job goes through can start one: only the reference
    installer runs a command, with a fixed argument list."""
    started: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        started.append(args)
        raise AssertionError(f"a process was started: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_exec", refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_shell", refuse)
    worker = Annotator(services)
    try:
        for kind in ("script", "quotes", "traversal"):
            job = await (await api_job(alice, NAMES[kind])).get_json()
            request = Message(LARGE, "m", "{}", "r", 1)
            await worker.handle(request, JobRequest(job["job_id"]))
            done = await services.jobs.get(job["job_id"])
            assert done is not None and done.status == "completed", done
    finally:
        worker.close()
    assert not started
    repo = Path(__file__).resolve().parents[2]
    starts_process = re.compile(r"\bsubprocess\b|os\.(system|popen|exec\w*|spawn\w*)\(|create_subprocess_")
    callers = {str(source.relative_to(repo)) for package in ("app", "annotator", "daemons")
               for source in (repo / package).rglob("*.py") if starts_process.search(source.read_text())}
    assert callers == {"annotator/fetch.py"}, callers

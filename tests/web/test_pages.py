"""Accounts and job pages in the browser's shape: forms, CSRF, redirects, ownership."""

from __future__ import annotations

import re
import uuid
from html import unescape as html_unescape

import pytest
from quart.testing import QuartClient

from app.accounts import users
from app.jobs.job import COMPLETED, Job, utcnow
from app.services import Services
from tests.job_states import advance
from tests.web.conftest import SMALL_VCF, csrf_from, post_form


async def signup(client: QuartClient, email: str | None = None, password: str = "password123"):  # type: ignore[no-untyped-def]
    email = email or f"{uuid.uuid4().hex[:8]}@example.org"
    token = csrf_from(await (await client.get("/signup")).get_data(as_text=True))
    response = await client.post(
        "/signup", form={"email": email, "password": password, "name": "N", "csrf_token": token}
    )
    return email, response


async def signed_up_user(client: QuartClient, services: Services) -> users.User:
    """A new account, signed in on ``client``."""
    email, _ = await signup(client)
    user = await users.get_by_email(services.db, email)
    assert user is not None
    return user


async def signed_up_with_job(client: QuartClient, services: Services, file_name: str = "in.vcf") -> Job:
    """A new account signed in on ``client``, with one pending job."""
    user = await signed_up_user(client, services)
    job = Job(job_id=str(uuid.uuid4()), user_id=user.user_id, input_file_name=file_name,
              input_bucket="b", input_key="k", input_size=1, submitted_at=utcnow())
    assert await services.jobs.create(job)
    return job


async def test_signup_logs_in_and_lands_on_annotate(client: QuartClient) -> None:
    """Signing up creates the account and a session, then shows the upload page."""
    _, response = await signup(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/annotate")
    page = await client.get("/annotate")
    assert page.status_code == 200
    assert "Upload and annotate" in await page.get_data(as_text=True)


async def test_signup_refuses_short_password_and_taken_email(client: QuartClient) -> None:
    """Sign-up errors are shown next to the field, with a 400."""
    email, _ = await signup(client)
    other = QuartClient(client.app)
    _, response = await signup(other, password="short")
    assert response.status_code == 400 and "at least 8" in await response.get_data(as_text=True)
    _, response = await signup(other, email=email.upper())
    assert response.status_code == 400 and "exists already" in await response.get_data(as_text=True)


async def test_login_generic_error_and_next(client: QuartClient) -> None:
    """A wrong password or unknown email gets the same message; login goes to ?next."""
    email, _ = await signup(client)
    fresh = QuartClient(client.app)
    token = csrf_from(await (await fresh.get("/login")).get_data(as_text=True))
    wrong = await fresh.post("/login", form={"email": email, "password": "nope-nope", "csrf_token": token})
    unknown = await fresh.post("/login", form={"email": "x" + email, "password": "nope-nope",
                                               "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "Email or password is incorrect." in await wrong.get_data(as_text=True)
    assert "Email or password is incorrect." in await unknown.get_data(as_text=True)
    ok = await fresh.post("/login?next=/profile", form={"email": email, "password": "password123",
                                                       "csrf_token": token})
    assert ok.status_code == 302 and ok.headers["Location"] == "/profile"
    evil = await fresh.post("/login?next=//evil.example/x", form={
        "email": email, "password": "password123", "csrf_token": csrf_from(
            await (await fresh.get("/login")).get_data(as_text=True))})
    assert evil.headers["Location"] == "/annotations"


@pytest.mark.parametrize("target", ["http://[", "//[x", "/\\evil.example/x", "/\t/evil.example/x",
                                    "/\n/evil.example/x"])
async def test_login_next_that_leaves_the_site_or_does_not_parse(client: QuartClient, target: str) -> None:
    """A ?next= that a browser would follow off the site (a backslash, a tab or newline
    it drops) or that does not parse as a URL sends the person to their jobs after
    logging in: never elsewhere, and never a 500 once the session has started."""
    email, _ = await signup(client)
    fresh = QuartClient(client.app)
    token = csrf_from(await (await fresh.get("/login")).get_data(as_text=True))
    response = await fresh.post("/login", query_string={"next": target},
                                form={"email": email, "password": "password123", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/annotations"


async def test_forms_without_csrf_token_are_refused(client: QuartClient) -> None:
    """Every state-changing form needs the session's CSRF token."""
    await client.get("/signup")
    response = await client.post("/signup", form={"email": "a@b.org", "password": "password123"})
    assert response.status_code == 403
    await signup(client)
    assert (await client.post("/profile/tokens", form={"name": "t"})).status_code == 403
    assert (await client.post("/logout")).status_code == 403
    forged = await client.post("/profile/tokens", form={"name": "t"},
                               headers={"X-CSRF-Token": "guess"})
    assert forged.status_code == 403


async def test_pages_need_login(client: QuartClient) -> None:
    """Signed-out visitors are sent to the login page, and come back after."""
    for path in ("/annotate", "/annotations", "/profile", f"/annotations/{uuid.uuid4()}"):
        response = await client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")


async def test_upload_redirect_creates_job_and_lists_it(client: QuartClient, services: Services) -> None:
    """The upload form posts to the store, whose redirect creates the job; the job
    page and the list show it; another user gets a 404 for it."""
    await signup(client)
    html = await (await client.get("/annotate")).get_data(as_text=True)
    url = re.search(r'id="upload-form" method="post" action="([^"]+)"', html)[1]  # type: ignore[index]
    form = html.split('id="upload-form"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert "success_action_redirect" in fields and fields["key"].endswith("${filename}")
    stored = await post_form(client, "/" + url.split("://", 1)[1].split("/", 1)[1], fields,
                             SMALL_VCF, "my sample.vcf")
    assert stored.status_code == 303
    landing = stored.headers["Location"]
    assert landing.startswith("http://localhost/annotate/job?")
    made = await client.get(landing.removeprefix("http://localhost"))
    assert made.status_code == 303
    job_path = made.headers["Location"]
    page = await client.get(job_path)
    text = await page.get_data(as_text=True)
    assert page.status_code == 200 and "my_sample.vcf" in text
    listing = await (await client.get("/annotations")).get_data(as_text=True)
    assert job_path.rsplit("/", 1)[1] in listing
    other = QuartClient(client.app)
    await signup(other)
    assert (await other.get(job_path)).status_code == 404


async def test_upload_over_the_queued_jobs_cap_says_so_on_the_page(
    client: QuartClient, services: Services
) -> None:
    """The store's redirect for a free user who has 5 unfinished jobs answers 429 with
    the upload page saying why, and makes no job."""
    user = await signed_up_user(client, services)
    for _ in range(5):
        assert await services.jobs.create(Job(
            job_id=str(uuid.uuid4()), user_id=user.user_id, input_file_name="in.vcf",
            input_bucket="b", input_key="k", input_size=1, submitted_at=utcnow()))
    key = f"inputs/{user.user_id}/{uuid.uuid4()}~sixth.vcf"
    await services.objects.put_bytes(services.settings.inputs_bucket, key, SMALL_VCF, "text/plain")
    page = await client.get(f"/annotate/job?key={key}")
    text = html_unescape(await page.get_data(as_text=True))
    assert page.status_code == 429 and "Upload and annotate" in text
    assert "You have 5 jobs waiting or running; your plan allows 5 at a time" in text
    assert await services.jobs.count_for_user(user.user_id) == 5


async def test_no_upload_form_past_the_hourly_upload_policies(
    client: QuartClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past their plan's upload policies for the hour, the upload page answers 429 with
    the reason and no form, and an options change swaps the form's policy fields for
    the same message (a form sent anyway has no policy, so the store refuses it)."""
    monkeypatch.setattr(services.settings, "free_max_uploads_per_hour", 2)
    await signed_up_user(client, services)
    assert (await client.get("/annotate")).status_code == 200
    fields = await (await client.get("/annotate/fields?build=GRCh38")).get_data(as_text=True)
    assert 'name="policy"' in fields
    page = await client.get("/annotate")
    text = html_unescape(await page.get_data(as_text=True))
    assert page.status_code == 429 and "2 uploads in the last hour" in text
    assert 'id="upload-form"' not in text
    refused = html_unescape(await (await client.get("/annotate/fields")).get_data(as_text=True))
    assert "2 uploads in the last hour" in refused and 'name="policy"' not in refused


async def test_upload_options_ride_on_the_signed_redirect(client: QuartClient, services: Services) -> None:
    """The build and skip-bad-lines chosen on /annotate reach the job through the upload's redirect."""
    await signup(client)
    html = await (await client.get("/annotate/fields?build=NCBI36&skip_bad_lines=on")).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    redirect = html_unescape(fields["success_action_redirect"])
    assert "build=NCBI36" in redirect and "skip_bad_lines=on" in redirect
    key = fields["key"].replace("${filename}", "x.vcf")
    await services.objects.put_bytes(services.settings.inputs_bucket, key, SMALL_VCF, "text/plain")
    made = await client.get(redirect.removeprefix("http://localhost") + "&key=" + key)
    job = await services.jobs.get(made.headers["Location"].rsplit("/", 1)[1])
    assert job is not None and job.build == "NCBI36" and job.skip_bad_lines is True


async def test_api_tokens_shown_once_and_revocable(client: QuartClient) -> None:
    """A token made on /profile works on the API, is shown once (on the page the POST redirects to,
    so that reloading it makes no second token), and stops on revoke."""
    await signup(client)
    html = await (await client.get("/profile")).get_data(as_text=True)
    made = await client.post("/profile/tokens", form={"name": "laptop", "csrf_token": csrf_from(html)})
    assert made.status_code == 303 and made.headers["Location"] == "/profile"
    shown = await client.get("/profile")
    assert shown.headers["Cache-Control"] == "no-store"
    text = await shown.get_data(as_text=True)
    token = re.search(r'id="new-token" readonly value="([^"]+)"', text)[1]  # type: ignore[index]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    profile = await (await client.get("/profile")).get_data(as_text=True)
    assert token not in profile
    revoke = re.search(r'action="(/profile/tokens/[^"]+/revoke)"', profile)[1]  # type: ignore[index]
    await client.post(revoke, form={"csrf_token": csrf_from(profile)})
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_security_headers_and_friendly_404(client: QuartClient) -> None:
    """Pages carry the security headers; an unknown page is a friendly 404."""
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "Traceback" not in await response.get_data(as_text=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_job_list_pages_past_fifty(client: QuartClient, services: Services) -> None:
    """The list shows the newest 50 jobs and links to the older ones."""
    from datetime import timedelta

    user = await signed_up_user(client, services)
    now = utcnow()
    for n in range(55):
        await services.jobs.create(Job(
            job_id=str(uuid.uuid4()), user_id=user.user_id, input_file_name=f"file{n:02d}.vcf",
            input_bucket="b", input_key="k", input_size=1, submitted_at=now - timedelta(minutes=n)))
    first = await (await client.get("/annotations")).get_data(as_text=True)
    assert first.count("<tr>") == 50 + 2  # the header row and the "Older jobs" row
    assert "file00.vcf" in first and "file49.vcf" in first and "file50.vcf" not in first
    older = re.search(r'href="(/annotations\?before_at=[^"]+)"', first)
    assert older
    second = await (await client.get(older[1].replace("&amp;", "&"))).get_data(as_text=True)
    assert "file50.vcf" in second and "file54.vcf" in second and "file49.vcf" not in second
    assert "Back to the newest jobs" in second


@pytest.mark.parametrize("query", [
    "before_at=2026-01-01T00:00:00%2B00:00&before_id=notauuid",
    "before_at=garbage&before_id=9b2f4a3e-3d43-4f43-9d57-1b1f6b0b7a11",
    "before_at=2026-01-01T00:00:00&before_id=9b2f4a3e-3d43-4f43-9d57-1b1f6b0b7a11",
    "before_at=9999-12-31T23:59:59-23:59&before_id=9b2f4a3e-3d43-4f43-9d57-1b1f6b0b7a11",
    "before_id=9b2f4a3e-3d43-4f43-9d57-1b1f6b0b7a11",
    "before_at=2026-01-01T00:00:00%2B00:00&before_id=%FF%00",
])
async def test_job_list_with_a_bad_cursor_is_400(client: QuartClient, services: Services, query: str) -> None:
    """An "Older jobs" link that GAS did not make (an id that is not a UUID, a time that
    is not one, has no zone or overflows, half a cursor) is a 400 page that says what to
    do, never a 500 from the job store's query."""
    await signed_up_user(client, services)
    for headers in ({}, {"HX-Request": "true"}):
        response = await client.get(f"/annotations?{query}", headers=headers)
        assert response.status_code == 400
        assert "Older jobs" in await response.get_data(as_text=True)


async def test_server_error_page_has_no_traceback(
    client: QuartClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error shows a friendly 500 page, never a traceback."""
    await signup(client)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services.jobs, "summaries_for_user", broken)
    response = await client.get("/annotations")
    text = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in text and "secret internals" not in text and "Traceback" not in text


async def test_upload_form_may_post_to_the_object_store_origin(
    client: QuartClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The /annotate page's policy lets its form post to wherever the store is (S3 on
    AWS), and only there; other pages keep form-action to GAS itself."""
    from dataclasses import replace

    store = services.objects
    real = store.presign_post

    async def on_s3(*args, **kwargs):  # type: ignore[no-untyped-def]
        return replace(await real(*args, **kwargs), url="https://gas-inputs.s3.us-east-1.amazonaws.com/")

    await signup(client)
    monkeypatch.setattr(store, "presign_post", on_s3)
    page = await client.get("/annotate")
    policy = page.headers["Content-Security-Policy"]
    assert "form-action 'self' https://gas-inputs.s3.us-east-1.amazonaws.com;" in policy
    assert "script-src 'self';" in policy
    other = (await client.get("/profile")).headers["Content-Security-Policy"]
    assert "amazonaws" not in other


async def test_job_page_says_why_a_result_is_stuck(client: QuartClient, services: Services) -> None:
    """A result whose restore gave up shows the reason on the job page, in place of the
    offer to upgrade (the owner has), as an alert."""
    job = await signed_up_with_job(client, services)
    why = "Bringing this result back from the archive failed (ClientError, 5 attempts)."
    assert await advance(
        services.jobs, job.job_id, COMPLETED, completed_at=utcnow(), result_bucket="r", result_key="k2",
        storage="cold", storage_error=why,
    )
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    assert f'<span class="error" role="alert">{why}</span>' in page
    assert "upgrade to Premium to restore" not in page

"""Job pages: upload, the job list, one job, its log and its files."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, field_validator, model_validator
from quart import Blueprint, abort, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue

from app.errors import Refused
from app.jobs import builds
from app.jobs.control import cancel_job, delete_job
from app.jobs.job import FINISHED, Job
from app.jobs.submissions import max_input_bytes, new_upload, resubmit_skipping_bad_lines, submit
from app.ports.objects import PresignedPost
from app.services import Services
from app.web import job_rows, notices, query, views
from app.web.auth import login_required, required_user
from app.web.context import services
from app.web.headers import csp
from app.web.links import public_url_for

bp = Blueprint("jobs", __name__)
PAGE_SIZE = 50


# The upload form's choices: the builds, after "auto" (the default).
BUILDS: dict[str, str] = {"auto": "Detect from the file", **builds.LABELS}


class UploadOptions(BaseModel):
    """The upload form's options, and the key the object store's redirect brings back.
    Whatever else they say is the default: these come from the form's own controls."""

    build: str = "auto"
    skip_bad_lines: bool = False
    key: str = ""

    @field_validator("build", mode="before")
    @classmethod
    def _offered(cls, build: str) -> str:
        return build if build in BUILDS else "auto"

    @field_validator("skip_bad_lines", mode="before")
    @classmethod
    def _checked(cls, value: str) -> bool:
        return value == "on"  # what a checked box sends, and nothing else


async def _upload(options: UploadOptions) -> PresignedPost:
    # The chosen options ride on the signed redirect, so they come back with the upload.
    args = {} if options.build == "auto" else {"build": options.build}
    if options.skip_bad_lines:
        args["skip_bad_lines"] = "on"
    redirect = public_url_for("jobs.uploaded", **args)
    return await new_upload(services(), await required_user(), redirect=redirect)


async def _annotate_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    user = await required_user()
    options = query.read(UploadOptions)
    upload: PresignedPost | None = None
    try:
        upload = await _upload(options)
    except Refused as exc:  # no more upload policies this hour: say so, without a form
        error = f"{error} {exc.message}" if error else exc.message
        status = status if status != 200 else exc.status
    page = await render_template(
        "annotate.html", upload=upload, max_bytes=max_input_bytes(services(), user),
        user=user, error=error, builds=BUILDS, build=options.build, skip_bad_lines=options.skip_bad_lines,
    )
    if upload is None:
        return page, status
    # The form posts straight to the object store, wherever it is (S3 on AWS).
    target = urlsplit(upload.url)
    return page, status, {"Content-Security-Policy": csp(f"{target.scheme}://{target.netloc}")}


@bp.get("/annotate/fields")
@login_required
async def upload_fields() -> ResponseReturnValue:
    """A fresh upload policy for the chosen options (HTMX swaps the hidden fields)."""
    try:
        upload = await _upload(query.read(UploadOptions))
    except Refused as exc:
        # Swapped in place of the fields, so the store refuses the form if it is sent.
        return await render_template("fragments/upload_fields.html", upload=None, error=exc.message)
    return await render_template("fragments/upload_fields.html", upload=upload)


@bp.get("/annotate")
@login_required
async def annotate() -> ResponseReturnValue:
    return await _annotate_page()


@bp.get("/annotate/job")
@login_required
async def uploaded() -> ResponseReturnValue:
    """The object store's redirect after an upload: the upload becomes a job."""
    options = query.read(UploadOptions)
    try:
        job = await submit(services(), await required_user(), options.key, build=options.build,
                           skip_bad_lines=options.skip_bad_lines)
    except Refused as exc:
        return await _annotate_page(exc.message, exc.status)
    return redirect(url_for("jobs.job_page", job_id=job.job_id), 303)


_NOT_OUR_LINK = ("This link to older jobs is not valid (it may have been cut short). "
                 "Open the job list again and follow its 'Older jobs' link.")


class OlderJobs(BaseModel):
    """The "Older jobs" link's cursor: the last job seen, (submitted_at, job_id).

    Only the link GAS made is accepted; anything else is the client's error (400),
    not a query the job store is left to fail on.
    """

    before_at: datetime | None = None
    before_id: str | None = None

    @field_validator("before_at", mode="before")
    @classmethod
    def _zoned(cls, at: str) -> datetime | None:
        if not at:
            return None
        try:
            submitted = datetime.fromisoformat(at)
            if submitted.tzinfo is None:
                raise ValueError("no time zone")
            return submitted.astimezone(UTC)
        except (ValueError, OverflowError):
            raise query.refuse(_NOT_OUR_LINK) from None

    @field_validator("before_id", mode="before")
    @classmethod
    def _uuid(cls, job_id: str) -> str | None:
        try:
            return str(uuid.UUID(job_id)) if job_id else None
        except ValueError:
            raise query.refuse(_NOT_OUR_LINK) from None

    @model_validator(mode="after")
    def _whole(self) -> OlderJobs:
        if (self.before_at is None) != (self.before_id is None):
            raise query.refuse(_NOT_OUR_LINK)
        return self

    @property
    def cursor(self) -> tuple[datetime, str] | None:
        if self.before_at is None or self.before_id is None:
            return None
        return self.before_at, self.before_id


@bp.get("/annotations")
@login_required
async def job_list() -> ResponseReturnValue:
    user = await required_user()
    before = query.read(OlderJobs).cursor
    jobs = await services().jobs.summaries_for_user(user.user_id, limit=PAGE_SIZE + 1, before=before)
    more = len(jobs) > PAGE_SIZE
    rows = await job_rows.render(jobs[:PAGE_SIZE], more)
    if request.headers.get("HX-Request"):
        # The rows send back the jobs they showed unfinished (fragments/job_rows.html).
        unfinished = set(request.args.getlist("unfinished"))
        return str(rows) + notices.out_of_band(
            notices.notice(job.job_id, job.input_file_name, job.status)
            for job in jobs[:PAGE_SIZE] if job.job_id in unfinished and job.status in FINISHED)
    return await render_template("annotations.html", rows=rows, user=user, paged=before is not None)


@bp.get("/annotations/<job_id>")
@login_required
async def job_page(job_id: str) -> ResponseReturnValue:
    user = await required_user()
    job = await views.owned_job(services(), user, job_id)
    shown = {"job": job, "unavailable": views.result_unavailable(job),
             "archive_at": views.archive_at(services(), user, job)}
    if not request.headers.get("HX-Request"):
        return await render_template("job.html", **shown)
    fragment = await render_template("fragments/job_status.html", **shown)
    # ``shown``: the status the page showed when it asked (fragments/job_status.html).
    if notices.ended(request.args.get("shown"), job.status):
        return fragment + notices.out_of_band([notices.notice(job.job_id, job.input_file_name, job.status)])
    return fragment


@bp.post("/annotations/<job_id>/resubmit")
@login_required
async def resubmit(job_id: str) -> ResponseReturnValue:
    """A failed job again, from its stored input, skipping the lines it could not read."""
    user = await required_user()
    job = await views.owned_job(services(), user, job_id)
    try:
        again = await resubmit_skipping_bad_lines(services(), user, job)
    except Refused as exc:
        abort(exc.status, exc.message)
    return redirect(url_for("jobs.job_page", job_id=again.job_id), 303)


async def _owner_does(job_id: str, action: Callable[[Services, Job], Awaitable[object]]) -> Job:
    """The signed-in user's job, once ``action`` is done to it (its refusal is the page's)."""
    job = await views.owned_job(services(), await required_user(), job_id)
    try:
        await action(services(), job)
    except Refused as exc:
        abort(exc.status, exc.message)
    return job


@bp.post("/annotations/<job_id>/cancel")
@login_required
async def cancel(job_id: str) -> ResponseReturnValue:
    """Cancel a pending or running job (from its page or its row in the job list)."""
    job = await _owner_does(job_id, cancel_job)
    return redirect(url_for("jobs.job_page", job_id=job.job_id), 303)


@bp.get("/annotations/<job_id>/delete")
@login_required
async def confirm_delete(job_id: str) -> ResponseReturnValue:
    """The confirmation a deletion needs: a page, so it works without JavaScript and from
    the keyboard like any other."""
    job = await views.owned_job(services(), await required_user(), job_id)
    return await render_template("delete_job.html", job=job)


@bp.post("/annotations/<job_id>/delete")
@login_required
async def delete(job_id: str) -> ResponseReturnValue:
    await _owner_does(job_id, delete_job)
    return redirect(url_for("jobs.job_list"), 303)


@bp.get("/annotations/<job_id>/log")
@login_required
async def job_log(job_id: str) -> ResponseReturnValue:
    job = await views.owned_job(services(), await required_user(), job_id)
    text = await views.log_text(services(), job)
    return await render_template("log.html", job=job, log=text)


@bp.get("/annotations/<job_id>/download")
@login_required
async def download(job_id: str) -> ResponseReturnValue:
    job = await views.owned_job(services(), await required_user(), job_id)
    if views.result_unavailable(job):
        return redirect(url_for("jobs.job_page", job_id=job.job_id))
    return redirect(await views.result_url(services(), job))


@bp.get("/annotations/<job_id>/input")
@login_required
async def input_file(job_id: str) -> ResponseReturnValue:
    job = await views.owned_job(services(), await required_user(), job_id)
    return redirect(await views.input_url(services(), job))

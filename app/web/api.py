"""The JSON API, ``/api/v1``: a contract that clients outside this repo rely on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps
from typing import Literal, ParamSpec, TypeVar

from pydantic import BaseModel, Field
from quart import Blueprint, Response, g, jsonify, redirect, request
from quart.typing import ResponseReturnValue
from quart_schema import (
    RequestSchemaValidationError,
    document_headers,
    document_querystring,
    validate_request,
    validate_response,
)
from werkzeug.exceptions import HTTPException

from app.accounts import users
from app.accounts.users import User
from app.errors import Refused
from app.jobs.builds import Build
from app.jobs.control import cancel_job, delete_job
from app.jobs.job import CANCELLED, Job
from app.jobs.submissions import new_upload, submit
from app.results import variant_table
from app.results.consequences import IMPACTS
from app.web import results, views
from app.web.context import services
from app.web.links import public_url_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")
P = ParamSpec("P")
T = TypeVar("T")


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gas"'
    return response


class BearerHeader(BaseModel):
    authorization: str = Field(description="`Bearer <token>`: create tokens on /profile or "
                               "with `gas users token EMAIL`")


def token_required(view: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused(401, "unauthorized", "Send an API token: 'Authorization: Bearer <token>'.")
        user = await users.user_for_token(services().db, token.strip())
        if user is None:
            raise Refused(401, "invalid_token", "This API token is not valid or was revoked.")
        g.api_user = user
        return await view(*args, **kwargs)

    return document_headers(BearerHeader)(wrapper)  # type: ignore[no-any-return]


def api_user() -> User:
    user: User = g.api_user
    return user


class Links(BaseModel):
    self: str
    result: str
    log: str
    page: str


class JobOut(BaseModel):
    job_id: str
    status: Literal["pending", "running", "completed", "failed", "cancelled", "deleting"]
    progress: int = Field(description="0-100, over the whole job (every phase), not the annotation alone")
    phase: Literal["reading", "annotating", "table", "storing"] | None = Field(
        description="what a running job is doing now: fetching its input, annotating, building "
        "the results table, storing the results"
    )
    input_file_name: str
    input_size: int
    submitted_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    storage: Literal["hot", "archiving", "cold", "restoring"] | None
    storage_error: str | None = Field(
        description="why the result is stuck in its storage tier (archive or restore gave up)"
    )
    variant_count: int | None
    build: str | None
    skip_bad_lines: bool
    error: str | None
    links: Links


class JobList(BaseModel):
    jobs: list[JobOut]


class JobIn(BaseModel):
    key: str = Field(max_length=1024, description="the `key` from POST /api/v1/uploads")
    file_name: str = Field(default="input.vcf", max_length=255)
    build: Literal["auto", Build] = "auto"
    skip_bad_lines: bool = Field(
        default=False,
        description="leave out records that cannot be read (counted in the log) instead of failing",
    )


class UploadOut(BaseModel):
    url: str
    fields: dict[str, str]
    key: str
    max_bytes: int
    expires_at: datetime


class Me(BaseModel):
    user_id: str
    email: str
    # Whether the owner confirmed the address from a link mailed to it.
    email_verified: bool
    name: str
    institution: str
    role: Literal["free", "premium"]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class VariantsQuery(BaseModel):
    gene: str = Field(default="", description="part of a gene symbol, any case")
    chrom: str = ""
    region: Literal[variant_table.REGION_CLASSES] | None = None  # type: ignore[valid-type]
    dbsnp: Literal["yes", "no"] | None = None
    impact: Literal[IMPACTS] | None = Field(  # type: ignore[valid-type]
        default=None, description="this IMPACT or a more severe one")
    consequence: str = Field(default="", description="a Sequence Ontology term (VEP's): the rows "
                             "whose most severe consequence it is")
    clinvar: Literal["pathogenic"] | None = Field(
        default=None, description="pathogenic or likely pathogenic in GAS's ClinVar subset")
    locus: str = Field(default="", description="a range (17:41,196,312-41,277,500), a chromosome "
                       "(chr17 or 17) or a gene's rows (BRCA1, whole name, any case)")
    sort: Literal[tuple(variant_table.COLUMNS)] = "pos"  # type: ignore[valid-type]
    dir: Literal["asc", "desc"] = "asc"
    page: int = Field(default=1, ge=1)


class VariantOut(BaseModel):
    chrom: str
    pos: int
    id: str
    ref: str
    alt: str
    genes: str
    gene_types: str
    region: str
    band: str
    nearest: str
    distance: int | None
    in_dbsnp: bool
    # None in results annotated before consequences existed.
    consequence: str | None = Field(description="the most severe SO term over the ALT alleles")
    impact: str | None
    feature: str | None = Field(description="the transcript HGVSc and HGVSp are on")
    hgvsc: str | None
    hgvsp: str | None
    clinvar: str | None = Field(description="ClinVar significance per allele in GAS's ClinVar subset")
    clinvar_disease: str | None
    clinvar_ids: str | None = Field(description="ClinVar variation ids, one per allele in the subset")
    clinvar_review: str | None = Field(description="ClinVar review status, one per allele in the subset")


class VariantPage(BaseModel):
    total: int = Field(description="rows matching the filters")
    all_rows: int
    page: int
    pages: int
    variants: list[VariantOut]


def job_out(job: Job) -> JobOut:
    return JobOut(
        job_id=job.job_id, status=job.status, progress=job.progress,
        phase=job.phase if job.status == "running" else None,  # type: ignore[arg-type]
        input_file_name=job.input_file_name, input_size=job.input_size,
        submitted_at=job.submitted_at, started_at=job.started_at, completed_at=job.completed_at,
        storage=job.storage, storage_error=job.storage_error, variant_count=job.variant_count,
        error=job.error,
        build=job.build, skip_bad_lines=job.skip_bad_lines,
        links=Links(
            self=public_url_for("api.get_job", job_id=job.job_id),
            result=public_url_for("api.job_result", job_id=job.job_id),
            log=public_url_for("api.job_log", job_id=job.job_id),
            page=public_url_for("jobs.job_page", job_id=job.job_id),
        ),
    )


@bp.post("/uploads")
@validate_response(UploadOut, 201)
@validate_response(ErrorOut, 401)
@validate_response(ErrorOut, 429)
@token_required
async def create_upload() -> tuple[UploadOut, int]:
    """A presigned POST for one input file: POST `fields` plus `file` (last) to `url`;
    429 if you have been given your plan's most upload policies this hour."""
    upload = await new_upload(services(), api_user(), with_file_name=False)
    return UploadOut(
        url=upload.url, fields=upload.fields, key=upload.key, max_bytes=upload.max_bytes,
        expires_at=upload.expires_at,
    ), 201


@bp.post("/jobs")
@validate_request(JobIn)
@validate_response(JobOut, 201)
@validate_response(ErrorOut, 404)
@validate_response(ErrorOut, 403)
@validate_response(ErrorOut, 413)
@validate_response(ErrorOut, 429)
@token_required
async def create_job(data: JobIn) -> tuple[JobOut, int]:
    """Annotate an uploaded file: 404 if it is not uploaded, 403 if the key is not yours,
    413 if it is too large for your plan, 429 if you have your plan's most jobs waiting
    or running."""
    job = await submit(
        services(), api_user(), data.key, data.file_name,
        build=data.build, skip_bad_lines=data.skip_bad_lines,
    )
    return job_out(job), 201


@bp.get("/jobs")
@validate_response(JobList)
@token_required
async def list_jobs() -> JobList:
    """Your jobs, newest first (the latest 500)."""
    jobs = await services().jobs.list_for_user(api_user().user_id, limit=500)
    return JobList(jobs=[job_out(job) for job in jobs])


@bp.get("/jobs/<job_id>")
@validate_response(JobOut)
@validate_response(ErrorOut, 404)
@token_required
async def get_job(job_id: str) -> JobOut:
    return job_out(await views.owned_job(services(), api_user(), job_id))


@bp.post("/jobs/<job_id>/cancel")
@validate_response(JobOut)
@validate_response(ErrorOut, 404)
@validate_response(ErrorOut, 409)
@token_required
async def cancel(job_id: str) -> JobOut:
    """Cancel a pending or running job (the annotator stops it within seconds and stores
    nothing); a cancelled one again is fine; 409 `job_ended` for one that has ended."""
    job = await views.owned_job(services(), api_user(), job_id)
    return job_out(await cancel_job(services(), job))


@bp.delete("/jobs/<job_id>")
@validate_response(ErrorOut, 404)
@validate_response(ErrorOut, 409)
@token_required
async def delete(job_id: str) -> tuple[str, int]:
    """204: the job is gone with its input, results, log and any archived copy; a pending
    or running job is cancelled first. 404 once deleted."""
    job = await views.owned_job(services(), api_user(), job_id)
    await delete_job(services(), job)
    return "", 204


@bp.get("/jobs/<job_id>/result")
@validate_response(ErrorOut, 409)
@token_required
async def job_result(job_id: str) -> ResponseReturnValue:
    """303 to a short-lived download link of the annotated VCF."""
    job = await views.owned_job(services(), api_user(), job_id)
    unavailable = views.result_unavailable(job)
    if unavailable:
        raise Refused(409, *unavailable)
    return redirect(await views.result_url(services(), job), 303)


@bp.get("/jobs/<job_id>/variants")
@document_querystring(VariantsQuery)
@validate_response(VariantPage)
@validate_response(ErrorOut, 400)
@validate_response(ErrorOut, 404)
@validate_response(ErrorOut, 409)
@token_required
async def job_variants(job_id: str) -> VariantPage:
    """A page (50 rows) of the job's annotated variants, filtered and sorted as on
    its results page; 400 for a filter value the filter does not take."""
    job = await views.owned_job(services(), api_user(), job_id)
    unavailable = views.result_unavailable(job)
    if unavailable:
        raise Refused(409, *unavailable)
    query = results.request_query()
    path = await results.table_path(services(), job)
    table = variant_table.open_table(path)
    page = await asyncio.to_thread(variant_table.page, table, query, results.orders(table, path))
    return VariantPage(total=page.total, all_rows=page.all_rows, page=page.page, pages=page.pages,
                       variants=[VariantOut.model_validate(row) for row in page.rows])


@bp.get("/jobs/<job_id>/log")
@token_required
async def job_log(job_id: str) -> ResponseReturnValue:
    """The job's log as text/plain (409 `job_not_finished` before it ends)."""
    job = await views.owned_job(services(), api_user(), job_id)
    text = await views.log_text(services(), job)
    if text is None:
        if job.error:
            text = f"Job failed: {job.error}\n"
        elif job.status == CANCELLED:
            raise Refused(409, "job_cancelled", "This job was cancelled before it finished: it has no log.")
        else:
            raise Refused(409, "job_not_finished", "The log is written when the job finishes.")
    return Response(text, mimetype="text/plain")


@bp.get("/me")
@validate_response(Me)
@token_required
async def me() -> Me:
    user = api_user()
    return Me(user_id=user.user_id, email=user.email, email_verified=user.verified, name=user.name,
              institution=user.institution, role=user.role)


async def _api_error(exc: Refused) -> Response:
    return error_response(exc.status, exc.code, exc.message)


async def _invalid(exc: RequestSchemaValidationError) -> Response:
    return error_response(422, "invalid_request", f"The request body is not valid: {exc.validation_error}")


def answer_api_errors(blueprint: Blueprint) -> None:
    """The API's JSON error bodies for ``Refused`` and invalid request bodies, on
    ``blueprint`` (the API's own, and any other that serves an API route)."""
    blueprint.register_error_handler(Refused, _api_error)
    blueprint.register_error_handler(RequestSchemaValidationError, _invalid)


answer_api_errors(bp)


@bp.errorhandler(HTTPException)
async def _http_error(exc: HTTPException) -> Response:
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)



"""The results viewer: a filterable, sortable, paged table of annotated variants,
plots of the filtered rows (a bar sets its filter), and TSV and VCF exports of them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Collection
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from quart import Blueprint, Response, render_template, request, url_for
from quart.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, InternalServerError

from app.jobs.control import table_cache
from app.jobs.job import Job, file_stem, table_key
from app.results import charts, consequences, locus, plot_counts, variant_table, vcf_export
from app.results.locus import Locus
from app.results.variant_table import Query
from app.services import Services
from app.web import query, views
from app.web.auth import login_required, required_user
from app.web.context import services

bp = Blueprint("results", __name__)


def _or_default(allowed: Collection[str], default: str = "") -> Callable[[str], str]:
    """An argument whose other values are read as its default (no filter)."""
    return lambda value: value if value in allowed else default


def _one_of(name: str, allowed: tuple[str, ...], what: str) -> Callable[[str], str]:
    """A filter that takes one of ``allowed`` (or nothing); anything else is a 400
    that says what it takes."""

    def check(value: str) -> str:
        if value and value not in allowed:
            shown = ", ".join(allowed) if len(allowed) < 10 else "a Sequence Ontology term as VEP writes it"
            raise query.refuse(f"The {what} filter ({name}=) takes {shown}; not {value[:80]!r}.")
        return value

    return check


def _page_number(page: str) -> int:
    try:
        return max(1, int(page))
    except ValueError:
        return 1


class BadLocus(BadRequest):
    """The Locus filter's text is none of the forms it takes."""


class Filters(BaseModel):
    """The results' query string: filters, sort and page (the API's ``VariantsQuery``
    documents the same arguments)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # First, so that a Locus filter it cannot read is said before any other filter's fault.
    where: Locus | None = Field(default=None, alias="locus")
    gene: Annotated[str, AfterValidator(query.cut(100))] = ""
    chrom: Annotated[str, AfterValidator(query.cut(50))] = ""
    region: Annotated[str, AfterValidator(_or_default(variant_table.REGION_CLASSES))] = ""
    dbsnp: Annotated[str, AfterValidator(_or_default(("yes", "no")))] = ""
    impact: Annotated[str, AfterValidator(_one_of("impact", consequences.IMPACTS, "impact"))] = ""
    consequence: Annotated[
        str, AfterValidator(_one_of("consequence", consequences.TERMS, "consequence"))
    ] = ""
    clinvar: Annotated[str, AfterValidator(_one_of("clinvar", variant_table.CLINVAR_FILTERS, "ClinVar"))] = ""
    sort: Annotated[str, AfterValidator(_or_default(variant_table.COLUMNS, "pos"))] = "pos"
    dir: str = ""
    page: Annotated[int, BeforeValidator(_page_number)] = 1

    @field_validator("where", mode="before")
    @classmethod
    def _locus(cls, text: str, info: ValidationInfo) -> Locus | None:
        if not (info.context or {}).get("with_locus", True):
            return None
        try:
            return locus.parse(text[:200])
        except locus.LocusError as error:
            # Not a ValueError, so it leaves the validation as it is: the viewer shows it.
            raise BadLocus(str(error)) from error


def request_query(with_locus: bool = True) -> Query:
    """The filters, sort and page asked for in the query string; BadLocus for a
    Locus filter it cannot read (``with_locus=False``: that filter left out)."""
    asked = query.read(Filters, with_locus=with_locus)
    return Query(
        gene=asked.gene, chrom=asked.chrom, region=asked.region, dbsnp=asked.dbsnp,
        impact=asked.impact, consequence=asked.consequence, clinvar=asked.clinvar, locus=asked.where,
        sort=asked.sort, descending=asked.dir == "desc", page=asked.page,
    )


def orders(table: pa.Table, path: Path) -> variant_table.Orders:
    """The table's sort orders, kept beside its cached copy."""
    return variant_table.Orders(table, path.parent, path.stem)


async def _cached(gas: Services, job: Job, key: str, suffix: str) -> Path:
    """The job's object ``key`` in this instance's cache, fetched from the store once."""
    cache = table_cache(gas.settings)
    path = cache / f"{job.job_id}{suffix}"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, suffix=".part")
        os.close(fd)
        try:
            assert job.result_bucket
            await gas.objects.get_file(job.result_bucket, key, Path(tmp))
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return path


async def table_path(gas: Services, job: Job) -> Path:
    """The job's table in this instance's cache, fetched from the store once."""
    return await _cached(gas, job, table_key(job), ".arrow")


async def _job() -> tuple[Job, tuple[str, str] | None]:
    job = await views.owned_job(services(), await required_user(), request.view_args["job_id"])  # type: ignore[index]
    return job, views.result_unavailable(job)


def query_args(query: Query, **changes: Any) -> dict[str, Any]:
    """The query as URL arguments (defaults left out), with ``changes`` applied."""
    args: dict[str, Any] = {
        "gene": query.gene, "chrom": query.chrom, "region": query.region, "dbsnp": query.dbsnp,
        "impact": query.impact, "consequence": query.consequence, "clinvar": query.clinvar,
        "locus": query.locus.typed if query.locus else "",
        "sort": query.sort, "dir": "desc" if query.descending else "", "page": query.page,
    }
    args.update(changes)
    defaults = {"sort": "pos", "page": 1}
    return {k: v for k, v in args.items() if v and defaults.get(k) != v}


def _plots(job: Job, counted: list[plot_counts.Plot], query: Query) -> list[tuple[str, str, bool]]:
    """Each plot of the filtered rows: its title, SVG (a bar is a link that adds its
    filter), and whether its labels (SO terms) need a whole row."""
    shown = []
    for plot in counted:
        links = []
        for label, count in plot.items:
            args = query_args(query, page=None, **{plot.filter: label})
            href = url_for("results.viewer", job_id=job.job_id, **args)
            # The impact filter keeps that impact and the more severe: the name says so.
            severer = plot.filter == "impact" and label != consequences.IMPACTS[0]
            what = f"{label} or more severe" if severer else label
            counted_as = f"{count:,} {label} variant" if severer else f"{count:,} variant"
            plural = "s" if count != 1 else ""
            links.append((href, f"Filter to {plot.noun} {what} ({counted_as}{plural})"))
        svg = charts.horizontal_bars(plot.title, plot.items, links=links)
        shown.append((plot.title, svg, max(len(label) for label, _ in plot.items) > 16))
    return shown


@bp.get("/annotations/<job_id>/results")
@login_required
async def viewer(job_id: str) -> ResponseReturnValue:
    job, unavailable = await _job()
    if unavailable:
        return await render_template("results.html", job=job, unavailable=unavailable), 409
    gas = services()
    # A Locus filter the page cannot read is said beside the table, which shows the
    # rows without it: HTMX swaps no 4xx, so a 400 would leave the old rows standing.
    locus_problem = None
    try:
        query = request_query()
    except BadLocus as error:
        query = request_query(with_locus=False)
        locus_problem = (request.args.get("locus", "")[:200], str(error.description))
    path = await table_path(gas, job)
    table = variant_table.open_table(path)
    page = await asyncio.to_thread(variant_table.page, table, query, orders(table, path))
    plots = _plots(job, await asyncio.to_thread(plot_counts.plots, table, query), query)
    context = {"job": job, "page": page, "query": query, "columns": variant_table.COLUMNS, "plots": plots,
               "regions": variant_table.REGION_CLASSES, "impacts": consequences.IMPACTS,
               "query_args": query_args, "locus_problem": locus_problem}
    if request.headers.get("HX-Request"):
        table_html = await render_template("fragments/results_table.html", **context)
        return table_html + await render_template("fragments/plots.html", oob=True, **context)
    assert job.result_bucket and job.summary_key
    summary = json.loads(await gas.objects.get_bytes(job.result_bucket, job.summary_key))
    page_html = await render_template("results.html", summary=summary, **context)
    return page_html, 400 if locus_problem else 200


@bp.get("/annotations/<job_id>/results.tsv")
@login_required
async def export(job_id: str) -> ResponseReturnValue:
    job, unavailable = await _job()
    if unavailable:
        return Response(unavailable[1], status=409, mimetype="text/plain")
    query = request_query()
    path = await table_path(services(), job)
    table = variant_table.open_table(path)
    rows = variant_table.export_tsv(table, query, orders(table, path))
    name = f"{file_stem(job.input_file_name)}.variants.tsv"
    return Response(rows, mimetype="text/tab-separated-values",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# VCF exports under way in this process: each holds a core compressing, so more
# wait their turn (503, Retry-After) rather than slow every page down.
_VCF_EXPORTS = asyncio.Semaphore(2)
# A 1M-row export takes about a minute (README); Quart's default cuts a body at 60 s.
_VCF_EXPORT_SECONDS = 900


@bp.get("/annotations/<job_id>/results.vcf.gz")
@login_required
async def export_vcf(job_id: str) -> ResponseReturnValue:
    """The filtered rows as a bgzipped VCF, in position order whatever the sort
    (a VCF's records must be): the stored result's header and records, streamed."""
    job, unavailable = await _job()
    if unavailable:
        return Response(unavailable[1], status=409, mimetype="text/plain")
    query = request_query()
    if _VCF_EXPORTS.locked():
        return Response("Other VCF exports are being made; try again in a minute.", status=503,
                        mimetype="text/plain", headers={"Retry-After": "60"})
    gas = services()
    path = await table_path(gas, job)
    assert job.result_key
    vcf = await _cached(gas, job, job.result_key, ".vcf")
    spans = await asyncio.to_thread(vcf_export.kept_offsets, vcf, path.with_suffix(".records.npy"))
    table = variant_table.open_table(path)
    if len(spans) != table.num_rows:
        raise InternalServerError("The stored result and its table disagree; the export is not made.")
    rows = await asyncio.to_thread(variant_table.position_rows, table, query, orders(table, path))

    async def body() -> AsyncIterator[bytes]:
        async with _VCF_EXPORTS:
            pieces = vcf_export.export(vcf, spans, rows)
            # Each piece is read and compressed off the event loop.
            while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
                yield piece

    name = f"{file_stem(job.input_file_name)}.filtered.vcf.gz"
    response = Response(body(), mimetype="application/gzip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    response.timeout = _VCF_EXPORT_SECONDS
    return response

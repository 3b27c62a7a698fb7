"""The results viewer: filters with a live count, sorting, paging, TSV export, plots,
and nobody else's results."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import os
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from quart.testing import QuartClient
from quart.wrappers import Response

from annotator.worker import Annotator
from app.accounts import users
from app.jobs.job import Job, input_key, table_key, utcnow
from app.results import bgzf, variant_table
from app.services import Services
from app.web import results
from tests.annotated import ANNOTATED_VCF, SUMMARY, plain_input
from tests.run_annotator import annotate
from tests.web.conftest import bearer, make_user
from tests.web.test_pages import signed_up_user, signed_up_with_job, signup

VCF = (
    "##fileformat=VCFv4.2\n##reference=GRCh37\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "1\t1000000\t.\tA\tG\t50\tPASS\t.\n"
    "17\t7577120\t.\tC\tT\t50\tPASS\t.\n"
    "17\t41245466\t.\tG\tA\t50\tPASS\t.\n"
    "17\t41246000\t.\tC\tA\t50\tPASS\t.\n"
    "MT\t750\t.\tA\tG\t50\tPASS\t.\n"
)


@pytest.fixture(scope="module")
async def annotator(services: Services) -> AsyncIterator[Annotator]:
    worker = Annotator(services)
    yield worker
    worker.close()


async def completed_job(
    client: QuartClient, services: Services, annotator: Annotator, vcf: str = VCF
) -> Job:
    """Sign up through the pages and give the user one annotated job."""
    user = await signed_up_user(client, services)
    job_id = str(uuid.uuid4())
    key = input_key(user.user_id, job_id, "sample.vcf")
    await services.objects.put_bytes(services.settings.inputs_bucket, key, vcf.encode(), "text/plain")
    job = Job(job_id=job_id, user_id=user.user_id, input_file_name="sample.vcf",
              input_bucket=services.settings.inputs_bucket, input_key=key, input_size=len(vcf),
              submitted_at=utcnow())
    await services.jobs.create(job)
    done = await annotate(services, job_id, annotator)
    assert done.status == "completed"
    return done


async def test_viewer_table_filters_and_plots(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """The page shows every variant with its annotations and five plots (the engine
    writes consequences, so per consequence and per impact too); filters narrow the
    rows and the count says how many match."""
    job = await completed_job(client, services, annotator)
    url = f"/annotations/{job.job_id}/results"
    page = await (await client.get(url)).get_data(as_text=True)
    assert "5 of 5 variants" in page
    assert "BRCA1" in page and "TP53" in page and "17q21.31" in page
    assert page.count("<svg") == 5
    for title in ("Variants per chromosome", "Variants per region class", "Variants per consequence",
                  "Variants per impact", "Top genes"):
        assert title in page, title
    fragment = await client.get(url, query_string={"gene": "brca1"}, headers={"HX-Request": "true"})
    text = await fragment.get_data(as_text=True)
    assert "2 of 5 variants" in text and "TP53" not in text and "<html" not in text
    by_chrom = await (await client.get(url, query_string={"chrom": "MT"})).get_data(as_text=True)
    assert "1 of 5 variants" in by_chrom and "MT-RNR1" in by_chrom


async def test_sort_descending_by_position(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """Sorting by position descending puts the mitochondrion first and chromosome 1 last."""
    job = await completed_job(client, services, annotator)
    text = await (await client.get(f"/annotations/{job.job_id}/results",
                                   query_string={"sort": "pos", "dir": "desc"})).get_data(as_text=True)
    assert text.index("MT:750") < text.index("17:41,246,000") < text.index("1:1,000,000")
    assert 'aria-sort="descending"' in text


async def test_export_tsv_of_filtered_rows(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """Export gives the filtered rows as TSV, as a download."""
    job = await completed_job(client, services, annotator)
    response = await client.get(f"/annotations/{job.job_id}/results.tsv", query_string={"chrom": "17"})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    lines = (await response.get_data(as_text=True)).splitlines()
    assert lines[0].startswith("chrom\tpos") and len(lines) == 4
    assert all(line.startswith("17\t") for line in lines[1:])


async def test_export_neutralises_formulas_and_keeps_numbers(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """An input whose IDs a spreadsheet would run as formulas (=HYPERLINK(...), +, -, @)
    exports them behind a single quote, as text; position and distance stay numbers."""
    formulas = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3", "@SUM(A1)"]
    vcf = VCF.split("1\t1000000", 1)[0] + "".join(
        f"1\t{1_000_000 + n}\t{ident}\tA\tG\t50\tPASS\t.\n" for n, ident in enumerate(formulas))
    job = await completed_job(client, services, annotator, vcf)
    response = await client.get(f"/annotations/{job.job_id}/results.tsv")
    assert response.status_code == 200
    text = await response.get_data(as_text=True)
    header, *rows = csv.reader(io.StringIO(text), delimiter="\t")
    assert [row[header.index("id")] for row in rows] == ["'" + ident for ident in formulas]
    for row in rows:
        assert int(row[header.index("pos")]) >= 1_000_000
        assert row[header.index("distance")] == "" or int(row[header.index("distance")]) >= 0


async def test_someone_elses_results_are_404(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """Another user cannot see or export the results."""
    job = await completed_job(client, services, annotator)
    other = QuartClient(client.app)
    await signup(other)
    assert (await other.get(f"/annotations/{job.job_id}/results")).status_code == 404
    assert (await other.get(f"/annotations/{job.job_id}/results.tsv")).status_code == 404


async def test_unfinished_job_has_no_viewer(client: QuartClient, services: Services) -> None:
    """A job that has not completed says so instead of showing an empty table."""
    job = await signed_up_with_job(client, services, "x.vcf")
    response = await client.get(f"/annotations/{job.job_id}/results")
    assert response.status_code == 409
    assert "not completed" in await response.get_data(as_text=True)


async def annotated_job(
    client: QuartClient, services: Services, annotator: Annotator, tmp_path: Path
) -> Job:
    """A job annotated by the real annotator whose result is then replaced by the
    hand-written annotated VCF (tests/annotated.py): its table built as the
    annotator builds it, its summary with the consequence and ClinVar counts."""
    job = await completed_job(client, services, annotator, plain_input())
    assert job.result_bucket and job.result_key and job.summary_key
    variant_table.build(ANNOTATED_VCF, tmp_path / "variants.arrow")
    objects = services.objects
    await objects.put_file(job.result_bucket, table_key(job), tmp_path / "variants.arrow", "x")
    await objects.put_file(job.result_bucket, job.result_key, ANNOTATED_VCF, "text/x-vcf")
    summary = json.loads(await objects.get_bytes(job.result_bucket, job.summary_key)) | SUMMARY
    await objects.put_bytes(job.result_bucket, job.summary_key, json.dumps(summary).encode(), "x")
    return job


async def test_consequence_columns_filters_and_plots(
    client: QuartClient, services: Services, annotator: Annotator, tmp_path: Path
) -> None:
    """The page shows consequence, impact, HGVS and ClinVar per row, what the ClinVar
    subset is, and plots per consequence and per impact; the impact, consequence and
    ClinVar filters narrow the rows; the consequence select offers the terms present,
    most severe first."""
    job = await annotated_job(client, services, annotator, tmp_path)
    url = f"/annotations/{job.job_id}/results"
    page = await (await client.get(url)).get_data(as_text=True)
    assert "6 of 6 variants" in page
    for text in ("stop_<wbr>gained", "ENSP00000269305.4:<wbr>p.Arg273Ter",
                 "ENST00000357654.9:<wbr>c.2082C&gt;T",
                 "p.Ser694=", "Pathogenic/Likely pathogenic", "Li-Fraumeni syndrome",
                 "at least two submitters", "absence from this subset means nothing"):
        assert text in page, text
    assert page.count("<svg") == 5
    assert "Variants per consequence" in page and "Variants per impact" in page
    assert "Pathogenic/Likely pathogenic: 1" in page
    assert '<a href="https://www.ncbi.nlm.nih.gov/clinvar/variation/12366/">ClinVar 12366</a>' in page
    assert "Review: criteria provided, multiple submitters, no conflicts" in page
    assert "<summary>2 more</summary>Glioblastoma; Medulloblastoma</details>" in page
    select = page[page.index('id="consequence"'):]
    select = select[:select.index("</select>")]
    assert [select.index(t) for t in SUMMARY["per_consequence"]] == sorted(
        select.index(t) for t in SUMMARY["per_consequence"])
    cases = [({"impact": "HIGH"}, 2, "BRCA2"), ({"impact": "LOW"}, 3, "rs1799949"),
             ({"clinvar": "pathogenic"}, 2, "TP53"), ({"consequence": "frameshift_variant"}, 1, "BRCA2"),
             ({"clinvar": "pathogenic", "impact": "HIGH", "chrom": "13"}, 1, "rs80359550")]
    for args, count, shown in cases:
        fragment = await client.get(url, query_string=args, headers={"HX-Request": "true"})
        text = await fragment.get_data(as_text=True)
        assert f"{count} of 6 variants" in text and shown in text, args
    low = await (await client.get(url, query_string={"impact": "HIGH"})).get_data(as_text=True)
    assert "MT-RNR1" not in low.split('id="results-table"')[1]


async def test_filter_values_not_allowed_are_400(
    client: QuartClient, services: Services, annotator: Annotator, tmp_path: Path
) -> None:
    """An impact, consequence or ClinVar value the filters do not take is a 400 that
    says what they take, on the page and on the TSV export, not a 500 or an empty table."""
    job = await annotated_job(client, services, annotator, tmp_path)
    for path in (f"/annotations/{job.job_id}/results", f"/annotations/{job.job_id}/results.tsv"):
        for args, says in [({"impact": "SEVERE"}, "HIGH, MODERATE, LOW, MODIFIER"),
                           ({"consequence": "bad_variant"}, "Sequence Ontology term"),
                           ({"clinvar": "benign"}, "pathogenic")]:
            response = await client.get(path, query_string=args)
            assert response.status_code == 400, (path, args)
            assert says in await response.get_data(as_text=True)


async def test_export_tsv_has_the_new_columns(
    client: QuartClient, services: Services, annotator: Annotator, tmp_path: Path
) -> None:
    """The TSV has consequence, impact, transcript, HGVSc/HGVSp and ClinVar columns,
    and follows the new filters."""
    job = await annotated_job(client, services, annotator, tmp_path)
    response = await client.get(f"/annotations/{job.job_id}/results.tsv",
                                query_string={"clinvar": "pathogenic"})
    header, *rows = csv.reader(io.StringIO(await response.get_data(as_text=True)), delimiter="\t")
    assert header[-9:] == ["consequence", "impact", "feature", "hgvsc", "hgvsp", "clinvar",
                           "clinvar_disease", "clinvar_ids", "clinvar_review"]
    records = {r["pos"]: r for r in (dict(zip(header, row, strict=True)) for row in rows)}
    assert set(records) == {"7577120", "32914437"}
    assert records["32914437"]["hgvsc"] == "ENST00000380152.8:c.5946del"
    assert records["32914437"]["clinvar_disease"] == (
        "Breast-ovarian cancer, familial, susceptibility to, 2; Hereditary cancer-predisposing syndrome")
    assert records["32914437"]["clinvar_ids"] == "9325"
    assert records["32914437"]["clinvar_review"] == "reviewed by expert panel"
    assert records["7577120"]["feature"] == "ENST00000269305.9"


async def test_results_from_before_consequences_still_render(
    client: QuartClient, services: Services, annotator: Annotator, tmp_path: Path
) -> None:
    """A result whose table has the columns of before and whose summary has no
    consequence counts renders and filters as before: no new columns, filters or plots."""
    job = await completed_job(client, services, annotator)
    assert job.result_bucket and job.summary_key
    objects = services.objects
    await objects.get_file(job.result_bucket, table_key(job), tmp_path / "new.arrow")
    old_names = [n for n in variant_table.SCHEMA.names if n not in {
        "consequence", "impact", "feature", "hgvsc", "hgvsp", "clinvar", "clinvar_disease",
        "clinvar_ids", "clinvar_review", "pathogenic"}]
    old = variant_table.open_table(tmp_path / "new.arrow").select(old_names)
    with pa.OSFile(str(tmp_path / "old.arrow"), "wb") as sink, ipc.new_file(sink, old.schema) as out:
        out.write_table(old)
    await objects.put_file(job.result_bucket, table_key(job), tmp_path / "old.arrow", "x")
    summary = json.loads(await objects.get_bytes(job.result_bucket, job.summary_key))
    summary = {k: v for k, v in summary.items() if k not in SUMMARY}
    await objects.put_bytes(job.result_bucket, job.summary_key, json.dumps(summary).encode(), "x")
    url = f"/annotations/{job.job_id}/results"
    page = await (await client.get(url)).get_data(as_text=True)
    assert "5 of 5 variants" in page and "BRCA1" in page and page.count("<svg") == 3
    assert 'id="impact"' not in page and "HGVSc" not in page and "ClinVar" not in page
    text = await (await client.get(url, query_string={"gene": "tp53"})).get_data(as_text=True)
    assert "1 of 5 variants" in text


async def test_api_variants_filter_like_the_page(
    client: QuartClient, services: Services, annotator: Annotator, tmp_path: Path
) -> None:
    """GET /api/v1/jobs/<id>/variants gives a page of rows with the new columns and
    takes the page's filters; a value a filter does not take is a 400 in the API's
    error shape; another user's job is a 404."""
    job = await annotated_job(client, services, annotator, tmp_path)
    token = await users.create_token(services.db, job.user_id)
    url = f"/api/v1/jobs/{job.job_id}/variants"
    answer = await client.get(url, query_string={"clinvar": "pathogenic", "impact": "HIGH"},
                              headers=bearer(token))
    assert answer.status_code == 200
    body = await answer.get_json()
    assert (body["total"], body["all_rows"], body["pages"]) == (2, 6, 1)
    by_pos = {v["pos"]: v for v in body["variants"]}
    assert by_pos[7577120]["hgvsp"] == "ENSP00000269305.4:p.Arg273Ter"
    assert by_pos[32914437]["clinvar"] == "Pathogenic" and by_pos[32914437]["impact"] == "HIGH"
    assert by_pos[32914437]["clinvar_review"] == "reviewed by expert panel"
    one = await (await client.get(url, query_string={"consequence": "synonymous_variant"},
                                  headers=bearer(token))).get_json()
    assert [v["feature"] for v in one["variants"]] == ["ENST00000357654.9"]
    bad = await client.get(url, query_string={"impact": "SEVERE"}, headers=bearer(token))
    assert bad.status_code == 400
    assert "HIGH, MODERATE, LOW, MODIFIER" in (await bad.get_json())["error"]["message"]
    _, other = await make_user(services)
    assert (await client.get(url, headers=bearer(other))).status_code == 404


async def test_locus_filter_clear_filters_and_what_a_bad_locus_says(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """The Locus filter takes a range, a chromosome or a gene; 'Clear filters' shows
    only when a filter is on and keeps the sort; a locus it cannot read is said
    beside the table (in the HTMX fragment, which HTMX swaps only on a 2xx; a whole
    page is a 400), the rows shown without it; the TSV export and the API refuse it
    with a 400."""
    job = await completed_job(client, services, annotator)
    url = f"/annotations/{job.job_id}/results"
    hx = {"HX-Request": "true"}
    for typed, count in (("17:7,000,000-41,245,466", 2), ("chr17", 3), ("brca1", 2), ("MT", 1)):
        text = await (await client.get(url, query_string={"locus": typed}, headers=hx)).get_data(as_text=True)
        assert f"{count} of 5 variants" in text, typed
    filtered = await (await client.get(url, query_string={"locus": "17", "sort": "genes"},
                                       headers=hx)).get_data(as_text=True)
    assert f'href="{url}?sort=genes">Clear filters</a>' in filtered
    unfiltered = await (await client.get(url, query_string={"sort": "genes"},
                                         headers=hx)).get_data(as_text=True)
    assert "Clear filters" not in unfiltered

    bad = await client.get(url, query_string={"locus": "17:9-1x", "chrom": "MT"}, headers=hx)
    assert bad.status_code == 200
    text = await bad.get_data(as_text=True)
    assert 'role="alert"' in text and "The Locus filter takes a range" in text and "&#39;17:9-1x&#39;" in text
    assert "1 of 5 variants" in text and "Clear filters" in text
    page = await client.get(url, query_string={"locus": "17:9-1x"})
    assert page.status_code == 400
    assert 'value="17:9-1x"' in await page.get_data(as_text=True)
    export = await client.get(f"{url}.tsv", query_string={"locus": "17:9-1x"})
    assert export.status_code == 400 and "Locus filter" in await export.get_data(as_text=True)
    token = await users.create_token(services.db, job.user_id)
    api = await client.get(f"/api/v1/jobs/{job.job_id}/variants", query_string={"locus": "<b>"},
                           headers=bearer(token))
    assert api.status_code == 400 and "Locus filter" in (await api.get_json())["error"]["message"]
    by_gene = await client.get(f"/api/v1/jobs/{job.job_id}/variants", query_string={"locus": "TP53"},
                               headers=bearer(token))
    assert [v["pos"] for v in (await by_gene.get_json())["variants"]] == [7577120]


async def test_tsv_export_is_named_for_the_input_and_writes_booleans_as_true_false(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """The TSV downloads as <input stem>.variants.tsv (not the job's id), and its
    boolean column reads true/false, as R, pandas and spreadsheets read booleans."""
    job = await completed_job(client, services, annotator)
    response = await client.get(f"/annotations/{job.job_id}/results.tsv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="sample.variants.tsv"'
    header, *rows = csv.reader(io.StringIO(await response.get_data(as_text=True)), delimiter="\t")
    flags = [row[header.index("in_dbsnp")] for row in rows]
    print("in_dbsnp cells:", flags)
    assert flags and set(flags) <= {"true", "false"}


def bcftools_records(path: Path) -> list[str]:
    """The records Debian's bcftools reads from a (bgzipped) VCF."""
    view = subprocess.run(["bcftools", "view", "-H", str(path)], capture_output=True, text=True, check=False)
    assert view.returncode == 0, view.stderr
    return view.stdout.splitlines()


async def _vcf_export(client: QuartClient, job: Job, **filters: str) -> tuple[Response, bytes]:
    response = await client.get(f"/annotations/{job.job_id}/results.vcf.gz", query_string=filters)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return response, await response.get_data()


async def test_vcf_export_is_the_filtered_records_with_gas_header_in_position_order(
    client: QuartClient, services: Services, annotator: Annotator, tmp_path: Path
) -> None:
    """The VCF export, named <input stem>.filtered.vcf.gz, is BGZF that bcftools reads:
    the stored result's header lines and the filtered rows' records exactly as stored,
    in position order even when the table is sorted another way; bcftools counts as
    many records as the page says match."""
    job = await completed_job(client, services, annotator)
    assert job.result_bucket and job.result_key
    stored = (await services.objects.get_bytes(job.result_bucket, job.result_key)).decode()
    header = [line for line in stored.splitlines() if line.startswith("#")]
    records = [line for line in stored.splitlines() if line and not line.startswith("#")]
    url = f"/annotations/{job.job_id}/results"
    for filters in ({}, {"chrom": "17", "sort": "pos", "dir": "desc"}, {"gene": "brca1", "sort": "genes"},
                    {"chrom": "no-such"}):
        page = await (await client.get(url, query_string={**filters, "page": "1"})).get_data(as_text=True)
        count = int(page.split(' of 5 variants')[0].rsplit(">", 1)[-1].strip().replace(",", ""))
        response, data = await _vcf_export(client, job, **filters)
        assert response.headers["Content-Disposition"] == 'attachment; filename="sample.filtered.vcf.gz"'
        assert data.endswith(bgzf.EOF)
        path = tmp_path / "export.vcf.gz"
        path.write_bytes(data)
        read = await asyncio.to_thread(bcftools_records, path)
        lines = gzip.decompress(data).decode().splitlines()
        exported = [line for line in lines if not line.startswith("#")]
        print(f"{filters}: page count {count}, bcftools records {len(read)}")
        assert len(read) == count == len(exported)
        assert [line for line in lines if line.startswith("#")] == header
        # The stored records, in their (position-sorted) file order.
        assert exported == [record for record in records if record in exported]
    _, chr17 = await _vcf_export(client, job, chrom="17", sort="pos", dir="desc")
    assert [line.split("\t")[1] for line in gzip.decompress(chr17).decode().splitlines()
            if not line.startswith("#")] == ["7577120", "41245466", "41246000"]


def test_bgzf_blocks_are_gzip_members_of_at_most_64k() -> None:
    """Each block is a gzip member with the BC extra field holding its size, the data
    decompresses whole (across blocks, incompressible data too), and the file ends
    with the empty EOF block."""
    data = bytes(range(256)) * 300 + os.urandom(200_000)
    out = b"".join(bgzf.compress([data[:1000], data[1000:]], level=6))
    assert gzip.decompress(out) == data
    at, sizes = 0, []
    while at < len(out):
        assert out[at:at + 4] == b"\x1f\x8b\x08\x04" and out[at + 12:at + 16] == b"BC\x02\x00"
        size = int.from_bytes(out[at + 16:at + 18], "little") + 1
        sizes.append(size)
        at += size
    assert at == len(out) and max(sizes) <= 65536 and out.endswith(bgzf.EOF)


async def test_vcf_export_of_an_unsorted_input_is_position_sorted(
    client: QuartClient, services: Services, annotator: Annotator, tmp_path: Path
) -> None:
    """An input whose records came out of order exports them in position order (a VCF
    must be sorted; bcftools index would refuse it otherwise), each record as stored."""
    head, body = VCF.split("#CHROM", 1)
    header_line, *lines = ("#CHROM" + body).splitlines(keepends=True)
    job = await completed_job(client, services, annotator, head + header_line + "".join(reversed(lines)))
    _, data = await _vcf_export(client, job)
    path = tmp_path / "unsorted.vcf.gz"
    path.write_bytes(data)
    where = [tuple(line.split("\t")[:2]) for line in await asyncio.to_thread(bcftools_records, path)]
    print("exported order:", where)
    assert where == [("1", "1000000"), ("17", "7577120"), ("17", "41245466"), ("17", "41246000"),
                     ("MT", "750")]


def _bar_links(html: str) -> dict[str, str]:
    """Each plot bar's accessible name and address."""
    found = re.findall(r'<a href="([^"]+)" aria-label="([^"]+)" class="chart-link">', html)
    return {name: unescape(href) for href, name in found}


async def test_plots_count_the_filtered_rows_and_a_bar_sets_its_filter(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """The plots count the rows the filters keep, on the page and in the table's swap
    (out of band, as they stand outside the table); each bar is a link named for the
    filter it sets and its count, and following it shows that many rows."""
    job = await completed_job(client, services, annotator)
    url = f"/annotations/{job.job_id}/results"
    bars = _bar_links(await (await client.get(url)).get_data(as_text=True))
    print("bars, unfiltered:", sorted(bars))
    assert "Filter to chromosome 17 (3 variants)" in bars and "Filter to chromosome MT (1 variant)" in bars
    assert "Filter to gene BRCA1 (2 variants)" in bars
    swap = await (await client.get(url, query_string={"chrom": "17"}, headers={"HX-Request": "true"})
                  ).get_data(as_text=True)
    assert 'id="plots" class="plots" aria-live="polite" hx-swap-oob="true"' in swap
    filtered = _bar_links(swap)
    print("bars, chromosome 17:", sorted(filtered))
    assert [name for name in filtered if "chromosome" in name] == ["Filter to chromosome 17 (3 variants)"]
    assert "Filter to gene BRCA1 (2 variants)" in filtered and not any("MT-" in name for name in filtered)
    for name, href in bars.items():
        count = int(re.search(r"\(([\d,]+) ", name).group(1).replace(",", ""))  # type: ignore[union-attr]
        page = await (await client.get(href)).get_data(as_text=True)
        shown = int(re.search(r"([\d,]+) of 5 variants", page).group(1).replace(",", ""))  # type: ignore[union-attr]
        # An impact bar counts that impact; its filter keeps the more severe too.
        assert shown == count or ("or more severe" in name and shown > count), (name, href, shown)


async def test_vcf_exports_at_once_are_limited(
    client: QuartClient, services: Services, annotator: Annotator
) -> None:
    """While two VCF exports are being made in this process, a third is a 503 that
    says to come back (Retry-After), not a third core's worth of compression."""
    job = await completed_job(client, services, annotator)
    async with results._VCF_EXPORTS, results._VCF_EXPORTS:
        # Without the limit the export would wait for a turn: fail, not hang.
        busy = await asyncio.wait_for(client.get(f"/annotations/{job.job_id}/results.vcf.gz"), 10)
        print("while two run:", busy.status_code, busy.headers.get("Retry-After"))
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "60"
    _, data = await _vcf_export(client, job)
    assert gzip.decompress(data).decode().count("\n") > 5

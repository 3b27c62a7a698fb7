"""REF checked against the genome sequence: GAS_REF_MISMATCH on the records that disagree,
counted in the summary and the log; N and IUPAC codes never disagree; contigs without a
sequence are not checked."""

from __future__ import annotations

from pathlib import Path

from annotator.engine import annotate_file

from .conftest import Result, read_output, sample, vcf

# GRCh37 20:1,000,000-1,000,009 is GTGGGAGAGA (zcat 20.fa.gz); chr20 starts with N;
# the rCRS (MT) starts GATCACAGG.
ROWS = (
    "20 1000000 ok1 G A . . .",
    "20 1000001 bad1 C T . . DP=5",
    "20 1000002 ok2 GGGA G . . .",
    "chr20 1000002 bad2 GGGT G . . .",
    "20 1 n_genome A C . . .",
    "20 1000003 n_ref N A . . .",
    "20 1000004 iupac R A . . .",
    "20 1000005 lower a g . . .",
    "MT 1 ok3 G A . . .",
    "MT 2 bad3 C T . . AC=1",
    "1 12345 unchecked A T . . .",
)


def _run(root: Path, tmp_path: Path, text: str) -> Result:
    src, out, log = tmp_path / "in.vcf", tmp_path / "out.vcf", tmp_path / "run.log"
    src.write_text(text)
    summary = annotate_file(src, out, reference_root=root, log_path=log)
    header, records = read_output(out)
    return Result(summary, header, records, log.read_text(), out)


def test_mismatches_flagged_and_counted_on_chr20_and_rcrs(chr20_root: Path, tmp_path: Path) -> None:
    """Against chr20 (vt-examples) and the rCRS: the three records whose REF is not the
    genome's are flagged and counted; N, IUPAC and lower case are not mismatches; chr1,
    without a sequence, is not checked."""
    got = _run(chr20_root, tmp_path, vcf(*ROWS))
    flagged = [r[2] for r in got.records if "GAS_REF_MISMATCH" in r[7].split(";")]
    assert flagged == ["bad1", "bad2", "bad3"]
    assert got.summary["ref_mismatch"] == 3
    assert got.summary["ref_checked"] == 10
    assert any(h.startswith("##INFO=<ID=GAS_REF_MISMATCH,Number=0,Type=Flag") for h in got.header)
    assert "REF checked against the GRCh37 sequence: 10 records, 3 differ" in got.log
    assert "first at line 4, 6, 12" in got.log
    # The flag joins the INFO text like any other key, after what the record had.
    info = {r[2]: r[7] for r in got.records}
    assert info["bad1"].startswith("DP=5;GAS_REF_MISMATCH;GAS_BUILD=GRCh37;")
    assert info["bad2"].startswith("GAS_REF_MISMATCH;GAS_BUILD=GRCh37;")
    assert info["bad3"].startswith("AC=1;GAS_REF_MISMATCH;GAS_BUILD=GRCh37;")
    assert "GAS_REF_MISMATCH" not in info["ok1"]


def test_only_the_rcrs_by_default(annotate) -> None:  # type: ignore[no-untyped-def]
    """The default install checks MT against the packaged rCRS and nothing else."""
    got = annotate(vcf(*ROWS))
    flagged = [r[2] for r in got.records if "GAS_REF_MISMATCH" in r[7]]
    assert flagged == ["bad3"]
    assert (got.summary["ref_checked"], got.summary["ref_mismatch"]) == (2, 1)


def test_free_1_is_rcrs_without_a_mismatch(annotate) -> None:  # type: ignore[no-untyped-def]
    """free_1.vcf is rCRS: all 1,141 records are checked and none differs (bcftools norm
    --check-ref agrees)."""
    got = annotate(sample("free_1.vcf"))
    assert (got.summary["ref_checked"], got.summary["ref_mismatch"]) == (1141, 0)
    assert not any("GAS_REF_MISMATCH" in r[7] for r in got.records)

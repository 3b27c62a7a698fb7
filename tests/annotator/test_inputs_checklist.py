"""The issue's checklist of inputs people really send, one test each where other files lack one,
and a fuzz test: nothing a file contains may crash the engine (only VcfError is allowed)."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from annotator.engine import VcfError, annotate_file

from .conftest import vcf

needs_bcftools = pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.mark.parametrize("version", ["VCFv3.3", "VCFv4.0", "VCFv4.1", "VCFv4.2", "VCFv4.3"])
def test_every_vcf_version_is_annotated(annotate, version):
    """v3.3 to v4.3 headers are read; the output always declares a version bcftools accepts."""
    r = annotate(vcf("17 41245000 . A G 50 PASS DP=3", header=f"##fileformat={version}\n{COLUMNS}"))
    assert r.info(0)["GAS_GENE"] == "BRCA1"
    assert r.summary["input"]["fileformat"] == version
    assert r.header[0] == (f"##fileformat={version}" if version >= "VCFv4.0" else "##fileformat=VCFv4.2")


@needs_bcftools
def test_real_bgzip_input(annotate, tmp_path):
    """A BGZF file written by htslib (bcftools -Oz), blocks and EOF marker included, is read."""
    plain = tmp_path / "plain.vcf"
    plain.write_text(vcf(*(f"17 {41245000 + i} . A G . . ." for i in range(3000))))
    bgz = tmp_path / "in.vcf.gz"
    subprocess.run(["bcftools", "view", "-Oz", "-o", str(bgz), str(plain)], check=True, capture_output=True)
    assert bgz.read_bytes()[12:16] == b"BC\x02\x00", "BGZF extra field"
    r = annotate(bgz)
    assert r.summary["variant_count"] == 3000
    assert r.summary["input"]["compressed"] is True
    assert r.info(2999)["GAS_GENE"] == "BRCA1"


def test_lone_cr_line_ends(annotate):
    """Old Mac line ends (CR only) are read as line ends."""
    r = annotate(vcf("17 41245000 . A G . . .", "1 461 . C T . . .").replace("\n", "\r").encode())
    assert r.summary["variant_count"] == 2
    assert r.info(0)["GAS_GENE"] == "BRCA1"


def test_breakends_and_symbolic_alleles(annotate):
    """Breakends (G]17:198982], ]13:123456]T, .A, G.) and <INS>/<*> are kept verbatim and counted symbolic."""
    alts = ["G]17:198982]", "]13:123456]T", "C[2:321682[", "<INS>", "<*>"]
    r = annotate(vcf(*(f"17 41245000 bnd{i} G {alt} . . SVTYPE=BND" for i, alt in enumerate(alts))))
    assert [rec[4] for rec in r.records] == alts
    assert r.summary["symbolic"] == len(alts)
    assert all(r.info(i)["GAS_GENE"] == "BRCA1" for i in range(len(alts)))


def test_empty_info_and_id_columns(annotate):
    """An empty INFO gets the annotation without a leading ';'; an empty ID is filled with the rsID."""
    r = annotate(vcf("1\t949654\t\tA\tG\t.\t.\t"))
    assert r.records[0][2] == "rs8997"
    assert r.records[0][7].startswith("GAS_")
    assert r.info(0)["GAS_RSID"] == "rs8997"


def test_non_utf8_bytes_pass_through(annotate):
    """Latin-1 bytes in INFO and in a contig name are carried through unchanged, not crashed on."""
    header = "##fileformat=VCFv4.2\n##comment=caf\xe9\n" + COLUMNS
    rows = "17\t41245000\t.\tA\tG\t.\t.\tNOTE=caf\xe9\nchr\xe9\t5\t.\tA\tG\t.\t.\t.\n"
    data = (header + rows).encode("latin-1")
    r = annotate(data)
    out = r.path.read_bytes()
    assert b"NOTE=caf\xe9;GAS_" in out
    assert b"\nchr\xe9\t5\t" in out
    assert b"##comment=caf\xe9\n" in out
    assert r.summary["variant_count"] == 2


def test_a_line_longer_than_a_read_block(annotate):
    """One record with a 5 MB INFO value (larger than a read block) is read whole."""
    big = "X=" + "A" * 5_000_000
    r = annotate(vcf("17 41245000 . A G . . " + big, "1 461 . C T . . ."))
    assert r.summary["variant_count"] == 2
    assert r.info(0)["X"] == big[2:]
    assert r.info(0)["GAS_GENE"] == "BRCA1"


def test_contig_lengths_and_assembly_decide_the_build(annotate):
    """Without ##reference, ##contig lengths (GRCh37's chr1) or ##assembly name the build used."""
    contig = "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n" + COLUMNS
    by_length = annotate(vcf("1 949654 . A G . . .", header=contig))
    assert by_length.summary["build"]["declared"] == "GRCh37"
    assert "length=249250621" in by_length.summary["build"]["evidence"]
    assembly = "##fileformat=VCFv4.2\n##assembly=hg19\n" + COLUMNS
    by_assembly = annotate(vcf("1 949654 . A G . . .", header=assembly))
    assert by_assembly.summary["build"]["declared"] == "GRCh37"
    assert "assumed" not in by_assembly.summary["build"]["note"]


def test_gzip_header_only_file_completes(annotate):
    """A gzipped file with only a header is a completed run with 0 variants."""
    r = annotate(gzip.compress(vcf(header="##fileformat=VCFv4.2\n" + COLUMNS).encode()))
    assert r.summary["variant_count"] == 0
    assert r.records == []


def _mutations(seed_text: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed_text)
    kind = rng.randrange(8)
    if kind == 0:  # flip random bytes
        for _ in range(rng.randrange(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1:  # cut anywhere
        del data[rng.randrange(len(data)) :]
    elif kind == 2:  # insert random bytes
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 50)))
    elif kind == 3:  # duplicate or drop TABs
        for _ in range(rng.randrange(1, 5)):
            tabs = [i for i, b in enumerate(data) if b == 9]
            at = rng.choice(tabs)
            data[at : at + 1] = b"\t\t" if rng.random() < 0.5 else b""
    elif kind == 4:  # absurd numbers
        return bytes(data).replace(b"41245000", str(rng.choice([0, -1, 2**31, 2**64, 10**30])).encode(), 1)
    elif kind == 5:  # gzip a mutated file, or corrupt a gzipped one
        packed = bytearray(gzip.compress(bytes(data)))
        packed[rng.randrange(10, len(packed))] ^= 0xFF
        return bytes(packed)
    elif kind == 6:  # swap line ends
        return bytes(data).replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n", b" \n"]))
    else:  # odd characters in fields
        return bytes(data).replace(b"\tA\t", rng.choice([b"\t<\t", b"\t[\t", b"\t,\t", b"\t;\t", b"\t\t"]), 1)
    return bytes(data)


def test_fuzzed_inputs_never_crash(tmp_path: Path, reference_root):
    """Hundreds of mangled files: each is annotated, or refused with VcfError; no other exception."""
    seed = vcf(
        "17 41245000 rs1 A G,T 50 PASS DP=3;END=41245010 GT:DP 0/1:4",
        "chr1 949654 . A G . . . GT 1/1",
        "MT 700 . A <DEL> . . SVTYPE=DEL;END=800 GT 0/1",
        "X 100000 . C G]17:198982] . . . GT 0|1",
        header=f"##fileformat=VCFv4.2\n##reference=GRCh37\n{COLUMNS[:-1]}\tFORMAT\tS1\n",
    ).encode()
    rng = random.Random(20260)
    outcomes = {"annotated": 0, "refused": 0}
    for case in range(300):
        src = tmp_path / f"fuzz{case}.vcf"
        src.write_bytes(_mutations(seed, rng))
        try:
            skip = case % 2 == 0
            annotate_file(src, tmp_path / "out.vcf", reference_root=reference_root, skip_bad_lines=skip)
            outcomes["annotated"] += 1
        except VcfError:
            outcomes["refused"] += 1
    assert outcomes["annotated"] > 50 and outcomes["refused"] > 20, outcomes


def test_failed_runs_leave_no_thread_behind(tmp_path, reference_root):
    """A worker process runs many jobs: a run failing half-way stops its reader and writer threads."""
    import threading

    rows = [f"1\t{1000 + i}\t.\tA\tG\t.\t.\t." for i in range(200_000)] + ["1\tabc\t.\tA\tG\t.\t.\t."]
    src = tmp_path / "bad.vcf"
    src.write_text("##fileformat=VCFv4.2\n" + COLUMNS + "\n".join(rows) + "\n")
    before = threading.active_count()
    for _ in range(3):
        with pytest.raises(VcfError, match="line 200003"):
            annotate_file(src, tmp_path / "out.vcf", reference_root=reference_root)
    assert threading.active_count() == before
    assert not (tmp_path / "out.vcf").exists()

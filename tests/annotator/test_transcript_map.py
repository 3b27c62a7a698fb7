"""A transcript's coordinate systems (the synthetic models of synthetic_genome.py)."""

from __future__ import annotations

from annotator.transcript_map import transcript_map
from annotator.transcripts import Transcript

from .synthetic_genome import EXON1, EXON2, EXON3, FETCH, PRE_MRNA_M, TXM, TXN, TXP


def test_cdna_on_both_strands() -> None:
    """cDNA counts from the transcript's 5' end across exons; introns and flanks have none."""
    plus, minus = transcript_map(TXP), transcript_map(TXM)
    assert (plus.cdna(61), plus.cdna(90), plus.cdna(131), plus.cdna(240)) == (1, 30, 31, 100)
    assert plus.cdna(91) is None and plus.cdna(60) is None
    # Minus strand: genomic 475 is t1; exon 2 (genomic 401-425) follows exon 1's 20 bases.
    assert (minus.cdna(475), minus.cdna(456), minus.cdna(425), minus.cdna(401)) == (1, 20, 21, 45)
    assert (plus.cds_start, plus.cds_end) == (11, 61)
    assert (minus.cds_start, minus.cds_end) == (9, 38)


def test_hgvs_positions() -> None:
    """c. numbering with UTR prefixes and intron offsets from the nearer exon, on both strands."""
    plus, minus, noncoding = transcript_map(TXP), transcript_map(TXM), transcript_map(TXN)
    assert [plus.hgvs_position(g) for g in (61, 71, 90, 91, 130, 131, 202)] == [
        "-10", "1", "20", "20+1", "21-1", "21", "*1",
    ]  # fmt: skip
    # Intron 1 (91-130): 110 is 20 after exon 1's end and 21 before exon 2's start.
    assert (plus.hgvs_position(110), plus.hgvs_position(111)) == ("20+20", "21-20")
    # Minus strand: the intron's genomic high end (455) follows exon 1 (c.12) on the transcript.
    assert [minus.hgvs_position(g) for g in (467, 456, 455, 426, 425, 407)] == [
        "1", "12", "12+1", "13-1", "13", "*1",
    ]  # fmt: skip
    assert noncoding.hgvs_position(91) == "30+1"


def test_spliced_sequence_and_missing_genome() -> None:
    """The spliced transcript 5' to 3'; b"" when the genome does not hold all of it."""
    assert transcript_map(TXP).sequence(FETCH).decode() == EXON1 + EXON2 + EXON3
    minus_exons = PRE_MRNA_M[:20] + PRE_MRNA_M[50:]
    assert transcript_map(TXM).sequence(FETCH).decode() == minus_exons
    far = Transcript(**{**TXP.__dict__, "exons": ((590, 600), (650, 700))})
    assert transcript_map(far).sequence(FETCH) == b""


def test_maps_are_cached_per_transcript_object() -> None:
    """The same Transcript object reuses its map; an equal but distinct one gets its own."""
    assert transcript_map(TXP) is transcript_map(TXP)
    twin = Transcript(**TXP.__dict__)
    assert transcript_map(twin) is not transcript_map(TXP)
    assert transcript_map(twin).tx is twin

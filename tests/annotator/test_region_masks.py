"""GAS_REGION's splice-site and UTR classes, from each transcript's own exons and CDS (GRCh37)."""

from __future__ import annotations

from .conftest import vcf


def test_par_utrs_on_y_are_utrs(annotate):
    """PLCXD1's 5' and 3' UTRs are UTRs on chrY's PAR copy as on chrX's (grouping
    by gene name spanned X and Y, and the Y copies fell to noncoding_exon)."""
    r = annotate(
        vcf(
            "X 193000 . A G . . .",  # PLCXD1 first exon, before its CDS (plus strand)
            "Y 143000 . A G . . .",  # the same base of the chrY copy (50 kb lower)
            "X 216100 . A G . . .",  # PLCXD1 last exon, past its stop codon
            "Y 166100 . A G . . .",
        )
    )
    assert [r.info(i)["GAS_REGION"] for i in range(4)] == ["UTR5", "UTR5", "UTR3", "UTR3"]


def test_exon_edge_that_ends_another_transcript_is_a_splice_site(annotate):
    """KDM6A's exon ending at chrX:44,879,975 is followed by an intron in its
    full-length transcripts, though a short transcript ends there: the two
    intronic bases after it are a splice donor."""
    r = annotate(vcf("X 44879976 . A G . . .", "X 44879977 . A G . . .", "X 44879978 . A G . . ."))
    assert [r.info(i)["GAS_REGION"] for i in range(3)] == ["splice_site", "splice_site", "intron"]


def test_transcript_first_and_last_bases_are_no_splice_site(annotate):
    """Where a transcript starts or ends there is no intron: BRCA1's outer ends
    (41,196,312 and 41,277,500 for its longest transcripts) are UTR, not splice."""
    r = annotate(vcf("17 41196312 . A G . . .", "17 41277500 . A G . . ."))
    assert [r.info(i)["GAS_REGION"] for i in range(2)] == ["UTR3", "UTR5"]

"""Lift-over of NCBI36 input to GRCh37 as written in the output: positions, END, contig names."""

from __future__ import annotations

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

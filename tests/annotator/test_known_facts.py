"""Known biology on GRCh37 (GENCODE v19, UCSC cytoBand, dbSNP common SNPs)."""

from __future__ import annotations

from .conftest import sample, vcf


def test_brca1_coding_variant(annotate):
    """A variant inside BRCA1's big exon gets BRCA1, CDS, 17q21.31 and the build."""
    r = annotate(vcf("17 41245000 . A G . . ."))
    info = r.info(0)
    assert info["GAS_GENE"] == "BRCA1"
    assert info["GAS_GTYPE"] == "protein_coding"
    assert info["GAS_REGION"] == "CDS"
    assert info["GAS_BAND"] == "17q21.31"
    assert info["GAS_BUILD"] == "GRCh37"


def test_brca1_gene_edges(annotate):
    """Gene overlap is 1-based and closed: BRCA1 spans 41,196,312-41,277,500 exactly."""
    r = annotate(vcf(*(f"17 {p} . A G . . ." for p in (41196311, 41196312, 41277500, 41277501))))
    genes = [r.info(i).get("GAS_GENE") for i in range(4)]
    assert genes == [None, "BRCA1", "BRCA1", None]


def test_region_class_priority(annotate):
    """Each region class lands where GENCODE v19 puts BRCA1/TP53 features (minus strand genes)."""
    r = annotate(
        vcf(
            "17 41196400 . A G . . .",  # 3' UTR: BRCA1 is on the minus strand, 3' end is low
            "17 41277400 . A G . . .",  # first (non-coding) exon: 5' UTR
            "17 41243451 . A G . . .",  # 1 bp before exon 11's start, inside the intron
            "17 41250000 . A G . . .",  # intron
            "17 41277560 . A G . . .",  # between BRCA1 and NBR2 (head to head): upstream
            "17 7564000 . A G . . .",  # 1,097 bp past TP53's 3' end: downstream
        )
    )
    classes = [r.info(i)["GAS_REGION"] for i in range(6)]
    assert classes == ["UTR3", "UTR5", "splice_site", "intron", "upstream", "downstream"]
    assert r.info(4)["GAS_NEAREST"] == "BRCA1" and r.info(4)["GAS_DIST"] == "60"
    assert r.info(5)["GAS_NEAREST"] == "TP53" and r.info(5)["GAS_DIST"] == "1097"


def test_upstream_window_is_a_parameter(annotate):
    """With a 50 bp promoter window, a variant 60 bp from BRCA1 becomes intergenic."""
    r = annotate(vcf("17 41277560 . A G . . ."), upstream_window=50)
    assert r.info(0)["GAS_REGION"] == "intergenic"
    assert r.summary["reference"]["upstream_window"] == 50


def test_intergenic_nearest_gene(annotate):
    """An intergenic variant carries the nearest gene and its distance (DDX11L1 starts at 11,869)."""
    r = annotate(vcf("1 461 . A G . . ."))
    info = r.info(0)
    assert info["GAS_REGION"] == "intergenic"
    assert "GAS_GENE" not in info
    assert (info["GAS_NEAREST"], info["GAS_DIST"]) == ("DDX11L1", "11408")
    assert info["GAS_BAND"] == "1p36.33"


def test_dbsnp_match_fills_id(annotate):
    """rs8997 (chr1:949,654 A>G) is found by position + alleles, and fills an empty ID."""
    r = annotate(vcf("1 949654 . A G . . .", "1 949654 . A T . . .", "1 949654 myid A G . . ."))
    assert r.records[0][2] == "rs8997"
    assert r.info(0)["GAS_RSID"] == "rs8997"
    assert "GAS_RSID" not in r.info(1), "a different ALT is not that SNP"
    assert r.records[1][2] == "."
    assert r.records[2][2] == "myid", "an existing ID is kept"
    assert r.summary["in_dbsnp"] == 2
    assert r.summary["dbsnp_share"] == round(2 / 3, 4)


def test_dbsnp_per_allele_and_lowercase(annotate):
    """Multi-allelic records get one rsID slot per ALT; lowercase bases still match."""
    r = annotate(vcf("1 949654 . a t,g . . ."))
    assert r.info(0)["GAS_RSID"] == ".,rs8997"
    assert r.records[0][2] == "rs8997"


def test_cpg_island_flag(annotate):
    """ISG15's promoter CpG island is flagged; an intergenic desert is not."""
    r = annotate(vcf("1 949654 . A G . . .", "1 461 . A G . . ."))
    assert "GAS_CPG" in r.info(0)
    assert "GAS_CPG" not in r.info(1)


def test_mitochondrial_names(annotate):
    """MT, M, chrM and chrMT all reach GENCODE's rCRS mitochondrion (MT-RNR1 is 648-1601)."""
    r = annotate(vcf(*(f"{c} 700 . A G . . ." for c in ("MT", "M", "chrM", "chrMT"))))
    for i in range(4):
        assert r.info(i)["GAS_GENE"] == "MT-RNR1"
    assert "rCRS" in r.summary["build"]["note"]


def test_ucsc_hg19_chrm_is_flagged(annotate):
    """A chrM declared 16,571 bp long is UCSC's NC_001807, not rCRS: the log says so."""
    header = (
        "##fileformat=VCFv4.2\n##contig=<ID=chrM,length=16571>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    r = annotate(vcf("chrM 700 . A G . . .", header=header))
    assert "NC_001807" in r.log
    assert "NC_001807" in r.summary["build"]["note"]


def test_chr_prefix_is_optional(annotate):
    """chr17 and 17 annotate identically (and keep the name the user wrote)."""
    r = annotate(vcf("chr17 41245000 . A G . . .", "17 41245000 . A G . . ."))
    assert r.records[0][0] == "chr17"
    assert r.info(0) == r.info(1)


def test_free_1_mitochondrial_sample(annotate):
    """free_1.vcf (rCRS) lands on MT genes: variants in 648-1601 are MT-RNR1."""
    r = annotate(sample("free_1.vcf"))
    assert r.summary["build"]["used"] == "GRCh37"
    assert r.summary["variant_count"] == 1141
    in_rnr1 = [i for i, rec in enumerate(r.records) if 648 <= int(rec[1]) <= 1601]
    assert in_rnr1
    assert all(r.info(i)["GAS_GENE"] == "MT-RNR1" for i in in_rnr1)
    assert r.summary["per_chromosome"] == {"MT": 1141}
    assert dict(r.summary["top_genes"])["MT-RNR1"] == len(in_rnr1)

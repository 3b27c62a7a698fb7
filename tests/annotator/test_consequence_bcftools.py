"""The consequence calculator against an independent oracle: `bcftools csq` on the same models and sequence.

The synthetic transcripts are written as an Ensembl-style GFF3 and the contig as
FASTA; bcftools' terms are mapped to VEP's vocabulary (its splice_region covers
VEP's finer donor-region/5th-base terms, it names only the most severe splice
term and no intron term beside it, it has no up/downstream terms). VEP and
bcftools also differ by design on a few indels: those are listed, each with why.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from annotator.consequence import effect
from annotator.transcripts import Transcript

from .synthetic_genome import FETCH, GENOME, TXM, TXP
from .test_consequence import CASES

pytestmark = pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools is not installed")

TRANSCRIPTS = (TXP, TXM)

TO_BCFTOOLS = {
    "missense_variant": "missense",
    "synonymous_variant": "synonymous",
    "stop_gained": "stop_gained",
    "stop_lost": "stop_lost",
    "start_lost": "start_lost",
    "start_retained_variant": "start_retained",
    "stop_retained_variant": "stop_retained",
    "frameshift_variant": "frameshift",
    "inframe_insertion": "inframe_insertion",
    "inframe_deletion": "inframe_deletion",
    "splice_donor_variant": "splice_donor",
    "splice_acceptor_variant": "splice_acceptor",
    "splice_region_variant": "splice_region",
    "splice_donor_5th_base_variant": "splice_region",
    "splice_donor_region_variant": "splice_region",
    "5_prime_UTR_variant": "5_prime_utr",
    "3_prime_UTR_variant": "3_prime_utr",
    "intron_variant": "intron",
    "coding_sequence_variant": "coding_sequence",
    "incomplete_terminal_codon_variant": "incomplete_terminal_codon",
}

# Indels where VEP's rules and bcftools' differ by design; everything else must agree.
KNOWN = {
    # VEP's splice_region reaches -8 (the deletion's last base: 123 before exon 2, 183 before exon 3);
    # bcftools tests the deletion's left-aligned first base only.
    ("TXP", 120, "TCCT", "T"),
    ("TXP", 180, "TCCT", "T"),
    # VEP keeps the deletion where the VCF puts it (434, -9: intronic only); bcftools left-aligns
    # it to 433 (-8: splice region).
    ("TXM", 433, "AA", "A"),
    ("TXM", 433, "AAGA", "A"),
    # TAC -> TAG CAC: VEP's inframe_insertion needs the alt peptide (*H) to keep the ref one (Y).
    ("TXP", 139, "A", "AGCA"),
    # TAC AAA -> TAA: VEP calls the new stop stop_gained beside inframe_deletion; bcftools does not.
    ("TXP", 139, "ACAA", "A"),
    # AAA AAA -> AAA: VEP sees KK -> K only; bcftools right-shifts the deletion against the stop.
    ("TXP", 141, "AAAA", "A"),
    # ATG GCC -> ACC: VEP's start_lost excludes in-frame indels (inframe_deletion); bcftools: start_lost.
    ("TXP", 71, "ATGG", "A"),
    # ATG -> ATG CAG: VEP sees the start kept (start_retained_variant); bcftools: start_lost.
    ("TXP", 72, "T", "TGCA"),
}


def known_among(records: list[tuple[int, str, str]]) -> set[tuple[str, int, str, str]]:
    return {k for k in KNOWN if k[1:] in set(records)}


def gff3(transcripts: tuple[Transcript, ...], contig: str) -> str:
    """An Ensembl-style GFF3 of the models: gene, mRNA, exons, UTRs, CDS with its phase."""
    lines = ["##gff-version 3"]
    for tx in transcripts:
        strand = "+" if tx.strand > 0 else "-"

        def row(kind: str, start: int, end: int, attrs: str, phase: str = ".", s: str = strand) -> str:
            return f"{contig}\tGAS\t{kind}\t{start}\t{end}\t.\t{s}\t{phase}\t{attrs}"

        parent = f"Parent=transcript:{tx.feature}"
        lines.append(row("gene", tx.start, tx.end, f"ID=gene:{tx.gene};Name={tx.gene};biotype={tx.biotype}"))
        lines.append(
            row(
                "mRNA",
                tx.start,
                tx.end,
                f"ID=transcript:{tx.feature};Parent=gene:{tx.gene};Name={tx.feature};biotype={tx.biotype}",
            )
        )
        assert tx.cds is not None
        low, high = tx.cds
        exons = tx.exons if tx.strand > 0 else tuple(reversed(tx.exons))
        done = 0
        for start, end in exons:
            lines.append(row("exon", start, end, parent))
            if start < low:
                utr = "five_prime_UTR" if tx.strand > 0 else "three_prime_UTR"
                lines.append(row(utr, start, min(end, low - 1), parent))
            if end > high:
                utr = "three_prime_UTR" if tx.strand > 0 else "five_prime_UTR"
                lines.append(row(utr, max(start, high + 1), end, parent))
            s, e = max(start, low), min(end, high)
            if s <= e:
                phase = tx.frame if done == 0 else (3 - (done - tx.frame) % 3) % 3
                lines.append(row("CDS", s, e, parent, str(phase)))
                done += e - s + 1
    return "\n".join(lines) + "\n"


def bcftools_terms(
    tmp: Path, records: list[tuple[int, str, str]]
) -> dict[tuple[int, str, str], dict[str, set[str]]]:
    """Runs bcftools csq on the records; returns its terms per record and gene."""
    fasta = tmp / "ref.fa"
    fasta.write_text(
        ">syn\n" + "\n".join(GENOME[i : i + 60].decode() for i in range(0, len(GENOME), 60)) + "\n"
    )
    model = tmp / "model.gff3"
    model.write_text(gff3(TRANSCRIPTS, "syn"))
    vcf = tmp / "in.vcf"
    body = "".join(f"syn\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n" for pos, ref, alt in sorted(records))
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=syn,length=600>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        + body
    )
    out = subprocess.run(
        ["bcftools", "csq", "-f", str(fasta), "-g", str(model), "-s", "-", "-l", str(vcf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[tuple[int, str, str], dict[str, set[str]]] = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        per_gene: dict[str, set[str]] = {}
        for item in fields[7].split(";"):
            if item.startswith("BCSQ="):
                for entry in item[5:].split(","):
                    parts = entry.split("|")
                    per_gene.setdefault(parts[1], set()).update(t.lstrip("@*") for t in parts[0].split("&"))
        found[(int(fields[1]), fields[3], fields[4])] = per_gene
    return found


def ours_as_bcftools(tx: Transcript, pos: int, ref: str, alt: str) -> set[str]:
    got = effect(tx, pos, ref.encode(), alt.encode(), FETCH)
    terms = {TO_BCFTOOLS[t] for t in got.terms if t in TO_BCFTOOLS} if got else set()
    if "protein_altering_variant" in (got.terms if got else ()):
        # bcftools names an in-frame change by its length alone.
        terms.add("inframe_insertion" if len(alt) > len(ref) else "inframe_deletion")
    if terms & {"splice_region", "splice_donor", "splice_acceptor"}:
        terms.discard("intron")
    if terms & {"splice_donor", "splice_acceptor"}:
        terms.discard("splice_region")
    if "frameshift" in terms:
        terms.discard("stop_gained")
    return terms


def disagreements(
    tmp: Path, records: list[tuple[int, str, str]]
) -> list[tuple[str, int, str, str, set[str], set[str]]]:
    theirs = bcftools_terms(tmp, records)
    wrong = []
    for pos, ref, alt in records:
        for tx in TRANSCRIPTS:
            ours = ours_as_bcftools(tx, pos, ref, alt)
            other = theirs[(pos, ref, alt)].get(tx.gene, set())
            if ours != other:
                wrong.append((tx.feature, pos, ref, alt, ours, other))
    return wrong


def test_hand_checked_cases_agree(tmp_path: Path) -> None:
    """Every hand-checked SNV and indel on TXP/TXM gets bcftools' terms, but for the listed differences."""
    records = [(c.pos, c.ref, c.alt) for c in CASES.values() if c.tx in TRANSCRIPTS]
    wrong = disagreements(tmp_path, records)
    assert {(w[0], w[1], w[2], w[3]) for w in wrong} == known_among(records)


def test_every_snv_agrees(tmp_path: Path) -> None:
    """All three SNVs at every base of the contig: the same terms as bcftools on both transcripts."""
    records = [
        (pos, chr(GENOME[pos - 1]), alt)
        for pos in range(1, len(GENOME) + 1)
        for alt in "ACGT"
        if alt != chr(GENOME[pos - 1])
    ]
    assert disagreements(tmp_path, records) == []


def test_indels_agree_but_for_known_differences(tmp_path: Path) -> None:
    """1 and 3 bp insertions and deletions everywhere at least 5 bp from exon edges, start and stop codons."""
    edges = [x for tx in TRANSCRIPTS for s, e in tx.exons for x in (s, e)]
    edges += [
        x for tx in TRANSCRIPTS if tx.cds for low, high in [tx.cds] for x in (low, low + 2, high - 2, high)
    ]
    records = []
    for pos in range(2, len(GENOME) - 4):
        if any(abs(pos - x) < 5 for x in edges):
            continue
        base = chr(GENOME[pos - 1])
        records += [
            (pos, GENOME[pos - 1 : pos + 1].decode(), base),
            (pos, GENOME[pos - 1 : pos + 3].decode(), base),
            (pos, base, base + "A"),
            (pos, base, base + "GCA"),
        ]
    wrong = disagreements(tmp_path, records)
    assert len(records) > 1000
    assert {(w[0], w[1], w[2], w[3]) for w in wrong} == known_among(records)

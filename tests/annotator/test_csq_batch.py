"""The consequences op's batch path (`annotator.csq_batch`) writes what the per-pair calculator writes.

Random records on real GRCh37 transcripts (chr20, MT and a few other contigs), most of them near
exon edges, CDS ends and transcript ends on both strands: SNVs (REF equal to ALT, lower case, N),
MNVs, insertions, deletions, multi-allelic records, ``*`` and symbolic ALTs. Each file is annotated
twice, with the batch path and with every pair through `consequence.effect`, and the records must be
the same bytes: CSQ, GAS_CONSEQUENCE, GAS_IMPACT and the summary's counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annotator import reference
from annotator.engine import annotate_file
from annotator.ops import consequences as consequences_op
from annotator.ops.consequences import Consequences

BASES = "ACGT"


def _transcripts(root: Path, contig: str) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The GRCh37 index's arrays, the transcripts on `contig`, and the exon table (CSR, starts, ends)."""
    ref = reference.load(root, "GRCh37")
    idx = next(i for i, name in enumerate(ref.contig_names) if name.removeprefix("chr") == contig)
    a = ref.arrays
    on = np.flatnonzero(np.asarray(a["tx_start"]) >> 32 == idx)
    return a, on, np.asarray(a["tx_exon_ptr"]), np.asarray(a["tx_exon_start"]), np.asarray(a["tx_exon_end"])


def _positions(root: Path, contig: str, rng: np.random.Generator, n: int) -> list[int]:
    """n positions on `contig`: exon edges, CDS ends, transcript ends (+-20 bp, +-6 kb), inside spans."""
    a, on, ptr, exon_start, exon_end = _transcripts(root, contig)
    cds_start, cds_end = np.asarray(a["tx_cds_start"]), np.asarray(a["tx_cds_end"])
    picked = rng.choice(on, min(len(on), max(n // 8, 1)), replace=False)
    out: list[int] = []
    for t in picked.tolist():
        lo, hi = int(ptr[t]), int(ptr[t + 1])
        edges = np.concatenate([exon_start[lo:hi], exon_end[lo:hi]]).tolist()
        if cds_end[t] >= 0:
            edges += [int(cds_start[t]), int(cds_end[t])]
        first, last = int(exon_start[lo]), int(exon_end[hi - 1])
        # Intron middles: HGVS names a base equally far from both exons from the 5' one.
        middles = ((exon_end[lo : hi - 1] + exon_start[lo + 1 : hi]) // 2).tolist()
        for _ in range(8):
            kind = rng.random()
            if kind < 0.1 and middles:
                out.append(int(rng.choice(middles)) + int(rng.integers(0, 2)))
            elif kind < 0.6:
                out.append(int(rng.choice(edges)) + int(rng.integers(-20, 21)))
            elif kind < 0.75:
                out.append(int(rng.integers(first, last + 1)))
            else:
                gap = int(rng.integers(1, 6200))
                out.append(first - gap if rng.random() < 0.5 else last + gap)
    return [p for p in out if p >= 1]


def _alleles(rng: np.random.Generator) -> tuple[str, str]:
    def seq(k: int) -> str:
        return "".join(rng.choice(list(BASES), k))

    r = rng.random()
    ref = seq(1)
    if r < 0.45:
        return ref, rng.choice([b for b in BASES if b != ref])
    if r < 0.50:
        return ref, ref  # no change
    if r < 0.53:
        return ref.lower(), rng.choice([b for b in BASES if b != ref]).lower()
    if r < 0.55:
        return ref, "N"
    if r < 0.65:
        return ref + seq(int(rng.integers(1, 8))), ref  # deletion
    if r < 0.75:
        return ref, ref + seq(int(rng.integers(1, 8)))  # insertion
    if r < 0.80:
        return seq(3), seq(3)  # MNV
    if r < 0.92:
        others = [b for b in BASES if b != ref]
        alts = [str(x) for x in rng.choice(others, 2, replace=False)]
        if rng.random() < 0.3:
            alts.append(ref + seq(2))
        return ref, ",".join(alts)
    if r < 0.96:
        return ref, rng.choice(["*", "<DEL>", "<DUP>", "<INS>"])
    return ref, "."


def _vcf(path: Path, root: Path, seed: int, contigs: dict[str, int]) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for contig, n in contigs.items():
        for pos in sorted(_positions(root, contig, rng, n)):
            ref, alt = _alleles(rng)
            info = "."
            if alt.startswith("<") and alt != "<INS>":
                info = f"END={pos + int(rng.integers(1, 3000))}"
            lines.append(f"{contig}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t{info}\n")
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(lines))
    return path


def _both(root: Path, src: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    got = {}
    for vectorised in (True, False):
        monkeypatch.setattr(Consequences, "vectorised", vectorised)
        out = tmp / f"out_{vectorised}.vcf"
        summary = annotate_file(src, out, reference_root=root, upstream_window=window)
        records = [line for line in out.read_text().splitlines() if not line.startswith("#")]
        got[vectorised] = (records, summary["per_consequence"], summary["per_impact"])
    fast, slow = got[True], got[False]
    assert len(fast[0]) == len(slow[0]) > 0
    assert sum("CSQ=" in line for line in slow[0]) > len(slow[0]) // 2
    for a, b in zip(fast[0], slow[0], strict=True):
        assert a == b
    assert fast[1:] == slow[1:]


@pytest.mark.parametrize("seed", [1, 2])
def test_batch_path_equals_the_calculator_with_chr20_sequence(chr20_root, tmp_path, monkeypatch, seed):
    src = _vcf(tmp_path / "in.vcf", chr20_root, seed, {"20": 3000, "MT": 400})
    _both(chr20_root, src, tmp_path, monkeypatch, 5000)


@pytest.mark.parametrize(("seed", "window"), [(7, 5000), (8, 1500), (9, 5000), (10, 5000)])
def test_batch_path_equals_the_calculator_without_sequence(
    reference_root, tmp_path, monkeypatch, seed, window
):
    src = _vcf(tmp_path / "in.vcf", reference_root, seed, {"1": 3000, "20": 1500, "X": 1500, "MT": 300})
    _both(reference_root, src, tmp_path, monkeypatch, window)


def _exon_interiors(root: Path, contig: str, rng: np.random.Generator, n: int) -> list[int]:
    """n positions at least 4 bases inside exons of 12 bases or more: in CDSs, UTRs and non-coding
    exons, on both strands (the exonic indels `csq_batch` takes)."""
    _, on, ptr, exon_start, exon_end = _transcripts(root, contig)
    out: list[int] = []
    for t in rng.choice(on, min(len(on), n), replace=False).tolist():
        k = int(rng.integers(ptr[t], ptr[t + 1]))
        s, e = int(exon_start[k]), int(exon_end[k])
        if e - s > 12:
            out.append(int(rng.integers(s + 4, e - 8)))
    return out


def _indel(rng: np.random.Generator) -> tuple[str, str]:
    def seq(k: int) -> str:
        return "".join(rng.choice(list(BASES), k))

    r, ref = rng.random(), seq(1)
    if r < 0.4:
        return ref + seq(int(rng.integers(1, 7))), ref  # deletion: 1 in 3 of a whole codon
    if r < 0.8:
        return ref, ref + seq(int(rng.integers(1, 7)))  # insertion
    if r < 0.9:
        return seq(3), seq(3)  # MNV
    return seq(3), seq(int(rng.choice([1, 2, 4])))  # delins


def _exonic_vcf(path: Path, root: Path, seed: int, contigs: dict[str, int]) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for contig, n in contigs.items():
        for pos in sorted(set(_exon_interiors(root, contig, rng, n))):
            ref, alt = _indel(rng)
            lines.append(f"{contig}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t.\n")
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(lines))
    return path


def _fast_run(root: Path, src: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    """The batch path's output, and how many pairs it left to the calculator (calls to `effect`)."""
    calls = [0]
    real = consequences_op.effect

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(consequences_op, "effect", counted)
        m.setattr(Consequences, "vectorised", True)
        annotate_file(src, out, reference_root=root)
    return out.read_text(), calls[0]


def _hgvsc_entries(vcf: str) -> int:
    return sum(line.count(":c.") + line.count(":n.") for line in vcf.splitlines() if not line.startswith("#"))


def test_exonic_indels_without_sequence_take_the_batch_path_and_equal_the_calculator(
    reference_root, tmp_path, monkeypatch
):
    """Insertions, deletions, MNVs and delins inside exons (CDS, UTR, non-coding) on contigs without a
    sequence: the batch path writes them (frameshift/inframe by length, CDS and Protein positions),
    leaving the calculator only the few across a CDS end or in a first or last codon."""
    src = _exonic_vcf(tmp_path / "in.vcf", reference_root, 3, {"1": 1500, "X": 600})
    text, left = _fast_run(reference_root, src, tmp_path / "fast.vcf", monkeypatch)
    terms = ("frameshift_variant", "inframe_insertion", "inframe_deletion", "coding_sequence_variant",
             "5_prime_UTR_variant", "3_prime_UTR_variant", "non_coding_transcript_exon_variant")  # fmt: skip
    for term in terms:
        assert f"|{term}|" in text or f"|{term}&" in text, term
    assert _hgvsc_entries(text) > 1000
    assert left < _hgvsc_entries(text) // 10
    _both(reference_root, src, tmp_path, monkeypatch, 5000)


def test_exonic_indels_with_a_sequence_leave_only_cds_ones_to_the_calculator(
    chr20_root, tmp_path, monkeypatch
):
    """With chr20's sequence the UTR and non-coding exon indels are shifted 3' and taken by the batch
    path; those in a CDS need codons (HGVSp), so the calculator writes them."""
    src = _exonic_vcf(tmp_path / "in.vcf", chr20_root, 4, {"20": 1500})
    text, left = _fast_run(chr20_root, src, tmp_path / "fast.vcf", monkeypatch)
    hgvsp = sum(line.count(":p.") for line in text.splitlines() if not line.startswith("#"))
    assert hgvsp > 100
    assert hgvsp <= left < _hgvsc_entries(text) - 100
    _both(chr20_root, src, tmp_path, monkeypatch, 5000)

"""The vectorised in-CDS substitutions (`annotator.csq_codons`, through `csq_batch.entries`) write what
the per-pair calculator (`consequence.effect` + `entry`) writes, and take only what they can.

Every substitution of every CDS base of hand-written transcripts (synthetic_genome.py: codons split
by introns, start and stop codons, the mitochondrial code, a CDS with a cut first codon) and of
random transcripts on a random genome (both strands, one- and two-base exons so a codon spans three
exons, N bases, NMD, inferred frames, CDSs cut short or running off the contig), then random SNVs
inside real chr20 and MT CDSs through the whole op.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator import csq_batch, csq_codons, reference
from annotator.consequence import effect, entry
from annotator.engine import annotate_file
from annotator.infotext import text_blob
from annotator.ops.consequences import Consequences
from annotator.sequence import Sequence
from annotator.textjoin import A, Strings, Texts, render
from annotator.transcript_index import CANONICAL, FRAME_INFERRED, TranscriptIndex
from annotator.transcripts import Transcript

from .conftest import HEADER
from .synthetic_genome import FRAME_GENOME, GENOME, MT_GENOME, TX_FRAME, TX_MT, TXM, TXN, TXP

BIOTYPES = ["protein_coding", "lncRNA", "nonsense_mediated_decay"]


def _index(models: list[Transcript], mito: set[int]) -> TranscriptIndex:
    """A TranscriptIndex over `models` without a reference: the arrays csq_batch reads, the models kept."""
    ptr = np.r_[0, np.cumsum([len(t.exons) for t in models])].astype(np.int64)
    exons = [x for t in models for x in t.exons]
    index = object.__new__(TranscriptIndex)
    index.a = {
        "tx_exon_ptr": ptr,
        "tx_exon_start": np.array([s for s, _ in exons], np.int32),
        "tx_exon_end": np.array([e for _, e in exons], np.int32),
        "tx_start": np.array([t.contig << 32 | t.start for t in models], np.int64),
        "tx_strand": np.array([t.strand for t in models], np.int8),
        "tx_cds_start": np.array([t.cds[0] if t.cds else -1 for t in models], np.int32),
        "tx_cds_end": np.array([t.cds[1] if t.cds else -1 for t in models], np.int32),
        "tx_frame": np.array([t.frame for t in models], np.int8),
        "tx_flags": np.array([CANONICAL * t.canonical | FRAME_INFERRED * t.frame_inferred for t in models]),
        "tx_biotype": np.array([BIOTYPES.index(t.biotype) for t in models], np.int16),
        "tx_gene": np.arange(len(models)),
        "tx_gene_symbol_text": text_blob([t.gene for t in models]),
        "tx_gene_id_text": text_blob([t.gene_id for t in models]),
        "tx_feature_text": text_blob([t.feature for t in models]),
        "tx_mane_text": text_blob([t.mane_select for t in models]),
    }
    index.window = 5000
    index.biotypes = BIOTYPES
    index.mito = mito
    index.features = [t.feature for t in models]
    index.mane = [t.mane_select for t in models]
    index.gene_symbols = [t.gene for t in models]
    index.gene_ids = [t.gene_id for t in models]
    index._models = dict(enumerate(models))
    return index


def _compare(models: list[Transcript], genomes: list[bytes], mito: set[int]) -> tuple[set[str], int, int]:
    """Every substitution of every CDS base of every model through csq_batch.entries; each entry it
    writes must be the calculator's, and what it leaves must be what csq_codons may not take.
    Returns the terms written, the pairs taken and the pairs left."""
    index = _index(models, mito)
    seq = Sequence(
        np.frombuffer(b"".join(genomes), np.uint8),
        np.cumsum([0] + [len(x) for x in genomes[:-1]]).astype(np.int64),
        np.array([len(x) for x in genomes], np.int64),
    )
    fetches = [seq.fetcher(c) for c in range(len(genomes))]
    tx, start, ref, alt = [], [], [], []
    for t, model in enumerate(models):
        assert model.cds is not None
        for s, e in model.exons:
            for g in range(max(s, model.cds[0]), min(e, model.cds[1]) + 1):
                r = genomes[model.contig][g - 1 : g].decode() if g <= len(genomes[model.contig]) else "A"
                # Every change of the genome's base; and a REF the genome disagrees with, its ALT the
                # genome's base (the codons are the genome's: no change to them), or a change of an N.
                other = "ACGT"[("ACGT".find(r) + 1) % 4]
                changes = [(r, x) for x in "ACGT" if x != r] if r in "ACGT" else [("A", "C")]
                for rb, x in changes + ([(other, r)] if r in "ACGT" else []):
                    tx.append(t)
                    start.append(g)
                    ref.append(rb)
                    alt.append(x)
    # One allele a pair, each a one-base one (read from its bytes, as the op lists a one-base record's).
    fixed = csq_batch.Fixed(index, [])
    n = len(tx)
    ref_base = np.frombuffer("".join(ref).encode(), np.uint8)
    alt_base = np.frombuffer("".join(alt).encode(), np.uint8)
    none = Texts.of([])
    pairs = csq_batch.Alleles(
        start=np.array(start, np.int64),
        stop=np.array(start, np.int64),
        ref_len=np.ones(n, np.int64),
        alt_len=np.ones(n, np.int64),
        ref_base=ref_base,
        alt_base=alt_base,
        text=np.full(n, -1, np.int64),
        ref=none,
        alt=none,
        token_kind=np.full(n, A, np.int64),
        token_value=fixed.const("A") + np.searchsorted(csq_batch.ACGT, alt_base).astype(np.int64),
        python=np.zeros(n, bool),
        contig=np.array([models[t].contig for t in tx], np.int64),
        tx=np.array(tx, np.int64),
        of=np.arange(n, dtype=np.int64),
        sequence=seq,
    )
    strings = Strings()
    got = csq_batch.entries(csq_batch.Tables.of(index), fixed, csq_batch.Mask(), pairs, 5000, strings)
    assert sorted(got.taken.tolist() + got.rest.tolist()) == list(range(len(tx)))
    written = render(got.runs, fixed.texts, strings.texts())
    terms: set[str] = set()
    for m, k in enumerate(got.taken.tolist()):
        model = models[tx[k]]
        e = effect(model, start[k], ref[k].encode(), alt[k].encode(), fetches[model.contig])
        assert e is not None
        assert written[m].decode() == entry(alt[k], *fixed.get(tx[k])[:2], e)
        terms.update(e.terms)
    for k in got.rest.tolist():
        model = models[tx[k]]
        e = effect(model, start[k], ref[k].encode(), alt[k].encode(), fetches[model.contig])
        assert e is not None
        # Left only for what the module docstring names: no codons read (no sequence, a cut first or last
        # codon), or a base other than A/C/G/T in the codon.
        assert not e.codons or "X" in e.amino_acids, (model, start[k], e)
    return terms, len(got.taken), len(got.rest)


def test_hand_written_transcripts_every_cds_substitution():
    """Both strands, codons split by introns (TXP's codons 7 and 14), the start and stop codons, the
    mitochondrial code (TX_MT: AGA a stop) and a cut first codon (TX_FRAME: residues from 2, its one
    cut base left to the calculator): the bytes of every entry, and that each codon term occurs."""
    models = [TXP, TXM, TX_MT, TX_FRAME]
    terms, taken, left = _compare(models, [GENOME, MT_GENOME, FRAME_GENOME], {1})
    assert {
        "missense_variant", "synonymous_variant", "stop_gained", "stop_lost", "start_lost",
        "stop_retained_variant", "splice_region_variant",
    } <= terms  # fmt: skip
    assert left == 4  # TX_FRAME's first CDS base
    assert taken == 4 * (51 + 30 + 15 + 9)  # every other CDS base
    assert TXN.cds is None


def test_hand_written_transcripts_without_a_sequence():
    """No sequence for the contig: every CDS base of a whole codon is a coding_sequence_variant with
    its positions and HGVSc (no codons, amino acids or HGVSp), taken, the calculator's bytes."""
    terms, taken, left = _compare([TXP, TXM], [b"", b"", b""], set())
    assert terms >= {"coding_sequence_variant", "splice_region_variant"}
    assert not terms & {"missense_variant", "synonymous_variant", "stop_gained"}
    assert (taken, left) == (4 * (51 + 30), 0)


def _random_models(rng: np.random.Generator, genomes: list[bytes], mito: int) -> list[Transcript]:
    models = []
    for t in range(160):
        contig = int(rng.integers(0, len(genomes)))
        size = len(genomes[contig])
        n = int(rng.integers(1, 7))
        exons = []
        at = int(rng.integers(1, 60))
        for _ in range(n):
            length = int(rng.choice([1, 2, 3, 4, int(rng.integers(5, 60))], p=[0.1, 0.1, 0.1, 0.1, 0.6]))
            exons.append((at, at + length - 1))
            at += length + int(rng.integers(20, 40))
        if rng.random() < 0.05:  # the last exon runs off the contig: no sequence for the transcript
            last = exons[-1]
            exons[-1] = (max(last[0], size - 30), size + 2)
        elif exons[-1][1] > size:
            continue
        bases = [g for s, e in exons for g in range(s, e + 1)]
        if len(bases) < 6:
            continue
        i = int(rng.integers(0, len(bases) // 2))
        k = int(rng.integers(i + 3, len(bases)))
        inferred = rng.random() < 0.1
        length = k - i + 1
        models.append(
            Transcript(
                feature=f"T{t};x=1" if t % 17 == 0 else f"T{t}",  # escaped in HGVSc and HGVSp
                gene=f"G{t}",
                gene_id=f"G{t}",
                biotype="nonsense_mediated_decay" if rng.random() < 0.2 else "protein_coding",
                contig=contig,
                strand=1 if rng.random() < 0.5 else -1,
                exons=tuple(exons),
                cds=(bases[i], bases[k]),
                canonical=bool(rng.random() < 0.5),
                mito=contig == mito,
                frame=length % 3 if inferred else 0,
                frame_inferred=inferred,
            )
        )
    return models


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_transcripts_every_cds_substitution(seed):
    """Codons spread over up to three exons on both strands, short exons, N bases, the mitochondrial
    code, NMD and escaped features: entries identical, and only the cases the module names left."""
    rng = np.random.default_rng(seed)
    # Few G/A-rich stretches would rarely give stops: draw codon-sized words with stops among them.
    words = ["TAA", "TAG", "TGA", "ATG", "AGA", "AGG", "ATA", "TGG"]
    genomes = []
    for size in (1500, 1500, 800):
        bases = "".join(
            rng.choice(words) if rng.random() < 0.3 else "".join(rng.choice(list("ACGT"), 3))
            for _ in range(size // 3)
        )
        genome = bytearray(bases.encode())
        for at in rng.integers(0, len(genome), 4).tolist():
            genome[at] = ord("N")
        genomes.append(bytes(genome))
    models = _random_models(rng, genomes, mito=2)
    terms, taken, left = _compare(models, genomes, {2})
    assert taken > 2 * left
    assert {"missense_variant", "synonymous_variant", "stop_gained", "NMD_transcript_variant"} <= terms


def _cds_positions(root: Path, contig: str, rng: np.random.Generator, n: int) -> list[int]:
    ref = reference.load(root, "GRCh37")
    idx = next(i for i, name in enumerate(ref.contig_names) if name.removeprefix("chr") == contig)
    a = ref.arrays
    cds_start, cds_end = np.asarray(a["tx_cds_start"]), np.asarray(a["tx_cds_end"])
    on = np.flatnonzero((np.asarray(a["tx_start"]) >> 32 == idx) & (cds_end >= 0))
    ptr = np.asarray(a["tx_exon_ptr"])
    exon_start, exon_end = np.asarray(a["tx_exon_start"]), np.asarray(a["tx_exon_end"])
    out: list[int] = []
    for t in rng.choice(on, min(len(on), n // 4), replace=True).tolist():
        lo, hi = int(ptr[t]), int(ptr[t + 1])
        s = np.maximum(exon_start[lo:hi], cds_start[t])
        e = np.minimum(exon_end[lo:hi], cds_end[t])
        keep = e >= s
        s, e = s[keep], e[keep]
        # Half at exon edges (split codons, splice regions), the CDS's two ends, the rest anywhere.
        for _ in range(4):
            x = int(rng.integers(0, len(s)))
            pick = rng.random()
            if pick < 0.5:
                out.append(int(rng.choice([s[x], s[x] + 1, s[x] + 2, e[x], e[x] - 1, e[x] - 2])))
            elif pick < 0.7:
                end = cds_start[t] if rng.random() < 0.5 else cds_end[t] - 2
                out.append(int(end + rng.integers(0, 3)))
            else:
                out.append(int(rng.integers(s[x], e[x] + 1)))
    return sorted(set(out))


@pytest.mark.parametrize("seed", [3, 4])
def test_chr20_cds_substitutions_equal_the_calculator(chr20_root, tmp_path, monkeypatch, seed):
    """Random SNVs inside real chr20 and MT CDSs (GRCh37 sequence), multi-allelic ones too: the op's
    records are the same bytes with the vectorised path as with every pair through the calculator,
    and the vectorised path took most of the in-CDS pairs."""
    rng = np.random.default_rng(seed)
    loaded = reference.load(chr20_root, "GRCh37")
    seq, names = Sequence.of(loaded), loaded.contig_names
    lines = []
    for contig, n in (("20", 3000), ("MT", 300)):
        c = next(i for i, name in enumerate(names) if name.removeprefix("chr") == contig)
        for pos in _cds_positions(chr20_root, contig, rng, n):
            ref = seq.fetch(c, pos, pos).decode()
            alts = [b for b in "ACGT" if b != ref]
            two = rng.random() < 0.2
            alt = ",".join(rng.choice(alts, 2, replace=False)) if two else str(rng.choice(alts))
            lines.append(f"{contig}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t.\n")
    src = tmp_path / "in.vcf"
    src.write_text(HEADER + "".join(lines))
    taken = []
    real = csq_codons.cds_snvs

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        got = real(*args, **kwargs)
        taken.append((len(args[3]), len(got[0])))
        return got

    monkeypatch.setattr(csq_codons, "cds_snvs", counted)
    got = {}
    for vectorised in (True, False):
        monkeypatch.setattr(Consequences, "vectorised", vectorised)
        out = tmp_path / f"out_{vectorised}.vcf"
        summary = annotate_file(src, out, reference_root=chr20_root)
        records = [line for line in out.read_text().splitlines() if not line.startswith("#")]
        got[vectorised] = (records, summary["per_consequence"], summary["per_impact"])
    assert len(got[True][0]) == len(lines)
    for a, b in zip(got[True][0], got[False][0], strict=True):
        assert a == b
    assert got[True][1:] == got[False][1:]
    offered, took = map(sum, zip(*taken, strict=True))
    assert took > 0.9 * offered > 1000

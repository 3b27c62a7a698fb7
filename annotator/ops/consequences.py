"""``consequences``: consequences per transcript, written as Ensembl VEP does.

At install it builds the track's transcript models into the index
(`annotator.transcript_build`: GENCODE's tables linked by file order, named,
one canonical a gene), which `annotator.transcript_index` reads at run time.
For each record and each transcript within the up/downstream window, the
consequence calculator (`annotator.consequence`) gives VEP's terms, IMPACT and
HGVS; codon terms need the build's genome sequence (`annotator.sequence`).

INFO keys: ``CSQ`` (one entry per ALT allele and transcript, VEP's format; a
record with no transcript in the window gets one ``intergenic_variant`` entry
per ALT), ``GAS_CONSEQUENCE`` and ``GAS_IMPACT`` (Number=A: the most severe
term of each ALT allele over every transcript, and its IMPACT; ``.`` for an
ALT that is not a change, such as ``.`` or one equal to REF). Summary:
``per_consequence`` (records by their most severe term over their ALTs) and
``per_impact`` (the same, by IMPACT).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator.consequence import IMPACT, SEVERITY, Effect, csq_entry, effect, most_severe, vep_alleles
from annotator.ops.base import Batch, Contribution, Decl, Op, Options, Query, Stats, TrackInfo, pieces
from annotator.sequence import Sequence
from annotator.transcript_index import transcripts_of
from annotator.transcripts import CSQ_FIELDS, Fetch, Transcript

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track
    from annotator.reference import Reference

_INTERGENIC = "intergenic_variant"
_RANK = {term: k for k, term in enumerate(SEVERITY)}
# The fields of an intergenic entry after Allele, Consequence and IMPACT: all empty.
_EMPTY_TAIL = "|" * (len(CSQ_FIELDS) - 3)


class Consequences(Op):
    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        super().__init__(ref, tracks, options, stats)
        self.per_consequence: Counter[str] = Counter()
        if tracks:
            self.index = transcripts_of(ref)
            # The index answers for up to the window it was built with.
            self.window = min(options.upstream_window, self.index.window)
            self.sequence = Sequence.of(ref)

    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        from annotator import transcript_build

        return transcript_build.build(contigs, files, out)

    def declare(self, track: TrackInfo) -> list[Decl]:
        fields = "|".join(CSQ_FIELDS)
        return [
            (
                "CSQ",
                ".",
                "String",
                "Consequence annotations from GAS (Ensembl VEP's terms, IMPACT and HGVS; "
                f"GENCODE transcript models). Format: {fields}",
            ),
            ("GAS_CONSEQUENCE", "A", "String", "Most severe consequence of each ALT allele (SO term)"),
            ("GAS_IMPACT", "A", "String", "IMPACT of GAS_CONSEQUENCE: HIGH, MODERATE, LOW or MODIFIER"),
        ]

    def apply(self, b: Batch, q: Query) -> Contribution:
        if not self.tracks:
            return Contribution()
        rows = np.flatnonzero(q.annotated)
        if not len(rows):
            return Contribution()
        pair_row, pair_tx = self.index.near(q.ks[rows], q.ke[rows], self.window)
        bounds = np.searchsorted(pair_row, np.arange(len(rows) + 1)).tolist()
        txs = pair_tx.tolist()
        transcript = self.index.transcript
        texts = [
            self._row(b, i, [transcript(t) for t in txs[bounds[k] : bounds[k + 1]]])
            for k, i in enumerate(rows.tolist())
        ]
        return Contribution(own=[(rows, pieces(texts))])

    def _row(self, b: Batch, i: int, near: list[Transcript]) -> bytes:
        ref, alt_text = b.alleles(i)
        if not (ref.isascii() and alt_text.isascii()):
            return b""  # not alleles any tool could name (the record is annotated otherwise)
        alts = alt_text.split(b",")
        pos, end = int(b.start[i]), int(b.end[i])
        fetch = self._fetch(int(b.contig[i]))
        entries: list[str] = []
        worst: list[str] = []
        for allele, alt in zip(vep_alleles(ref, alts), alts, strict=True):
            if alt == b".":
                worst.append(".")
                continue
            effects: list[tuple[Transcript, Effect]] = []
            for tx in near:
                e = effect(tx, pos, ref, alt, fetch, self.window, end=end if alt[:1] == b"<" else None)
                if e is not None:
                    effects.append((tx, e))
            if effects:
                entries += [csq_entry(allele, tx, e) for tx, e in effects]
                worst.append(most_severe([e.terms[0] for _, e in effects]))
            elif near:
                worst.append(".")  # not a change on any transcript (ALT equal to REF)
            else:
                entries.append(f"{allele}|{_INTERGENIC}|{IMPACT[_INTERGENIC]}{_EMPTY_TAIL}")
                worst.append(_INTERGENIC)
        changes = [w for w in worst if w != "."]
        if not changes:
            return b""
        self.per_consequence[min(changes, key=_RANK.__getitem__)] += 1
        impacts = ",".join(IMPACT[w] if w != "." else "." for w in worst)
        text = f";CSQ={','.join(entries)};GAS_CONSEQUENCE={','.join(worst)};GAS_IMPACT={impacts}"
        return text.encode()

    def _fetch(self, contig: int) -> Fetch | None:
        return self.sequence.fetcher(contig) if self.sequence.has(contig) else None

    def summary(self, records: int) -> dict[str, Any]:
        per_impact: Counter[str] = Counter()
        for term, n in self.per_consequence.items():
            per_impact[IMPACT[term]] += n
        order = sorted(self.per_consequence, key=_RANK.__getitem__)
        impacts = [i for i in ("HIGH", "MODERATE", "LOW", "MODIFIER") if per_impact[i]]
        return {
            "per_consequence": {t: self.per_consequence[t] for t in order},
            "per_impact": {i: per_impact[i] for i in impacts},
        }

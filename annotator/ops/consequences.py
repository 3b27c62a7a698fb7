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
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from annotator import csq_batch
from annotator.consequence import IMPACT, SEVERITY, Effect, csq_entry, effect, entry, most_severe, vep_alleles
from annotator.ops.base import (
    I64,
    Batch,
    Bool,
    Contribution,
    Decl,
    Op,
    Options,
    Query,
    Stats,
    TrackInfo,
    cached,
    pieces,
)
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
_NONE = len(SEVERITY)  # rank of a pair with no entry


class Consequences(Op):
    # False: every pair through the calculator, the path csq_batch is checked against.
    vectorised: ClassVar[bool] = True

    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        super().__init__(ref, tracks, options, stats)
        self.per_consequence: Counter[str] = Counter()
        if tracks:
            self.index = transcripts_of(ref)
            # The index answers for up to the window it was built with.
            self.window = min(options.upstream_window, self.index.window)
            self.sequence = Sequence.of(ref)
            self.tables = cached(ref, "csq_batch_tables", lambda: csq_batch.Tables.of(self.index))
            self.texts = cached(ref, "csq_batch_texts", lambda: csq_batch.Texts(self.index))
            self.masks = csq_batch.Mask()

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
        if self.vectorised:
            snv = csq_batch.snv_rows(b.single_base[rows], b.ref_base[rows], b.alt_base[rows])
            snv &= b.end[rows] == b.start[rows]
        else:
            snv = np.zeros(len(rows), bool)
        texts: list[bytes] = [b""] * len(rows)
        if snv.any():
            self._snvs(b, rows, snv, pair_row, pair_tx, texts)
        bounds = np.searchsorted(pair_row, np.arange(len(rows) + 1)).tolist()
        txs = pair_tx.tolist()
        transcript = self.index.transcript
        for k in np.flatnonzero(~snv).tolist():
            near = txs[bounds[k] : bounds[k + 1]]
            texts[k] = self._row(b, int(rows[k]), near, [transcript(t) for t in near])
        return Contribution(own=[(rows, pieces(texts))])

    def _snvs(self, b: Batch, rows: I64, snv: Bool, pair_row: I64, pair_tx: I64, texts: list[bytes]) -> None:
        """Texts of the `csq_batch.snv_rows` rows: csq_batch's entries, the calculator's for CDS pairs."""
        p = np.flatnonzero(snv[pair_row])
        row, tx = pair_row[p], pair_tx[p]
        at = rows[row]
        pos, ref, alt = b.start[at], b.ref_base[at], b.alt_base[at]
        got = csq_batch.entries(self.tables, self.texts, self.masks, tx, pos, ref, alt, self.window)
        entry: list[str | None] = [None] * len(p)
        rank = np.full(len(p), _NONE, np.int64)
        for k, text in zip(got.taken.tolist(), got.text, strict=True):
            entry[k] = text
        rank[got.taken] = got.rank
        transcript = self.index.transcript
        for k in got.rest.tolist():
            i = int(at[k])
            e = effect(
                transcript(int(tx[k])), int(pos[k]), bytes((int(ref[k]),)), bytes((int(alt[k]),)),
                self._fetch(int(b.contig[i])), self.window,
            )  # fmt: skip
            if e is not None:
                entry[k] = csq_entry(chr(int(alt[k])), transcript(int(tx[k])), e)
                rank[k] = _RANK[e.terms[0]]
        snv_rows = np.flatnonzero(snv)
        bounds = np.searchsorted(row, np.append(snv_rows, len(rows))).tolist()
        alts = b.alt_base[rows[snv_rows]].tolist()
        ranks = rank.tolist()
        for n, k in enumerate(snv_rows.tolist()):
            lo, hi = bounds[n], bounds[n + 1]
            allele = chr(alts[n])
            if lo == hi:
                worst = _INTERGENIC
                text = f"{allele}|{_INTERGENIC}|{IMPACT[_INTERGENIC]}{_EMPTY_TAIL}"
            else:
                best = min(ranks[lo:hi])
                if best == _NONE:
                    continue  # not a change on any transcript
                worst = SEVERITY[best]
                text = ",".join([e for e in entry[lo:hi] if e is not None])
            self.per_consequence[worst] += 1
            texts[k] = f";CSQ={text};GAS_CONSEQUENCE={worst};GAS_IMPACT={IMPACT[worst]}".encode()

    def _row(self, b: Batch, i: int, ids: list[int], near: list[Transcript]) -> bytes:
        ref, alt_text = b.alleles(i)
        alts = alt_text.split(b",")
        pos, end = int(b.start[i]), int(b.end[i])
        fetch = self._fetch(int(b.contig[i]))
        entries: list[str] = []
        worst: list[str] = []
        for allele, alt in zip(vep_alleles(ref, alts), alts, strict=True):
            if alt == b".":
                worst.append(".")
                continue
            effects: list[tuple[int, Effect]] = []
            for t, tx in zip(ids, near, strict=True):
                e = effect(tx, pos, ref, alt, fetch, self.window, end=end if alt[:1] == b"<" else None)
                if e is not None:
                    effects.append((t, e))
            if effects:
                fixed = self.texts.get
                entries += [entry(allele, *fixed(t)[:2], e) for t, e in effects]
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

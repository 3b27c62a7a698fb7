"""``consequences``: consequences per transcript, written as Ensembl VEP does.

At install it builds the track's transcript models into the index
(`annotator.transcript_build`: GENCODE's tables linked by file order, named,
one canonical a gene), which `annotator.transcript_index` reads at run time.
For each record and each transcript within the up/downstream window, the
consequence calculator (`annotator.consequence`) gives VEP's terms, IMPACT and
HGVS; codon terms need the build's genome sequence (`annotator.sequence`).
Most pairs (up/downstream, intronic, UTR and non-coding exon bases) never reach
it: `annotator.csq_batch` writes their entries for a whole batch at once, the
same bytes (with ``vectorised`` off every pair goes through the calculator,
the path tests/annotator/test_csq_batch.py compares against).

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
from annotator.alleles import symbolic, trim
from annotator.consequence import IMPACT, SEVERITY, Effect, effect, entry, escape, most_severe, vep_alleles
from annotator.ops.base import (
    I64,
    Batch,
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
# An ALT allele's state: a change to pair with transcripts, no change (REF), "." (no allele).
_CHANGE, _NOCHANGE, _SKIP = 0, 1, 2
_DOT = len(SEVERITY) + 1  # an allele's "." (sorts after every term)
_SLICE = 8192  # rows
_TAIL = {r: f";GAS_CONSEQUENCE={t};GAS_IMPACT={IMPACT[t]}" for r, t in enumerate(SEVERITY)}


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
        bounds = np.searchsorted(pair_row, np.arange(len(rows) + 1))
        if self.vectorised:
            # In slices of rows: a slice's pairs and entries are many small Python objects at once.
            texts = []
            for lo in range(0, len(rows), _SLICE):
                hi = min(lo + _SLICE, len(rows))
                first, last = int(bounds[lo]), int(bounds[hi])
                texts += self._batch(b, rows[lo:hi], bounds[lo : hi + 1] - first, pair_tx[first:last])
        else:
            starts, txs = bounds.tolist(), pair_tx.tolist()
            transcript = self.index.transcript
            texts = []
            for k, i in enumerate(rows.tolist()):
                near = txs[starts[k] : starts[k + 1]]
                texts.append(self._row(b, i, near, [transcript(t) for t in near]))
        return Contribution(own=[(rows, pieces(texts))])

    def _batch(self, b: Batch, rows: I64, bounds: I64, pair_tx: I64) -> list[bytes]:
        """The rows' texts with csq_batch taking the pairs it can and `effect` the rest.

        Each row's ALT alleles are listed (records of one A/C/G/T base each straight from the batch's
        arrays, the others one by one as `_row` reads them), then each allele is paired with every
        transcript near its record, in `_row`'s order."""
        at = rows
        simple = csq_batch.single_bases(b.single_base[at], b.ref_base[at], b.alt_base[at])
        simple &= b.end[at] == b.start[at]
        # Per allele: its row (index into rows), CSQ Allele, state, what effect() and csq_batch take.
        s_rows = np.flatnonzero(simple)
        s_ref = [chr(c) for c in b.ref_base[at[s_rows]].tolist()]
        s_alt = [chr(c) for c in b.alt_base[at[s_rows]].tolist()]
        a_row = s_rows.tolist()
        a_allele = list(s_alt)  # as _row writes it: escaped in entries, not in an intergenic one
        a_escaped = a_allele
        a_state = [_NOCHANGE if r == a else _CHANGE for r, a in zip(s_ref, s_alt, strict=True)]
        a_start = b.start[at[s_rows]].tolist()
        a_stop = list(a_start)
        a_ref, a_alt = s_ref, s_alt
        a_call: list[tuple[bytes, bytes, int | None] | None] = [None] * len(a_row)
        a_python = [False] * len(a_row)
        others = np.flatnonzero(~simple).tolist()
        if others:
            a_escaped = list(a_allele)
        for k in others:
            i = int(at[k])
            ref, alt_text = b.alleles(i)
            alts = alt_text.split(b",")
            pos, end = int(b.start[i]), int(b.end[i])
            # Alleles that are not ASCII are none any tool could name: no consequences for them.
            named = ref.isascii() and alt_text.isascii()
            for allele, alt in zip(vep_alleles(ref, alts) if named else [""] * len(alts), alts, strict=True):
                a_row.append(k)
                a_allele.append(allele)
                a_call.append((ref, alt, end if alt[:1] == b"<" else None))
                if alt == b"." or not named:
                    kind, start, r, x, python = _SKIP, pos, "", "", False
                elif symbolic(alt):
                    kind, start, r, x, python = _CHANGE, pos, "", "", True
                else:
                    python = False
                    if len(ref) == 1 and len(alt) == 1:
                        start, rb, xb = pos, ref.upper(), alt.upper()
                        changed = rb != xb
                    else:
                        start, rb, xb = trim(pos, ref.upper(), alt.upper())
                        changed = bool(rb or xb)
                    kind = _CHANGE if changed else _NOCHANGE
                    r, x = rb.decode("utf-8", "surrogateescape"), xb.decode("utf-8", "surrogateescape")
                a_escaped.append(escape(allele))
                a_state.append(kind)
                a_start.append(start)
                a_stop.append(start + len(r) - 1)
                a_ref.append(r)
                a_alt.append(x)
                a_python.append(python)
        order = np.argsort(np.array(a_row, np.int64), kind="stable")
        a_rows = np.array(a_row, np.int64)[order]
        state = np.array(a_state, np.int64)[order]
        n_near = (bounds[1:] - bounds[:-1])[a_rows]
        # Pairs: each changing allele with every transcript near its row.
        count = np.where(state == _CHANGE, n_near, 0)
        p_a = np.repeat(np.arange(len(a_rows), dtype=np.int64), count)
        within = np.arange(len(p_a), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        p_tx = pair_tx[bounds[a_rows][p_a] + within]
        src = order[p_a]  # index into the a_* lists
        src_l = src.tolist()
        contig = b.contig[at[a_rows[p_a]]]
        fetchers = [self._fetch(c) for c in range(int(contig.max(initial=0)) + 1)]
        pairs = csq_batch.Alleles(
            tx=p_tx,
            start=np.array(a_start, np.int64)[src],
            stop=np.array(a_stop, np.int64)[src],
            ref=[a_ref[x] for x in src_l],
            alt=[a_alt[x] for x in src_l],
            allele=[a_escaped[x] for x in src_l],
            python=np.array(a_python, bool)[src],
            fetch=[fetchers[c] for c in contig.tolist()],
        )
        got = csq_batch.entries(self.tables, self.texts, self.masks, pairs, self.window)
        made: list[str | None] = [None] * len(p_a)
        rank = np.full(len(p_a), _NONE, np.int64)
        for k, text in zip(got.taken.tolist(), got.text, strict=True):
            made[k] = text
        rank[got.taken] = got.rank
        transcript = self.index.transcript
        for k in got.rest.tolist():
            x = src_l[k]
            i = int(at[a_row[x]])
            call = a_call[x]
            ref_b, alt_b, sv_end = call if call is not None else (a_ref[x].encode(), a_alt[x].encode(), None)
            t = int(p_tx[k])
            fetch = self._fetch(int(b.contig[i]))
            e = effect(transcript(t), int(b.start[i]), ref_b, alt_b, fetch, self.window, end=sv_end)
            if e is not None:
                made[k] = entry(a_allele[x], *self.texts.get(t)[:2], e)
                rank[k] = _RANK[e.terms[0]]
        a_bounds = np.searchsorted(p_a, np.arange(len(a_rows) + 1))
        alleles = [a_allele[x] for x in order.tolist()]
        return self._texts(len(rows), a_rows, state, n_near, a_bounds, alleles, made, rank)

    def _texts(
        self, n: int, a_rows: I64, state: I64, n_near: I64, a_bounds: I64, alleles: list[str],
        made: list[str | None], rank: I64,
    ) -> list[bytes]:  # fmt: skip
        """Each row's text from its alleles' entries (a_rows ascending), as `_row` joins them."""
        lo, hi = a_bounds[:-1], a_bounds[1:]
        some = hi > lo
        best = np.full(len(a_rows), _NONE, np.int64)
        if some.any():
            best[some] = np.minimum.reduceat(rank, lo[some])
        missing = np.zeros(len(a_rows), np.int64)
        if some.any():
            missing[some] = np.add.reduceat((rank == _NONE).astype(np.int64), lo[some])
        # An allele's most severe term: "." for no allele or no change on any transcript near it.
        unchanged = np.where(n_near > 0, _DOT, _RANK[_INTERGENIC])
        worst = np.where(state == _SKIP, _DOT, np.where(best != _NONE, best, unchanged))
        # A row's term for the summary: the most severe over its alleles; rows with none get no text.
        first = np.flatnonzero(np.r_[True, a_rows[1:] != a_rows[:-1]]) if len(a_rows) else a_rows
        row_best = np.minimum.reduceat(worst, first) if len(first) else first
        counts = np.bincount(row_best[row_best != _DOT], minlength=len(SEVERITY))
        for r in np.flatnonzero(counts).tolist():
            self.per_consequence[SEVERITY[r]] += int(counts[r])
        texts: list[bytes] = [b""] * n
        bounds = np.r_[first, len(a_rows)].tolist()
        lo_l, hi_l, miss_l, worst_l = lo.tolist(), hi.tolist(), missing.tolist(), worst.tolist()
        row_l, row_best_l = a_rows[first].tolist(), row_best.tolist()
        for g, row in enumerate(row_l):
            if row_best_l[g] == _DOT:
                continue
            parts: list[str] = []
            for k in range(bounds[g], bounds[g + 1]):
                w = worst_l[k]
                if w == _DOT:
                    continue
                if w == _RANK[_INTERGENIC] and lo_l[k] == hi_l[k]:
                    parts.append(f"{alleles[k]}|{_INTERGENIC}|{IMPACT[_INTERGENIC]}{_EMPTY_TAIL}")
                elif miss_l[k]:
                    parts += [e for e in made[lo_l[k] : hi_l[k]] if e is not None]
                else:
                    parts += made[lo_l[k] : hi_l[k]]  # type: ignore[arg-type]  # none missing
            if bounds[g + 1] - bounds[g] == 1:
                tail = _TAIL[worst_l[bounds[g]]]
            else:
                ws = worst_l[bounds[g] : bounds[g + 1]]
                terms = ",".join(SEVERITY[w] if w != _DOT else "." for w in ws)
                impacts = ",".join(IMPACT[SEVERITY[w]] if w != _DOT else "." for w in ws)
                tail = f";GAS_CONSEQUENCE={terms};GAS_IMPACT={impacts}"
            texts[row] = f";CSQ={','.join(parts)}{tail}".encode()
        return texts

    def _row(self, b: Batch, i: int, ids: list[int], near: list[Transcript]) -> bytes:
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

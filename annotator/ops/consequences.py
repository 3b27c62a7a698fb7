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

from annotator import allele_list, csq_batch, csq_kernel
from annotator.consequence import IMPACT, RANK, TERMS, Effect, effect, entry, most_severe, vep_alleles
from annotator.csq_batch import ACGT as _ACGT
from annotator.csq_batch import BYTE_ESCAPES
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
from annotator.textjoin import A, B, Pending, Runs, Strings, Texts, translate
from annotator.transcript_index import transcripts_of
from annotator.transcripts import CSQ_FIELDS, Fetch, Transcript
from app.results.consequences import IMPACTS

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track
    from annotator.reference import Reference

_INTERGENIC = "intergenic_variant"
# The fields of an intergenic entry after Allele, Consequence and IMPACT: all empty.
_EMPTY_TAIL = "|" * (len(CSQ_FIELDS) - 3)
_NONE = len(TERMS)  # rank of a pair with no entry
# An ALT allele's state: a change to pair with transcripts, no change (REF), "." (no allele).
_CHANGE, _NOCHANGE, _SKIP = allele_list.CHANGE, allele_list.NOCHANGE, allele_list.SKIP
_DOT = len(TERMS) + 1  # an allele's "." (sorts after every term)
_SLICE = 32768  # rows
_TAIL = {r: f";GAS_CONSEQUENCE={t};GAS_IMPACT={IMPACT[t]}" for r, t in enumerate(TERMS)}
_LONE = f"|{_INTERGENIC}|{IMPACT[_INTERGENIC]}{_EMPTY_TAIL}"  # after the Allele: an intergenic entry
_CONSTS = [";CSQ=", ",", _LONE, *_TAIL.values()]  # the op's own pieces of its texts


def _tails(worst: tuple[int, ...]) -> str:
    """The GAS_CONSEQUENCE/GAS_IMPACT text of a record's alleles' most severe terms (ranks; `_DOT`: ".")."""
    terms = ",".join(TERMS[w] if w != _DOT else "." for w in worst)
    impacts = ",".join(IMPACT[TERMS[w]] if w != _DOT else "." for w in worst)
    return f";GAS_CONSEQUENCE={terms};GAS_IMPACT={impacts}"


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
            self.fixed = cached(ref, "csq_batch_fixed", lambda: csq_batch.Fixed(self.index, _CONSTS))
            self.masks = csq_batch.Mask()
            # A batch's row texts, laid out slice after slice (written later: `Pending`).
            self.renders: list[tuple[Runs, tuple[Texts, ...], Runs | None]] = []
            self.tail_ids = np.array([self.fixed.const(_TAIL[r]) for r in range(len(TERMS))], np.int64)

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
            self.renders = []
            for lo in range(0, len(rows), _SLICE):
                hi = min(lo + _SLICE, len(rows))
                first, last = int(bounds[lo]), int(bounds[hi])
                self._batch(b, rows[lo:hi], bounds[lo : hi + 1] - first, pair_tx[first:last])
            # Written later, by the output's writer thread (the texts are most of the output's bytes).
            return Contribution(own=[(rows, Pending(tuple(self.renders)))])
        else:
            starts, txs = bounds.tolist(), pair_tx.tolist()
            transcript = self.index.transcript
            texts = []
            for k, i in enumerate(rows.tolist()):
                near = txs[starts[k] : starts[k + 1]]
                texts.append(self._row(b, i, near, [transcript(t) for t in near]))
        return Contribution(own=[(rows, pieces(texts))])

    def _batch(self, b: Batch, rows: I64, bounds: I64, pair_tx: I64) -> None:
        """The rows' texts (into `self.renders`) with csq_batch taking the pairs it can and `effect` the rest.

        Each row's ALT alleles are listed (records of one A/C/G/T base each straight from the batch's
        arrays, the others one by one as `_row` reads them), then each allele is paired with every
        transcript near its record, in `_row`'s order; the texts are joined by `textjoin`."""
        at = rows
        c = self.fixed.const
        strings = Strings()
        simple = csq_batch.single_bases(b.single_base[at], b.ref_base[at], b.alt_base[at])
        simple &= b.end[at] == b.start[at]
        s_rows = np.flatnonzero(simple)
        s_ref, s_alt = b.ref_base[at[s_rows]], b.alt_base[at[s_rows]]
        s_token = c("A") + np.searchsorted(_ACGT, s_alt).astype(np.int64)
        # The other rows' alleles, listed from the block's bytes.
        o = np.flatnonzero(~simple)
        oa = at[o]
        got_o = allele_list.list_alleles(
            b.text, b.ref_at[oa], b.ref_end[oa], b.alt_at[oa], b.alt_end[oa], b.start[oa]
        )
        n_o = len(got_o.row)
        o_rows = o[got_o.row]
        ref_len, alt_len = np.diff(got_o.ref.off), np.diff(got_o.alt.off)
        escaped = strings.add_texts(translate(got_o.allele, BYTE_ESCAPES))
        raw_ids = strings.add_texts(got_o.allele)
        # Every allele, the simple rows' first: then ordered by row (stable: a row's alleles keep theirs).
        a_row = np.concatenate([s_rows, o_rows])
        order = np.argsort(a_row, kind="stable")
        a_rows = a_row[order]
        ones = np.ones(len(s_rows), np.int64)
        s_start = b.start[at[s_rows]]
        o_stop = got_o.start + ref_len - 1
        alleles = csq_batch.Alleles(
            start=np.concatenate([s_start, got_o.start])[order],
            stop=np.concatenate([s_start, o_stop])[order],
            ref_len=np.concatenate([ones, ref_len])[order],
            alt_len=np.concatenate([ones, alt_len])[order],
            # First bytes of the trimmed REF and ALT: a one-base allele is read by them alone.
            ref_base=np.concatenate([s_ref, got_o.ref.first_bytes()])[order],
            alt_base=np.concatenate([s_alt, got_o.alt.first_bytes()])[order],
            text=np.concatenate([np.full(len(s_rows), -1, np.int64), np.arange(n_o, dtype=np.int64)])[order],
            ref=got_o.ref,
            alt=got_o.alt,
            token_kind=np.concatenate([np.full(len(s_rows), A, np.int64), np.full(n_o, B, np.int64)])[order],
            token_value=np.concatenate([s_token, escaped])[order],
            python=np.concatenate([np.zeros(len(s_rows), bool), got_o.symbolic])[order],
            contig=b.contig[at[a_rows]],
            sequence=self.sequence,
            tx=np.empty(0, np.int64),
            of=np.empty(0, np.int64),
        )
        s_state = np.where(s_ref == s_alt, _NOCHANGE, _CHANGE)
        state = np.concatenate([s_state, got_o.state])[order]
        # The Allele an intergenic entry writes: unescaped (a token like `alleles.token_*`).
        raw = np.stack([alleles.token_kind, np.concatenate([s_token, raw_ids])[order]])
        n_near = (bounds[1:] - bounds[:-1])[a_rows]
        # Pairs: each changing allele with every transcript near its row.
        count = np.where(state == _CHANGE, n_near, 0)
        p_a = np.repeat(np.arange(len(a_rows), dtype=np.int64), count)
        within = np.arange(len(p_a), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        alleles.tx = pair_tx[bounds[a_rows][p_a] + within]
        alleles.of = p_a
        got = csq_batch.entries(self.tables, self.fixed, self.masks, alleles, self.window, strings)
        rank = np.full(len(p_a), _NONE, np.int64)
        rank[got.taken] = got.rank
        # The rest, one pair at a time through the calculator.
        made_pair: list[int] = []
        made_text: list[str] = []
        transcript = self.index.transcript
        for k in got.rest.tolist():
            al = int(p_a[k])
            i = int(at[a_rows[al]])
            listed = int(alleles.text[al])
            if listed >= 0:
                ref_b, alt_text = b.alleles(i)
                alt_b = alt_text.split(b",")[got_o.alt_no[listed]]
                sv_end = int(b.end[i]) if alt_b[:1] == b"<" else None
                allele = got_o.allele[listed].decode()
            else:
                ref_b, alt_b, sv_end = bytes([alleles.ref_base[al]]), bytes([alleles.alt_base[al]]), None
                allele = chr(alleles.alt_base[al])
            t = int(alleles.tx[k])
            fetch = self._fetch(int(b.contig[i]))
            e = effect(transcript(t), int(b.start[i]), ref_b, alt_b, fetch, self.window, end=sv_end)
            if e is not None:
                made_pair.append(k)
                made_text.append(entry(allele, *self.fixed.get(t)[:2], e))
                rank[k] = RANK[e.terms[0]]
        made, made_ids = np.array(made_pair, np.int64), strings.add(made_text)
        self._texts(len(rows), a_rows, state, n_near, p_a, rank, raw, got, made, made_ids, strings)

    def _texts(
        self, n: int, a_rows: I64, state: I64, n_near: I64, p_a: I64, rank: I64, raw: I64,
        got: csq_batch.Pairs, made: I64, made_ids: I64, strings: Strings,
    ) -> None:  # fmt: skip
        """Each row's text (into `self.renders`) from its alleles' entries (a_rows ascending), as `_row`
        joins them."""
        c = self.fixed.const
        kind, value, ptr, worst, counts, many_at, many_alleles = csq_kernel.rows(
            n, a_rows, state, n_near, p_a, rank, got.taken, made, made_ids, raw[0], raw[1], self.tail_ids,
            c(";CSQ="), c(","), c(_LONE), _SKIP, _NONE, _DOT, RANK[_INTERGENIC], len(TERMS),
        )  # fmt: skip
        for r in np.flatnonzero(counts).tolist():
            self.per_consequence[TERMS[r]] += int(counts[r])
        # GAS_CONSEQUENCE/GAS_IMPACT of the rows of several alleles: a Python text per distinct list of
        # terms, added to the slice's strings once.
        worst_l = worst.tolist()
        ids: dict[tuple[int, ...], int] = {}
        many: list[int] = []
        for lo, hi in many_alleles.tolist():
            ws = tuple(worst_l[lo:hi])
            got_id = ids.get(ws)
            if got_id is None:
                got_id = ids[ws] = strings.one(_tails(ws))
            many.append(got_id)
        value[many_at] = many
        # csq_batch's entries are written in place in their rows' texts (RUN tokens).
        self.renders.append((Runs(kind, value, ptr), (self.fixed.texts, strings.texts()), got.runs))

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
                fixed = self.fixed.get
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
        self.per_consequence[min(changes, key=RANK.__getitem__)] += 1
        impacts = ",".join(IMPACT[w] if w != "." else "." for w in worst)
        text = f";CSQ={','.join(entries)};GAS_CONSEQUENCE={','.join(worst)};GAS_IMPACT={impacts}"
        return text.encode()

    def _fetch(self, contig: int) -> Fetch | None:
        return self.sequence.fetcher(contig) if self.sequence.has(contig) else None

    def summary(self, records: int) -> dict[str, Any]:
        per_impact: Counter[str] = Counter()
        for term, n in self.per_consequence.items():
            per_impact[IMPACT[term]] += n
        order = sorted(self.per_consequence, key=RANK.__getitem__)
        impacts = [i for i in IMPACTS if per_impact[i]]
        return {
            "per_consequence": {t: self.per_consequence[t] for t in order},
            "per_impact": {i: per_impact[i] for i in impacts},
        }

"""A transcript's coordinate systems: genome, cDNA, CDS and HGVS positions.

Built once per transcript (cumulative exon lengths, the CDS's cDNA span) and
kept in a bounded cache keyed by the Transcript object, so the per-variant work
is a bisect and some arithmetic. The spliced sequence is fetched the first time
a variant needs codons and kept with the map.
"""

from __future__ import annotations

from bisect import bisect_right

from annotator.codons import revcomp, translate_to_stop
from annotator.transcripts import Fetch, Transcript

# A sorted VCF revisits few transcripts once it has moved past them, so a small
# cache (emptied when full) keeps memory flat: a map holds its spliced
# sequence, a few kb.
_CACHE_LIMIT = 10_000
_cache: dict[int, TranscriptMap] = {}


def transcript_map(tx: Transcript) -> TranscriptMap:
    found = _cache.get(id(tx))
    if found is not None and found.tx is tx:
        return found
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    made = _cache[id(tx)] = TranscriptMap(tx)
    return made


class TranscriptMap:
    __slots__ = (
        "_pep",
        "_pep_of",
        "_seq",
        "_seq_fetch",
        "cds_end",
        "cds_start",
        "coding",
        "edges",
        "ends",
        "length",
        "offsets",
        "plus",
        "starts",
        "tx",
    )

    def __init__(self, tx: Transcript) -> None:
        self.tx = tx
        self.plus = tx.strand >= 0
        self.starts = [s for s, _ in tx.exons]
        self.ends = [e for _, e in tx.exons]
        lengths = [e - s + 1 for s, e in tx.exons]
        self.length = sum(lengths)
        # cDNA bases before each exon (genomic order), counted from the transcript's 5' end.
        offsets = []
        before = 0
        for n in lengths if self.plus else reversed(lengths):
            offsets.append(before)
            before += n
        self.offsets = offsets if self.plus else offsets[::-1]
        # The cDNA positions of each exon's genomic start and end, for intronic HGVS positions.
        if self.plus:
            self.edges = [(o + 1, o + n) for o, n in zip(self.offsets, lengths, strict=True)]
        else:
            self.edges = [(o + n, o + 1) for o, n in zip(self.offsets, lengths, strict=True)]
        self.cds_start = 0
        self.cds_end = 0
        if tx.cds is not None:
            low, high = self.cdna(tx.cds[0]), self.cdna(tx.cds[1])
            if low is not None and high is not None:
                self.cds_start, self.cds_end = (low, high) if self.plus else (high, low)
        self.coding = self.cds_end > 0
        self._seq = b""
        self._seq_fetch: Fetch | None = None
        self._pep = ""
        self._pep_of: bytes | None = None

    def exon_index(self, g: int) -> int:
        """The genomic-order index of the exon holding g, or -1."""
        i = bisect_right(self.starts, g) - 1
        return i if i >= 0 and g <= self.ends[i] else -1

    def cdna(self, g: int) -> int | None:
        i = bisect_right(self.starts, g) - 1
        if i < 0 or g > self.ends[i]:
            return None
        if self.plus:
            return self.offsets[i] + g - self.starts[i] + 1
        return self.offsets[i] + self.ends[i] - g + 1

    def coordinate(self, c: int) -> str:
        """A cDNA position in HGVS numbering: c.-14 and c.*7 in the UTRs, n.12 when non-coding."""
        if not self.coding:
            return str(c)
        if c < self.cds_start:
            return f"-{self.cds_start - c}"
        if c > self.cds_end:
            return f"*{c - self.cds_end}"
        return str(c - self.cds_start + 1)

    def hgvs_position(self, g: int) -> str:
        """g in HGVS numbering; in an intron, offset from the nearer exon edge (ties: the 5' one, "+")."""
        c = self.cdna(g)
        if c is not None:
            return self.coordinate(c)
        i = bisect_right(self.starts, g) - 1
        from_low = g - self.ends[i]
        from_high = self.starts[i + 1] - g
        if self.plus:
            if from_low <= from_high:
                return f"{self.coordinate(self.edges[i][1])}+{from_low}"
            return f"{self.coordinate(self.edges[i + 1][0])}-{from_high}"
        if from_high <= from_low:
            return f"{self.coordinate(self.edges[i + 1][0])}+{from_high}"
        return f"{self.coordinate(self.edges[i][1])}-{from_low}"

    def sequence(self, fetch: Fetch) -> bytes:
        """The spliced transcript, 5' to 3'; b"" when the genome lacks any of it.

        Kept against the Fetch object: pass the same one for a contig on every call."""
        if self._seq_fetch is not fetch:
            parts = [fetch(s, e) for s, e in self.tx.exons]
            spliced = b"".join(parts)
            if len(spliced) != self.length:
                spliced = b""
            self._seq = spliced if self.plus else revcomp(spliced)
            self._seq_fetch = fetch
        return self._seq

    def peptide(self, seq: bytes) -> str:
        """The CDS of the spliced `seq` (`sequence()`'s) translated to its first stop, an X first for a
        cut first codon: every frameshift's HGVSp in the transcript starts from it, so it is kept
        with the sequence."""
        if self._pep_of is not seq:
            o, frame = self.cds_start - 1, self.tx.frame
            pad = "X" if frame else ""
            self._pep = pad + translate_to_stop(seq[o + frame : self.cds_end], self.tx.mito)
            self._pep_of = seq
        return self._pep

"""Lift positions between builds with a UCSC liftOver chain file, vectorised.

At install the chain's ungapped blocks are cut into elementary segments of the
source genome, each owned by the highest-scoring chain that covers it (what
liftOver itself prefers), and saved as arrays. At run time a batch of
positions is one searchsorted. Positions in chain gaps do not lift; a variant
lifts only when its first and last base land on the same contig and strand
with the same span, otherwise it is kept and flagged, never guessed.

With the target's genome sequence, a record's REF is the target's
(`on_target`), and a record landing on the reverse strand is
reverse-complemented onto the plus strand; without it, such a record is kept
unlifted, as REF and ALT could not be made right.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from annotator import intervals as iv
from annotator.sequence import differs, reverse_complement
from annotator.transcripts import Fetch


def _canon(name: str) -> str:
    return name.lower().removeprefix("chr")


def build_chain_arrays(chain_path: Path) -> tuple[dict[str, npt.NDArray[np.int64]], list[str], list[str]]:
    """Parse a .over.chain.gz into arrays (and the source/destination contig names)."""
    src_names: dict[str, int] = {}
    dst_names: dict[str, int] = {}
    rows: list[tuple[int, int, int, int, int, int, int, int]] = []
    # (src contig, src start0, size, dst contig, dst start0, dst strand, dst size, score)
    with gzip.open(chain_path, "rt") as fh:
        t = q = 0
        header: list[str] = []
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "chain":
                header = parts
                t, q = int(parts[5]), int(parts[10])
                src_names.setdefault(_canon(parts[2]), len(src_names))
                dst_names.setdefault(parts[7], len(dst_names))
                continue
            size = int(parts[0])
            rows.append(
                (
                    src_names[_canon(header[2])],
                    t,
                    size,
                    dst_names[header[7]],
                    q,
                    1 if header[9] == "+" else -1,
                    int(header[8]),
                    int(header[1]),
                )
            )
            if len(parts) == 3:
                t += size + int(parts[1])
                q += size + int(parts[2])
    a = np.array(rows, dtype=np.int64)
    starts = iv.keys(a[:, 0], a[:, 1] + 1)
    ends = starts + a[:, 2] - 1
    bounds, indptr, ids = iv.segment(starts, ends)
    # Owner of each segment: the covering block with the best chain score.
    owner = np.full(len(bounds), -1, dtype=np.int64)
    counts = np.diff(indptr)
    covered = np.flatnonzero(counts)
    if len(covered):
        seg_of_entry = np.repeat(np.arange(len(bounds)), counts)
        score = a[ids, 7]
        order = np.lexsort((-score, seg_of_entry))  # best score first within a segment
        first = np.searchsorted(seg_of_entry[order], covered)
        owner[covered] = ids[order][first]
    arrays = {
        "bounds": bounds,
        "owner": owner,
        "src_start": starts,
        "dst_contig": a[:, 3],
        "dst_start0": a[:, 4],
        "dst_strand": a[:, 5],
        "dst_size": a[:, 6],
    }
    return arrays, list(src_names), list(dst_names)


@dataclass
class Chain:
    arrays: dict[str, npt.NDArray[np.int64]]
    src_names: list[str]  # canonical (lower case, no "chr")
    dst_names: list[str]

    def source_contig(self, name: str) -> int:
        try:
            return self.src_names.index(_canon(name))
        except ValueError:
            return -1

    def lift(
        self, src_contig: npt.NDArray[np.int64], qs: npt.NDArray[np.int64], qe: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Returns (dst contig index into dst_names or -1, new start, status).

        status: 0 lifted, 1 not in the chain (gap or unknown contig), 2 lands
        on the reverse strand (REF/ALT would need reverse-complementing),
        3 span broken across blocks.
        """
        contig, start, status, reverse = self.lift_stranded(src_contig, qs, qe)
        return np.where(reverse, -1, contig), np.where(reverse, 0, start), np.where(reverse, 2, status)

    def lift_stranded(
        self, src_contig: npt.NDArray[np.int64], qs: npt.NDArray[np.int64], qe: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """As `lift`, reverse-strand mappings included: (dst contig, new start, status,
        reverse). The new start is the lifted span's first base on the target's plus
        strand (for a reverse mapping, where the source span's last base lands); status
        is never 2, and `reverse` says which were lifted onto the reverse strand."""
        a = self.arrays
        ok_contig = src_contig >= 0
        b1 = self._block(np.where(ok_contig, iv.keys(np.maximum(src_contig, 0), qs), -1))
        b2 = self._block(np.where(ok_contig, iv.keys(np.maximum(src_contig, 0), qe), -1))
        status = np.zeros(len(qs), dtype=np.int64)
        missing = (b1 < 0) | (b2 < 0)
        status[missing] = 1
        b1c, b2c = np.maximum(b1, 0), np.maximum(b2, 0)
        offset1 = iv.keys(np.maximum(src_contig, 0), qs) - a["src_start"][b1c]
        offset2 = iv.keys(np.maximum(src_contig, 0), qe) - a["src_start"][b2c]
        d1 = a["dst_start0"][b1c] + offset1 + 1
        d2 = a["dst_start0"][b2c] + offset2 + 1
        reverse = a["dst_strand"][b1c] < 0
        broken = (a["dst_contig"][b1c] != a["dst_contig"][b2c]) | ((d2 - d1) != (qe - qs))
        status[~missing & broken] = 3
        # A reverse block counts along the reverse-complemented target: position d
        # there is size - d + 1 on the plus strand, so the span's last base comes first.
        start = np.where(reverse, a["dst_size"][b1c] - d2 + 1, d1)
        contig = np.where(status == 0, a["dst_contig"][b1c], -1)
        return contig, np.where(status == 0, start, 0), status, reverse & (status == 0)

    def _block(self, k: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        seg = iv.segment_of(self.arrays["bounds"], k)
        valid = (seg >= 0) & (k >= 0)
        return np.where(valid, self.arrays["owner"][np.maximum(seg, 0)], -1)


LIFT_STATUS = {
    1: "not in the lift-over chain",
    2: "maps to the reverse strand",
    3: "span broken by lift-over",
}


def _dna(allele: bytes) -> bool:
    """A sequence allele: not symbolic (<DEL>), not a breakend, not "*" or "."."""
    return bool(allele) and not allele.strip(b"ACGTNRYKMSWBDHVacgtnrykmswbdhv")


def on_target(
    ref: bytes, alt: bytes, start: int, reverse: bool, fetch: Fetch
) -> tuple[int, bytes, bytes, bool] | str:
    """(POS, REF, ALT, REF changed) of a lifted record on the target genome, whose REF is
    the genome's; or why it cannot be lifted. `start` is where the REF span begins on the
    target's plus strand.

    On the reverse strand every ALT is reverse-complemented. An indel's shared first base
    is VCF's padding and stays on the left: the rest of the alleles is reverse-complemented
    and the padding becomes the target's base just before them (CrossMap puts deletions
    there too; an insertion it leaves one base to the right). A lifted REF that differs
    from the target's is replaced, as CrossMap does by default; "REF changed" says so. A
    record whose new REF equals an ALT is not lifted (CrossMap: Fail(REF==ALT)); CrossMap
    drops such an ALT when others remain, which would leave GT and Number=A/R values
    pointing at the wrong allele, so here the whole record stays unlifted.
    """
    alts = alt.split(b",")
    dna = [a for a in alts if _dna(a)]
    if reverse and len(dna) < len(alts) and any(a not in (b"*", b".") for a in alts if not _dna(a)):
        return "symbolic allele maps to the reverse strand"
    padded = bool(dna) and all(a[:1].upper() == ref[:1].upper() for a in dna) and any(
        len(a) != len(ref) for a in dna
    )
    pos = start - 1 if reverse and padded else start
    genome = fetch(pos, pos + len(ref) - 1)
    if not genome:
        return "REF span not in the target sequence"
    if reverse:
        lifted = genome[:1] + reverse_complement(ref[1:]) if padded else reverse_complement(ref)
        alts = [
            (genome[:1] + reverse_complement(a[1:]) if padded else reverse_complement(a)) if _dna(a) else a
            for a in alts
        ]
    else:
        lifted = ref
        alts = [genome[:1] + a[1:] if padded and _dna(a) else a for a in alts]
    if any(a.upper() == genome for a in alts):
        return "REF equals an ALT in the target genome"
    return pos, genome, b",".join(alts), differs(lifted, genome)

"""The splice-site and UTR masks of GAS_REGION, from linked transcript models.

Each transcript speaks for itself: its UTRs are its exons outside its own
CDS (5' or 3' by its strand), and its splice sites are its own exon edges
that are not its ends. Guessing from unlinked tables got both wrong: a UTR
was put on the side of its gene's CDS midpoint (grouped by gene name, which
spans the X and Y copies of a PAR gene, so chrY PAR UTRs fell through to
noncoding_exon), and an exon edge that was any transcript's end got no
splice site, even where it is an intron's edge in another transcript.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from annotator import intervals as iv
from annotator.transcript_link import Linked, cds_span

if TYPE_CHECKING:
    from annotator.indexer import Contigs

I64 = npt.NDArray[np.int64]
Mask = tuple[I64, I64]


def splice_and_utr_masks(contigs: Contigs, linked: Linked) -> dict[str, Mask]:
    """{"splice", "utr5", "utr3"}: merged key intervals. A splice site is the
    two intronic and two exonic bases at an exon edge inside a transcript."""
    contig = contigs.resolve(linked.transcripts["_labels"])
    owner = np.repeat(np.arange(len(contig)), np.diff(linked.exon_ptr))
    known = contig[owner] >= 0
    c = np.maximum(contig[owner], 0)
    es, ee = linked.exons.start, linked.exons.end
    # Exons lie inside their transcript without overlapping, so only its
    # first exon starts where it starts and only its last ends where it ends.
    left = known & (es != linked.tx.start[owner])
    right = known & (ee != linked.tx.end[owner])
    acceptor, donor = iv.keys(c[left], es[left]), iv.keys(c[right], ee[right])
    splice = iv.merge(np.concatenate([acceptor - 2, donor - 1]), np.concatenate([acceptor + 1, donor + 2]))

    lo, hi = cds_span(linked)
    coding = known & (linked.cds_first[owner] >= 0)
    before = coding & (es < lo[owner])
    after = coding & (ee > hi[owner])
    b_s, b_e = iv.keys(c[before], es[before]), iv.keys(c[before], np.minimum(ee, lo[owner] - 1)[before])
    a_s, a_e = iv.keys(c[after], np.maximum(es, hi[owner] + 1)[after]), iv.keys(c[after], ee[after])
    minus_b, minus_a = linked.exons.minus[before], linked.exons.minus[after]
    utr5 = iv.merge(
        np.concatenate([b_s[~minus_b], a_s[minus_a]]), np.concatenate([b_e[~minus_b], a_e[minus_a]])
    )
    utr3 = iv.merge(
        np.concatenate([a_s[~minus_a], b_s[minus_b]]), np.concatenate([a_e[~minus_a], b_e[minus_b]])
    )
    return {"splice": splice, "utr5": utr5, "utr3": utr3}

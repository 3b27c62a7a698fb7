"""Where a variant falls on a transcript: the one-base fast path against the general rule."""

from __future__ import annotations

from annotator.transcript_map import transcript_map
from annotator.variant_location import one_base, span

from .synthetic_genome import TXM, TXN, TXP


def test_single_base_shortcut_matches_the_general_rule() -> None:
    """The one-base fast path finds the same exons, introns and splice flags as the general span rule."""
    for tx in (TXP, TXM, TXN):
        m = transcript_map(tx)
        for g in range(tx.start, tx.end + 1):
            assert one_base(m, g) == span(m, g, g, insertion=False), (tx.feature, g)

"""The transcript index at run time: transcripts near a batch of variants, models built once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator import intervals as iv
from annotator import reference
from annotator.transcript_index import transcripts_of


@pytest.fixture(scope="module")
def grch37(reference_root: Path) -> reference.Reference:
    return reference.load(reference_root, "GRCh37")


def test_near_matches_a_brute_force_search(grch37):
    """Transcripts within the window of SNVs and deletions on chr17 are exactly those a scan finds."""
    index = transcripts_of(grch37)
    a = grch37.arrays
    c = grch37.contig_index("17")
    rng = np.random.default_rng(7)
    pos = rng.integers(1, 81_195_210, 3000)
    length = np.where(rng.random(3000) < 0.2, rng.integers(1, 20_000, 3000), 0)
    ks, ke = iv.keys(c, pos), iv.keys(c, pos + length)
    ts, te = np.asarray(a["tx_start"]), np.asarray(a["tx_end"])
    on = np.flatnonzero(iv.contig_of(ts) == c)
    for window in (5000, 100, 0):
        rows, tx = index.near(ks, ke, window)
        gap = np.maximum(ts[on][None, :] - ke[:, None], ks[:, None] - te[on][None, :])
        want_rows, want_at = np.nonzero(gap <= window)
        assert np.array_equal(rows, want_rows) and np.array_equal(tx, on[want_at]), window
    assert len(index.near(ks, ke)[0]) > len(index.near(ks, ke, 0)[0]) > 0


def test_near_skips_rows_on_no_contig_and_refuses_a_wider_window(grch37):
    """Rows with a negative key (unknown contig) get no transcript; a window past the index's is an error."""
    index = transcripts_of(grch37)
    c = grch37.contig_index("17")
    ks = np.array([-1, iv.keys(c, 41_245_000)], np.int64)
    rows, _ = index.near(ks, ks)
    assert set(rows.tolist()) == {1}
    with pytest.raises(ValueError, match=r"outside 0\.\.5000"):
        index.near(ks, ks, 5001)


def test_models_are_built_once(grch37):
    """transcript(i) returns the same object on every call (a job meets a transcript many times)."""
    index = transcripts_of(grch37)
    assert index.transcript(1234) is index.transcript(1234)
    assert transcripts_of(grch37) is index

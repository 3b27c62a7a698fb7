"""Known-variant index (knownsites builds it, knownvariants looks it up): every
(position, REF, ALT) of a site stored, matched as written."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from annotator import intervals as iv
from annotator.knownsites import Sites, index_sites
from annotator.knownvariants import KnownIndex, Matches, allele_code, per_alt_text


def _sites(
    pos: list[int], ref: list[str], alt: list[str], *values: list[str], contig: list[int] | None = None
) -> Sites:
    return Sites(
        contig=np.array(contig or [0] * len(pos), np.int64),
        pos=np.array(pos, np.int64),
        ref=pa.array(ref),
        alt=pa.array(alt),
        values=[pa.array(v) for v in values],
    )


# chr1 (contig 0) sites of the real sources: rs8997 (common dbSNP, A>G) and,
# at the same position, a second ALT under another ID, as a merged table holds it.
SITES = _sites(
    [949654, 949654, 949654, 1040717, 1338096],
    ["A", "A", "A", "G", "CA"],
    ["G", "T", "G", "GGGGCC", "C"],
    ["rs8997", "rs_other", "rs8997", "rs1570190059", "rs797044835"],
)


def _index(sites: Sites = SITES) -> tuple[KnownIndex, dict[str, Any]]:
    out: dict[str, npt.NDArray[Any]] = {}
    counts = index_sites(sites, "k", out)
    return KnownIndex(out, "k", len(sites.values)), {"counts": counts, "arrays": out}


def _match(index: KnownIndex, rows: list[tuple[int, str, str]]) -> Matches:
    """Look rows (position, REF, ALT) up as the engine does, from their first bases."""
    ks = iv.keys(np.zeros(len(rows), np.int64), np.array([r[0] for r in rows], np.int64))
    single = np.array([len(r[1]) == 1 and len(r[2]) == 1 for r in rows])
    ref_base = np.array([ord(r[1][0].upper()) for r in rows], np.uint8)
    alt_base = np.array([ord(r[2][0].upper()) for r in rows], np.uint8)
    return index.match(
        ks,
        np.ones(len(rows), bool),
        single,
        ref_base,
        alt_base,
        lambda i: (rows[i][1].encode(), rows[i][2].encode()),
    )


def _texts(index: KnownIndex, m: Matches) -> dict[int, bytes]:
    return dict(zip(m.rows.tolist(), per_alt_text(index, m, [(b"ID", 0)]).tolist(), strict=True))


def test_a_second_alt_of_a_site_matches():
    """A site known with two ALT alleles gives each its own ID: the second one is not lost."""
    index, _ = _index()
    texts = _texts(index, _match(index, [(949654, "A", "T"), (949654, "A", "G"), (949654, "A", "C")]))
    assert texts == {0: b";ID=rs_other", 1: b";ID=rs8997"}


def test_multi_allelic_rows_get_one_value_per_alt():
    """A multi-allelic row gets one value per ALT allele, "." where one has none, lower case matching."""
    index, _ = _index()
    m = _match(index, [(949654, "a", "c,t,g")])
    assert _texts(index, m) == {0: b";ID=.,rs_other,rs8997"}
    assert m.alt.tolist() == [1, 2]


def test_indels_match_as_written():
    """An insertion or deletion matches its exact VCF alleles; another anchoring or length does not."""
    index, _ = _index()
    rows = [(1040717, "G", "GGGGCC"), (1040717, "G", "GGGGC"), (1338096, "CA", "C"), (1338096, "CAA", "CA")]
    assert _texts(index, _match(index, rows)) == {0: b";ID=rs1570190059", 2: b";ID=rs797044835"}


def test_identical_entries_are_stored_once_and_distinct_ones_all_kept():
    """Two sources listing the same (position, REF, ALT, ID) store it once; other IDs stay."""
    _, built = _index()
    assert built["counts"]["sites"] == 4
    dup = _sites([949654, 949654], ["A", "A"], ["G", "G"], ["rs8997", "rs999"])
    index, _ = _index(dup)
    assert _texts(index, _match(index, [(949654, "A", "G")])) == {0: b";ID=rs8997|rs999"}


def test_values_stay_aligned_across_fields_and_storage():
    """Fields stored as codes (few values) and as texts (one per row) give each entry its own values."""
    sites = _sites(
        [10, 10, 20, 30, 40],
        ["C", "C", "G", "G", "G"],
        ["T", "A", "A", "A", "A"],
        ["Pathogenic", "Likely_pathogenic", "Pathogenic", "Pathogenic", "Pathogenic"],
        list("12345"),
    )
    out: dict[str, npt.NDArray[Any]] = {}
    index_sites(sites, "k", out)
    assert "k_c0" in out and "k_v1" in out, "few distinct values are coded, unique ones stored"
    index = KnownIndex(out, "k", 2)
    m = _match(index, [(10, "C", "A,T"), (20, "G", "A")])
    texts = per_alt_text(index, m, [(b"SIG", 0), (b"ID", 1)]).tolist()
    assert texts == [b";SIG=Likely_pathogenic,Pathogenic;ID=2,1", b";SIG=Pathogenic;ID=3"]


def test_unknown_contigs_are_skipped_and_counted():
    """Sites on a contig the build lacks are left out of the index and counted."""
    sites = _sites([5, 5], ["A", "A"], ["G", "G"], ["x", "y"], contig=[-1, 0])
    _, built = _index(sites)
    assert built["counts"] == {"sites": 1, "skipped": 1}


def test_snv_codes_are_exact_and_never_collide_with_hashed_ones():
    """A SNV's code is its two bases; longer alleles' codes are hashed into another range."""
    assert allele_code(b"A", b"G") == ord("A") << 8 | ord("G")
    assert allele_code(b"AC", b"A") >= 1 << 62
    assert allele_code(b"AC", b"A") != allele_code(b"A", b"AC")

"""What the results table sorts by: cytobands in karyotype order, rsIDs by number,
text without regard to case, and no value as null (sorted last both ways)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from app.results import sort_keys
from app.results.sort_keys import band_order
from tests.conftest import installed_reference


def test_band_order_is_the_karyotype_order() -> None:
    """Chromosome 1..22, X, Y; the p arm from its telomere (highest band) to the
    centromere, then the q arm outward. As text, 10p11.1 sorted first and 1p11.1
    came before 1p36.33."""
    in_order = ["1p36.33", "1p36.32", "1p36.2", "1p35", "1p12", "1p11.2", "1p11.1", "1q11", "1q12",
                "1q21.1", "1q21.3", "1q44", "2p25.3", "2q37.3", "10p15.3", "10p11.1", "10q11.21",
                "22q13.33", "Xp22.33", "Xq28", "Yp11.2", "Yq11.221", "Yq11.222", "Yq11.23", "Yq12"]
    shuffled = sorted(in_order, reverse=True)
    assert sorted(shuffled, key=band_order) == in_order  # type: ignore[arg-type,return-value]
    assert band_order("chr17q21.31") == band_order("17q21.31")


@pytest.mark.parametrize("label", ["", "17", "q21", "17r21", "23p11", "17q", "chrUn", "MTq1"])
def test_band_order_of_what_is_no_band_is_none(label: str) -> None:
    assert band_order(label) is None


def test_band_order_is_the_installed_references_order() -> None:
    """The reference's band table, in its order along each chromosome, is the true
    order: band_order agrees with every band of every installed build."""
    builds = [p for p in sorted(installed_reference().glob("*/index.json"))
              if json.loads(p.read_text()).get("band_labels")]
    if not builds:
        pytest.skip("no reference with bands installed")
    for index in builds:
        labels = json.loads(index.read_text())["band_labels"]
        keys = [band_order(label) for label in labels]
        assert None not in keys, index
        assert keys == sorted(keys) and len(set(keys)) == len(keys), index
        print(f"{index.parent.name}: {len(labels)} bands in the reference's order")


def _values(keys: list[pa.Array]) -> list[tuple[object, ...]]:
    return list(zip(*(k.to_pylist() for k in keys), strict=True))


def test_rsid_key_is_the_number_then_the_text() -> None:
    """rs77582345 before rs559900608 (as text it came after); another kind of ID
    has no number (sorted after every rsID); an empty ID has no key at all."""
    keys = sort_keys.rsid(pa.chunked_array([["rs559900608", "rs77582345", "COSV1", "", "RS12;rs3"]]))
    assert _values(keys) == [(559900608, "rs559900608"), (77582345, "rs77582345"), (None, "cosv1"),
                             (None, None), (12, "rs12;rs3")]


def test_text_key_ignores_case_and_empty_is_null() -> None:
    keys = sort_keys.text(pa.chunked_array([["snoZ178", "BRCA1", ""]]))
    assert _values(keys) == [("snoz178",), ("brca1",), (None,)]


def test_band_key_orders_and_keeps_what_is_no_band_as_text() -> None:
    keys = sort_keys.band(pa.chunked_array([["10p11.1", "", "1p36.33", "odd", "10p11.1"]]))
    numbers = keys[0].to_pylist()
    assert numbers[2] < numbers[0] == numbers[4]
    assert numbers[1] is None and numbers[3] is None
    assert keys[1].to_pylist()[1:4] == [None, "1p36.33", "odd"]

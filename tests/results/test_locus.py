"""The region filter's text: a range, a chromosome or a gene, as people type them."""

from __future__ import annotations

import pytest

from app.results.locus import Locus, LocusError, bare, parse


@pytest.mark.parametrize(("typed", "expected"), [
    ("17:41,196,312-41,277,500", Locus("17:41,196,312-41,277,500", "17", 41196312, 41277500)),
    ("chr17:41196312-41277500", Locus("chr17:41196312-41277500", "17", 41196312, 41277500)),
    (" chr17 ", Locus("chr17", "17")),
    ("17", Locus("17", "17")),
    ("x", Locus("x", "X")),
    ("chrM", Locus("chrM", "MT")),
    ("MT:1-100", Locus("MT:1-100", "MT", 1, 100)),
    ("BRCA1", Locus("BRCA1", gene="BRCA1")),
    ("hsa-mir-6723", Locus("hsa-mir-6723", gene="hsa-mir-6723")),
    ("snoZ178", Locus("snoZ178", gene="snoZ178")),
    ("", None),
    ("   ", None),
])
def test_forms_the_filter_takes(typed: str, expected: Locus | None) -> None:
    assert parse(typed) == expected


@pytest.mark.parametrize("typed", [
    "17:500-400", "17:0-10", "17:1-", "17:-5", "17:a-b", "BRCA1 TP53", "17:1-2-3", "<script>",
    "chr17:41196312..41277500",
])
def test_anything_else_is_an_error_that_says_what_the_filter_takes(typed: str) -> None:
    with pytest.raises(LocusError) as error:
        parse(typed)
    message = str(error.value)
    assert repr(typed.strip()) in message
    assert "17:41,196,312-41,277,500" in message or "must start at 1" in message
    print(message)


def test_bare_chromosome_names() -> None:
    names = ("chr17", "17", "chrX", "M", "chrMT", "Chr2")
    assert [bare(c) for c in names] == ["17", "17", "X", "MT", "MT", "2"]

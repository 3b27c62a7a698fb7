"""Splitting record blocks into fields: the span each record covers, and bad records."""

from __future__ import annotations

import pytest

from annotator.records import Records, Skipped, parse
from annotator.vcf import VcfError


def _parse(*rows: str, skip_bad: bool = False, skipped: Skipped | None = None) -> Records:
    data = "".join(r.replace(" ", "\t") + "\n" for r in rows).encode()
    rec = parse(10, data, 7, skipped if skipped is not None else Skipped(), skip_bad)
    assert rec is not None
    return rec


def test_symbolic_deletion_without_end_spans_its_svlen():
    """A <DEL> with SVLEN=-1000 and no END covers POS..POS+1000, not 1 bp."""
    rec = _parse("1 5000 . N <DEL> . . SVTYPE=DEL;SVLEN=-1000", "1 9000 . N <DUP> . . SVLEN=300")
    assert rec.end.tolist() == [6000, 9300]


def test_end_wins_over_svlen_and_insertions_span_their_ref():
    """END, when given, is the span; an <INS>'s SVLEN is inserted sequence, not reference covered."""
    rec = _parse("1 5000 . N <DEL> . . END=5100;SVLEN=-1000", "1 7000 . N <INS> . . SVLEN=300")
    assert rec.end.tolist() == [5100, 7000]


def test_end_before_pos_is_an_error_naming_the_line():
    """END < POS is refused with the line number, not silently read as a 1 bp record."""
    with pytest.raises(VcfError) as err:
        _parse("1 100 . A G . . .", "1 341682 . N <DEL> . . SVTYPE=DEL;END=331782")
    assert err.value.line == 11
    assert "END 331782 is before POS 341682" in str(err.value)


def test_end_before_pos_is_skipped_and_counted_with_skip_bad_lines():
    """With skip_bad_lines a record whose END is before its POS is left out and counted like the others."""
    skipped = Skipped()
    rec = _parse("1 341682 . N <DEL> . . END=331782", "1 100 . A G . . .", skip_bad=True, skipped=skipped)
    assert rec.pos.tolist() == [100]
    assert skipped.as_dict() == {"END is before POS": {"count": 1, "first_lines": [10]}}


def test_breakend_end_is_not_a_span():
    """A breakend's END (callers write the mate's position there) neither extends nor breaks its span."""
    rec = _parse("1 5000 . N N[5:200[ . . SVTYPE=BND;CHR2=5;END=200", "1 6000 . N ]5:900000]N . . END=900000")
    assert rec.end.tolist() == [5000, 6000]

"""Linking GENCODE's flat tables into transcripts by file order, and refusing data that breaks it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from annotator.install_error import ReferenceInstallError
from annotator.transcript_link import link

Row = tuple[str, str, int, int]  # gene, strand, start, end


def _write(path: Path, rows: list[Row]) -> Path:
    pq.write_table(
        pa.table(
            {
                "gene_name": [r[0] for r in rows],
                "Strand": [r[1] for r in rows],
                "gene_type": ["protein_coding"] * len(rows),
                "level": [2] * len(rows),
                "Source": ["HAVANA"] * len(rows),
                "_labels": ["chr1"] * len(rows),
                "_starts": pa.array([r[2] for r in rows], pa.int64()),
                "_ends": pa.array([r[3] for r in rows], pa.int64()),
            }
        ),
        path,
    )
    return path


# Gene A (plus strand): A0 keeps the intron 300-399 (a retained intron, no
# CDS), so its exon 200-450 holds A1's first CDS row; A1 is coding. Gene B
# (minus strand): one coding transcript, exons listed 5' to 3' (descending).
TRANSCRIPTS = [("A", "+", 100, 600), ("A", "+", 100, 600), ("B", "-", 1000, 1500)]
EXONS = [
    ("A", "+", 100, 150), ("A", "+", 200, 450), ("A", "+", 500, 600),
    ("A", "+", 100, 150), ("A", "+", 200, 299), ("A", "+", 400, 450), ("A", "+", 500, 600),
    ("B", "-", 1400, 1500), ("B", "-", 1000, 1200),
]  # fmt: skip
CDS = [
    ("A", "+", 250, 299), ("A", "+", 400, 450), ("A", "+", 500, 520),
    ("B", "-", 1400, 1450), ("B", "-", 1150, 1200),
]  # fmt: skip
UTRS = [
    ("A", "+", 100, 150), ("A", "+", 200, 249), ("A", "+", 521, 600),
    ("B", "-", 1451, 1500), ("B", "-", 1000, 1149),
]  # fmt: skip


def _link(tmp_path: Path, **tables: list[Row]) -> object:
    given = {"transcripts": TRANSCRIPTS, "exons": EXONS, "cds": CDS, "utr": UTRS, **tables}
    return link({role: _write(tmp_path / f"{role}.parquet", rows) for role, rows in given.items()})


def test_links_exons_and_cds_by_file_order(tmp_path):
    """Exons go to the transcript before them; the CDS goes to A1, not to the
    retained-intron A0 whose long exon also holds its first row (the UTR rows decide)."""
    linked = _link(tmp_path)
    assert linked.exon_ptr.tolist() == [0, 3, 7, 9]
    assert linked.cds_first.tolist() == [-1, 0, 3]
    assert linked.cds_last.tolist() == [-1, 2, 4]


def test_goes_back_when_a_run_taken_was_the_next_transcripts(tmp_path):
    """C0 (no CDS) has C1's exons but its last one starts later, just where
    C1's stop codon ends, so C1's first two CDS rows and all its UTR rows fit
    C0 too (GENCODE's MAPK14 has such a pair). Only C1 holds the third row:
    the linker undoes C0's run and gives the whole CDS to C1."""
    transcripts = [("C", "+", 100, 450), ("C", "+", 100, 450)]
    exons = [
        ("C", "+", 100, 150), ("C", "+", 200, 300), ("C", "+", 400, 450),
        ("C", "+", 100, 150), ("C", "+", 200, 300), ("C", "+", 380, 450),
    ]  # fmt: skip
    cds = [("C", "+", 120, 150), ("C", "+", 200, 300), ("C", "+", 380, 399)]
    utrs = [("C", "+", 100, 119), ("C", "+", 400, 450)]
    linked = _link(tmp_path, transcripts=transcripts, exons=exons, cds=cds, utr=utrs)
    assert linked.cds_first.tolist() == [-1, 0]
    assert linked.cds_last.tolist() == [-1, 2]


def test_split_utr_tables_are_checked_by_side(tmp_path):
    """With 5' and 3' UTRs in two tables, each must hold that side's pieces."""
    five = [UTRS[0], UTRS[1], UTRS[3]]
    three = [UTRS[2], UTRS[4]]
    files = {
        "transcripts": TRANSCRIPTS, "exons": EXONS, "cds": CDS, "utr5": five, "utr3": three,
    }  # fmt: skip
    linked = link({role: _write(tmp_path / f"{role}.parquet", rows) for role, rows in files.items()})
    assert linked.cds_first.tolist() == [-1, 0, 3]
    swapped = {**files, "utr5": three, "utr3": five}
    with pytest.raises(ReferenceInstallError, match=r"no transcript"):
        link({role: _write(tmp_path / f"s{role}.parquet", rows) for role, rows in swapped.items()})


def test_refuses_exons_that_do_not_reach_the_transcript_end(tmp_path):
    """An exon list cut short is named, not silently given to the next transcript."""
    with pytest.raises(ReferenceInstallError, match=r"transcripts row 2 .*no exon"):
        _link(tmp_path, exons=EXONS[:-1])


def test_refuses_an_exon_of_another_gene_inside_a_run(tmp_path):
    """An exon row of another gene among a transcript's exons is refused with its row."""
    exons = [*EXONS[:5], ("Z", "+", 400, 450), *EXONS[6:]]
    with pytest.raises(ReferenceInstallError, match=r"exons row 5 .*of another gene"):
        _link(tmp_path, exons=exons)


def test_refuses_overlapping_exons(tmp_path):
    """Exons of one transcript that overlap are not 5' to 3' order: refused."""
    exons = [*EXONS[:5], ("A", "+", 290, 450), *EXONS[6:]]
    with pytest.raises(ReferenceInstallError, match=r"exons row 5 .*overlapping"):
        _link(tmp_path, exons=exons)


def test_refuses_a_cds_no_transcript_holds(tmp_path):
    """A CDS row across an intron fits no transcript: the install stops there."""
    cds = [("A", "+", 250, 420), *CDS[1:]]
    with pytest.raises(ReferenceInstallError, match=r"CDSs row 0 .*no transcript"):
        _link(tmp_path, cds=cds)


def test_refuses_utrs_that_are_not_the_exons_outside_the_cds(tmp_path):
    """UTR rows that disagree with the linked CDS are refused, not trusted."""
    utrs = [*UTRS[:2], ("A", "+", 522, 600), *UTRS[3:]]
    with pytest.raises(ReferenceInstallError, match=r"no transcript"):
        _link(tmp_path, utr=utrs)


def test_linked_positions_are_the_files(tmp_path):
    """The tables keep the files' rows: minus-strand 5' ends are the high ends."""
    linked = _link(tmp_path)
    assert np.array_equal(linked.exons.five[7:], [1500, 1200])
    assert np.array_equal(linked.cds.three[3:], [1400, 1150])

"""Skipping bad records on request: what is left out, how it is counted, what still fails."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from click.testing import CliRunner

from annotator.engine import VcfError, annotate_file

from .conftest import HEADER, read_output, vcf

BAD = [
    "17 41245000 . A G . . .",  # line 3: good
    "1 abc . A G . . .",  # 4: POS not a number
    "1 100 . A G . .",  # 5: a column short
    "1 99999999999 . A G . . .",  # 6: POS beyond 32 bits
    "1 200 .  G . . .",  # 7: empty REF
    "1 300 . A  . . .",  # 8: empty ALT
    " 400 . A G . . .",  # 9: empty CHROM
    "1 461 . C T . . .",  # 10: good
]


def test_bad_lines_are_skipped_and_counted(annotate):
    """Each kind of bad record is left out, counted by reason with its first line number."""
    r = annotate(vcf(*BAD), skip_bad_lines=True)
    assert [rec[1] for rec in r.records] == ["41245000", "461"]
    assert r.summary["variant_count"] == 2
    assert r.summary["skip_bad_lines"] is True
    assert r.summary["skipped"] == {
        "POS is not a number": {"count": 1, "first_lines": [4]},
        "wrong number of columns": {"count": 1, "first_lines": [5]},
        "POS is out of range": {"count": 1, "first_lines": [6]},
        "REF is empty": {"count": 1, "first_lines": [7]},
        "ALT is empty": {"count": 1, "first_lines": [8]},
        "CHROM is empty": {"count": 1, "first_lines": [9]},
    }
    assert "skipped 1 x POS is not a number (first at line 4)" in r.log
    assert r.info(0)["GAS_GENE"] == "BRCA1"


def test_without_the_option_the_first_bad_line_fails(tmp_path, reference_root):
    """By default the first bad record ends the run with its line number and what is wrong."""
    src = tmp_path / "in.vcf"
    src.write_text(vcf(*BAD))
    with pytest.raises(VcfError) as info:
        annotate_file(src, tmp_path / "out.vcf", reference_root=reference_root)
    assert str(info.value) == "line 4: POS 'abc' is not a number"


def test_line_numbers_stay_right_across_blocks(annotate):
    """Bad lines deep in a large file (several read blocks) are reported at their true line."""
    rows = [f"1\t{1000 + i}\t.\tA\tG\t.\t.\tDP={i};" + "X" * 40 for i in range(120_000)]
    for at in (5, 70_000, 119_999):
        rows[at] = rows[at].replace("\tA\t", "\t\t", 1)
    r = annotate(HEADER + "\n".join(rows) + "\n", skip_bad_lines=True)
    assert r.summary["skipped"] == {"REF is empty": {"count": 3, "first_lines": [8, 70_003, 120_002]}}
    assert r.summary["variant_count"] == 120_000 - 3
    assert r.summary["lines_read"] == 120_002


def test_only_the_first_five_line_numbers_are_kept(annotate):
    """A file full of bad lines gives a count and five line numbers, not thousands."""
    r = annotate(vcf(*(["1 x . A G . . ."] * 50), "1 100 . A G . . ."), skip_bad_lines=True)
    assert r.summary["skipped"]["POS is not a number"] == {"count": 50, "first_lines": [3, 4, 5, 6, 7]}
    assert r.summary["variant_count"] == 1


def test_all_lines_bad_gives_an_empty_result(annotate):
    """When every record is skipped the output is a valid header-only VCF."""
    r = annotate(vcf("1 x . A G . . .", "2 y . A G . . ."), skip_bad_lines=True)
    assert r.records == []
    assert r.summary["variant_count"] == 0
    assert r.summary["skipped"]["POS is not a number"]["count"] == 2


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_output_after_skipping_is_valid_vcf(annotate):
    """What remains after skipping parses with bcftools, record for record."""
    r = annotate(vcf(*BAD), skip_bad_lines=True)
    done = subprocess.run(["bcftools", "view", "-H", str(r.path)], capture_output=True, text=True, check=True)
    assert len(done.stdout.splitlines()) == 2


def test_cli_flag(tmp_path, reference_root, monkeypatch):
    """`gas annotate --skip-bad-lines` passes the option through; without it the CLI fails cleanly."""
    from gas.cli import main

    monkeypatch.setenv("GAS_REFERENCE_DIR", str(reference_root))
    src, out, summary = tmp_path / "in.vcf", tmp_path / "out.vcf", tmp_path / "s.json"
    src.write_text(vcf(*BAD))
    failed = CliRunner().invoke(main, ["annotate", str(src), "-o", str(out)])
    assert failed.exit_code != 0
    assert "line 4: POS 'abc' is not a number" in failed.output
    done = CliRunner().invoke(
        main, ["annotate", str(src), "-o", str(out), "--skip-bad-lines", "--summary", str(summary)]
    )
    assert done.exit_code == 0, done.output
    assert len(read_output(out)[1]) == 2
    assert "POS is not a number" in summary.read_text()

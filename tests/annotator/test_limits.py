"""Limits per plan, enforced while the engine streams: a bomb stops as soon as it
crosses one, naming the limit and the line; reading stays linear in the input."""

from __future__ import annotations

import gzip
import json
import pickle
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from annotator.engine import annotate_file
from annotator.limits import LimitExceeded, Limits
from annotator.vcf import VcfReader

from .conftest import HEADER, REPO, vcf

COLUMNS = b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
MiB = 1 << 20


def gzip_stream(path: Path, parts: Iterable[bytes]) -> Path:
    """A gzip file written piece by piece: bombs are built without holding them whole."""
    with gzip.GzipFile(path, "wb", compresslevel=9) as out:
        for part in parts:
            out.write(part)
    return path


def header_line_bomb(path: Path, mib: int) -> Path:
    """One header line of `mib` MiB of one letter (about 1 KB of gzip a MiB)."""
    chunk = b"A" * MiB
    return gzip_stream(path, [b"##fileformat=VCFv4.2\n##x=", *(chunk for _ in range(mib)), b"\n", COLUMNS])


def records_bomb(path: Path, millions: int) -> Path:
    """`millions` million short records (about 40 KB of gzip a million)."""
    chunk = b"1\t100\t.\tA\tC\t.\t.\t.\n" * 100_000
    return gzip_stream(path, [b"##fileformat=VCFv4.2\n", COLUMNS, *(chunk for _ in range(10 * millions))])


def meta_lines_bomb(path: Path, millions: int) -> Path:
    """`millions` million "##" lines (about 4 KB of gzip a million)."""
    chunk = b"##\n" * 1_000_000
    return gzip_stream(path, [b"##fileformat=VCFv4.2\n", *(chunk for _ in range(millions)), COLUMNS])


def exceeded(tmp_path: Path, reference_root: Path, src: Path, limits: Limits) -> LimitExceeded:
    out = tmp_path / "out.vcf"
    with pytest.raises(LimitExceeded) as info:
        annotate_file(src, out, reference_root=reference_root, limits=limits, log_path=tmp_path / "log")
    assert not out.exists() and not (tmp_path / "out.vcf.part").exists(), "no partial output is left"
    assert "FAILED" in (tmp_path / "log").read_text()
    return info.value


def test_tightened_is_the_stricter_of_each_field() -> None:
    """A limit beats no limit, and of two limits the smaller one wins, field by field."""
    plan = Limits(decompressed_bytes=100, records=None, seconds=5.0)
    other = Limits(decompressed_bytes=200, records=7, line_bytes=3)
    assert plan.tightened(other) == Limits(decompressed_bytes=100, records=7, line_bytes=3, seconds=5.0)
    assert Limits().tightened(Limits()) == Limits()


def test_limit_exceeded_survives_the_process_pool() -> None:
    """Raised in an engine process, it comes back to the server whole (a failed
    unpickling there breaks the pool)."""
    back = pickle.loads(pickle.dumps(LimitExceeded("records", 50_000, 50_003)))
    assert (back.limit, back.value, back.line) == ("records", 50_000, 50_003)
    assert str(back) == "line 50003: over the limit of 50,000 (records)"


def test_decompressed_bytes_stop_a_gzip_bomb(tmp_path: Path, reference_root: Path) -> None:
    """3M records in ~120 KB of gzip stop once the file has expanded past the limit."""
    src = records_bomb(tmp_path / "bomb.vcf.gz", 3)
    assert src.stat().st_size < 150_000
    err = exceeded(tmp_path, reference_root, src, Limits(decompressed_bytes=1_536_000))
    assert (err.limit, err.value) == ("decompressed_bytes", 1_536_000)


def test_records_limit_names_the_first_record_over(tmp_path: Path, reference_root: Path) -> None:
    """The 11th record of a 10-record limit is refused at its line."""
    src = tmp_path / "in.vcf"
    src.write_text(vcf(*[f"1 {100 + i} . A C . . ." for i in range(30)]))
    err = exceeded(tmp_path, reference_root, src, Limits(records=10))
    assert (err.limit, err.value, err.line) == ("records", 10, 13)
    ok = annotate_file(src, tmp_path / "ok.vcf", reference_root=reference_root, limits=Limits(records=30))
    assert ok["variant_count"] == 30


def test_a_long_header_line_stops_as_it_arrives(tmp_path: Path, reference_root: Path) -> None:
    """A 150 MiB header line (~150 KB of gzip) stops at the line limit, at its line,
    long before it has all been read."""
    src = header_line_bomb(tmp_path / "bomb.vcf.gz", 150)
    err = exceeded(tmp_path, reference_root, src, Limits(line_bytes=256 * 1024))
    assert (err.limit, err.line) == ("line_bytes", 2)
    err = exceeded(tmp_path, reference_root, src, Limits(header_bytes=MiB))
    assert (err.limit, err.line) == ("header_bytes", 2)


def test_header_lines_limit(tmp_path: Path, reference_root: Path) -> None:
    """Millions of short meta lines stop at the header-lines limit."""
    src = meta_lines_bomb(tmp_path / "bomb.vcf.gz", 2)
    err = exceeded(tmp_path, reference_root, src, Limits(header_lines=10_000))
    assert (err.limit, err.line) == ("header_lines", 10_001)


def test_long_data_lines_inside_and_across_blocks(tmp_path: Path, reference_root: Path) -> None:
    """A data line over the limit is found whether it sits inside a block with
    others or is longer than a block itself."""
    rows = [f"1 {100 + i} . A C . . ." for i in range(5)]
    inside = tmp_path / "inside.vcf"
    inside.write_text(vcf(*rows[:2], "1 300 . A C . . " + "X" * 5000, *rows[2:]))
    err = exceeded(tmp_path, reference_root, inside, Limits(line_bytes=1000))
    assert (err.limit, err.line) == ("line_bytes", 5)
    across = tmp_path / "across.vcf.gz"
    wide = [b"1\t300\t.\tA\tC\t.\t.\t", *(b"X" * MiB for _ in range(9)), b"\n"]
    gzip_stream(across, [vcf(*rows).encode(), *wide])
    with VcfReader(across, Limits(line_bytes=8 * MiB)) as reader:
        reader.read_header()
        with pytest.raises(LimitExceeded) as info:
            for _ in reader.blocks(size=1 << 16):
                pass
    assert (info.value.limit, info.value.line) == ("line_bytes", 8)


def test_wall_time_is_checked_while_reading(tmp_path: Path, reference_root: Path) -> None:
    """An engine past its wall time stops at its next read, freeing its process."""
    src = tmp_path / "in.vcf"
    src.write_text(vcf("1 100 . A C . . ."))
    err = exceeded(tmp_path, reference_root, src, Limits(seconds=1e-9))
    assert err.limit == "seconds"


def test_input_within_every_limit_is_annotated_as_without_limits(annotate) -> None:
    """Limits that are not crossed change nothing in the output."""
    text = vcf("17 41245000 . A G 50 PASS DP=3", "1 461 . C T . . .")
    limits = Limits(len(text), 2, 100, len(HEADER), 2, 60.0)
    assert annotate(text, limits=limits).records == annotate(text).records


def test_header_line_reading_is_linear(tmp_path: Path) -> None:
    """A 64 MiB header line is read in one pass; re-joining the buffer on every
    64 KB read took 42 s for it (very generous bound: 15 s)."""
    src = header_line_bomb(tmp_path / "long.vcf.gz", 64)
    started = time.monotonic()
    with VcfReader(src) as reader:
        header = reader.read_header()
    assert len(header.meta[1]) == 64 * MiB + 4
    assert time.monotonic() - started < 15


def test_data_line_longer_than_a_block_is_read_in_one_pass(tmp_path: Path) -> None:
    """A 32 MiB data line read 4 KB at a time is joined once (it was re-joined on
    every read: 128 GB of copying); very generous bound: 15 s."""
    src = tmp_path / "wide.vcf"
    wide = b"1\t100\t.\tA\tC\t.\t.\t" + b"X" * (32 * MiB) + b"\n"
    src.write_bytes(HEADER.encode() + wide + b"1\t200\t.\tA\tC\t.\t.\t.\n")
    started = time.monotonic()
    with VcfReader(src) as reader:
        reader.read_header()
        lines = [block.count(b"\n") for _, block in reader.blocks(size=1 << 12)]
    assert sum(lines) == 2
    assert time.monotonic() - started < 15


_ENGINE_RUN = """
import json, re, sys, time
from pathlib import Path
from annotator.engine import annotate_file
from annotator.limits import LimitExceeded, Limits
started = time.monotonic()
try:
    annotate_file(Path(sys.argv[1]), Path(sys.argv[2]), reference_root=Path(sys.argv[3]),
                  limits=Limits(**json.loads(sys.argv[4])))
    limit = None
except LimitExceeded as exc:
    limit = exc.limit
# VmHWM, not ru_maxrss: that one counts the parent's memory when it forked this process.
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"limit": limit, "seconds": time.monotonic() - started, "rss_mb": peak_kb / 1024}))
"""

FREE = {"decompressed_bytes": 1_536_000, "records": 50_000, "line_bytes": 256 * 1024,
        "header_bytes": 1024 * 1024, "header_lines": 10_000, "seconds": 60}


@pytest.mark.parametrize(("bomb", "limit"), [
    (lambda p: header_line_bomb(p, 150), "line_bytes"),
    # Its first 1 MB block holds 55,000 records: past the 50,000 before 1.5 MB is read.
    (lambda p: records_bomb(p, 3), "records"),
    (lambda p: meta_lines_bomb(p, 9), "header_lines"),
])
def test_bombs_fail_fast_in_bounded_memory(tmp_path: Path, reference_root: Path, bomb, limit) -> None:
    """Each bomb of the issue (150 MiB header line, 3M records, 9M meta lines: each
    under 150 KB of gzip) stops in an engine process of its own within seconds and
    well under 450 MB (the meta lines alone took 1.0 GB); generous bounds. About 140 MB
    of the peak are numba's and LLVM's libraries (`annotator.textjoin`): file pages,
    shared by every engine process of the machine."""
    src = bomb(tmp_path / "bomb.vcf.gz")
    assert src.stat().st_size <= 153_600
    done = subprocess.run(
        [sys.executable, "-c", _ENGINE_RUN, str(src), str(tmp_path / "out.vcf"), str(reference_root),
         json.dumps(FREE)], capture_output=True, text=True, cwd=REPO, timeout=120, check=True,
    )
    result = json.loads(done.stdout)
    assert result["limit"] == limit
    assert result["seconds"] < 10
    assert result["rss_mb"] < 450

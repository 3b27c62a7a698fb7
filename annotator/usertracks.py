"""Read an operator's track file (BED, GTF or VCF, plain or gzipped) into features.

Every format ends up as 1-based closed intervals with a name: BED's 0-based
starts are shifted, GTF is already 1-based, a VCF record spans POS to
POS + len(REF) - 1 (or INFO/END). Header, comment, ``track`` and ``browser``
lines are skipped; a line that cannot be read fails the install with its
line number, so a bad file is never half-indexed.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from annotator.install_error import ReferenceInstallError
from annotator.manifest import Track

_GTF_ATTR = re.compile(r'(\S+)\s+"?([^";]*)"?')
_END = re.compile(r"(?:^|;)END=(\d+)")


@dataclass
class Features:
    contigs: list[str]  # as the file names them
    starts: npt.NDArray[np.int64]  # 1-based, closed
    ends: npt.NDArray[np.int64]
    names: list[str]  # "" where the file gives none


def read(path: Path, track: Track) -> Features:
    contigs: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    names: list[str] = []
    parse = {"bed": _bed, "gtf": _gtf, "vcf": _vcf}[track.format]
    for number, fields in _lines(path):
        try:
            got = parse(fields, track)
        except (ValueError, IndexError):
            raise ReferenceInstallError(
                f"track {track.name}: {path.name} line {number} is not valid {track.format.upper()}"
            ) from None
        if got is None:
            continue
        contig, start, end, name = got
        if end < start or start < 1:
            raise ReferenceInstallError(f"track {track.name}: {path.name} line {number}: bad interval")
        contigs.append(contig)
        starts.append(start)
        ends.append(end)
        names.append(name)
    return Features(contigs, np.array(starts, np.int64), np.array(ends, np.int64), names)


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith(("#", "track ", "track\t", "browser ")):
                continue
            yield number, line.split("\t")


def _bed(f: list[str], track: Track) -> tuple[str, int, int, str]:
    return f[0], int(f[1]) + 1, int(f[2]), f[3].strip() if len(f) > 3 and f[3] != "." else ""


def _gtf(f: list[str], track: Track) -> tuple[str, int, int, str] | None:
    if track.feature and f[2] != track.feature:
        return None
    attrs = dict(_GTF_ATTR.findall(f[8])) if len(f) > 8 else {}
    name = attrs.get(track.name_attribute) or attrs.get("gene_id") or ""
    return f[0], int(f[3]), int(f[4]), name


def _vcf(f: list[str], track: Track) -> tuple[str, int, int, str]:
    pos = int(f[1])
    end = pos + len(f[3]) - 1
    m = _END.search(f[7]) if len(f) > 7 else None
    if m:
        end = max(end, int(m.group(1)))
    return f[0], pos, end, "" if f[2] == "." else f[2]

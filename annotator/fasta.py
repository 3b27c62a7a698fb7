"""Decode a build's genome sequence into its index, at install.

The sources are FASTA files (plain, gzip or bgzip: bgzip is gzip-compatible,
so it is streamed the same way) and the packaged rCRS, a Python string read
as text. Each record's name is matched to the build's contigs like a VCF's
(``chr1``/``1``, ``MT``/``chrM``, aliases), its length checked against the
build's, and its bases written, upper-cased, into one uint8 array
(``seq_bases.npy``) with each contig's offset and length beside it.

Decoding once here makes every REF check and codon a slice of a memory map:
no decompression per lookup, at the cost of one byte a base on disk (~3.1 GB
for a whole genome). A FASTA's ``.fai`` beside it is read first, so names and
lengths are checked before gigabytes are decoded.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from annotator.builds import CHROMOSOME_LENGTHS, UCSC_HG19_CHRM_LENGTH
from annotator.indexer import Contigs
from annotator.install_error import ReferenceInstallError
from annotator.manifest import GenomeSequence

SEQUENCE_ARRAY = "seq_bases"
_HEADER = 128  # bytes of a 1-D uint8 .npy header, whatever its length (numpy pads to 64)
_BLOCK = 1 << 22
_UPPER = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WHITESPACE = b" \t\r\n"
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# (True, record name) at each ">" line, (False, bases) for the bases after it.
Event = tuple[bool, bytes]


def build(contigs: Contigs, sources: list[tuple[GenomeSequence, Path]], out_dir: Path,
          arrays: dict[str, Any]) -> dict[str, Any]:
    """Write ``seq_bases.npy`` into out_dir and the per-contig ``seq_start``/``seq_length``
    into arrays; `sources` in manifest order (a later source's contig replaces an earlier's).
    Returns what index.json records: the contigs with a sequence and where each came from."""
    n = len(contigs.names)
    start = np.zeros(n, np.int64)
    length = np.zeros(n, np.int64)
    origin: dict[str, str] = {}
    notes: list[str] = []
    target = out_dir / f"{SEQUENCE_ARRAY}.npy"
    try:
        with target.open("wb") as out:
            out.write(bytes(_HEADER))
            for seq, path in reversed(sources):
                where = f"[[sequence]] {seq.build} ({seq.describe()})"
                reader = _Reader(contigs, out, start, length, where, notes)
                if seq.source is None:
                    reader.read(_python_string(path, seq, where))
                else:
                    reader.expect(_fai(path))
                    reader.read(_events(_blocks(path, where), where))
                origin.update(dict.fromkeys(reader.written, seq.describe()))
            total = out.tell() - _HEADER
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": "|u1", "fortran_order": False, "shape": (total,)}
            )
            if len(header.getvalue()) != _HEADER:
                raise ReferenceInstallError(f"{total:,} bases: the .npy header is not {_HEADER} bytes")
            out.seek(0)
            out.write(header.getvalue())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    arrays["seq_start"], arrays["seq_length"] = start, length
    return {
        "sequence": {"contigs": origin, "notes": notes},
        "counts": {"sequence contigs": len(origin), "sequence bases": int(length.sum())},
    }


class _Reader:
    """Writes the records of one source that the build has and no later source gave."""

    def __init__(self, contigs: Contigs, out: IO[bytes], start: np.ndarray, length: np.ndarray,
                 where: str, notes: list[str]):
        self.contigs, self.out, self.start, self.length = contigs, out, start, length
        self.where, self.notes = where, notes
        self.taken = {int(c) for c in np.flatnonzero(length)}  # by a later source
        self.written: list[str] = []
        self.skip_names: set[str] = set()

    def expect(self, fai: dict[str, int] | None) -> None:
        """Check the names and lengths of a FASTA's .fai before decoding it."""
        if fai is None:
            return
        matched = 0
        for name, size in fai.items():
            c = self.contigs.aliases.get(name.lower(), -1)
            if c >= 0:
                matched += 1
                if not self._length_ok(name, c, size):
                    self.skip_names.add(name)
        if fai and not matched:
            self._none_matched(list(fai))

    def read(self, events: Iterator[Event]) -> None:
        current, written, begun, seen = -1, 0, 0, 0
        names: list[str] = []
        seen_contigs: set[int] = set()
        for is_name, data in events:
            if not is_name:
                if current >= 0:
                    bases = data.translate(_UPPER, _WHITESPACE)
                    odd = bases.translate(None, _LETTERS)
                    if odd:
                        raise ReferenceInstallError(
                            f"{self.where}: byte {odd[:1]!r} in {self.contigs.names[current]}'s sequence is "
                            "not a base: the file is damaged or not a FASTA"
                        )
                    self.out.write(bases)
                    written += len(bases)
                continue
            current = self._finish(current, written, begun)
            name = data.split(maxsplit=1)[0].decode("utf-8", "replace") if data.strip() else ""
            names.append(name)
            c = self.contigs.aliases.get(name.lower(), -1)
            if c >= 0 and c in seen_contigs:
                raise ReferenceInstallError(f"{self.where}: {name} is the second record for "
                                            f"{self.contigs.names[c]}")
            seen_contigs.add(c)
            seen += c >= 0
            if c >= 0 and c not in self.taken and name not in self.skip_names:
                current, written, begun = c, 0, self.out.tell()
        self._finish(current, written, begun)
        if not names:
            raise ReferenceInstallError(f"{self.where}: no '>name' line: not a FASTA")
        if not seen:
            self._none_matched(names)
        if seen < len(names):
            self.notes.append(f"{self.where}: {len(names) - seen:,} record(s) that are not contigs of this "
                              "build left out")

    def _finish(self, c: int, written: int, begun: int) -> int:
        if c < 0:
            return -1
        if not self._length_ok(self.contigs.names[c], c, written):
            self.out.seek(begun)
            self.out.truncate()
            return -1
        self.start[c], self.length[c] = begun - _HEADER, written
        self.taken.add(c)
        self.written.append(self.contigs.names[c])
        return -1

    def _length_ok(self, name: str, c: int, size: int) -> bool:
        """True when the record is the build's contig; False for UCSC hg19's chrM (not rCRS:
        left out, so the packaged rCRS stays); a refusal for anything else."""
        expected = self.contigs.lengths[c]
        if size == expected:
            return True
        if size == UCSC_HG19_CHRM_LENGTH and self.contigs.display(c) in ("MT", "M"):
            self.notes.append(f"{self.where}: {name} is UCSC hg19's chrM (NC_001807, {size:,} bp), "
                              "not the rCRS the build's MT is: left out")
            return False
        other = CHROMOSOME_LENGTHS.get((self.contigs.display(c).upper(), size))
        why = f" ({name} of that length is {other}'s)" if other else ""
        raise ReferenceInstallError(
            f"{self.where}: {name} is {size:,} bp there but {self.contigs.names[c]} is {expected:,} bp in "
            f"this build{why}: the FASTA is of another build, or truncated; it was not used"
        )

    def _none_matched(self, names: list[str]) -> None:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise ReferenceInstallError(f"{self.where}: none of its records ({shown}) is a contig of this build")


def _blocks(path: Path, where: str) -> Iterator[bytes]:
    """The file's bytes in blocks, gunzipped when it is gzip or bgzip."""
    with path.open("rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gzipped else path.open("rb")) as fh:
        while True:
            try:
                block = fh.read(_BLOCK)
            except (EOFError, OSError, zlib.error) as exc:
                raise ReferenceInstallError(f"{where}: the file is damaged or truncated ({exc})") from None
            if not block:
                return
            yield block


def _fai(path: Path) -> dict[str, int] | None:
    """name -> length from the samtools index beside the FASTA, if there is one."""
    fai = path.with_name(path.name + ".fai")
    if not fai.is_file():
        return None
    out: dict[str, int] = {}
    for line in fai.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _events(blocks: Iterator[bytes], where: str) -> Iterator[Event]:
    """The FASTA as name and bases events, read in blocks (a genome is gigabytes)."""
    line_start = True
    name: bytearray | None = None
    named = False
    for block in blocks:
        pos, n = 0, len(block)
        while pos < n:
            if name is not None:
                nl = block.find(b"\n", pos)
                name += block[pos : n if nl < 0 else nl]
                if nl < 0:
                    break
                yield True, bytes(name)
                name, pos, line_start = None, nl + 1, True
                continue
            gt = block.find(b">", pos)
            end = n if gt < 0 else gt
            if end > pos:
                piece = block[pos:end]
                if not named and piece.strip():
                    raise ReferenceInstallError(f"{where}: the file does not start with a '>name' line: "
                                                "not a FASTA")
                yield False, piece
                line_start = block[end - 1] == 10
            if gt < 0:
                break
            if not line_start:
                raise ReferenceInstallError(f"{where}: a '>' inside a line of sequence: the FASTA is damaged")
            name, named, pos = bytearray(), True, gt + 1
    if name is not None:
        yield True, bytes(name)


def _python_string(path: Path, seq: GenomeSequence, where: str) -> Iterator[Event]:
    """The packaged rCRS: a string literal in a Python file, read as text, never run."""
    m = re.search(rf'^{re.escape(seq.variable)}\s*=\s*"([A-Za-z]+)"', path.read_text(), re.MULTILINE)
    if m is None:
        raise ReferenceInstallError(f"{where}: no {seq.variable} = \"...\" in {path.name}")
    yield True, seq.contig.encode()
    yield False, m.group(1).encode()

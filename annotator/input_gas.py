"""An input's own ``GAS_*`` INFO values are dropped, so every one in the output is GAS's.

They are either an earlier GAS run's (re-annotating a result: the new values
replace them) or someone else's that would pass for GAS's, e.g. ``GAS_GENE`` on
a contig GAS does not annotate. Dropped rather than renamed: a renamed key
would need its own header line, would pile up prefixes on every re-annotation,
and would still read like GAS's to a person skimming the file. The log says
how many were dropped, and which keys.

Done on the block's bytes before it is split into fields, so the fast path
writes the cleaned lines as it writes any others; a block without ``GAS_`` in
it costs one substring search.
"""

from __future__ import annotations

from collections import Counter

_KEY = b"GAS_"
_NAMES_KEPT = 20  # distinct key names remembered for the log; a file may invent millions


class InputGasKeys:
    def __init__(self) -> None:
        self.records = 0  # records that had any
        self.values = 0
        self.keys: Counter[str] = Counter()

    def strip(self, block: bytes) -> bytes:
        """The block with every ``GAS_*`` INFO entry removed (INFO "." when none is left)."""
        at = block.find(_KEY)
        if at < 0:
            return block
        out: list[bytes] = []
        copied = 0  # block[:copied] is in `out`
        while at >= 0:
            start = block.rfind(b"\n", 0, at) + 1
            end = block.find(b"\n", at)  # a block's lines all end in LF
            line = block[start:end]
            cleaned = self._line(line)
            if cleaned is not line:
                out += (block[copied:start], cleaned)
                copied = end
            at = block.find(_KEY, end)
        if not out:
            return block
        out.append(block[copied:])
        return b"".join(out)

    def _line(self, line: bytes) -> bytes:
        if line.startswith(b"#"):
            return line
        fields = line.split(b"\t", 8)
        if len(fields) < 8 or _KEY not in fields[7]:
            return line  # a bad line is the parser's to report; "GAS_" elsewhere is data
        entries = fields[7].split(b";")
        kept = [e for e in entries if not e.startswith(_KEY)]
        if len(kept) == len(entries):
            return line
        self.records += 1
        self.values += len(entries) - len(kept)
        for entry in entries:
            if entry.startswith(_KEY):
                name = entry.partition(b"=")[0].decode("utf-8", "backslashreplace")
                if name in self.keys or len(self.keys) < _NAMES_KEPT:
                    self.keys[name] += 1
        fields[7] = b";".join(kept) or b"."
        return b"\t".join(fields)

    def summary(self) -> dict[str, object]:
        return {"records": self.records, "values": self.values, "keys": dict(self.keys.most_common())}

    def note(self) -> str:
        names = ", ".join(self.keys)
        more = ", …" if len(self.keys) >= _NAMES_KEPT else ""
        return (
            f"dropped {self.values:,} GAS_* INFO values the input brought itself ({names}{more}) "
            f"from {self.records:,} records: every GAS_* value in the output is GAS's own"
        )

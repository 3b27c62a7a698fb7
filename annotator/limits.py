"""How much of an input the engine may read: the limits of a job's plan.

The engine enforces them while it streams, so an input that crosses one (a gzip
bomb, a header line of 150 MiB) stops as soon as it does, with the limit named;
the worker words that for the person, per plan.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    decompressed_bytes: int | None = None  # None = no limit
    records: int | None = None
    line_bytes: int | None = None
    header_bytes: int | None = None
    header_lines: int | None = None
    seconds: float | None = None

    def tightened(self, other: Limits) -> Limits:
        """Field by field, the stricter of the two (a limit beats no limit)."""
        values = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            values[f.name] = theirs if mine is None else mine if theirs is None else min(mine, theirs)
        return Limits(**values)


class LimitExceeded(Exception):
    """The input crossed `limit` (a Limits field name) at 1-based `line` (0: not tied to a line)."""

    def __init__(self, limit: str, value: int | float, line: int = 0):
        self.limit = limit
        self.value = value
        self.line = line
        at = f"line {line}: " if line else ""
        super().__init__(f"{at}over the limit of {value:,} ({limit})")

    def __reduce__(self) -> tuple[type[LimitExceeded], tuple[str, int | float, int]]:
        # Raised in an engine process: it must survive the trip back to the server.
        return (LimitExceeded, (self.limit, self.value, self.line))

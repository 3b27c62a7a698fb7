"""The results table's region filter: a range (``17:41,196,312-41,277,500``,
``chr17:41196312-41277500``), a whole chromosome (``chr17``, ``17``) or a gene
name (the rows annotated with that gene), as a person types them."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A chromosome as VCFs name them, with or without ``chr``: 1..22, X, Y, M, MT.
_CHROMOSOME = re.compile(r"^(?:chr)?(?P<name>[1-9]|1[0-9]|2[0-2]|X|Y|MT?)$", re.IGNORECASE)
_RANGE = re.compile(r"^(?P<chrom>[A-Za-z0-9_.]+):(?P<start>[0-9][0-9,]*)-(?P<end>[0-9][0-9,]*)$")
# HGNC symbols and the other names genes carry in the reference (``hsa-mir-6723``,
# ``C4orf36``, ``RP11-34P13.3``).
_GENE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
FORMS = ("a range (17:41,196,312-41,277,500 or chr17:41196312-41277500), a chromosome (chr17 or 17) "
         "or a gene name (BRCA1)")


class LocusError(ValueError):
    """What was typed is none of the forms the filter takes; the message says which it takes."""


@dataclass(frozen=True)
class Locus:
    typed: str  # as the person typed it: what the form and the page's links keep
    chrom: str = ""  # bare: no "chr" (the table's rows are matched with or without it)
    start: int = 0  # 1-based, inclusive; 0 with end 0: the whole chromosome
    end: int = 0
    gene: str = ""


def bare(chrom: str) -> str:
    """A chromosome name as compared: without ``chr``, upper case, M as MT."""
    name = chrom.strip().removeprefix("chr").removeprefix("Chr").removeprefix("CHR").upper()
    return "MT" if name == "M" else name


def parse(text: str) -> Locus | None:
    """What ``text`` asks for; None when it is blank. Raises LocusError otherwise."""
    typed = text.strip()
    if not typed:
        return None
    if (match := _RANGE.match(typed)) is not None:
        start, end = (int(match[part].replace(",", "")) for part in ("start", "end"))
        if start < 1 or end < start:
            raise LocusError(f"The range {typed[:80]!r} must start at 1 or more and end at or "
                             "after its start.")
        return Locus(typed, chrom=bare(match["chrom"]), start=start, end=end)
    if _CHROMOSOME.match(typed) is not None:
        return Locus(typed, chrom=bare(typed))
    if _GENE.match(typed) is not None:
        return Locus(typed, gene=typed)
    raise LocusError(f"The Locus filter takes {FORMS}; not {typed[:80]!r}.")

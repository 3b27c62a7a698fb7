"""What the engine wrote in an annotated VCF, one row per record, read the way the
results page says it shows it — with none of ``app``'s code, so that a browser test
compares the page against the engine's own output rather than against the
viewer's reading of it.

Per record: the most severe consequence and IMPACT over its ALT alleles
(GAS_CONSEQUENCE, GAS_IMPACT); the transcript, HGVSc and HGVSp of its
representative CSQ entry (the most severe consequence, then MANE Select, then
canonical, then the first); ClinVar's significance, disease names, variation
ids and review status of the alleles that have them, ``"; "`` between alleles,
ClinVar's ``_`` as a space, ``__`` as ``", "`` and ``|`` as ``"; "``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from annotator.consequence import TERMS

IMPACTS = ("HIGH", "MODERATE", "LOW", "MODIFIER")
_CSQ_FORMAT = re.compile(r'^##INFO=<ID=CSQ,.*Format: ([^">]*)')
_PATHOGENIC = {"pathogenic", "likely_pathogenic"}


@dataclass(frozen=True)
class Row:
    chrom: str
    pos: int
    ref: str
    alt: str
    consequence: str
    impact: str
    feature: str
    hgvsc: str
    hgvsp: str
    clinvar: str
    clinvar_disease: str
    clinvar_ids: str
    clinvar_review: str
    pathogenic: bool
    # Matched ALT alleles per significance, as the engine spells it (the summary's count).
    significances: tuple[str, ...]

    @property
    def position(self) -> str:
        """The position as the page writes it."""
        return f"{self.chrom}:{self.pos:,}"


def read(vcf: Path) -> list[Row]:
    """Every record of ``vcf``, in file order."""
    fields: list[str] = []
    rows = []
    for line in vcf.read_text().splitlines():
        if line.startswith("#"):
            if found := _CSQ_FORMAT.match(line):
                fields = found[1].split("|")
            continue
        chrom, pos, _, ref, alt, _, _, info_text = line.split("\t")[:8]
        info = dict(item.partition("=")[::2] for item in info_text.split(";"))
        entry = _representative([dict(zip(fields, e.split("|"), strict=True))
                                 for e in info.get("CSQ", "").split(",") if e])
        significance = _given(info.get("GAS_CLNSIG", ""))
        rows.append(Row(
            chrom, int(pos), ref, alt,
            consequence=_most_severe(info.get("GAS_CONSEQUENCE", ""), TERMS),
            impact=_most_severe(info.get("GAS_IMPACT", ""), IMPACTS),
            feature=entry.get("Feature", ""),
            hgvsc=unquote(entry.get("HGVSc", "")),
            hgvsp=unquote(entry.get("HGVSp", "")),
            clinvar=_readable(significance),
            clinvar_disease=_readable(_given(info.get("GAS_CLNDN", ""))),
            clinvar_ids=_readable(_given(info.get("GAS_CLNVID", ""))),
            clinvar_review=_readable(_given(info.get("GAS_CLNREVSTAT", ""))),
            pathogenic=any(_PATHOGENIC & set(re.split("[/|]", s.lower())) for s in significance),
            significances=tuple(significance),
        ))
    return rows


def per_consequence(rows: list[Row]) -> Counter[str]:
    return Counter(r.consequence for r in rows if r.consequence)


def per_impact(rows: list[Row]) -> Counter[str]:
    return Counter(r.impact for r in rows if r.impact)


def per_significance(rows: list[Row]) -> Counter[str]:
    return Counter(s for r in rows for s in r.significances)


def at_least(impact: str, rows: list[Row]) -> list[Row]:
    """The rows whose IMPACT is ``impact`` or more severe."""
    return [r for r in rows if r.impact and IMPACTS.index(r.impact) <= IMPACTS.index(impact)]


def severity(term: str) -> int:
    return TERMS.index(term)


def _most_severe(values: str, order: tuple[str, ...]) -> str:
    given = _given(values)
    return min(given, key=order.index) if given else ""


def _given(values: str) -> list[str]:
    """A Number=A value's per-allele items, "." (no value for that allele) left out."""
    return [v for v in values.split(",") if v not in ("", ".")]


def _representative(entries: list[dict[str, str]]) -> dict[str, str]:
    def rank(k: int) -> tuple[int, bool, bool, int]:
        e = entries[k]
        worst = min(severity(term) for term in e["Consequence"].split("&"))
        return worst, not e.get("MANE_SELECT"), e.get("CANONICAL") != "YES", k

    return entries[min(range(len(entries)), key=rank)] if entries else {}


def _readable(values: list[str]) -> str:
    text = "; ".join(unquote(v) for v in values)
    return text.replace("|", "; ").replace("__", ", ").replace("_", " ")

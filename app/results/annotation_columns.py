"""The results table's consequence and ClinVar columns, read from the INFO the
engine writes (CSQ, GAS_CONSEQUENCE, GAS_IMPACT, GAS_CLNSIG, GAS_CLNDN, GAS_CLNVID,
GAS_CLNREVSTAT).

A row holds several values per key (one per ALT allele, one CSQ entry per
allele and transcript), so each key is split into one flat array of items and the
offsets where each row's items start; a row's choice among its items is then a
numpy ``reduceat`` over those offsets. No Python loop runs per row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.results.consequences import IMPACTS, TERMS
from app.results.vcf_info import Info, decoded

FIELDS = [
    ("consequence", pa.string()),  # the most severe SO term over the row's ALTs
    ("impact", pa.string()),  # the most severe IMPACT over the row's ALTs
    ("feature", pa.string()),  # the transcript of the CSQ entry that represents the row
    ("hgvsc", pa.string()),
    ("hgvsp", pa.string()),
    ("clinvar", pa.string()),  # significance, one per allele in the ClinVar track
    ("clinvar_disease", pa.string()),
    ("clinvar_ids", pa.string()),  # ClinVar variation ids of those alleles
    ("clinvar_review", pa.string()),  # ClinVar's review status of each (how much to trust it)
    ("pathogenic", pa.bool_()),  # an allele is pathogenic or likely pathogenic
]
# The CSQ sub-fields the table reads, found by name in the header's Format.
_WANTED = ("Consequence", "Feature", "HGVSc", "HGVSp", "CANONICAL", "MANE_SELECT")
_ABSENT = (".", "")
# ClinVar's VCF writes spaces as "_", so a comma inside one value is always ",_";
# a bare "," separates alleles. Hidden as %2C while splitting, decoded after.
# (GAS's ClinVar track writes that comma as "_" too: "__" reads as ", ".)
_INNER_COMMA = ",_"
# P or LP, alone or in a combined call; not "Conflicting_…_of_pathogenicity".
_PATHOGENIC = r"(?:^|[/|])(?:likely_)?pathogenic(?:$|[/|]|%2C)"


def _items(column: pa.Array, separator: str) -> tuple[pa.Array, np.ndarray]:
    """Every row's items, flat, and where each row's run of them starts (one more
    offset than rows). A row without the value has one empty item, so no run is empty."""
    lists = pc.split_pattern(pc.fill_null(column, ""), separator)
    offsets = np.asarray(lists.offsets, dtype=np.int64)
    return lists.flatten(), offsets - offsets[0]


def _first_lowest(keys: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per run, the flat index of its item with the lowest key; the first on ties."""
    packed = (keys.astype(np.int64) << 32) | np.arange(len(keys), dtype=np.int64)
    lowest: np.ndarray = np.minimum.reduceat(packed, starts[:-1]) & 0xFFFFFFFF
    return lowest


def _ranks(items: pa.Array, order: tuple[str, ...]) -> np.ndarray:
    """Each item's place in ``order``; an unknown value after every known one, and
    a missing one (".", "") after those."""
    rank = pc.fill_null(pc.index_in(items, value_set=pa.array(order)), len(order))
    missing = pc.is_in(items, value_set=pa.array(_ABSENT))
    return np.asarray(pc.if_else(missing, len(order) + 1, rank), dtype=np.int64)


def _most_severe(column: pa.Array, order: tuple[str, ...]) -> pa.Array:
    """Per row, the most severe of its comma-separated values; "" when none is given."""
    items, starts = _items(column, ",")
    chosen = items.take(pa.array(_first_lowest(_ranks(items, order), starts)))
    return pc.if_else(pc.is_in(chosen, value_set=pa.array(_ABSENT)), "", chosen)


def _entry_pattern(csq_format: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """A regex capturing the wanted sub-fields of one CSQ entry, and the group of
    each. Trailing sub-fields are optional: a short entry reads as empty ones."""
    groups = {name: f"f{csq_format.index(name)}" for name in _WANTED if name in csq_format}
    last = max(csq_format.index(name) for name in groups)
    pattern = ""
    for place in range(last, -1, -1):
        field = f"(?P<f{place}>[^|]*)" if f"f{place}" in groups.values() else "[^|]*"
        pattern = f"^{field}{pattern}" if place == 0 else rf"(?:\|{field}{pattern})?"
    return pattern, groups


def _representative(info: Info, csq_format: tuple[str, ...] | None) -> list[pa.Array]:
    """Feature, HGVSc and HGVSp of each row's representative CSQ entry: the most
    severe consequence, then MANE Select, then canonical, then the first. Without
    the header's Format, CSQ cannot be read: empty."""
    if not csq_format or not any(name in csq_format for name in _WANTED):
        empty = pa.array([""] * info.size, pa.string())
        return [empty, empty, empty]
    entries, row_starts = _items(info.value("CSQ"), ",")
    pattern, groups = _entry_pattern(csq_format)
    parsed = pc.extract_regex(entries, pattern)
    blank = pa.array([""] * len(entries), pa.string())

    def field(name: str) -> pa.Array:
        return pc.fill_null(pc.struct_field(parsed, groups[name]), "") if name in groups else blank

    terms, entry_starts = _items(field("Consequence"), "&")
    severity = np.minimum.reduceat(_ranks(terms, TERMS), entry_starts[:-1])
    not_mane = np.asarray(pc.equal(field("MANE_SELECT"), ""), dtype=np.int64)
    not_canonical = np.asarray(pc.not_equal(field("CANONICAL"), "YES"), dtype=np.int64)
    best = pa.array(_first_lowest(severity * 4 + not_mane * 2 + not_canonical, row_starts))
    return [field(name).take(best) for name in ("Feature", "HGVSc")] + [
        decoded(field("HGVSp").take(best))]


def _allele_values(column: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """A Number=A ClinVar key's per-allele values, their runs, and which are given."""
    items, starts = _items(pc.replace_substring(column, _INNER_COMMA, "%2C_"), ",")
    given = np.asarray(pc.invert(pc.is_in(items, value_set=pa.array(_ABSENT))), dtype=bool)
    return items, starts, given


def _joined(items: pa.Array, starts: np.ndarray, keep: np.ndarray) -> pa.Array:
    """Each row's kept items joined with "; ", as text a person reads."""
    counts = np.add.reduceat(keep.astype(np.int64), starts[:-1])
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    text = pc.binary_join(pa.ListArray.from_arrays(offsets, items.filter(pa.array(keep))), "; ")
    for code, readable in (("|", "; "), ("__", ", "), ("_", " ")):
        text = pc.replace_substring(text, code, readable)
    return decoded(text)


def columns(info: Info, csq_format: tuple[str, ...] | None) -> list[pa.Array]:
    """The arrays of FIELDS, in order, for one batch of INFO texts."""
    significance, starts, given = _allele_values(info.value("GAS_CLNSIG"))
    pathogenic = np.asarray(pc.match_substring_regex(significance, _PATHOGENIC, ignore_case=True),
                            dtype=bool) & given
    diseases, disease_starts, disease_given = _allele_values(info.value("GAS_CLNDN"))
    ids, id_starts, id_given = _allele_values(info.value("GAS_CLNVID"))
    reviews, review_starts, review_given = _allele_values(info.value("GAS_CLNREVSTAT"))
    return [
        _most_severe(info.value("GAS_CONSEQUENCE"), TERMS),
        _most_severe(info.value("GAS_IMPACT"), IMPACTS),
        *_representative(info, csq_format),
        _joined(significance, starts, given),
        _joined(diseases, disease_starts, disease_given),
        _joined(ids, id_starts, id_given),
        _joined(reviews, review_starts, review_given),
        pa.array(np.maximum.reduceat(pathogenic, starts[:-1]).astype(bool)),
    ]

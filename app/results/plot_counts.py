"""What the results page plots, counted over the rows the filters keep: the plots
say what the table holds, not what the whole result held."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from app.results import consequences, variant_table
from app.results.variant_table import Query

TOP_GENES = 15


@dataclass(frozen=True)
class Plot:
    title: str
    filter: str  # the query argument a bar sets
    noun: str  # what a bar is, in its link's name: "Filter to chromosome 17 (…)"
    items: list[tuple[str, int]]


def _counts(column: pa.ChunkedArray) -> dict[str, int]:
    counted = pc.value_counts(column.drop_null())
    return {str(entry["values"]): int(entry["counts"]) for entry in counted.to_pylist()
            if entry["values"]}


def plots(table: pa.Table, query: Query) -> list[Plot]:
    """The five plots of the filtered rows, each in its reading order; a plot with no
    bar (no row, or a table built before consequences) is left out."""
    rows = variant_table.matching(table, query, ["chrom", "region", "consequence", "impact", "genes"])
    per_chrom = sorted(_counts(rows["chrom"]).items(),
                       key=lambda kv: (variant_table.chrom_order(kv[0]), kv[0]))
    regions = sorted(_counts(rows["region"]).items(), key=lambda kv: (-kv[1], kv[0]))
    terms = sorted(_counts(rows["consequence"]).items(), key=lambda kv: consequences.term_rank(kv[0]))
    impacts = sorted(_counts(rows["impact"]).items(), key=lambda kv: (
        consequences.IMPACTS.index(kv[0]) if kv[0] in consequences.IMPACTS else len(consequences.IMPACTS)))
    # A row names each of its genes once, joined with ", ". Far fewer distinct lists
    # than rows: counted as lists, then split (splitting every row: 4x the time).
    genes: Counter[str] = Counter()
    for names, n in _counts(rows["genes"]).items():
        for name in names.split(", "):
            genes[name] += n
    top = sorted(genes.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_GENES]
    every = [
        Plot("Variants per chromosome", "chrom", "chromosome", per_chrom),
        Plot("Variants per region class", "region", "region class", regions),
        Plot("Variants per consequence", "consequence", "consequence", terms),
        Plot("Variants per impact", "impact", "impact", impacts),
        # Whole gene names (the Locus filter), not the Gene box's substring: the rows
        # a bar leads to are the rows it counts (TP53, not TP53BP1 too).
        Plot("Top genes", "locus", "gene", top),
    ]
    return [plot for plot in every if plot.items]

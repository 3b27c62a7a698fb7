"""ClinVar's pathogenic variants as ideogram.js caches them (npm ideogram 1.53.0,
``dist/data/cache/variants/``), decoded as ideogram's own
``src/js/init/caches/variant-cache-worker.js`` does.

The cache is ClinVar's GRCh38 VCF of one release (its header names the file)
cut down by ideogram's ``variant_cache.py`` to the rows whose CLNSIG is
Pathogenic, Likely_pathogenic or Pathogenic/Likely_pathogenic and whose
CLNREVSTAT is "criteria_provided, multiple submitters, no conflicts",
"reviewed by expert panel" or "practice guideline" (two stars or more).
``homo-sapiens-variants.tsv.gz`` keeps CHROM, POS, ID (ClinVar's variation
id), REF and ALT as ClinVar wrote them and replaces the rest by indexes into
the JSON lists at the top of ``homo-sapiens-variants.tsv.li.gz``:
``clinical_significances``, ``clinical_review_statuses`` and
``disease_mondo_ids_and_names`` ("MONDO id|name"; only diseases with a MONDO
id were kept, so a variant may list none: ideogram shows "Not provided").
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from annotator.indexer import MITO_ALIASES, Contigs
from annotator.infotext import info_safe
from annotator.install_error import ReferenceInstallError
from annotator.knownsites import Sites
from annotator.liftover import LIFT_STATUS, Chain

COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "DISEASE_IDS", "CLNREVSTAT", "CLNSIG")
KEYS = ("disease_mondo_ids_and_names", "clinical_significances", "clinical_review_statuses")
NO_DISEASE = "not_provided"  # ClinVar's CLNDN for none; ideogram shows "Not provided"
_BASES = re.compile(r"^[ACGTN]+$")
_RELEASE = re.compile(r"clinvar_(\d{4})(\d{2})(\d{2})\.vcf")


@dataclass
class ClinVar:
    """The decoded cache, one entry per row, values INFO-safe in ClinVar's VCF spelling."""

    release: str  # ClinVar's release date, YYYY-MM-DD
    chrom: list[str]
    pos: npt.NDArray[np.int64]  # 1-based, GRCh38
    ref: list[str]
    alt: list[str]
    variation_id: list[str]
    significance: list[str]  # CLNSIG, e.g. Pathogenic/Likely_pathogenic
    review_status: list[str]  # CLNREVSTAT
    diseases: list[str]  # CLNDN: names joined by "|", NO_DISEASE for none

    def __len__(self) -> int:
        return len(self.pos)


def read_keys(path: Path) -> dict[str, list[str]]:
    """The value lists of the ``.tsv.li.gz`` file: ``# name = [JSON list]`` lines."""
    keys: dict[str, list[str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            name, sep, value = line[1:].strip().partition(" = ")
            if sep and name in KEYS:
                try:
                    keys[name] = [str(v) for v in json.loads(value)]
                except ValueError as exc:
                    raise ReferenceInstallError(f"{path.name}: the {name} list is not JSON ({exc})") from None
    missing = [k for k in KEYS if k not in keys]
    if missing:
        raise ReferenceInstallError(f"{path.name}: lacks the key list(s) {', '.join(missing)}")
    return keys


def read(variants: Path, keys_path: Path) -> ClinVar:
    """Decode ``homo-sapiens-variants.tsv.gz`` with its ``.tsv.li.gz`` keys."""
    keys = read_keys(keys_path)
    names = [info_safe(entry.partition("|")[2]) for entry in keys["disease_mondo_ids_and_names"]]
    significances = [info_safe(s) for s in keys["clinical_significances"]]
    statuses = [info_safe(s) for s in keys["clinical_review_statuses"]]
    release = ""
    out = ClinVar("", [], np.empty(0, np.int64), [], [], [], [], [], [])
    positions: list[int] = []
    col: dict[str, int] = {}
    with gzip.open(variants, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.startswith("#"):
                found = _RELEASE.search(line)
                if found and not release:
                    release = "-".join(found.groups())
                if line.startswith("#CHROM"):
                    col = {name: k for k, name in enumerate(line.rstrip("\n").split("\t"))}
                    absent = [c for c in COLUMNS if c not in col]
                    if absent:
                        raise ReferenceInstallError(f"{variants.name}: the header lacks {', '.join(absent)}")
                continue
            if not col:
                raise ReferenceInstallError(
                    f"{variants.name} line {number}: a variant before the #CHROM header"
                )
            f = line.rstrip("\n").split("\t")
            try:
                chrom, pos, vid, ref, alt = (f[col[c]] for c in COLUMNS[:5])
                disease_ids, status, significance = (f[col[c]] for c in COLUMNS[5:])
                disease = (
                    "|".join(names[int(k)] for k in disease_ids.split(",")) if disease_ids else NO_DISEASE
                )
                out.review_status.append(statuses[int(status)])
                out.significance.append(significances[int(significance)])
                positions.append(int(pos))
            except (IndexError, ValueError) as exc:
                raise ReferenceInstallError(
                    f"{variants.name} line {number}: cannot be decoded ({exc})"
                ) from None
            if not _BASES.match(ref) or not _BASES.match(alt):
                raise ReferenceInstallError(
                    f"{variants.name} line {number}: REF/ALT {ref}/{alt} are not bases"
                )
            out.chrom.append(chrom)
            out.ref.append(ref)
            out.alt.append(alt)
            out.variation_id.append(vid)
            out.diseases.append(disease)
    if not release:
        raise ReferenceInstallError(
            f"{variants.name}: its header names no ClinVar release (clinvar_YYYYMMDD.vcf)"
        )
    out.release = release
    out.pos = np.array(positions, np.int64)
    return out


def sites(cv: ClinVar, contigs: Contigs, chain: Chain | None) -> tuple[Sites, dict[str, int]]:
    """The entries as known sites of the build: GRCh38 as they are, or lifted by
    `chain` (GRCh38 to the build). A site lifts when its REF's first and last
    base land on the same strand and span; the others are dropped and counted,
    never guessed (a reverse-strand site would need its alleles
    reverse-complemented and re-anchored, which takes the genome's sequence).
    MT is rCRS in both builds, so its positions stay as they are."""
    contig = np.array([contigs.aliases.get(c.lower(), -1) for c in cv.chrom], np.int64)
    pos = cv.pos.copy()
    counts = {"clinvar": len(cv)}
    if chain is not None:
        mito = np.array([c.lower() in MITO_ALIASES for c in cv.chrom], bool)
        source = np.array([chain.source_contig(c) for c in cv.chrom], np.int64)
        span = np.array([len(r) for r in cv.ref], np.int64)
        dst, lifted, status = chain.lift(np.where(mito, -1, source), pos, pos + span - 1)
        dst_contig = np.array([contigs.aliases.get(n.lower(), -1) for n in chain.dst_names], np.int64)
        moved = ~mito
        contig[moved] = np.where(status[moved] == 0, dst_contig[np.maximum(dst[moved], 0)], -1)
        pos[moved] = lifted[moved]
        for code, why in LIFT_STATUS.items():
            dropped = int(np.count_nonzero(moved & (status == code)))
            if dropped:
                counts[f"clinvar not lifted ({why})"] = dropped
        counts["clinvar"] = int(np.count_nonzero(contig >= 0))
    return (
        Sites(
            contig=contig,
            pos=pos,
            ref=pa.array(cv.ref, pa.string()),
            alt=pa.array(cv.alt, pa.string()),
            values=[
                pa.array(v, pa.string())
                for v in (cv.significance, cv.diseases, cv.review_status, cv.variation_id)
            ],
        ),
        counts,
    )

"""Turn the published tables of one build into the arrays the engine queries.

Everything is keyed by whole-genome keys (see `intervals`). The output is a
directory of .npy files plus `index.json` (names, labels, provenance), which
`reference.load` memory-maps.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from annotator import intervals as iv
from annotator.infotext import info_safe, text_blob
from annotator.region_masks import splice_and_utr_masks
from annotator.transcript_link import link

if TYPE_CHECKING:
    from annotator.manifest import Track
    from annotator.usertracks import Features

I64 = npt.NDArray[np.int64]

# Mitochondrial names every build accepts; the sequence behind them is rCRS.
MITO_ALIASES = ("m", "mt", "chrm", "chrmt", "nc_012920", "nc_012920.1", "j01415.2")


def point_classes(masks: list[tuple[I64, I64]]) -> tuple[I64, npt.NDArray[np.int8]]:
    """Cut the genome where any mask starts or ends; label each piece with the
    first mask (in priority order) that covers it, len(masks) for none. A
    single-base variant's class is then one searchsorted away."""
    bounds = np.unique(np.concatenate([s for s, _ in masks] + [e + 1 for _, e in masks]))
    codes = np.full(len(bounds), len(masks), np.int8)
    for k in reversed(range(len(masks))):
        s, e = masks[k]
        codes[iv.overlaps(s, e, bounds, bounds)] = k
    keep = np.ones(len(bounds), bool)
    keep[1:] = codes[1:] != codes[:-1]
    return bounds[keep], codes[keep]


class Contigs:
    """The build's contigs and every name a VCF may call them by."""

    def __init__(self, names: list[str], lengths: list[int], aliases: dict[str, int]):
        self.names = names
        self.lengths = lengths
        self.aliases = aliases

    @classmethod
    def from_seqinfo(cls, path: Path) -> Contigs:
        names: list[str] = []
        lengths: list[int] = []
        aliases: dict[str, int] = {}
        with path.open() as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                # UCSC hg19's chrM is NC_001807 (16,571 bp), not rCRS; GENCODE
                # and every GRCh37 VCF caller use rCRS, listed as chrMT here.
                if row["name"] == "chrM" and "NC_001807" in row["aliases"]:
                    continue
                idx = len(names)
                names.append(row["name"])
                lengths.append(int(row["length"]))
                for alias in [row["name"], *row["aliases"].split(",")]:
                    alias = alias.strip().lower()
                    if alias:
                        aliases.setdefault(alias, idx)
                        aliases.setdefault(alias.removeprefix("chr"), idx)
                if row["name"] in ("chrM", "chrMT"):
                    for alias in MITO_ALIASES:
                        aliases[alias] = idx
        return cls(names, lengths, aliases)

    def display(self, idx: int) -> str:
        return self.names[idx].removeprefix("chr")

    def resolve(self, labels: pa.ChunkedArray | pa.Array) -> I64:
        """Contig index for each label, -1 where the build has no such contig."""
        labels = labels.cast(pa.string())
        uniq = pc.unique(labels).to_pylist()
        lookup = pa.array([self.aliases.get(str(u).lower(), -1) for u in uniq], pa.int64())
        return np.asarray(pc.take(lookup, pc.index_in(labels, value_set=pa.array(uniq))))


def _table(path: Path, columns: list[str]) -> pa.Table:
    return pq.read_table(path, columns=columns)


def _span(contigs: Contigs, t: pa.Table, zero_based: bool) -> tuple[I64, I64, npt.NDArray[np.bool_]]:
    c = contigs.resolve(t["_labels"])
    ok = c >= 0
    s = np.asarray(t["_starts"], dtype=np.int64) + (1 if zero_based else 0)
    e = np.asarray(t["_ends"], dtype=np.int64)
    cc = np.maximum(c, 0)
    return iv.keys(cc, s), iv.keys(cc, e), ok


def build_genes(
    contigs: Contigs, files: dict[str, Path], out: dict[str, Any], priority: Sequence[str]
) -> dict[str, Any]:
    """Gene overlap segments, region-class masks and nearest-gene arrays; ``priority``:
    the masks' names, the first the class of a base that several cover (the genes op's)."""
    cols = ["gene_name", "Strand", "gene_type", "_labels", "_starts", "_ends"]
    genes = _table(files["genes"], cols)
    gs, ge, ok = _span(contigs, genes, zero_based=False)
    genes = genes.filter(pa.array(ok))
    gs, ge = gs[ok], ge[ok]
    order = np.argsort(gs, kind="stable")
    genes = genes.take(pa.array(order))
    gs, ge = gs[order], ge[order]
    strand = np.where(np.asarray(genes["Strand"].to_pylist()) == "-", -1, 1).astype(np.int8)
    type_names = sorted(set(genes["gene_type"].to_pylist()))
    type_idx = {t: i for i, t in enumerate(type_names)}
    gtype = np.array([type_idx[t] for t in genes["gene_type"].to_pylist()], dtype=np.int16)

    bounds, indptr, ids = iv.segment(gs, ge)
    out.update(
        gene_start=gs,
        gene_end=ge,
        gene_strand=strand,
        gene_type=gtype,
        seg_bounds=bounds,
        seg_indptr=indptr,
        seg_ids=ids,
        plus_start=np.sort(gs[strand > 0]),
        plus_end=np.sort(ge[strand > 0]),
        minus_start=np.sort(gs[strand < 0]),
        minus_end=np.sort(ge[strand < 0]),
    )
    end_order = np.argsort(ge, kind="stable")
    out.update(end_sorted=ge[end_order], end_gene=end_order.astype(np.int32))

    exons = _table(files["exons"], ["_labels", "_starts", "_ends"])
    es, ee, eok = _span(contigs, exons, zero_based=False)
    pairs = np.unique(np.stack([es[eok], ee[eok]], axis=1), axis=0)
    es, ee = pairs[:, 0], pairs[:, 1]

    cds = _table(files["cds"], ["_labels", "_starts", "_ends"])
    cs, ce, cok = _span(contigs, cds, zero_based=False)
    linked = link(files)
    by_transcript = splice_and_utr_masks(contigs, linked)

    masks = {
        "cds": iv.merge(cs[cok], ce[cok]),
        "splice": by_transcript["splice"],
        "utr5": by_transcript["utr5"],
        "utr3": by_transcript["utr3"],
        "exon": iv.merge(es, ee),
        "gene": iv.merge(gs, ge),
    }
    for name, (s, e) in masks.items():
        out[f"mask_{name}_s"], out[f"mask_{name}_e"] = s, e
    # Codes are indexes into ``priority``, the order the genes op reads them in.
    out["class_bounds"], out["class_code"] = point_classes([masks[m] for m in priority])
    names = [info_safe(g) for g in genes["gene_name"].to_pylist()]
    out["gene_name_text"] = text_blob(names)
    _segment_genes(names, type_names, gtype, indptr, ids, out)
    return {
        "gene_names": genes["gene_name"].to_pylist(),
        "gene_types": type_names,
        "counts": {"genes": len(gs), "exons": len(es), "segments": len(bounds)},
    }


def _segment_genes(
    names: list[str],
    type_names: list[str],
    gtype: npt.NDArray[np.int16],
    indptr: I64,
    ids: npt.NDArray[np.int32],
    out: dict[str, Any],
) -> None:
    """What a job would otherwise work out per segment, done once here: the
    GAS_GENE/GAS_GTYPE text of every segment ("" for none), and the distinct
    gene names and types in each (for the summary's counts)."""
    texts: list[str] = []
    name_index: dict[str, int] = {}
    seg_names: list[int] = []
    seg_types: list[int] = []
    names_ptr, types_ptr = [0], [0]
    gtypes = gtype.tolist()
    id_list = ids.tolist()
    for lo, hi in zip(indptr[:-1].tolist(), indptr[1:].tolist(), strict=True):
        # A name listed twice (two genes, one symbol) shows once, with its first gene's type.
        seen: dict[str, int] = {}
        for g in id_list[lo:hi]:
            seen.setdefault(names[g], gtypes[g])
        types = [type_names[t] for t in seen.values()]
        texts.append(f"GAS_GENE={','.join(seen)};GAS_GTYPE={','.join(types)}" if seen else "")
        seg_names += [name_index.setdefault(n, len(name_index)) for n in seen]
        seg_types += list(dict.fromkeys(seen.values()))
        names_ptr.append(len(seg_names))
        types_ptr.append(len(seg_types))
    out.update(
        seg_text=text_blob(texts),
        name_text=text_blob(list(name_index)),
        seg_names=np.array(seg_names, np.int32),
        seg_names_ptr=np.array(names_ptr, np.int64),
        seg_types=np.array(seg_types, np.int32),
        seg_types_ptr=np.array(types_ptr, np.int64),
    )


def build_band(contigs: Contigs, path: Path, column: str, out: dict[str, Any]) -> dict[str, Any]:
    rows: list[tuple[int, int, int, str]] = []
    with path.open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            c = contigs.aliases.get(row["chrom"].lower(), -1)
            if c >= 0:
                rows.append((c, int(row["start"]) + 1, int(row["end"]), contigs.display(c) + row[column]))
    rows.sort()
    out["band_s"] = iv.keys([r[0] for r in rows], [r[1] for r in rows])
    out["band_e"] = iv.keys([r[0] for r in rows], [r[2] for r in rows])
    return {"band_labels": [r[3] for r in rows], "counts": {"bands": len(rows)}}


def build_flag(contigs: Contigs, path: Path, track: Track, out: dict[str, Any]) -> dict[str, Any]:
    t = _table(path, ["_labels", "_starts", "_ends"])
    s, e, ok = _span(contigs, t, zero_based=track.zero_based())
    ms, me = iv.merge(s[ok], e[ok])
    out[f"flag_{track.name}_s"], out[f"flag_{track.name}_e"] = ms, me
    return {"counts": {track.name: int(ok.sum())}}


def build_user(contigs: Contigs, track: Track, features: Features, out: dict[str, Any]) -> dict[str, Any]:
    """An operator's track: merged intervals for a flag, or segments with the
    names of the features overlapping each (``KEY=a,b``) for a names track."""
    uniq, inverse = np.unique(np.array(features.contigs, dtype=object), return_inverse=True)
    lookup = np.array([contigs.aliases.get(str(u).lower(), -1) for u in uniq], np.int64)
    c = lookup[inverse.ravel()] if len(uniq) else np.empty(0, np.int64)
    ok = c >= 0
    if track.op == "names":
        ok &= np.array([bool(n) for n in features.names], bool)
    s, e = iv.keys(c[ok], features.starts[ok]), iv.keys(c[ok], features.ends[ok])
    counts = {track.name: int(ok.sum())}
    if (~ok).any():
        counts[f"{track.name} skipped (unknown contig or no name)"] = int((~ok).sum())
    if track.op == "flag":
        out[f"flag_{track.name}_s"], out[f"flag_{track.name}_e"] = iv.merge(s, e)
        return {"counts": counts}
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    names = [info_safe(n) for n, k in zip(features.names, ok.tolist(), strict=True) if k]
    names = [names[i] for i in order.tolist()]
    bounds, indptr, ids = iv.segment(s, e)
    id_list = ids.tolist()
    texts = []
    for lo, hi in zip(indptr[:-1].tolist(), indptr[1:].tolist(), strict=True):
        seen = dict.fromkeys(names[g] for g in id_list[lo:hi])
        texts.append(f"{track.info}={','.join(seen)}" if seen else "")
    key = f"names_{track.name}"
    out.update(
        {
            f"{key}_bounds": bounds,
            f"{key}_indptr": indptr,
            f"{key}_ids": ids,
            f"{key}_text": text_blob(texts),
            f"{key}_names": text_blob(names),
        }
    )
    return {"counts": counts}

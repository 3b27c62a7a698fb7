"""The op registry (annotator.ops): what a track's op is checked against, and
that an op registered there is all the engine needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annotator import reference
from annotator.annotate import Annotator
from annotator.manifest import ManifestError, load_manifest
from annotator.ops import OPS
from annotator.ops.base import Batch, Codes, Contribution, Decl, Op, Query, TrackInfo, pieces

from .conftest import vcf


def _operator_track(tmp_path: Path, op: str) -> Path:
    operator = tmp_path / "tracks.toml"
    operator.write_text(
        f'[[track]]\nname = "x"\nop = "{op}"\ninfo = "X"\n[track.sources.GRCh37]\npath = "a.bed"\n'
    )
    return operator


def test_unknown_op_is_refused_naming_the_known_ones(tmp_path):
    """A track whose op is not registered fails the manifest, which lists the registered ops."""
    known = "known: genes, band, known, clinvar, flag, names, consequences"
    with pytest.raises(ManifestError, match=f"unknown op 'overlap' \\({known}\\)"):
        load_manifest(operator=_operator_track(tmp_path, "overlap"))


def test_ops_for_an_operators_file_are_the_classes_that_say_so(tmp_path):
    """Which ops an operator's own file may use comes from the op classes' `user` flag."""
    assert [name for name, cls in OPS.items() if cls.user] == ["flag", "names"]
    with pytest.raises(ManifestError, match="op must be one of flag, names for a file of yours"):
        load_manifest(operator=_operator_track(tmp_path, "known"))


def test_summary_entries_are_there_without_the_tracks(reference_root):
    """A build lacking some ops still reports their summary entries, zero, in the usual order."""
    ref = reference.load(reference_root, "GRCh37")
    genes_only = reference.Reference(
        ref.build, ref.path, {**ref.meta, "tracks": [t for t in ref.tracks if t["op"] == "genes"]}, ref.arrays
    )
    assert Annotator(genes_only).summary(0) == {
        "per_region_class": {},
        "per_gene_type": {},
        "top_genes": [],
        "in_dbsnp": 0,
        "dbsnp_share": 0.0,
        "clinvar": {},
        "flags": {},
        "per_consequence": {},
        "per_impact": {},
    }
    assert list(Annotator(genes_only).summary(0)) == [
        "per_region_class", "per_gene_type", "top_genes", "in_dbsnp", "dbsnp_share", "clinvar", "flags",
        "per_consequence", "per_impact",
    ]  # fmt: skip


class _Alleles(Op):
    """A test op: a shared flag on SNVs, and each row's REF and ALT as a text of its own."""

    def declare(self, track: TrackInfo) -> list[Decl]:
        return [("T_SNV", "0", "Flag", "single base"), ("T_ALLELES", "1", "String", "REF>ALT")]

    def apply(self, b: Batch, q: Query) -> Contribution:
        rows = np.flatnonzero(q.annotated)
        texts = pieces(b";T_ALLELES=" + b">".join(b.alleles(i)) for i in rows.tolist())
        snv = Codes(45, (q.annotated & b.single_base).astype(np.int64), pieces([b"", b";T_SNV"]))
        return Contribution(shared=[snv], own=[(rows, texts)])

    def summary(self, records: int) -> dict[str, Any]:
        return {"t_seen": records}


def test_a_registered_op_is_all_the_engine_needs(annotate, reference_root, monkeypatch):
    """An op added to OPS and named by a track is declared, applied (its shared piece at its
    place, its own text after the other ops' own texts, object bytes beside numpy ones) and
    summarised, with no change to the Annotator or the engine."""
    monkeypatch.setitem(OPS, "alleles", _Alleles)
    ref = reference.load(reference_root, "GRCh37")
    track = {"name": "t", "op": "alleles", "info": "T_ALLELES", "description": ""}
    # Without the consequences track: its long CSQ text would sit between the texts compared here.
    others = [t for t in ref.tracks if t["op"] != "consequences"]
    monkeypatch.setattr(ref, "tracks", [*others, track])
    r = annotate(
        vcf(
            "1 461 . C T . . .",
            "1 949654 . A G,T . . DP=1",
            "17 41245000 . AT A . . .",
            "17 41245000 . A G . . .",
        )
    )
    assert '##INFO=<ID=T_ALLELES,Number=1,Type=String,Description="REF>ALT">' in r.header
    # After the names tracks' place (40), before the genes' (50); own texts in track order.
    assert r.records[0][7].endswith(";GAS_PROBLEMATIC;T_SNV;GAS_NEAREST=DDX11L1;GAS_DIST=11408;T_ALLELES=C>T")
    assert r.records[1][7].endswith(";GAS_GTYPE=protein_coding;GAS_RSID=rs8997,.;T_ALLELES=A>G,T")
    assert r.records[1][7].startswith("DP=1;GAS_BUILD=GRCh37;")
    assert "T_SNV" not in r.info(2) and r.info(2)["T_ALLELES"] == "AT>A"
    assert r.records[3][7].endswith("=17q21.31;T_SNV;GAS_GENE=BRCA1;GAS_GTYPE=protein_coding;T_ALLELES=A>G")
    assert r.summary["t_seen"] == 4 and r.summary["in_dbsnp"] == 1

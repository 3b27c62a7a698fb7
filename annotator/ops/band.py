"""``band``: the label of the interval a variant starts in, prefixed by its
chromosome (UCSC cytoBand: ``GAS_BAND=17q21.31``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator import intervals as iv
from annotator.ops.base import (
    Batch,
    Codes,
    Contribution,
    Decl,
    Op,
    Options,
    Place,
    Query,
    Stats,
    TrackInfo,
    arrays,
    cached,
    pieces,
)

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track
    from annotator.reference import Reference


class Band(Op):
    def __init__(self, ref: Reference, tracks: list[TrackInfo], options: Options, stats: Stats):
        super().__init__(ref, tracks, options, stats)
        if tracks:
            key = tracks[0]["info"]
            self.text = cached(
                ref, "band", lambda: pieces([b"", *(f";{key}={label}".encode() for label in ref.band_labels)])
            )
            self.a = arrays(ref)

    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        from annotator import indexer

        return indexer.build_band(contigs, files["table"], track.column or "band", out)

    def declare(self, track: TrackInfo) -> list[Decl]:
        return [(track["info"], "1", "String", track["description"])]

    def apply(self, b: Batch, q: Query) -> Contribution:
        if not self.tracks:
            return Contribution()
        codes = iv.label_index(self.a["band_s"], self.a["band_e"], q.ks) + 1
        return Contribution(shared=[Codes(Place.BAND, codes, self.text)])

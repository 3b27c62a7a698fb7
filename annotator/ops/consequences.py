"""``consequences``: transcript models, consequences per transcript (VEP's ``CSQ``).

At install it builds the track's transcript models into the index
(`annotator.transcript_build`: GENCODE's tables linked by file order, named,
one canonical a gene), which `annotator.transcript_index` reads at run time.
Writing ``CSQ`` from them is the consequence calculator's part (issue 13);
until it is plugged in here, this op declares and writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.ops.base import Batch, Contribution, Decl, Op, Query, TrackInfo

if TYPE_CHECKING:
    from annotator.indexer import Contigs
    from annotator.manifest import Track


class Consequences(Op):
    @classmethod
    def build(
        cls, contigs: Contigs, track: Track, files: dict[str, Path], out: dict[str, Any]
    ) -> dict[str, Any]:
        from annotator import transcript_build

        return transcript_build.build(contigs, files, out)

    def declare(self, track: TrackInfo) -> list[Decl]:
        return []

    def apply(self, b: Batch, q: Query) -> Contribution:
        return Contribution()

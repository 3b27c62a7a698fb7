"""Track ops: what a hit on a track becomes, one class per op, registered in `OPS`
(as vcfanno's reducers are). A track's ``op`` in ``tracks.toml`` names its class.

Adding an op
------------

Write a module here with a subclass of `base.Op`, add it to `OPS` below, and
name it as a track's ``op`` in ``annotator/tracks.toml`` (or an operator's
``tracks.toml``, if ``user`` is set). The class says:

- ``user`` (class attribute): whether an operator's own BED / GTF / VCF file may
  use the op (`manifest` refuses it otherwise).
- ``build(contigs, track, files, out)`` (classmethod, install time): index the
  track's packaged files (role -> path, from ``[track.files.<build>]``) into
  `out`, the index's arrays (name them after the op or the track, as existing
  ops do: the names are the index format); return the keys it adds to
  ``index.json``: ``counts`` (merged with the other tracks') and any other
  (labels, names), which `reference.Reference` reads back. ``build_user`` does
  the same from an operator's file, read into `usertracks.Features`. Build code
  is only imported in the method (it needs pyarrow, which the engine never loads).
- ``__init__(ref, tracks, options, stats)`` (once a run): `tracks` are every
  track of the build with this op, in manifest order, possibly none: then the
  op adds nothing but its summary's zero entries. Tables made from the loaded
  reference go through `base.cached` (once per process, shared by every job);
  per-run state (counts) lives on the instance or in `stats`.
- ``declare(track)``: the ``##INFO`` declarations (ID, Number, Type, Description)
  of one of its tracks, in the header in track order.
- ``apply(batch, query)``: a `base.Contribution` for a block of records (a
  `base.Batch`: positions, first REF/ALT bytes, and ``alleles(i)`` for a row's
  whole REF and ALT; `base.Query`: which rows are annotated and their
  whole-genome keys). Two kinds of text, so that the engine stays fast:

  * ``shared``: `base.Codes`, a small integer per row (0: nothing) and a table
    of INFO text pieces, one per code. Rows with the same codes across every
    op share one INFO text, joined once per distinct combination. Pieces start
    with their own ``;``; ``place`` (a `base.Place`) orders them in the row.
  * ``own``: (rows, per-row bytes) for what differs row by row (distances,
    per-ALT values, a CSQ entry list), each text starting with ``;``. numpy
    ``S`` arrays are joined vectorised; object arrays (long, variable texts)
    work too. Written after the shared text, in track order.

  ``ids`` fills an empty ID column (the first op to give them wins).
- ``summary(records)``: its entries in the run's JSON summary, asked once after
  the last batch (`records`: the input's record count); the same keys whether
  or not the build has the op. Counts it shares with other ops go through
  `base.Stats` (flag and names tracks count in one ``flags`` entry).

The engine then needs nothing else: `annotate.Annotator` loops over the ops,
`installer` builds each track with its op's class, `manifest` checks ``op``.

Ops and the INFO keys they write are listed in each module's docstring:
`genes`, `band`, `known`, `clinvar`, `flag`, `names`.
"""

from __future__ import annotations

from annotator.ops.band import Band
from annotator.ops.base import Op
from annotator.ops.clinvar import ClinVar
from annotator.ops.flag import Flag
from annotator.ops.genes import Genes
from annotator.ops.known import Known
from annotator.ops.names import Names

# Summary entries come in this order.
OPS: dict[str, type[Op]] = {
    "genes": Genes,
    "band": Band,
    "known": Known,
    "clinvar": ClinVar,
    "flag": Flag,
    "names": Names,
}

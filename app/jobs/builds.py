"""The genome builds an input may be on: the one list the upload form, the API and the
CLI offer, the job records, and the annotator's detection names."""

from __future__ import annotations

from typing import Literal, get_args

# NCBI36 is annotated lifted over to GRCh37 (annotator/tracks.toml's liftover).
Build = Literal["GRCh37", "GRCh38", "NCBI36"]
BUILDS: tuple[Build, ...] = get_args(Build)
# The builds with a reference index of their own: tracks.toml's [builds.*], which
# `gas reference install` offers (tests/annotator/test_builds.py checks they agree).
INDEXED: tuple[Build, ...] = ("GRCh37", "GRCh38")

# As the upload form names them: with UCSC's name, and what is done to an NCBI36 input.
# Keyed by str, not Build, so that a page can put its own choices beside them (a dict's
# key type is invariant); tests/jobs/test_builds.py checks that its keys are BUILDS.
LABELS: dict[str, str] = {
    "GRCh37": "GRCh37 / hg19",
    "GRCh38": "GRCh38 / hg38",
    "NCBI36": "NCBI36 / hg18 (lifted over to GRCh37)",
}

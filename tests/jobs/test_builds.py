"""The genome builds, listed once (app/jobs/builds.py): what each place offers comes from it."""

from __future__ import annotations

from typing import get_args

from app.jobs.builds import BUILDS, LABELS, Build


def test_every_build_has_a_label_and_no_other_does() -> None:
    """LABELS is keyed by str (a page adds "auto" to it): its keys are the builds, in order."""
    assert tuple(LABELS) == BUILDS == get_args(Build) == ("GRCh37", "GRCh38", "NCBI36")

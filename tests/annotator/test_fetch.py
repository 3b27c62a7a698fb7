"""Fetching pinned archives: npm packages through the `npm` client, checked like pip's."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from annotator.fetch import download, extract
from annotator.install_error import ReferenceInstallError
from annotator.manifest import Archive, ManifestError, load_manifest

PAYLOAD = b"the package tarball"


def _archive(sha256: str) -> Archive:
    return Archive("pkg", "pkg", "1.0.0", "npm", "pkg-1.0.0.tgz", sha256, "package/data/")


def _fake_npm(bin_dir: Path, log: Path) -> None:
    """An `npm` that records its arguments and writes PAYLOAD where --pack-destination says."""
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {log}\n'
        'while [ "$#" -gt 0 ]; do [ "$1" = --pack-destination ] && dest="$2"; shift; done\n'
        f"printf '%s' '{PAYLOAD.decode()}' > \"$dest/pkg-1.0.0.tgz\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_missing_npm_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without `npm` on PATH an npm archive fails naming what to install, before anything is written."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ReferenceInstallError, match=r"`npm` is not on PATH: install Node\.js with npm"):
        download(_archive("0" * 64), tmp_path / "downloads")
    assert not (tmp_path / "downloads" / "pkg-1.0.0.tgz").exists()


def test_npm_pack_is_pinned_by_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`npm pack pkg@version` fetches the tarball; it is kept only when its sha256 is the pinned one."""
    log = tmp_path / "args"
    _fake_npm(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ReferenceInstallError, match="sha256 mismatch"):
        download(_archive("0" * 64), tmp_path / "downloads")
    assert not (tmp_path / "downloads" / "pkg-1.0.0.tgz").exists()
    got = download(_archive(hashlib.sha256(PAYLOAD).hexdigest()), tmp_path / "downloads")
    assert got.read_bytes() == PAYLOAD
    assert log.read_text().split()[:2] == ["pack", "pkg@1.0.0"]
    assert "--ignore-scripts" in log.read_text()


def test_npm_tarball_members_are_extracted(tmp_path: Path) -> None:
    """Members under the archive's data prefix come out of an npm .tgz as from an sdist."""
    path = tmp_path / "pkg-1.0.0.tgz"
    with tarfile.open(path, "w:gz") as tf:
        for name, data in (("package/data/variants/a.tsv.gz", b"A"), ("package/other.js", b"B")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    got = extract(_archive("0" * 64), path, ["variants/a.tsv.gz"], tmp_path / "out")
    assert got["variants/a.tsv.gz"].read_bytes() == b"A"
    with pytest.raises(ReferenceInstallError, match=r"lacks variants/b\.tsv\.gz"):
        extract(_archive("0" * 64), path, ["variants/b.tsv.gz"], tmp_path / "out2")


def test_the_manifest_pins_ideogram_from_npm() -> None:
    """The ClinVar cache's package is fetched with npm, pinned to one version and digest."""
    a = load_manifest().archives["ideogram"]
    assert (a.format, a.version, a.file) == ("npm", "1.53.0", "ideogram-1.53.0.tgz")
    assert a.sha256 == "cc7e8929f972a81925c197f8ad75d44970b3cd92f6fd6c75313c6b446c2f0542"


def test_an_unknown_archive_format_is_refused(tmp_path: Path) -> None:
    """An archive whose format no fetcher knows fails the manifest, naming the ones there are."""
    text = (Path(__file__).parents[2] / "annotator" / "tracks.toml").read_text()
    manifest = tmp_path / "tracks.toml"
    manifest.write_text(text.replace('format = "npm"', 'format = "conda"'))
    with pytest.raises(
        ManifestError, match="archive ideogram: format must be one of sdist, wheel, npm, not 'conda'"
    ):
        load_manifest(manifest)

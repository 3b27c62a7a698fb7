"""Load the reference bundle: one memory-mapped index per build (`installer.install` builds it).

Layout under ``reference_root``::

    downloads/              pinned archives as fetched by pip (sha256-checked)
    GRCh37/index.json       names, labels, provenance; written last
    GRCh37/*.npy            the arrays (loaded with mmap_mode="r")
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from annotator.liftover import Chain
from annotator.manifest import MANIFEST_PATH, OPERATOR_MANIFEST

INDEX_FORMAT = 7  # 6: transcript models and the known-variant tables; 7: the genome sequence
INDEX_FILE = "index.json"

__all__ = [
    "Reference",
    "ReferenceMissing",
    "installed_builds",
    "load",
]


class ReferenceMissing(Exception):
    """No usable index for a build; the message tells the operator what to run."""

    def __init__(self, reference_root: Path, build: str, why: str = "is not installed"):
        self.reference_root = reference_root
        self.build = build
        self.why = why
        super().__init__(
            f"The {build} reference {why} under {reference_root}: "
            f"run `gas reference install --build {build}`."
        )

    def __reduce__(self) -> tuple[type[ReferenceMissing], tuple[Path, str, str]]:
        # Raised in an engine process. Unpickled from its message alone, it failed in
        # the pool's result thread, which then took the pool for broken (every job
        # in hand ended "storage or messaging kept failing").
        return (ReferenceMissing, (self.reference_root, self.build, self.why))


def manifest_digest(reference_root: Path) -> str:
    """Of the packaged manifest and the operator's (if any): a change to either rebuilds."""
    digest = hashlib.sha256(MANIFEST_PATH.read_bytes())
    operator = reference_root / OPERATOR_MANIFEST
    if operator.is_file():
        digest.update(operator.read_bytes())
    return digest.hexdigest()


def is_current(build_dir: Path) -> bool:
    index = build_dir / INDEX_FILE
    try:
        stat = index.stat()
    except OSError:
        return False
    return _index_is_current(index, stat.st_ino, stat.st_mtime_ns, stat.st_size,
                             manifest_digest(build_dir.parent))


@functools.lru_cache(maxsize=16)
def _index_is_current(index: Path, inode: int, mtime_ns: int, size: int, digest: str) -> bool:
    # Every job asks which builds are installed; parsing each build's index.json
    # (0.75 MB) for that was a third of the engine's time on small inputs
    # (bench/jobs.py). A rebuilt index is a new file (renamed into place), so a
    # changed inode, mtime or size makes it parsed again.
    try:
        meta = json.loads(index.read_text())
    except (OSError, ValueError):
        return False
    return meta.get("format") == INDEX_FORMAT and meta.get("manifest_sha256") == digest


def installed_builds(reference_root: Path) -> list[str]:
    if not reference_root.is_dir():
        return []
    return sorted(p.name for p in reference_root.iterdir() if p.is_dir() and is_current(p))


@dataclass
class Reference:
    """A loaded (memory-mapped) index for one build."""

    build: str
    path: Path
    meta: dict[str, Any]
    arrays: dict[str, npt.NDArray[Any]]
    contig_names: list[str] = field(init=False)
    aliases: dict[str, int] = field(init=False)
    gene_names: list[str] = field(init=False)
    gene_types: list[str] = field(init=False)
    band_labels: list[str] = field(init=False)
    tracks: list[dict[str, str]] = field(init=False)
    _chains: dict[str, Chain | None] = field(init=False, default_factory=dict)
    cache: dict[str, Any] = field(init=False, default_factory=dict)  # per-process tables built from it

    def __post_init__(self) -> None:
        self.contig_names = self.meta["contigs"]["names"]
        self.aliases = self.meta["contigs"]["aliases"]
        self.gene_names = self.meta.get("gene_names", [])
        self.gene_types = self.meta.get("gene_types", [])
        self.band_labels = self.meta.get("band_labels", [])
        self.tracks = self.meta["tracks"]

    def contig_index(self, name: str) -> int:
        return self.aliases.get(name.lower(), -1)

    def display(self, idx: int) -> str:
        return self.contig_names[idx].removeprefix("chr")

    def provenance(self) -> str:
        return ", ".join(f"{a['package']}=={a['version']}" for a in self.meta["archives"].values())

    def chain(self, source_build: str) -> Chain | None:
        if source_build not in self._chains:
            info = self.meta.get("liftover", {}).get(source_build)
            self._chains[source_build] = (
                None
                if info is None
                else Chain(
                    {
                        k.split("_", 2)[2]: v
                        for k, v in self.arrays.items()
                        if k.startswith(f"lift_{source_build}_")
                    },
                    info["src_names"],
                    info["dst_names"],
                )
            )
        return self._chains[source_build]


CACHE: dict[tuple[str, str], Reference] = {}


def swap_in(reference_root: Path, build: str, built: Path) -> None:
    """Put the complete build directory `built` (on the reference's disk) in place of the build's,
    whole, and forget any index of it this process loaded."""
    final = reference_root / build
    if final.exists():
        shutil.rmtree(final)
    built.rename(final)
    CACHE.pop((str(reference_root.resolve()), build), None)


def load(reference_root: Path, build: str) -> Reference:
    """The build's index, memory-mapped once per process and then reused."""
    key = (str(Path(reference_root).resolve()), build)
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    path = Path(reference_root) / build
    try:
        meta = json.loads((path / INDEX_FILE).read_text())
    except FileNotFoundError:
        raise ReferenceMissing(Path(reference_root), build) from None
    except ValueError:
        raise ReferenceMissing(Path(reference_root), build, "index is damaged") from None
    if meta.get("format") != INDEX_FORMAT:
        raise ReferenceMissing(Path(reference_root), build, "index is from an older version")
    arrays = {name: np.load(path / f"{name}.npy", mmap_mode="r") for name in meta["arrays"]}
    ref = Reference(build=build, path=path, meta=meta, arrays=arrays)
    CACHE[key] = ref
    return ref

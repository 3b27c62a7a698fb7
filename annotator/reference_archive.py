"""The built reference index as one archive in object storage: published once
(`gas reference publish`), fetched by every new annotator (deploy/boot.sh), so an
instance neither downloads the public data (~185 MB) nor builds the index again.

The key names the index format and the manifest's digest: a release whose manifest
or index format changed finds nothing under its key and builds its own, never an
index made for another manifest. The archive's sha256 is stored beside it, last,
so a published sidecar means a complete archive; a fetch refuses an archive that
does not match it and leaves the installed reference as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from annotator.fetch import sha256_of
from annotator.install_error import ReferenceInstallError
from annotator.manifest import OPERATOR_MANIFEST
from annotator.reference import INDEX_FORMAT, installed_builds, manifest_digest, swap_in
from app.ports.objects import ObjectNotFound, ObjectStore

ARCHIVE = "reference.tar.gz"
DIGEST = f"{ARCHIVE}.sha256"
# Fast gzip: the index is mostly numpy arrays; a higher level costs minutes for little.
_COMPRESSION = 1


def archive_prefix(prefix: str, reference_root: Path) -> str:
    """Where the archive of this release's reference (its index format and manifest) lives."""
    return f"{prefix.strip('/')}/{INDEX_FORMAT}-{manifest_digest(reference_root)}"


@contextlib.contextmanager
def _scratch(reference_root: Path) -> Iterator[Path]:
    """A folder beside the reference, on its disk: /tmp may be a small tmpfs."""
    reference_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".archive-", dir=reference_root) as tmp:
        yield Path(tmp)


def pack(reference_root: Path, archive: Path) -> list[str]:
    """Write the installed builds (and the operator's manifest, if any) to ``archive``;
    the builds packed. The downloaded public archives stay out: the index is built."""
    builds = installed_builds(reference_root)
    if not builds:
        raise ReferenceInstallError(
            f"no built reference under {reference_root}: run `gas reference install` first")
    with tarfile.open(archive, "w:gz", compresslevel=_COMPRESSION) as tar:
        for build in builds:
            tar.add(reference_root / build, arcname=build)
        if (reference_root / OPERATOR_MANIFEST).is_file():
            tar.add(reference_root / OPERATOR_MANIFEST, arcname=OPERATOR_MANIFEST)
    return builds


def unpack(archive: Path, reference_root: Path) -> list[str]:
    """Unpack ``archive`` beside the reference, then swap each build into place whole
    (as the installer does). The builds it brought."""
    with _scratch(reference_root) as unpacked:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(unpacked, filter="data")  # nothing outside, no links or devices
        builds = sorted(p.name for p in unpacked.iterdir() if p.is_dir())
        if (unpacked / OPERATOR_MANIFEST).is_file():
            (unpacked / OPERATOR_MANIFEST).replace(reference_root / OPERATOR_MANIFEST)
        for build in builds:
            swap_in(reference_root, build, unpacked / build)
    return builds


async def publish(objects: ObjectStore, bucket: str, prefix: str, reference_root: Path) -> str:
    """Upload the installed reference as one archive and its sha256; the archive's key."""
    where = archive_prefix(prefix, reference_root)
    with _scratch(reference_root) as tmp:
        archive = tmp / ARCHIVE
        await asyncio.to_thread(pack, reference_root, archive)
        digest = await asyncio.to_thread(sha256_of, archive)
        await objects.put_file(bucket, f"{where}/{ARCHIVE}", archive, "application/gzip")
        await objects.put_bytes(bucket, f"{where}/{DIGEST}", f"{digest}  {ARCHIVE}\n".encode(), "text/plain")
    return f"{where}/{ARCHIVE}"


async def fetch(objects: ObjectStore, bucket: str, prefix: str, reference_root: Path) -> list[str] | None:
    """Download this release's published reference, check its sha256 and unpack it: the
    builds it brought, or None when none is published. A mismatch is refused."""
    where = archive_prefix(prefix, reference_root)
    try:
        expected = (await objects.get_bytes(bucket, f"{where}/{DIGEST}")).decode().split()[0]
    except ObjectNotFound:
        return None
    with _scratch(reference_root) as tmp:
        archive = tmp / ARCHIVE
        await objects.get_file(bucket, f"{where}/{ARCHIVE}", archive)
        actual = await asyncio.to_thread(sha256_of, archive)
        if actual != expected:
            raise ReferenceInstallError(
                f"the published reference s3://{bucket}/{where}/{ARCHIVE} has sha256 {actual}, "
                f"not the {expected} published with it: refused; publish it again")
        return await asyncio.to_thread(unpack, archive, reference_root)

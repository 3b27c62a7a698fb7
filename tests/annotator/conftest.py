"""Fixtures for the annotation engine tests: the real GRCh37 reference, tiny VCFs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from annotator import installer
from annotator.engine import annotate_file
from annotator.install_error import ReferenceInstallError

REPO = Path(__file__).resolve().parents[2]
# The shared sample VCFs sit beside the clone; GAS_SAMPLE_VCF_DIR points elsewhere (a git worktree).
SAMPLES = Path(os.environ.get("GAS_SAMPLE_VCF_DIR", REPO.parent / "shared" / "data" / "vcf"))
# GRCh37 chr20 whole, bgzip with its .fai: Debian's vt-examples (`make system-deps` installs it).
CHR20_FASTA = Path("/usr/share/doc/vt/examples/ref/20.fa.gz")
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.fixture(scope="session")
def reference_root() -> Path:
    """The real GRCh37 index, installed once (a no-op when already built)."""
    root = Path(os.environ.get("GAS_REFERENCE_DIR", REPO / "var" / "reference"))
    installer.install(root, ["GRCh37"], progress=False)
    return root


def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"sample VCF {path} not available")
    return path


@dataclass
class Result:
    summary: dict[str, Any]
    header: list[str]
    records: list[list[str]]
    log: str
    path: Path

    def info(self, i: int) -> dict[str, str]:
        out = {}
        for item in self.records[i][7].split(";"):
            key, _, value = item.partition("=")
            out[key] = value
        return out


def read_output(path: Path) -> tuple[list[str], list[list[str]]]:
    header, records = [], []
    for line in path.read_text(errors="surrogateescape").splitlines():
        if line.startswith("#"):
            header.append(line)
        elif line:
            records.append(line.split("\t"))
    return header, records


@pytest.fixture
def annotate(tmp_path: Path, reference_root: Path) -> Callable[..., Result]:
    """Annotate text (or bytes, or an existing file) and parse what comes out."""

    def run(content: str | bytes | Path, **kwargs: Any) -> Result:
        if isinstance(content, Path):
            src = content
        else:
            src = tmp_path / "in.vcf"
            src.write_bytes(content.encode() if isinstance(content, str) else content)
        out, log, summary = tmp_path / "out.vcf", tmp_path / "run.log", tmp_path / "summary.json"
        result = annotate_file(
            src, out, reference_root=reference_root, log_path=log, summary_path=summary, **kwargs
        )
        header, records = read_output(out)
        return Result(result, header, records, log.read_text(), out)

    return run


def vcf(*rows: str, header: str = HEADER) -> str:
    """A small VCF: rows are tab-separated records (spaces in them become tabs)."""
    return header + "".join(r.replace(" ", "\t") + "\n" for r in rows)


@pytest.fixture(scope="session")
def grch38_root(reference_root: Path) -> Path:
    """The GRCh38 index too (`make reference` installs it; about 15 s the first time)."""
    try:
        installer.install(reference_root, ["GRCh38"], progress=False)
    except ReferenceInstallError as exc:
        pytest.skip(f"GRCh38 reference could not be installed here: {exc}")
    return reference_root


@pytest.fixture(scope="session")
def chr20_root(reference_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GRCh37 index whose genome sequence is chr20 (vt-examples) and the rCRS, built once
    per session in a reference dir of its own from the same downloads (about 12 s)."""
    if not CHR20_FASTA.is_file():
        pytest.skip(f"{CHR20_FASTA} is absent: install Debian's vt-examples (make system-deps)")
    root = tmp_path_factory.mktemp("chr20-reference")
    (root / "downloads").mkdir()
    for f in (reference_root / "downloads").iterdir():
        if f.is_file():
            try:
                os.link(f, root / "downloads" / f.name)
            except OSError:  # another file system
                shutil.copy(f, root / "downloads" / f.name)
    (root / "tracks.toml").write_text(f'[[sequence]]\nbuild = "GRCh37"\npath = "{CHR20_FASTA}"\n')
    installer.install(root, ["GRCh37"], progress=False)
    return root

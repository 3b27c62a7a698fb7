"""An operator's own tracks (BED / GTF / VCF, local or downloaded) in the reference manifest."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotator import installer, reference
from annotator.engine import annotate_file
from annotator.install_error import ReferenceInstallError
from annotator.manifest import ManifestError, load_manifest

from .conftest import read_output, vcf

BED = (
    "track name=panel\n"
    "chr17\t41196311\t41277500\tBRCA1_panel\n"
    "17\t41240000\t41250000\texon 11 region\n"  # a space in a name becomes _
    "17\t41300000\t41300100\tfar_away\n"
    "chrUn_nowhere\t1\t100\tghost\n"
)
GTF = (
    '1\ttest\tgene\t949000\t950000\t.\t+\t.\tgene_id "G1"; gene_name "ISG15_hot";\n'
    '1\ttest\ttranscript\t960000\t961000\t.\t+\t.\tgene_id "G1"; gene_name "not_a_gene";\n'
)
VCF_TRACK = (
    "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "17\t41245000\tVCV000017661\tA\tG\t.\t.\tCLNSIG=Pathogenic\n"
    "13\t32900000\tSV1\tN\t<DEL>\t.\t.\tSVTYPE=DEL;END=32910000\n"
    "13\t32950000\t.\tA\tG\t.\t.\t.\n"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A plain http server on 127.0.0.1 standing in for an https:// source."""
    root = tmp_path_factory.mktemp("www")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _root_with_downloads(tmp: Path, reference_root: Path) -> Path:
    """A fresh reference dir sharing the pinned archives already downloaded (no new download)."""
    root = tmp / "reference"
    (root / "downloads").mkdir(parents=True)
    for archive in (reference_root / "downloads").iterdir():
        if archive.is_file():
            (root / "downloads" / archive.name).symlink_to(archive)
    return root


@pytest.fixture(scope="module")
def user_root(tmp_path_factory: pytest.TempPathFactory, reference_root: Path, served) -> Path:
    """GRCh37 built with three operator tracks: a downloaded BED, a local GTF, a local VCF."""
    url, www = served
    tmp = tmp_path_factory.mktemp("user")
    root = _root_with_downloads(tmp, reference_root)
    panel = gzip.compress(BED.encode())
    (www / "panel.bed.gz").write_bytes(panel)
    (root / "mine").mkdir()
    (root / "mine" / "hot.gtf").write_text(GTF)
    (root / "mine" / "variants.vcf").write_text(VCF_TRACK)
    (root / "tracks.toml").write_text(
        f"""
[[track]]
name = "panel"
op = "names"
info = "PANEL"
description = "Genes of our diagnostic panel"
[track.sources.GRCh37]
url = "{url}/panel.bed.gz"
sha256 = "{hashlib.sha256(panel).hexdigest()}"

[[track]]
name = "hotspots"
op = "flag"
info = "HOTSPOT"
format = "gtf"
feature = "gene"
[track.sources.GRCh37]
path = "mine/hot.gtf"

[[track]]
name = "clinvar"
op = "names"
info = "CLINVAR"
[track.sources.GRCh37]
path = "mine/variants.vcf"
"""
    )
    installer.install(root, ["GRCh37"], progress=False)
    return root


def _annotate(root: Path, tmp: Path, *rows: str):
    src, out = tmp / "in.vcf", tmp / "out.vcf"
    src.write_text(vcf(*rows))
    summary = annotate_file(src, out, reference_root=root)
    header, records = read_output(out)
    infos = [dict(item.partition("=")[::2] for item in rec[7].split(";")) for rec in records]
    return summary, header, infos


def test_user_tracks_write_their_info_keys(user_root, tmp_path):
    """Overlap with a BED / VCF feature writes its names, with a GTF gene the flag; all are declared."""
    summary, header, infos = _annotate(
        user_root,
        tmp_path,
        "17 41245000 . A G . . .",  # BRCA1_panel, exon_11_region, VCV000017661
        "17 41200000 . A G . . .",  # BRCA1_panel only
        "1 949500 . A G . . .",  # ISG15_hot gene (flag)
        "1 960500 . A G . . .",  # a transcript line, filtered out by feature = "gene"
        "13 32905000 . A G . . .",  # inside the VCF's <DEL> (POS..END)
    )
    assert infos[0]["PANEL"] == "BRCA1_panel,exon_11_region"
    assert infos[0]["CLINVAR"] == "VCV000017661"
    assert infos[0]["GAS_GENE"] == "BRCA1"
    assert infos[1]["PANEL"] == "BRCA1_panel"
    assert "CLINVAR" not in infos[1]
    assert "HOTSPOT" in infos[2] and "PANEL" not in infos[2]
    assert "HOTSPOT" not in infos[3]
    assert infos[4]["CLINVAR"] == "SV1"
    assert '##INFO=<ID=PANEL,Number=.,Type=String,Description="Genes of our diagnostic panel">' in header
    assert any(h.startswith("##INFO=<ID=HOTSPOT,Number=0,Type=Flag") for h in header)
    assert summary["flags"]["PANEL"] == 2
    assert summary["flags"]["HOTSPOT"] == 1


def test_a_deletion_spanning_features_gets_every_name(user_root, tmp_path):
    """A deletion reaching out of one BED feature (exon 11 region) still lists every feature it touches."""
    deletion = f"17 41249990 . {'A' * 20} A . . ."
    _, _, infos = _annotate(user_root, tmp_path, deletion, "17 41300050 . A G . . .")
    assert infos[0]["PANEL"] == "BRCA1_panel,exon_11_region"
    assert infos[1]["PANEL"] == "far_away"


def test_unknown_contigs_are_counted_at_install(user_root):
    """A feature on a contig the build lacks is left out and counted in the index's counts."""
    meta = reference.load(user_root, "GRCh37").meta
    assert meta["counts"]["panel"] == 3
    assert meta["counts"]["panel skipped (unknown contig or no name)"] == 1
    assert [t["name"] for t in meta["tracks"]][-3:] == ["panel", "hotspots", "clinvar"]


def test_changing_the_operator_manifest_rebuilds(user_root):
    """The index remembers the operator's manifest: edit it and the build is no longer current."""
    assert reference.installed_builds(user_root) == ["GRCh37"]
    manifest = user_root / "tracks.toml"
    original = manifest.read_text()
    try:
        manifest.write_text(original + "\n# edited\n")
        assert reference.installed_builds(user_root) == []
    finally:
        manifest.write_text(original)
    assert reference.installed_builds(user_root) == ["GRCh37"]


def test_download_with_wrong_sha256_is_refused(tmp_path, reference_root, served):
    """A URL whose content does not match the pinned sha256 fails the install; nothing is built."""
    url, www = served
    (www / "other.bed").write_text("1\t10\t20\tx\n")
    root = _root_with_downloads(tmp_path, reference_root)
    (root / "tracks.toml").write_text(
        f'[[track]]\nname = "x"\nop = "flag"\ninfo = "X"\n'
        f'[track.sources.GRCh37]\nurl = "{url}/other.bed"\nsha256 = "{"0" * 64}"\n'
    )
    with pytest.raises(ReferenceInstallError, match="sha256"):
        installer.install(root, ["GRCh37"], progress=False)
    assert reference.installed_builds(root) == []
    assert not list((root / "downloads").glob("*other.bed*"))


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ('url = "http://example.org/a.bed"\nsha256 = "' + "a" * 64 + '"', "not an https:// URL"),
        ('url = "https://example.org/a.bed"', "needs its sha256"),
        ('path = "a.bed"\nurl = "https://example.org/a.bed"', "exactly one of path or url"),
        ('path = "a.txt"', "say its format"),
        ('path = "a.bed"\nsha256 = "xyz"', "64 hex digits"),
    ],
)
def test_bad_sources_are_refused(tmp_path, block, message):
    """Sources that are not https (except to 127.0.0.1), unpinned URLs and unclear formats are refused."""
    operator = tmp_path / "tracks.toml"
    operator.write_text(f'[[track]]\nname = "x"\nop = "flag"\ninfo = "X"\n[track.sources.GRCh37]\n{block}\n')
    with pytest.raises(ManifestError, match=message):
        load_manifest(operator=operator)


@pytest.mark.parametrize(
    ("track", "message"),
    [
        ('name = "x"\nop = "genes"\ninfo = "X"', "op must be one of"),
        ('name = "x"\nop = "flag"\ninfo = "BAD KEY"', "not a valid INFO key"),
        ('name = "x"\nop = "flag"\ninfo = "GAS_GENE"', "same INFO key"),
        ('name = "genes"\nop = "flag"\ninfo = "X"', "names are unique"),
    ],
)
def test_bad_tracks_are_refused(tmp_path, track, message):
    """An operator's track must use flag/names, a valid and new INFO key, and a new name."""
    operator = tmp_path / "tracks.toml"
    operator.write_text(f'[[track]]\n{track}\n[track.sources.GRCh37]\npath = "a.bed"\n')
    with pytest.raises(ManifestError, match=message):
        load_manifest(operator=operator)


def test_unknown_build_in_operator_manifest(tmp_path):
    """A source for a build the manifest does not know is refused, naming the known ones."""
    operator = tmp_path / "tracks.toml"
    track = '[[track]]\nname = "x"\nop = "flag"\ninfo = "X"\n'
    operator.write_text(track + '[track.sources.hg17]\npath = "a.bed"\n')
    with pytest.raises(ManifestError, match="unknown build hg17"):
        load_manifest(operator=operator)

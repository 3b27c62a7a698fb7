"""Inputs people really send: accepted quirks and rejected garbage (with line numbers)."""

from __future__ import annotations

import gzip
import os
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from annotator.engine import VcfError, annotate_file

from .conftest import HEADER, read_output, vcf

ROWS = ("17 41245000 . A G 50 PASS DP=3", "1 461 . C T . . .")


def test_gzip_input_detected_by_magic(annotate, tmp_path):
    """gzip input (even named .vcf) is read by its magic bytes and annotated like plain text."""
    plain = annotate(vcf(*ROWS))
    zipped = annotate(gzip.compress(vcf(*ROWS).encode()))
    assert zipped.records == plain.records
    assert zipped.summary["input"]["compressed"] is True


def test_bgzip_style_multi_member_gzip(annotate):
    """bgzip writes many concatenated gzip members; all of them are read."""
    text = vcf(*ROWS)
    half = len(text) // 2
    data = gzip.compress(text[:half].encode()) + gzip.compress(text[half:].encode())
    r = annotate(data)
    assert r.summary["variant_count"] == 2
    assert r.info(0)["GAS_GENE"] == "BRCA1"


def test_crlf_and_bom(annotate):
    """Windows line endings and a UTF-8 BOM are accepted; output is clean LF text."""
    text = "\ufeff" + vcf(*ROWS).replace("\n", "\r\n")
    r = annotate(text.encode("utf-8"))
    assert r.summary["variant_count"] == 2
    assert r.header[0] == "##fileformat=VCFv4.2"
    assert "\r" not in r.path.read_text()
    assert r.info(0)["GAS_GENE"] == "BRCA1"


def test_vcf_v33_header_is_upgraded(annotate):
    """v3.3 `##INFO=DP,1,Integer,"..."` lines are accepted and written in v4 form."""
    header = (
        '##fileformat=VCFv3.3\n##INFO=DP,1,Integer,"Total Depth"\n##FORMAT=GT,1,String,"Genotype"\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )
    r = annotate(vcf("17 41245000 . A G -1 0 DP=3 GT 0/1", header=header))
    assert '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total Depth">' in r.header
    assert r.header[0] == "##fileformat=VCFv4.2"
    assert "##GAS_inputFileformat=VCFv3.3" in r.header
    assert r.records[0][5:7] == [".", "PASS"], "v3.3 QUAL -1 / FILTER 0 mean missing / PASS"
    assert r.records[0][8:] == ["GT", "0/1"]


def test_samples_none_or_many(annotate):
    """Sample columns are carried through untouched, whatever their number."""
    samples = [f"S{i}" for i in range(50)]
    header = (
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
        + "\t".join(samples)
        + "\n"
    )
    row = "17\t41245000\t.\tA\tG\t.\t.\t.\tGT:DP\t" + "\t".join(f"0/1:{i}" for i in range(50))
    r = annotate(header + row + "\n")
    assert r.records[0][9:] == [f"0/1:{i}" for i in range(50)]
    assert r.summary["input"]["samples"] == 50
    assert annotate(vcf(*ROWS)).summary["input"]["samples"] == 0


def test_multiallelic_star_and_symbolic(annotate):
    """Multi-allelic, `*` and `<DEL>` ALTs are kept; a <DEL> spans to INFO/END."""
    r = annotate(
        vcf(
            "17 41245000 . A G,T,* . . .",
            "17 41190000 . N <DEL> . . SVTYPE=DEL;END=41200000",  # reaches into BRCA1's 3' end
            "17 41190000 . N <DEL> . . SVTYPE=DEL",
        )
    )
    assert r.records[0][4] == "G,T,*"
    assert r.info(1)["GAS_GENE"] == "BRCA1"
    assert r.info(1)["GAS_REGION"] == "CDS"
    assert "GAS_GENE" not in r.info(2)
    s = r.summary
    assert (s["variant_count"], s["allele_count"], s["multiallelic"], s["symbolic"]) == (3, 5, 1, 2)


def test_deletion_overlapping_exon_uses_ref_span(annotate):
    """A deletion whose REF reaches into a coding exon is CDS, as bedtools/bcftools see it."""
    # BRCA1 CDS segment 41,242,961-41,243,049; the deletion starts 3 bp before it.
    r = annotate(vcf("17 41242958 . AAAAAA A . . ."))
    assert r.info(0)["GAS_REGION"] == "CDS"


def test_blank_and_comment_lines_are_counted(annotate):
    """Blank lines (trailing or not) and stray comments are skipped and counted, not fatal."""
    text = vcf(ROWS[0]) + "\n#a comment\n" + ROWS[1].replace(" ", "\t") + "\n\n\n"
    r = annotate(text)
    assert r.summary["variant_count"] == 2
    assert r.summary["skipped"] == {
        "blank line": {"count": 3, "first_lines": [4, 7, 8]},
        "comment line after the header": {"count": 1, "first_lines": [5]},
    }
    assert r.summary["lines_read"] == 8


def test_header_only_file(annotate):
    """A VCF with a header and no records is valid: zero variants, header kept."""
    r = annotate(HEADER)
    assert r.summary["variant_count"] == 0
    assert r.records == []
    assert any(h.startswith("##INFO=<ID=GAS_GENE") for h in r.header)


def test_unknown_contig_is_kept_and_counted(annotate):
    """Records on contigs the reference lacks pass through unannotated and are counted."""
    r = annotate(vcf("chrUn_mystery 100 . A G . . DP=1", *ROWS))
    assert r.records[0][7] == "DP=1"
    assert r.summary["unannotated_contigs"] == {"chrUn_mystery": 1}
    assert r.summary["annotated"] == 2
    assert "chrUn_mystery" in r.log


def test_reannotation_replaces_gas_keys(annotate, tmp_path):
    """Annotating an annotated file replaces the GAS_ keys instead of doubling them."""
    first = annotate(vcf(*ROWS))
    again_src = tmp_path / "again.vcf"
    again_src.write_bytes(first.path.read_bytes())
    second = annotate(again_src)
    assert second.records == first.records
    assert sum(h.startswith("##INFO=<ID=GAS_GENE") for h in second.header) == 1


def test_input_gas_keys_are_dropped_on_every_record(annotate):
    """An input's own GAS_* INFO values never reach the output, declared or not, on
    contigs GAS annotates and on those it does not (where they would pass for
    GAS's); its other INFO is kept, and the log and summary count what was dropped."""
    r = annotate(vcf(
        "chrUn_mystery 100 . A G . . DP=1;GAS_GENE=BRCA1;GAS_REGION=CDS",
        "17 41245000 . A G 50 PASS GAS_GENE=FAKE;GAS_DIST=abc;GAS_FLAG",
        "1 461 . C T . . AF=0.5",
        "1 462 . C T . . XGAS_GENE=kept;NOTE=GAS_x",
    ))
    assert r.records[0][7] == "DP=1"
    assert r.info(1)["GAS_GENE"] == "BRCA1" and "FAKE" not in r.records[1][7]
    assert "GAS_DIST" not in r.info(1) and "GAS_FLAG" not in r.info(1)
    assert r.info(2)["AF"] == "0.5"
    assert r.info(3)["XGAS_GENE"] == "kept" and r.info(3)["NOTE"] == "GAS_x"
    dropped = r.summary["input_gas_values_dropped"]
    assert dropped == {"records": 2, "values": 5,
                       "keys": {"GAS_GENE": 2, "GAS_REGION": 1, "GAS_DIST": 1, "GAS_FLAG": 1}}
    assert "dropped 5 GAS_* and CSQ INFO values the input brought itself" in r.log
    assert "from 2 records" in r.log


def test_progress_reports_percentages(annotate):
    """progress() gets a few increasing percentages and ends at 100."""
    seen: list[int] = []
    annotate(vcf(*ROWS * 200), progress=seen.append)
    assert seen[-1] == 100
    assert seen == sorted(seen)
    assert len(seen) <= 25


def test_build_default_is_stated(annotate):
    """No declared build: GRCh37 is used and the log and summary say it was assumed."""
    r = annotate(vcf(*ROWS))
    assert r.summary["build"]["declared"] is None
    assert r.summary["build"]["used"] == "GRCh37"
    assert "assumed GRCh37" in r.summary["build"]["note"]
    assert "assumed GRCh37" in r.log


def test_declared_build_without_reference_is_a_stated_mismatch(tmp_path, reference_root):
    """A GRCh38 file with only GRCh37 installed is annotated, and the mismatch is said loudly."""
    only37 = tmp_path / "only37"
    only37.mkdir()
    (only37 / "GRCh37").symlink_to(reference_root / "GRCh37")
    header = "##fileformat=VCFv4.2\n##reference=GRCh38\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    src, out, log = tmp_path / "in.vcf", tmp_path / "out.vcf", tmp_path / "log.txt"
    src.write_text(vcf(*ROWS, header=header))
    summary = annotate_file(src, out, reference_root=only37, log_path=log)
    assert summary["build"]["declared"] == "GRCh38"
    assert summary["build"]["used"] == "GRCh37"
    assert "MISMATCH" in summary["build"]["note"]
    assert "MISMATCH" in log.read_text()
    assert any(h.startswith("##GAS_note=") and "MISMATCH" in h for h in read_output(out)[0])


def test_summary_keys(annotate):
    """The summary has every key the results viewer reads, with counts that add up."""
    r = annotate(vcf(*ROWS))
    s = r.summary
    for key in (
        "variant_count",
        "per_chromosome",
        "per_region_class",
        "per_gene_type",
        "top_genes",
        "in_dbsnp",
        "dbsnp_share",
        "build",
        "skipped",
        "lines_read",
    ):
        assert key in s
    assert s["per_chromosome"] == {"17": 1, "1": 1}
    assert sum(s["per_region_class"].values()) == s["variant_count"] == 2
    assert s["top_genes"] == [["BRCA1", 1]]
    assert s["per_gene_type"] == {"protein_coding": 1}
    assert set(s["build"]) >= {"declared", "used", "note"}
    assert s["lines_read"] == 4


# -- rejected input ------------------------------------------------------------


def _fails(tmp_path: Path, reference_root: Path, content: bytes) -> VcfError:
    src = tmp_path / "bad.vcf"
    src.write_bytes(content)
    with pytest.raises(VcfError) as info:
        annotate_file(src, tmp_path / "out.vcf", reference_root=reference_root)
    assert not (tmp_path / "out.vcf").exists(), "no partial output is left behind"
    return info.value


def test_non_numeric_pos(tmp_path, reference_root):
    """A bad POS fails with its 1-based line number and the value."""
    rows = [f"1\t{1000 + i}\t.\tA\tG\t.\t.\t." for i in range(9)] + ["1\tabc\t.\tA\tG\t.\t.\t."]
    err = _fails(tmp_path, reference_root, (HEADER + "\n".join(rows) + "\n").encode())
    assert err.line == 12
    assert str(err) == "line 12: POS 'abc' is not a number"


def test_wrong_column_count(tmp_path, reference_root):
    """A record with fewer columns than the #CHROM line names its line."""
    err = _fails(tmp_path, reference_root, vcf("1 100 . A G . . .", "1 200 . A G").encode())
    assert err.line == 4
    assert "columns" in str(err)


def test_missing_chrom_header(tmp_path, reference_root):
    """Records before any #CHROM line are refused at the first record."""
    err = _fails(tmp_path, reference_root, b"##fileformat=VCFv4.2\n1\t100\t.\tA\tG\t.\t.\t.\n")
    assert err.line == 2
    assert "#CHROM" in str(err)


def test_empty_file(tmp_path, reference_root):
    """A 0-byte file is an error, not an empty result."""
    err = _fails(tmp_path, reference_root, b"")
    assert err.line == 1
    assert "empty" in str(err)


def test_not_a_vcf(tmp_path, reference_root):
    """A text file that is not a VCF is refused on line 1."""
    err = _fails(tmp_path, reference_root, b"name,age\nalice,30\n")
    assert err.line == 1
    assert "not a VCF" in str(err)


def test_binary_garbage(tmp_path, reference_root):
    """Random binary data is refused as not text, not crashed on."""
    err = _fails(tmp_path, reference_root, bytes(range(256)) * 20)
    assert err.line == 1


def test_zip_archive(tmp_path, reference_root):
    """A zipped VCF gets a message saying what it is and what to do."""
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.vcf", vcf(*ROWS))
    err = _fails(tmp_path, reference_root, path.read_bytes())
    assert "zip" in str(err)


def test_truncated_gzip(tmp_path, reference_root):
    """A gzip stream cut short fails with a line number instead of a traceback."""
    data = gzip.compress(vcf(*ROWS * 5000).encode())
    err = _fails(tmp_path, reference_root, data[: len(data) // 2])
    assert err.line > 2
    assert "gzip" in str(err)


def test_header_only_meta_lines(tmp_path, reference_root):
    """Meta lines with no #CHROM line at all are refused."""
    err = _fails(tmp_path, reference_root, b"##fileformat=VCFv4.2\n##source=x\n")
    assert "#CHROM" in str(err)


def test_unsorted_input_tab_in_header_and_missing_values(annotate):
    """Unsorted records, a TAB inside a header description, '.' QUAL/FILTER and -Infinity pass."""
    header = (
        '##fileformat=VCFv4.0\n##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype\tQuality">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    r = annotate(vcf("17 41245000 . A G . . X=-Infinity", "1 461 . C T . . .", header=header))
    assert [rec[0] for rec in r.records] == ["17", "1"]
    assert r.info(0)["X"] == "-Infinity"
    assert r.info(0)["GAS_GENE"] == "BRCA1"
    assert r.info(1)["GAS_REGION"] == "intergenic"
    assert 'Description="Genotype\tQuality">' in "\n".join(r.header)


def test_output_to_a_device_is_written_in_place(tmp_path, reference_root):
    """`-o /dev/null` (or a FIFO) is written to, never renamed over: the device survives."""
    src = tmp_path / "in.vcf"
    src.write_text(vcf("17 41245000 . A G . . ."))
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    annotate_file(src, fifo, reference_root=reference_root)
    reader.join(timeout=30)
    assert b"GAS_GENE=BRCA1" in received[0]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert not (tmp_path / "out.fifo.part").exists()

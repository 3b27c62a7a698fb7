"""The results viewer's table: built by streaming, queried by filter, sort and page."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from annotator.engine import annotate_file
from app.results import consequences, locus, variant_table
from app.results.variant_table import Query
from tests.annotated import plain_input
from tests.conftest import installed_reference

GENES = ["BRCA1", "TP53", "BRCA2", "", "MT-RNR1", "NBPF1,NBPF10"]
REGIONS = ["CDS", "intron", "intergenic", "UTR3", "splice_site"]
CHROMS = ["1", "2", "10", "X", "MT"]
TERMS = ["stop_gained", "missense_variant", "synonymous_variant", "intron_variant",
         "regulatory_region_ablation", "made_up_variant"]
IMPACT_OF = {"stop_gained": "HIGH", "missense_variant": "MODERATE", "synonymous_variant": "LOW",
             "intron_variant": "MODIFIER", "regulatory_region_ablation": "MODERATE",
             "made_up_variant": "MODIFIER"}
CLNSIG = [".", "Pathogenic", "Likely_pathogenic", "Benign", "Conflicting_classifications_of_pathogenicity"]
CSQ_FORMAT = "Allele|Consequence|IMPACT|SYMBOL|Feature|HGVSc|HGVSp|CANONICAL|MANE_SELECT"
CSQ_HEADER = ('##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from GAS. '
              f'Format: {CSQ_FORMAT}">\n')


def _consequences(rng: random.Random, n: int) -> tuple[list[str], dict]:
    """Random INFO for consequences and ClinVar, and the row's values worked out the
    plain way: the most severe term and IMPACT over the ALTs, the representative CSQ
    entry (most severe, then MANE Select, then canonical, then first)."""
    alts = rng.choice([1, 1, 2])
    terms = [rng.choice(TERMS) for _ in range(alts)]
    impacts = [IMPACT_OF[t] for t in terms]
    entries = []
    for allele in range(alts):
        for t in range(rng.randint(1, 3)):
            joined = "&".join(rng.sample(TERMS, rng.randint(1, 2)))
            entries.append({"terms": joined, "feature": f"T{n}.{allele}.{t}",
                            "canonical": rng.choice(["YES", ""]), "mane": rng.choice(["NM_1", "", ""])})
    best = min(range(len(entries)), key=lambda i: (
        min(consequences.term_rank(t) for t in entries[i]["terms"].split("&")),
        entries[i]["mane"] == "", entries[i]["canonical"] != "YES", i))
    clnsig = [rng.choice(CLNSIG) for _ in range(alts)]
    csq = ",".join(f"A|{e['terms']}|X|G|{e['feature']}|{e['feature']}:c.1A>G|p.X%3D|{e['canonical']}|"
                   f"{e['mane']}" for e in entries)
    info = [f"GAS_CONSEQUENCE={','.join(terms)}", f"GAS_IMPACT={','.join(impacts)}",
            f"GAS_CLNSIG={','.join(clnsig)}", f"CSQ={csq}"]
    expected = {
        "consequence": min(terms, key=consequences.term_rank),
        "impact": min(impacts, key=consequences.IMPACTS.index),
        "feature": entries[best]["feature"],
        "pathogenic": any(c in ("Pathogenic", "Likely_pathogenic") for c in clnsig),
        "alts": ",".join("GT"[:alts]),
    }
    return info, expected


def write_vcf(path: Path, n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    with path.open("w") as out:
        out.write(f"##fileformat=VCFv4.2\n{CSQ_HEADER}#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for i in range(n):
            chrom, gene, region = rng.choice(CHROMS), rng.choice(GENES), rng.choice(REGIONS)
            rsid = f"rs{i}" if rng.random() < 0.3 else ""
            info = [f"GAS_REGION={region}", "GAS_BAND=1p36.33"]
            if gene:
                info.append(f"GAS_GENE={gene}")
            else:
                info += ["GAS_NEAREST=FOO", "GAS_DIST=1234"]
            if rsid:
                info.append(f"GAS_RSID={rsid}")
            annotations, expected = _consequences(rng, i)
            info += annotations
            out.write(f"{chrom}\t{i + 1}\t.\tA\t{expected['alts']}\t.\tPASS\tDP=3;{';'.join(info)}\n")
            rows.append({"chrom": chrom, "pos": i + 1, "gene": gene, "region": region, "rsid": rsid}
                        | expected)
    return rows


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, list[dict]]:
    folder = tmp_path_factory.mktemp("table")
    rows = write_vcf(folder / "a.vcf", 150_000)
    assert variant_table.build(folder / "a.vcf", folder / "a.arrow") == 150_000
    return variant_table.open_table(folder / "a.arrow"), rows


def test_filters_count_the_same_as_a_plain_scan(table: tuple[object, list[dict]]) -> None:
    """Every filter, alone and combined, matches a plain Python count, across
    several record batches."""
    arrow, rows = table
    cases = [
        (Query(), lambda r: True),
        (Query(gene="brca"), lambda r: "BRCA" in r["gene"]),
        (Query(chrom="10"), lambda r: r["chrom"] == "10"),
        (Query(region="CDS", dbsnp="yes"), lambda r: r["region"] == "CDS" and r["rsid"]),
        (Query(gene="NBPF10", chrom="X", dbsnp="no"),
         lambda r: "NBPF10" in r["gene"] and r["chrom"] == "X" and not r["rsid"]),
    ]
    for query, match in cases:
        page = variant_table.page(arrow, query)  # type: ignore[arg-type]
        assert page.total == sum(1 for r in rows if match(r)), query
        assert page.all_rows == len(rows)


def test_sort_and_pages(table: tuple[object, list[dict]]) -> None:
    """Position sorts by natural chromosome order; pages are 50 rows; the last page
    number is clamped."""
    arrow, _ = table
    first = variant_table.page(arrow, Query(sort="pos", descending=True))  # type: ignore[arg-type]
    assert first.rows[0]["chrom"] == "MT" and len(first.rows) == 50
    assert first.pages == 3000
    by_gene = variant_table.page(arrow, Query(sort="genes", gene="b"))  # type: ignore[arg-type]
    assert [r["genes"] for r in by_gene.rows] == sorted(r["genes"] for r in by_gene.rows)
    beyond = variant_table.page(arrow, Query(page=10**6))  # type: ignore[arg-type]
    assert beyond.page == 3000 and beyond.rows
    assert first.chromosomes == ["1", "2", "10", "X", "MT"]


def test_export_is_the_filtered_rows(table: tuple[object, list[dict]]) -> None:
    """TSV export has a header and exactly the filtered rows."""
    arrow, rows = table
    text = "".join(variant_table.export_tsv(arrow, Query(chrom="2", region="intron")))  # type: ignore[arg-type]
    lines = text.splitlines()
    assert lines[0].split("\t")[:3] == ["chrom", "pos", "id"]
    assert len(lines) - 1 == sum(1 for r in rows if r["chrom"] == "2" and r["region"] == "intron")


def test_export_neutralises_formulas_in_every_text_column() -> None:
    """Every text cell that starts with =, +, -, @, tab or CR is exported behind a single
    quote, in every text column; numbers (a negative distance too) and booleans are not."""
    starts = ["=1+1", "+1", "-1", "@A1", "\tx"]
    texts = [name for name in variant_table.EXPORT if variant_table.SCHEMA.field(name).type == pa.string()]
    rows = [{name: start for name in texts} | {"row": n, "chrom_order": 1, "pos": 5, "distance": -40,
                                                "in_dbsnp": False}
            for n, start in enumerate(starts)]
    table = pa.Table.from_pylist(rows, schema=variant_table.SCHEMA)
    text = "".join(variant_table.export_tsv(table, Query()))
    header, *cells = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    assert len(cells) == len(starts)
    for row, start in zip(cells, starts, strict=True):
        record = dict(zip(header, row, strict=True))
        assert all(record[name] == "'" + start for name in texts), record
        assert (record["pos"], record["distance"], record["in_dbsnp"]) == ("5", "-40", "false")
    # A CR cannot come from a VCF (the table's reader ends lines there), and the TSV
    # writer leaves it unquoted, so it is checked in the text: each cell quoted once.
    lone = pa.Table.from_pylist([rows[0] | dict.fromkeys(texts, "\ry")], schema=variant_table.SCHEMA)
    text = "".join(variant_table.export_tsv(lone, Query()))
    assert text.count("'\ry") == len(texts) == text.count("\r")


def test_intergenic_rows_keep_nearest_gene(tmp_path: Path) -> None:
    """Variants outside genes carry their nearest gene and distance."""
    write_vcf(tmp_path / "b.vcf", 50)
    variant_table.build(tmp_path / "b.vcf", tmp_path / "b.arrow")
    rows = variant_table.page(variant_table.open_table(tmp_path / "b.arrow"), Query()).rows
    intergenic = [r for r in rows if not r["genes"]]
    assert intergenic and all(r["nearest"] == "FOO" and r["distance"] == 1234 for r in intergenic)


def test_empty_result_builds_an_empty_table(tmp_path: Path) -> None:
    """A VCF with no records still gives a table the viewer can open."""
    (tmp_path / "e.vcf").write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    assert variant_table.build(tmp_path / "e.vcf", tmp_path / "e.arrow") == 0
    page = variant_table.page(variant_table.open_table(tmp_path / "e.arrow"), Query())
    assert page.total == 0 and page.pages == 1


HEADER = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"


def _rows(tmp_path: Path, body: bytes, header: bytes = HEADER, longest_line: int = 0) -> list[dict]:
    (tmp_path / "t.vcf").write_bytes(header + body)
    variant_table.build(tmp_path / "t.vcf", tmp_path / "t.arrow", longest_line)
    return variant_table.page(variant_table.open_table(tmp_path / "t.arrow"), Query()).rows


def test_non_numeric_distance_is_null(tmp_path: Path) -> None:
    """A GAS_DIST that is not a number (an input's own, say) leaves the distance
    empty instead of failing the whole table (ArrowInvalid, retried as if storage failed)."""
    rows = _rows(tmp_path, b"1\t5\t.\tA\tG\t.\t.\tGAS_NEAREST=FOO;GAS_DIST=abc\tGT\t0/1\n"
                           b"1\t6\t.\tA\tG\t.\t.\tGAS_NEAREST=FOO;GAS_DIST=-12\tGT\t0/1\n")
    assert [r["distance"] for r in rows] == [None, -12]
    assert rows[0]["nearest"] == "FOO"


def test_bytes_that_are_not_utf8_are_replaced_in_the_table_only(tmp_path: Path) -> None:
    """The engine accepts any bytes in a record: the table shows them as U+FFFD in
    every text column (it failed on the first such byte), UTF-8 text as it is."""
    got = _rows(tmp_path, b"chr\xff1\t5\trs\xfe1\tA\tG\t.\t.\tGAS_GENE=B\xe9RCA1;GAS_BAND=1p\tGT\t\xff\n"
                          b"1\t6\t\xc3\xa9\tA\tG\t.\t.\tGAS_REGION=CDS\tGT\t0/1\n")
    rows = sorted(got, key=lambda r: r["pos"])
    assert rows[0]["chrom"] == "chr\ufffd1" and rows[0]["id"] == "rs\ufffd1"
    assert rows[0]["genes"] == "B\ufffdRCA1" and rows[0]["band"] == "1p"
    assert rows[1]["id"] == "\u00e9" and rows[1]["region"] == "CDS"


def test_header_and_lines_longer_than_a_csv_block(tmp_path: Path) -> None:
    """A 20 MB header line (a CSV block is 16 MiB) is skipped, and a 20 MB record is
    read when the engine says how long the longest line is."""
    long_meta = b"##x=" + b"A" * 20_000_000 + b"\n"
    wide = b"1\t5\t.\tA\tG\t.\t.\tGAS_REGION=CDS\tGT\t" + b"0" * 20_000_000 + b"\n"
    rows = _rows(tmp_path, wide + b"1\t6\t.\tA\tG\t.\t.\tGAS_REGION=intron\tGT\t0/1\n",
                 header=long_meta + HEADER, longest_line=len(wide))
    assert [r["region"] for r in rows] == ["CDS", "intron"]


def test_consequence_filters_and_columns_match_a_plain_scan(table: tuple[object, list[dict]]) -> None:
    """Across several record batches, every row's consequence, impact, representative
    transcript and pathogenic flag are what the plain rules give, and the impact,
    consequence and ClinVar filters count what a plain scan counts."""
    arrow, rows = table
    got = arrow.select(["pos", "consequence", "impact", "feature", "pathogenic"]).to_pylist()  # type: ignore[attr-defined]
    assert [(r["consequence"], r["impact"], r["feature"], r["pathogenic"]) for r in got] == [
        (r["consequence"], r["impact"], r["feature"], r["pathogenic"]) for r in rows]
    severe = {"HIGH", "MODERATE"}
    cases = [
        (Query(impact="HIGH"), lambda r: r["impact"] == "HIGH"),
        (Query(impact="MODERATE"), lambda r: r["impact"] in severe),
        (Query(impact="MODIFIER"), lambda r: True),
        (Query(consequence="missense_variant"), lambda r: r["consequence"] == "missense_variant"),
        (Query(clinvar="pathogenic"), lambda r: r["pathogenic"]),
        (Query(clinvar="pathogenic", impact="MODERATE", chrom="X"),
         lambda r: r["pathogenic"] and r["impact"] in severe and r["chrom"] == "X"),
    ]
    for query, match in cases:
        assert variant_table.page(arrow, query).total == sum(1 for r in rows if match(r)), query  # type: ignore[arg-type]
    terms = variant_table.page(arrow, Query()).consequences  # type: ignore[arg-type]
    assert terms == ["stop_gained", "missense_variant", "synonymous_variant", "intron_variant",
                     "regulatory_region_ablation", "made_up_variant"]


ANNOTATED = Path(__file__).parents[1] / "data" / "annotated.vcf"


def test_annotated_vcf_declares_its_keys_as_the_engine_does(tmp_path: Path) -> None:
    """The hand-written annotated VCF declares each INFO key it has (CSQ with its
    Format, GAS_CONSEQUENCE, GAS_IMPACT, GAS_CLN*, ...) as the engine does when it
    annotates the same records."""
    source, out = tmp_path / "in.vcf", tmp_path / "out.vcf"
    source.write_text(plain_input())
    annotate_file(source, out, reference_root=installed_reference())
    written = [line for line in out.read_text().splitlines() if line.startswith("##INFO")]
    engine = {line.split(",", 1)[0]: line for line in written}
    declared = [line for line in ANNOTATED.read_text().splitlines() if line.startswith("##INFO")]
    assert len(declared) > 10
    assert [line for line in declared if engine.get(line.split(",", 1)[0]) != line] == []


def test_annotated_vcf_rows(tmp_path: Path) -> None:
    """The hand-written annotated VCF (GRCh37 records with the keys the engine
    writes): the most severe term and IMPACT over the ALTs; HGVS from the most severe
    entry (ties: MANE Select before canonical), %3D read as "="; ClinVar per allele
    with "." left out, ClinVar's "_" and "|" readable and its ",_" kept inside a
    name, and GAS's "__" for ", "; a record without the keys has empty cells."""
    assert variant_table.build(ANNOTATED, tmp_path / "t.arrow") == 6
    table = variant_table.open_table(tmp_path / "t.arrow")
    rows = {r["pos"]: r for r in table.to_pylist()}
    brca1, tp53, brca2, intergenic, mito, bare = (
        rows[p] for p in (41245466, 7577120, 32914437, 5000000, 750, 41246000))
    assert (brca1["consequence"], brca1["impact"], brca1["feature"]) == (
        "synonymous_variant", "LOW", "ENST00000357654.9")
    assert brca1["hgvsp"] == "ENSP00000350283.3:p.Ser694=" and not brca1["pathogenic"]
    assert (tp53["consequence"], tp53["impact"], tp53["hgvsc"], tp53["hgvsp"]) == (
        "stop_gained", "HIGH", "ENST00000269305.9:c.818G>T", "ENSP00000269305.4:p.Arg273Ter")
    assert tp53["clinvar"] == "Pathogenic/Likely pathogenic" and tp53["pathogenic"]
    assert tp53["clinvar_disease"] == ("Li-Fraumeni syndrome; Hereditary cancer-predisposing syndrome; "
                                       "Breast neoplasm; Glioblastoma; Medulloblastoma")
    assert brca2["clinvar_disease"] == (
        "Breast-ovarian cancer, familial, susceptibility to, 2; Hereditary cancer-predisposing syndrome")
    assert (tp53["clinvar_ids"], brca2["clinvar_ids"], brca1["clinvar_ids"]) == ("12366", "9325", "")
    assert (tp53["clinvar_review"], brca2["clinvar_review"], brca1["clinvar_review"]) == (
        "criteria provided, multiple submitters, no conflicts", "reviewed by expert panel", "")
    assert brca2["hgvsp"] == "ENSP00000369497.3:p.Ser1982ArgfsTer22" and brca2["pathogenic"]
    assert (intergenic["consequence"], intergenic["feature"], intergenic["clinvar"]) == (
        "intergenic_variant", "", "")
    assert (mito["hgvsc"], mito["hgvsp"]) == ("ENST00000389680.2:n.103A>G", "")
    assert [bare[k] for k in ("consequence", "impact", "feature", "hgvsc", "clinvar")] == [""] * 5
    assert bare["pathogenic"] is False


def test_csq_read_by_the_format_its_header_declares(tmp_path: Path) -> None:
    """CSQ's sub-fields are found by the names in the header's Format, in any order;
    on equal severity the canonical transcript wins over the first; a short entry
    reads as empty sub-fields; without a CSQ declaration, CSQ is not guessed at."""
    declared = ('##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations. '
                'Format: Feature|CANONICAL|HGVSp|Consequence|Allele|HGVSc">\n')
    body = ("1\t5\t.\tA\tG\t.\t.\tCSQ=T1|||intron_variant|G|T1:c.1+5A>G,"
            "T2|YES||intron_variant|G|T2:c.9+5A>G,T3||p.X|intron_variant\tGT\t0/1\n"
            "1\t6\t.\tA\tG\t.\t.\tCSQ=T4|YES|p.Gly2%3D|synonymous_variant|G|T4:c.6A>G,"
            "T5|YES|p.Gly2Ter|stop_gained\tGT\t0/1\n")
    rows = _rows(tmp_path, body.encode(), header=HEADER.replace(b"#CHROM", declared.encode() + b"#CHROM"))
    assert [(r["feature"], r["hgvsc"], r["hgvsp"]) for r in rows] == [
        ("T2", "T2:c.9+5A>G", ""), ("T5", "", "p.Gly2Ter")]
    assert [r["consequence"] for r in rows] == ["", ""]  # GAS_CONSEQUENCE is what the column shows
    undeclared = _rows(tmp_path, body.encode())
    assert [(r["feature"], r["hgvsc"]) for r in undeclared] == [("", ""), ("", "")]


def test_pathogenic_means_pathogenic_or_likely_pathogenic(tmp_path: Path) -> None:
    """The ClinVar filter takes P and LP, alone, combined or qualified, on any ALT; not
    a conflicting call, a benign one, or a row with no entry."""
    significance = {
        "Pathogenic": True, "Likely_pathogenic": True, "Pathogenic/Likely_pathogenic": True,
        "Likely_pathogenic,_low_penetrance": True, "Pathogenic|drug_response": True,
        ".,Likely_pathogenic": True, "Benign,.": False,
        "Conflicting_classifications_of_pathogenicity": False, "Uncertain_significance": False,
        ".": False,
    }
    body = "".join(f"1\t{n + 1}\t.\tA\t{'G,T' if ',' in v and ',_' not in v else 'G'}\t.\t.\t"
                   f"GAS_CLNSIG={v}\tGT\t0/1\n" for n, v in enumerate(significance))
    rows = sorted(_rows(tmp_path, body.encode()), key=lambda r: r["pos"])
    assert [r["pathogenic"] for r in rows] == list(significance.values())
    assert [r["clinvar"] for r in rows][3:6] == [
        "Likely pathogenic, low penetrance", "Pathogenic; drug response", "Likely pathogenic"]


def test_a_table_built_before_consequences_still_opens(tmp_path: Path) -> None:
    """A table written with the columns of before (no consequence or ClinVar) opens,
    pages and exports; it says it has no consequences, and their filters match nothing."""
    old = pa.schema([f for f in variant_table.SCHEMA if f.name in {
        "row", "chrom", "chrom_order", "pos", "id", "ref", "alt", "genes", "gene_types", "region",
        "band", "nearest", "distance", "in_dbsnp"}])
    rows = [{"row": 0, "chrom": "1", "chrom_order": 1, "pos": 5, "id": "rs1", "ref": "A", "alt": "G",
             "genes": "TP53", "gene_types": "", "region": "CDS", "band": "", "nearest": "",
             "distance": None, "in_dbsnp": True}]
    with pa.OSFile(str(tmp_path / "old.arrow"), "wb") as sink, ipc.new_file(sink, old) as writer:
        writer.write_table(pa.Table.from_pylist(rows, schema=old))
    table = variant_table.open_table(tmp_path / "old.arrow")
    page = variant_table.page(table, Query())
    assert page.total == 1 and page.rows[0]["genes"] == "TP53" and page.rows[0]["hgvsc"] is None
    assert not page.annotated and page.consequences == []
    assert variant_table.page(table, Query(impact="HIGH", clinvar="pathogenic")).total == 0
    header, row = "".join(variant_table.export_tsv(table, Query())).splitlines()
    assert header.split("\t")[-1] == "clinvar_review" and row.startswith("1\t5\trs1")


# Rows as a tester's 1M-variant result had them, a few of each: no gene, genes in
# mixed case, rsIDs of different lengths, bands on several chromosomes and arms.
SORT_ROWS = [  # (chrom, pos, ID, gene, region, band)
    ("1", 100, "rs559900608", "", "intergenic", "1p36.33"),
    ("1", 200, ".", "snoZ178", "", "1p11.1"),
    ("1", 300, "rs77582345", "BRCA1", "CDS", "1q21.1"),
    ("2", 400, ".", "", "intergenic", ""),
    ("10", 500, "rs9", "brca2", "intron", "10p11.1"),
    ("17", 600, "rs41", "TP53", "UTR3", "17q21.31"),
    ("17", 700, "COSV1", "ABL1", "CDS", "17p13.1"),
    ("X", 800, ".", "", "", "Xq28"),
]


@pytest.fixture
def sort_table(tmp_path: Path) -> object:
    body = "".join(
        f"{c}\t{p}\t{i}\tA\tG\t.\t.\tGAS_REGION={r};GAS_BAND={b}{';GAS_GENE=' + g if g else ''}\tGT\t0/1\n"
        for c, p, i, g, r, b in SORT_ROWS)
    (tmp_path / "s.vcf").write_bytes(HEADER + body.encode())
    variant_table.build(tmp_path / "s.vcf", tmp_path / "s.arrow")
    return variant_table.open_table(tmp_path / "s.arrow")


def _column(table: object, column: str, descending: bool, **filters: object) -> list[object]:
    query = Query(sort=column, descending=descending, **filters)  # type: ignore[arg-type]
    return [r[column] for r in variant_table.page(table, query).rows]  # type: ignore[arg-type]


@pytest.mark.parametrize("column", ["ref", "alt", "id", "genes", "region", "band"])
@pytest.mark.parametrize("descending", [False, True])
def test_empty_cells_sort_last_both_ways(sort_table: object, column: str, descending: bool) -> None:
    """Sorting by gene ascending put ~480k gene-less rows first: in every sortable
    column the rows with nothing in it come last, ascending and descending."""
    shown = _column(sort_table, column, descending)
    filled = [v for v in shown if v]
    assert shown == filled + [""] * (len(shown) - len(filled)), shown
    print(column, "descending" if descending else "ascending", shown)


def test_gene_rsid_and_band_sort_as_a_person_reads_them(sort_table: object) -> None:
    """Genes without regard to case (snoZ178 sorted first descending); rsIDs by
    number, other IDs after them; cytobands in karyotype order (10p11.1 sorted first)."""
    assert _column(sort_table, "genes", False) == ["ABL1", "BRCA1", "brca2", "snoZ178", "TP53", "", "", ""]
    assert _column(sort_table, "genes", True) == ["TP53", "snoZ178", "brca2", "BRCA1", "ABL1", "", "", ""]
    ids = ["rs9", "rs41", "rs77582345", "rs559900608"]
    assert _column(sort_table, "id", False) == [*ids, "COSV1", "", "", ""]
    assert _column(sort_table, "id", True) == [*ids[::-1], "COSV1", "", "", ""]
    bands = ["1p36.33", "1p11.1", "1q21.1", "10p11.1", "17p13.1", "17q21.31", "Xq28"]
    assert _column(sort_table, "band", False) == [*bands, ""]
    assert _column(sort_table, "band", True) == [*bands[::-1], ""]


def test_ties_keep_row_order_both_ways(sort_table: object) -> None:
    """Rows with the same value (and the empty ones) stay in position order either way."""
    for descending in (False, True):
        rows = variant_table.page(sort_table, Query(sort="region", descending=descending)).rows  # type: ignore[arg-type]
        for value in ("CDS", "intergenic", ""):
            positions = [r["pos"] for r in rows if r["region"] == value]
            assert positions == sorted(positions), (value, descending)


def test_kept_orders_page_and_export_as_sorting_does(sort_table: object, tmp_path: Path) -> None:
    """A table's sort orders are sorted once and kept beside it as .npy; later pages
    read them (even if the table's values were another order, as a check that they
    are read) and filter them, with the same rows as a fresh sort."""
    folder = tmp_path / "orders"
    folder.mkdir()
    orders = variant_table.Orders(sort_table, folder, "s")  # type: ignore[arg-type]
    query = Query(sort="genes", descending=True, chrom="1")
    kept = variant_table.page(sort_table, query, orders)  # type: ignore[arg-type]
    fresh = variant_table.page(sort_table, query)  # type: ignore[arg-type]
    assert kept.rows == fresh.rows and kept.total == 3
    assert sorted(p.name for p in folder.iterdir()) == ["s.genes.desc.npy"]
    export = "".join(variant_table.export_tsv(sort_table, query, orders))  # type: ignore[arg-type]
    assert [line.split("\t")[1] for line in export.splitlines()[1:]] == ["200", "300", "100"]
    # What is kept is what is used: a reversed order on disk reverses the page.
    order = np.load(folder / "s.genes.desc.npy")
    np.save(folder / "s.genes.desc.npy", order[::-1])
    again = variant_table.page(sort_table, query, variant_table.Orders(sort_table, folder, "s"))  # type: ignore[arg-type]
    assert again.rows == fresh.rows[::-1]


@pytest.mark.parametrize(("typed", "positions"), [
    ("1:150-300", [200, 300]),
    ("chr1:1-1,000", [100, 200, 300]),
    ("chr17", [600, 700]),
    ("17", [600, 700]),
    ("x", [800]),
    ("brca1", [300]),
    ("BRCA", []),
    ("snoZ178", [200]),
])
def test_locus_filter(sort_table: object, typed: str, positions: list[int]) -> None:
    """A range (inclusive), a chromosome with or without chr, or a gene's rows
    (the whole name, in any case)."""
    query = Query(locus=locus.parse(typed))
    assert [r["pos"] for r in variant_table.page(sort_table, query).rows] == positions  # type: ignore[arg-type]


def test_locus_filter_matches_chr_named_rows_and_one_gene_among_several(tmp_path: Path) -> None:
    rows = _rows(tmp_path, b"chr17\t5\t.\tA\tG\t.\t.\tGAS_GENE=NBPF1,NBPF10\tGT\t0/1\n"
                           b"chr17\t6\t.\tA\tG\t.\t.\tGAS_GENE=NBPF1\tGT\t0/1\n")
    table = variant_table.open_table(tmp_path / "t.arrow")
    assert len(rows) == 2
    for typed, positions in (("17:5-5", [5]), ("chr17", [5, 6]), ("NBPF10", [5]), ("nbpf1", [5, 6])):
        got = variant_table.page(table, Query(locus=locus.parse(typed))).rows
        assert [r["pos"] for r in got] == positions, typed


def test_pages_read_rows_across_record_batches(table: tuple[object, list[dict]]) -> None:
    """A page's rows come from the batches they are in (not a take over the whole
    table, which joined every column's chunks first): any rows of any batches, in
    the order asked for, are the rows a take gives."""
    arrow, _ = table
    assert len(arrow.to_batches()) > 1  # type: ignore[attr-defined]
    rng = np.random.default_rng(3)
    for indices in (rng.integers(0, arrow.num_rows, 50), np.array([arrow.num_rows - 1, 0, 65_536]),  # type: ignore[attr-defined]
                    np.array([], np.int64)):
        got = variant_table._rows_at(arrow, indices.astype(np.int32))  # type: ignore[arg-type]
        assert got == arrow.take(pa.array(indices, pa.int64())).to_pylist()  # type: ignore[attr-defined]

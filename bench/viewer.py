"""Results viewer on a 1,000,000-variant result: build the table, then time the
queries the viewer page makes, and the memory a web process holds for them.

    .venv/bin/python bench/viewer.py [--variants N] [--plain]

Each variant carries what the engine writes for consequences (a VEP-style CSQ of
one to three transcripts, GAS_CONSEQUENCE, GAS_IMPACT, ClinVar on 1%), unless
--plain (the keys of before consequences existed).

It prints, for each query, the median of 5 runs, and the Arrow memory the open
table holds when memory-mapped versus read whole.

Measured on the 2-core development machine (2026-11-22), 1M variants:
build 2.6 s (pyarrow's streaming CSV reader and vectorised INFO extraction; a
per-line Python parser took 6.1 s), 95 MB table; first page 23 ms, gene filter
72 ms, chromosome filter 17 ms, two filters 23 ms, sort by gene 205 ms, last
page 17 ms. The memory-mapped table holds 0 MB of Arrow memory (read whole: 95
MB); queries peak at about 160 MB of transient masks and sort indices.

With consequences (issue 13; 2026-12-01, the same machine shared with other
jobs, so slower throughout): --plain (the keys of before) builds in 4.8 s
(8.1 s before INFO was split once per batch rather than searched by a regex per
key), first page 63 ms. With a CSQ of 1-3 transcripts a variant: 14.3 s (29.4 s
with a regex per key), 180 MB; first page 113 ms, impact >= MODERATE 206 ms,
consequence 139 ms, ClinVar pathogenic and HIGH 112 ms, sort by gene 431 ms.

The results table's sorts and Locus filter (2026-12-01, shared machine, CSQ of
1-3): a page's rows read from the batches they are in (a take joined every
column's chunks first): first page 39 ms (was 110 ms). A fresh sort by gene,
rsID or cytoband (empty cells last, genes in any case, rsIDs by number, bands in
karyotype order) 160-190 ms; the page keeps each order it sorts beside the
table, after which a page sorted so takes 32-40 ms, with chromosome 7 39-42 ms.
Locus 7:1,000,000-5,000,000 61 ms, gene BRCA1 96 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from app.results import locus, variant_table
from app.results.consequences import term_rank
from app.results.variant_table import Query

CSQ_FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|"
              "HGVSp|cDNA_position|CDS_position|Protein_position|Amino_acids|Codons|DISTANCE|STRAND|"
              "CANONICAL|MANE_SELECT")
CONSEQUENCES = [("intron_variant", "MODIFIER")] * 6 + [
    ("missense_variant", "MODERATE"), ("synonymous_variant", "LOW"), ("stop_gained", "HIGH"),
    ("3_prime_UTR_variant", "MODIFIER"), ("splice_region_variant&intron_variant", "LOW"),
    ("upstream_gene_variant", "MODIFIER")]
GENES = ["BRCA1", "TP53", "BRCA2", "EGFR", "KRAS", "TTN", "MUC16", "NBPF1", "", ""]
REGIONS = list(variant_table.REGION_CLASSES)


def consequence_info(rng: random.Random, gene: str, pos: int) -> str:
    """What the engine writes for one ALT: a CSQ entry per transcript, the most severe term."""
    picked = [rng.choice(CONSEQUENCES) for _ in range(rng.randint(1, 3))] if gene else [
        ("intergenic_variant", "MODIFIER")]
    entries = []
    for t, (term, impact) in enumerate(picked):
        feature = f"ENST{pos:011d}.{t}" if gene else ""
        fields = dict.fromkeys(CSQ_FORMAT.split("|"), "") | {
            "Allele": "G", "Consequence": term, "IMPACT": impact, "SYMBOL": gene,
            "Feature_type": "Transcript" if gene else "", "Feature": feature,
            "HGVSc": f"{feature}:c.{pos % 3000}A>G" if gene else "",
            "HGVSp": f"ENSP{pos:011d}.{t}:p.Lys{pos % 900}Glu" if "missense" in term else "",
            "CANONICAL": "YES" if t == 0 and gene else ""}
        entries.append("|".join(fields.values()))
    term, impact = min(picked, key=lambda c: term_rank(c[0].split("&")[0]))
    info = f";GAS_CONSEQUENCE={term.split('&')[0]};GAS_IMPACT={impact};CSQ={','.join(entries)}"
    if rng.random() < 0.01:
        info += ";GAS_CLNSIG=Pathogenic;GAS_CLNDN=Hereditary_cancer-predisposing_syndrome"
    return info


def make_vcf(path: Path, n: int, plain: bool) -> None:
    rng = random.Random(1)
    chroms = [str(c) for c in range(1, 23)] + ["X", "Y"]
    per = n // len(chroms)
    with path.open("w") as out:
        out.write("##fileformat=VCFv4.2\n")
        if not plain:
            out.write(f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Format: {CSQ_FORMAT}">\n')
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom in chroms:
            pos = 10_000
            for _ in range(per):
                pos += rng.randint(1, 2_000)
                gene = rng.choice(GENES)
                info = f"GAS_REGION={rng.choice(REGIONS)};GAS_BAND={chrom}p11.2"
                if gene:
                    info += f";GAS_GENE={gene};GAS_GTYPE=protein_coding"
                else:
                    info += ";GAS_NEAREST=FOO;GAS_DIST=42"
                if rng.random() < 0.2:
                    info += f";GAS_RSID=rs{pos}"
                if not plain:
                    info += consequence_info(rng, gene, pos)
                out.write(f"{chrom}\t{pos}\t.\tA\tG\t50\tPASS\tDP=10;{info}\n")


def timed(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=1_000_000)
    parser.add_argument("--plain", action="store_true", help="no consequence or ClinVar keys")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vcf, table_path = Path(tmp) / "result.vcf", Path(tmp) / "variants.arrow"
        make_vcf(vcf, args.variants, args.plain)
        start = time.perf_counter()
        rows = variant_table.build(vcf, table_path)
        print(f"build: {rows:,} rows in {time.perf_counter() - start:.2f} s, "
              f"{table_path.stat().st_size / 2**20:.0f} MB on disk")

        table = variant_table.open_table(table_path)
        held_mapped = pa.total_allocated_bytes()
        queries = {
            "first page": Query(),
            "gene filter 'brca'": Query(gene="brca"),
            "chromosome 7": Query(chrom="7"),
            "CDS and in dbSNP": Query(region="CDS", dbsnp="yes"),
            "sort by gene, descending": Query(sort="genes", descending=True),
            "last page by position": Query(page=10**9),
            "impact MODERATE or more": Query(impact="MODERATE"),
            "consequence stop_gained": Query(consequence="stop_gained"),
            "ClinVar pathogenic, HIGH": Query(clinvar="pathogenic", impact="HIGH"),
            "sort by rsID": Query(sort="id"),
            "sort by cytoband, descending": Query(sort="band", descending=True),
            "locus 7:1,000,000-5,000,000": Query(locus=locus.parse("7:1,000,000-5,000,000")),
            "locus gene BRCA1": Query(locus=locus.parse("BRCA1")),
        }
        for name, query in queries.items():
            ms = timed(lambda q=query, t=table: variant_table.page(t, q))
            print(f"{name:28s} {ms:8.1f} ms  ({variant_table.page(table, query).total:,} rows match)")
        # The page keeps each order it sorts beside the table: the first page sorted
        # so pays the sort and a write, every later one reads the order.
        for column in ("pos", "genes", "id", "band"):
            orders = variant_table.Orders(table, Path(tmp), "variants")
            query = Query(sort=column, descending=True, page=7)
            first = timed(lambda q=query, o=orders, t=table: variant_table.page(t, q, o), repeat=1)
            kept = timed(lambda q=query, o=orders, t=table: variant_table.page(t, q, o))
            chromosome = Query(sort=column, chrom="7")
            filtered = timed(lambda q=chromosome, o=orders, t=table: variant_table.page(t, q, o))
            print(f"sort by {column:5s} kept: first {first:6.1f} ms, then {kept:6.1f} ms a page, "
                  f"{filtered:6.1f} ms with chromosome 7")
        peak = pa.default_memory_pool().max_memory() or 0
        del table
        whole = ipc.open_file(pa.OSFile(str(table_path))).read_all()
        held_whole = pa.total_allocated_bytes()
        del whole
        mb = 2**20
        print(f"Arrow memory held by the open table: memory-mapped {held_mapped / mb:.1f} MB, "
              f"read whole {held_whole / mb:.0f} MB; peak while querying {peak / mb:.0f} MB "
              "(transient: filter masks and sort indices)")


if __name__ == "__main__":
    main()

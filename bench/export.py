"""The results exports and plots on a 1,000,000-variant result: where the records
are (found once), the bgzipped VCF export of every row and of one chromosome, and
the plots' counts of the filtered rows, which the page now makes on every filter
change.

    .venv/bin/python bench/export.py [--variants N]

Each export is written to a file through the same iterator the download streams;
bcftools (Debian's) then counts its records.

Measured on the 2-core development machine (2026-12-01, shared with other jobs),
1M variants with a CSQ of 1-3 transcripts, a 331 MB result: record offsets found
once 1.77 s (15 MB kept); VCF export of every row 13.7 s, 32 MB, bcftools reads
all 999,984 records; chromosome 7 (41,666 rows) 0.91 s; impact HIGH sorted by
gene (125,784 rows, written in position order) 2.9 s. Plots: 85 ms unfiltered
(262 ms when every row's gene list was split), 9 ms with chromosome 7, 120 ms
with a gene filter (the filter's mask, mostly).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from app.results import plot_counts, variant_table, vcf_export
from app.results.variant_table import Query
from bench.viewer import make_vcf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vcf, table_path = Path(tmp) / "result.vcf", Path(tmp) / "variants.arrow"
        make_vcf(vcf, args.variants, plain=False)
        variant_table.build(vcf, table_path)
        table = variant_table.open_table(table_path)
        print(f"result: {vcf.stat().st_size / 2**20:.0f} MB, {table.num_rows:,} rows")
        start = time.perf_counter()
        spans = vcf_export.kept_offsets(vcf, Path(tmp) / "records.npy")
        took = time.perf_counter() - start
        print(f"record offsets, found once: {took:.2f} s, {spans.nbytes / 2**20:.0f} MB")
        orders = variant_table.Orders(table, Path(tmp), "variants")
        for name, query in {"every row": Query(), "chromosome 7": Query(chrom="7"),
                            "impact HIGH, sorted by gene": Query(impact="HIGH", sort="genes")}.items():
            start = time.perf_counter()
            rows = variant_table.position_rows(table, query, orders)
            out = Path(tmp) / "export.vcf.gz"
            with out.open("wb") as sink:
                for piece in vcf_export.export(vcf, spans, rows):
                    sink.write(piece)
            took = time.perf_counter() - start
            read = subprocess.run(["bcftools", "view", "-H", str(out)], capture_output=True, check=True)
            records = read.stdout.count(b"\n")
            print(f"VCF export, {name}: {len(rows):,} rows in {took:.2f} s, "
                  f"{out.stat().st_size / 2**20:.1f} MB; bcftools reads {records:,} records")
        for name, query in {"plots, no filter": Query(), "plots, chromosome 7": Query(chrom="7"),
                            "plots, gene 'brca'": Query(gene="brca")}.items():
            runs = []
            for _ in range(3):
                start = time.perf_counter()
                plot_counts.plots(table, query)
                runs.append(time.perf_counter() - start)
            print(f"{name}: {sorted(runs)[1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()

"""What checking REF against the genome costs: the engine on a generated GRCh37 chr20 VCF
with and without chr20's sequence in the index, and the vectorised check alone.

    .venv/bin/python bench/refcheck.py [--variants N] [--repeat K]

It needs the GRCh37 reference (`make reference`: its downloads are reused) and Debian's
vt-examples (GRCh37 chr20, `make system-deps`); it builds a chr20 index in a temporary
reference dir (about 12 s). The VCF: positions drawn over chr20, REF the genome's except
~0.75% (random bases), ~85% SNVs, ~8% 2-base deletions, ~7% insertions, one sample.

Printed: the engine in-process (best of K, warm cache) on the index without and with the
sequence, their ratio, and the check alone (parse excluded) in records a second.

Measured on this project's machine (2 cores shared with ~8 other jobs, load 3-4, so
+-30%), 1,000,000 records (`--repeat 5`):

    engine, no sequence:   1.39 s
    engine, chr20 checked: 1.34 s  (0.96x: within the noise; 7,163 REF mismatches flagged)
    REF check alone:       9 M records/s (about 0.11 s of the 1M)

`bcftools norm --check-ref w` also counts a REF against an N of the genome, which GAS
never counts as a mismatch; on the definite bases the two agree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator import installer, reference  # noqa: E402
from annotator.engine import annotate_file  # noqa: E402
from annotator.records import Skipped, parse  # noqa: E402
from annotator.refcheck import RefCheck  # noqa: E402
from annotator.sequence import Sequence  # noqa: E402

CHR20 = Path("/usr/share/doc/vt/examples/ref/20.fa.gz")


def chr20_reference(base: Path, into: Path) -> Path:
    (into / "downloads").mkdir(parents=True)
    for f in (base / "downloads").iterdir():
        os.link(f, into / "downloads" / f.name)
    (into / "tracks.toml").write_text(f'[[sequence]]\nbuild = "GRCh37"\npath = "{CHR20}"\n')
    installer.install(into, ["GRCh37"], progress=False)
    return into


def make_vcf(path: Path, n: int, genome: bytes, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    pos = np.sort(rng.choice(np.arange(70_000, len(genome) - 10), n, replace=False))
    kind = rng.random(n)
    bases = np.frombuffer(b"ACGT", np.uint8)
    g = np.frombuffer(genome, np.uint8)
    ref = np.where(kind < 0.01, bases[rng.integers(0, 4, n)], g[pos - 1])
    alt = bases[(np.searchsorted(bases, ref) + rng.integers(1, 4, n)) % 4]
    lines = ["##fileformat=VCFv4.2\n##reference=GRCh37\n##contig=<ID=20,length=63025520>\n"
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"]
    for p, k, r, a in zip(pos.tolist(), kind.tolist(), ref.tolist(), alt.tolist(), strict=True):
        if k < 0.85:
            alleles = f"{chr(r)}\t{chr(a)}"
        elif k < 0.93:
            span = genome[p - 1 : p + 2].decode()
            alleles = f"{span}\t{span[0]}"
        else:
            alleles = f"{chr(r)}\t{chr(r)}TG"
        lines.append(f"20\t{p}\t.\t{alleles}\t50\tPASS\tDP=10\tGT\t0/1\n")
    path.write_text("".join(lines))


def best(k: int, vcf: Path, root: Path) -> tuple[float, dict[str, object]]:
    times, summary = [], {}
    for _ in range(k):
        t = time.perf_counter()
        summary = annotate_file(vcf, Path(os.devnull), reference_root=root)
        times.append(time.perf_counter() - t)
    return min(times), summary


def check_alone(vcf: Path, root: Path, k: int) -> float:
    ref = reference.load(root, "GRCh37")
    data = vcf.read_bytes()
    body = data[data.index(b"\n#CHROM") + 1 :]
    body = body[body.index(b"\n") + 1 :]
    rec = parse(1, body, 9, Skipped())
    assert rec is not None
    contig = np.full(len(rec), ref.contig_index("20"), np.int64)
    rows = np.ones(len(rec), bool)
    times = []
    for _ in range(k):
        check = RefCheck(Sequence.of(ref))
        t = time.perf_counter()
        check.check(rec, contig, rows)
        times.append(time.perf_counter() - t)
    return len(rec) / min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not CHR20.is_file():
        sys.exit(f"{CHR20} is absent: install Debian's vt-examples (make system-deps)")
    base = Path(os.environ.get("GAS_REFERENCE_DIR", REPO / "var" / "reference"))
    installer.install(base, ["GRCh37"], progress=False)
    tmp = Path(tempfile.mkdtemp(prefix="gas-refcheck-"))
    try:
        root = chr20_reference(base, tmp / "reference")
        ref = reference.load(root, "GRCh37")
        genome = Sequence.of(ref).fetch(ref.contig_index("20"), 1, 63025520)
        vcf = tmp / "chr20.vcf"
        make_vcf(vcf, args.variants, genome)
        without, _ = best(args.repeat, vcf, base)
        with_seq, summary = best(args.repeat, vcf, root)
        print(f"engine, no sequence:   {without:.2f} s")
        print(f"engine, chr20 checked: {with_seq:.2f} s  ({with_seq / without:.2f}x; "
              f"{summary['ref_mismatch']:,} REF mismatches flagged)")
        print(f"REF check alone:       {check_alone(vcf, root, args.repeat) / 1e6:.0f} M records/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

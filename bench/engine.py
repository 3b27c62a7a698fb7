"""Annotation engine benchmark, two comparisons in one run, each on a generated
1,000,000-variant VCF:

1. consequences: `gas annotate` (every default track, consequences with codons
   and HGVSp) on GRCh37 chr20 with its real sequence, against `bcftools csq` on
   the same transcript models (GAS's own chr20 models, written as GFF3 by
   `annotator.transcript_gff3`) and the same sequence (Debian's vt-examples
   20.fa.gz); goal: GAS within 2x of bcftools csq;
2. whole genome: `gas annotate` (every default track; consequences have no
   sequence there but the rCRS) against `bcftools annotate` adding one
   gene-name BED track; goal within 2x; and memory flat from N to 5N variants.
   Beside it, for scale, `bcftools annotate` writing the same CSQ GAS writes
   (GAS's, handed to it as a tabix track: it copies, GAS computes).

    .venv/bin/python bench/engine.py [--variants N] [--repeat K] [--no-flatness]
                                     [--no-consequences] [--no-genome]

It needs the GRCh37 reference (`make reference`), Debian's bcftools
(`apt-get install bcftools`; without it only GAS is timed) and, for the first
comparison, vt-examples. The chr20 reference is built once (about 30 s) into
var/bench-chr20 (or $GAS_DATA_DIR/bench-chr20) from the GRCh37 downloads, with an
operator tracks.toml whose `[[sequence]]` is the vt-examples FASTA; its inputs
are made in a child process by `bench/chr20.py`.

The chr20 VCF: positions uniform over chr20's definite bases, REF from the
sequence, ~86% SNVs, 5% deletions and 5% insertions of 1-5 bases, 4% with a
second ALT. The genome-wide VCF is realistic enough to exercise every code
path: variants spread over 1-22, X, Y and MT in proportion to their length,
sorted, one sample column, ~85% SNVs, ~10% indels, ~4% multi-allelic, ~5% at
common SNP positions with their alleles (so rsIDs are found and IDs filled).
The BED track bcftools gets is built from the same GENCODE genes the GAS index
holds.

Printed: wall time of each tool as a child process (best of K runs, warm page
cache), their ratio, the engine's own time from its summary, the engine's time
in a warm process as an annotator runs it (imports, kernels and reference
loaded by an earlier job: `gas annotate` pays them on every run, a job in the
service does not), the peak RSS of the `gas annotate` child at N and 5N
variants (flatness goal: 5N within 15% of N), and the time a fresh process
takes to load the reference index.

Measured on this project's machine (2 cores, shared with other jobs: figures
vary by +-30% with the machine's load):

    now, the genome VCF's SNVs always change their base (until then a quarter had ALT equal to REF:
    records no consequence is written for: GAS wrote 540 MB of the 1M file, 626 MB now) and one
    block queued for the output's writer instead of two (private memory at 5M records ~40 MB lower,
    no slower), 2026-12-01 19:24, `.venv/bin/python bench/engine.py --variants 1000000 --repeat 3`
    (load ~1: bcftools annotate 0.84 s, 0.73 s on a quiet machine)
        consequences, chr20 with its sequence, 4,040 transcript models:
        gas annotate with consequences:   3.05 s  (cpu 4.66 s; engine alone 2.46 s; peak RSS 574 MB)
        bcftools csq (same models, same sequence):  1.69 s  (cpu 1.69 s; 34 MB)
        ratio gas / bcftools csq: 1.80x  (1.75x in the run before; goal <= 2x: met)
        the engine in a warm annotator process: 2.02 s, 1.19x bcftools csq
        whole genome, no sequence but the rCRS:
        gas annotate (all default tracks):   2.78 s  (cpu 4.40 s; engine alone 2.20 s)
        bcftools annotate (gene BED only):   0.84 s  (cpu 0.83 s; 135 MB)
        ratio gas / bcftools: 3.32x  (3.48x in the run before; goal <= 2x: not met)
        bcftools annotate writing GAS's CSQ, given as a track: 2.89 s (cpu 2.88 s; 470 MB written)
        ratio gas / bcftools writing the same CSQ: 0.96x  (1.03x in the run before)
        the engine in a warm annotator process: 1.78 s, 2.13x bcftools (2.01x in the run before)
        reference load in a fresh process: 0.419 s  (goal < 0.5 s)
        gas peak RSS at 1,000,000: 626 MB; at 5,000,000: 677 MB (+8.2%, +11.8% in the run before;
        goal within 15%)
    The writer's queue, in-process on the same 1M and 5M files, 3 runs each: depth 2 1.72-1.92 s and
    8.40-9.17 s, peak private memory 347 and 455 MB; depth 1 1.72-1.94 s and 8.64-8.91 s, 346 and
    416 MB. Smaller blocks (512 KB) would cut memory more (1M 308 -> 267 MB, 5M 400 -> 332 MB
    private) but cost ~4% of the time (1.77-1.90 s vs 1.85-1.95 s): not taken.

    before, indels inside one exon (UTRs, non-coding exons, and CDSs on contigs without a sequence)
    written by the batch path (csq_kernel's EXON class) rather than the per-pair calculator: on the
    genome file the calculator's pairs fell from 10,000 to 1,320 (the consequences op's time on the
    main thread, under cProfile, from 1.50 to 0.83 s); output byte-identical (md5 of both files without
    ##GAS_date, both benchmarks), 2026-12-01 18:30, `.venv/bin/python bench/engine.py --variants
    1000000 --repeat 3` (the machine ~15% slower than at 17:16: bcftools annotate 0.85 vs 0.73 s)
        consequences, chr20 with its sequence, 4,040 transcript models:
        gas annotate with consequences:   2.78 s  (cpu 4.29 s; engine alone 2.23 s; peak RSS 626 MB)
        bcftools csq (same models, same sequence):  1.65 s  (cpu 1.65 s; 34 MB)
        ratio gas / bcftools csq: 1.68x  (1.92x in the run before; goal <= 2x: met)
        the engine in a warm annotator process: 1.95 s, 1.18x bcftools csq
        whole genome, no sequence but the rCRS:
        gas annotate (all default tracks):   2.80 s  (cpu 4.34 s; engine alone 2.20 s)
        bcftools annotate (gene BED only):   0.85 s  (cpu 0.85 s; 135 MB)
        ratio gas / bcftools: 3.30x  (3.30x in the run before; goal <= 2x: not met)
        bcftools annotate writing GAS's CSQ, given as a track: 2.62 s (cpu 2.62 s; 390 MB written)
        ratio gas / bcftools writing the same CSQ: 1.07x  (1.08x in the run before)
        the engine in a warm annotator process: 1.74 s, 2.04x bcftools (2.22x in the run before)
        reference load in a fresh process: 0.409 s  (goal < 0.5 s)
        gas peak RSS at 1,000,000: 646 MB; at 5,000,000: 708 MB (+9.7%, +13.2% in the run before;
        goal within 15%)
    `gas annotate` of the genome file to /tmp, 3 runs each: before 3.17-3.51 s (18:13), after
    2.51-2.59 s (18:22). The 1M figure of peak RSS fell (the calculator's transcript models and maps are no
    longer made for ~9k pairs: private memory 348 -> 317 MB at 1M) while 5M stayed where it was
    (~390 MB private both before and after): the peak is the densest block's, and a 5M-record
    file's 1 MB blocks each span a fifth of the genome a 1M-record file's do.

    before, 1 MB blocks (were 4 MB) and the CSQ texts laid out by the consequences op and written with
    the block's text on the writer's thread while the main thread annotates the next block (before,
    the main thread wrote both: 3.38 s of its CPU, 0.9 s of it the CSQ texts and 0.4 s the block;
    now 2.0 s, the writer 1.65 s, the reader 0.37 s: both cores busy), 2026-12-01 17:16, quiet
    machine, `.venv/bin/python bench/engine.py --variants 1000000 --repeat 3`
        consequences, chr20 with its sequence, 4,040 transcript models:
        gas annotate with consequences:   2.67 s  (cpu 4.11 s; engine alone 2.14 s; peak RSS 615 MB)
        bcftools csq (same models, same sequence):  1.41 s  (cpu 1.41 s; 34 MB)
        ratio gas / bcftools csq: 1.90x  (1.89x in the next run; goal <= 2x: met)
        the engine in a warm annotator process: 1.66 s, 1.18x bcftools csq
        whole genome, no sequence but the rCRS:
        gas annotate (all default tracks):   2.65 s  (cpu 3.95 s; engine alone 2.09 s)
        bcftools annotate (gene BED only):   0.73 s  (cpu 0.73 s; 135 MB)
        ratio gas / bcftools: 3.64x  (3.64x in the next run; goal <= 2x: not met)
        the engine in a warm annotator process: 1.57 s, 2.15x bcftools (2.09x in the next run)
        reference load in a fresh process: 0.353 s  (goal < 0.5 s)
        gas peak RSS at 1,000,000: 685 MB; at 5,000,000: 701 MB (+2.3%; goal within 15%)
    Step by step, the same day: writing on the writer's thread (4 MB blocks) gave chr20 1.97-2.02x
    and genome 3.65-3.83x over five runs; interleaved A/B of `gas annotate` before vs after it (3
    runs each, /tmp/i13/ab.sh): chr20 3.69-3.71 s vs 2.82-2.87 s, genome 3.46-3.49 s vs 2.77-2.78 s,
    peak RSS 810 -> 975 MB (a block annotated while the one before is written); then 1 MB blocks
    (engine in-process on chr20, 3 runs each: 4 MB 2.36-2.47 s / 945 MB, 1 MB 2.18-2.26 s / 615 MB)
    and the frameshift HGVSp's reference peptide kept per transcript (the per-pair calculator 0.42 ->
    0.36 s). Output byte-identical throughout (md5 of both files without ##GAS_date). A floor for
    `gas annotate` on this machine: a 200-line file takes 0.88 s (interpreter and imports 0.5 s,
    numba's first kernel loads and the consequences op's start 0.35 s), more than bcftools
    annotate's whole 1M-record run.

    before, the joining kernel reading its sources by address (a tuple of arrays indexed by a kind
    known only at run time cost ~45 ns a token, a pointer ~7 ns), each row's own texts written in
    place in the output block (not copied there), each run's previous output removed first,
    2026-12-01 10:10, another machine of this kind (pure Python ~2x slower than the one below,
    bcftools ~1.2x; between 4.4 and 8.8 s for the same GAS run within the hour),
    `.venv/bin/python bench/engine.py --variants 1000000 --repeat 3`
        consequences, chr20 with its sequence, 4,040 transcript models:
        gas annotate with consequences:   5.20 s  (cpu 5.80 s; engine alone 4.48 s; peak RSS 889 MB)
        bcftools csq (same models, same sequence):  1.87 s  (cpu 1.87 s; 39 MB)
        ratio gas / bcftools csq: 2.77x  (2.82x in the run before; goal <= 2x: not met)
        whole genome, no sequence but the rCRS:
        gas annotate (all default tracks):   4.78 s  (cpu 5.39 s; engine alone 4.00 s)
        bcftools annotate (gene BED only):   0.92 s  (cpu 0.92 s; 141 MB)
        ratio gas / bcftools: 5.22x  (goal <= 2x: not met)
        reference load in a fresh process: 0.459 s  (goal < 0.5 s; numba's import ~0.22 s and
        its first compiled call ~0.2 s, whichever kernel that is, of it)
        gas peak RSS at 1,000,000: 893 MB; at 5,000,000: 898 MB (+0.5%; goal within 15%)
    Interleaved A/B on this machine, before vs after these changes (`gas annotate` of the chr20
    file, 4 runs each, best): 4.69 s vs 4.44 s wall.

    before, the texts joined by compiled kernels (textjoin, csq_kernel: numba), in-CDS
    substitutions over whole batches (csq_codons), 2026-12-01 08:14,
    `.venv/bin/python bench/engine.py --variants 1000000 --repeat 3` (load ~1)
        consequences, chr20 with its sequence, 4,040 transcript models:
        gas annotate with consequences:   4.24 s  (cpu 4.70 s; engine alone 3.50 s,
                                          3.5 us a record; peak RSS 845 MB)
        bcftools csq (same models, same sequence):  1.64 s  (cpu 1.64 s; 34 MB)
        ratio gas / bcftools csq: 2.59x  (2.49-2.61x in the runs before; goal <= 2x: not met)
        whole genome, no sequence but the rCRS:
        gas annotate (all default tracks):   4.03 s  (cpu 4.51 s; engine alone 3.18 s)
        bcftools annotate (gene BED only):   0.89 s  (cpu 0.89 s; 135 MB)
        ratio gas / bcftools: 4.55x  (goal <= 2x: not met)
        reference load in a fresh process: 0.387 s  (goal < 0.5 s; ~0.2 s of it is
        numba's import and loading the cached kernels)
        gas peak RSS at 1,000,000: 858 MB; at 5,000,000: 875 MB (+1.9%; goal within 15%)
    GAS writes ~9x the bytes bcftools does (605 MB of VEP-style CSQ for the chr20
    file, an entry per transcript within 5 kb, against bcftools csq's 70 MB of
    coding-only BCSQ): writing 600 MB alone takes 1.2 s here (`dd bs=4M`, 530 MB/s,
    all of it system time), on one of the two cores. Of the rest: ~0.5 s the ~11.5k
    (allele, transcript) pairs still left to the per-pair calculator (indels at exons
    and in CDSs), ~0.65 s starting Python, imports and loading the index and kernels.

    before that, the consequences op's common pairs in numpy (csq_batch), 2026-12-01,
    `.venv/bin/python bench/engine.py --variants 1000000 --repeat 1 --no-flatness`
    (machine otherwise idle); flatness from the helper's `--repeat 3` run
        consequences, chr20 with its sequence, 4,040 transcript models:
        gas annotate with consequences:  12.85 s  (cpu 13.40 s; engine alone 12.33 s,
                                         12.3 us a record; peak RSS 758 MB)
        bcftools csq (same models, same sequence):  1.70 s  (cpu 1.70 s; 33 MB)
        ratio gas / bcftools csq: 7.55x  (goal <= 2x: not met)
        whole genome, no sequence but the rCRS:
        gas annotate (all default tracks):  12.69 s  (cpu 13.24 s; engine alone 11.91 s)
        bcftools annotate (gene BED only):   0.91 s  (cpu 0.91 s; 135 MB)
        ratio gas / bcftools: 13.9x  (goal <= 2x: not met)
        reference load in a fresh process: 0.168 s  (goal < 0.5 s)
        gas peak RSS at 1,000,000: 797 MB; at 5,000,000: 901 MB vs 781 MB at 1M
        in the helper's run (+15.7%; goal within 15%: just missed)
    98% of (allele, transcript) pairs now take the numpy path; the rest of the
    time is per-pair string assembly in Python and the CDS pairs (calculator).

    first, every pair through the calculator (same day, load 3.0-3.3):
        consequences 67.70 s vs bcftools csq 2.59 s (26.2x); whole genome
        56.43 s vs bcftools annotate 0.90 s (62.6x); RSS 850 -> 917 MB (+7.8%)
    Then nearly all of GAS's time was the op (95% under cProfile), where the
    engine alone took ~1 s for 1M records before the op existed (below), at
    344 MB peak RSS; the op keeps the models and texts a run meets (bounded by
    the genome's).

The history, before the consequences op:

    before (the engine as first written, same file and machine, quiet)
        gas annotate (all default tracks):   4.21 s
        bcftools annotate (gene BED only):   0.82 s
        ratio gas / bcftools: 5.1x

    after (`.venv/bin/python bench/engine.py --repeat 5`, machine quiet)
        gas annotate (all default tracks):   1.38 s  (cpu 1.82 s; engine alone 1.05 s)
        bcftools annotate (gene BED only):   0.81 s  (cpu 0.81 s)
        ratio gas / bcftools: 1.70x  (goal <= 2x)
        reference load in a fresh process: 0.046 s  (goal < 0.5 s)
        gas peak RSS at 1,000,000: 344 MB  (bcftools: 87 MB)
        gas peak RSS at 5,000,000: 346 MB (+0.5%; goal within 15%), 5.75 s

    the same while other jobs ran (load ~2 on 2 cores): gas 1.87 s, bcftools
    0.96 s, ratio 1.95x; RSS 340 MB -> 359 MB (+5.3%).
    Gzipped input (gzip -1, 16 MB): gas 1.40 s, bcftools 0.91 s: inflating
    runs in the reader thread, beside the annotation.

Peak RSS counts the memory-mapped reference pages a run touches (shared
with every other engine process through the page cache); what a run
allocates itself is a few 1 MB blocks in flight (4 MB until 2026-12-01), whatever the input size.

About 0.35-0.45 s of GAS's time is Python starting and importing (numpy,
the `gas` command's settings) before the first line is read.

What made the difference (engine in-process on the 1M file, warm cache):

    5.4 s   as first written: str lines, split("\t") per line, INFO text
            built per row, a Python loop per dbSNP hit
    2.9 s   data kept as bytes; fields found by numpy over whole 4 MB blocks
            (offsets of every TAB/LF, POS parsed from its digits); output
            spliced in (the byte ending INFO becomes a NUL: one split, one
            join per block); rows reduced to their distinct combinations of
            track codes (~20% distinct on this random file, fewer on real
            exomes) so each INFO text is joined once; memmap views used as
            plain arrays (memmap.__getitem__ cost microseconds per call)
    1.4 s   gene-segment texts, point region classes and per-segment gene
            counts built at install instead of per job; binary searches
            narrowed to the block's slice of each array (3-5x faster on the
            4M-entry RepeatMasker array); empty IDs filled by the same splice;
            dbSNP SNV matches compared as byte arrays; reading+parsing and
            writing in threads (numpy, zlib and write() let go of the GIL)

Roads measured and not taken: Arrow compute to build the text (take on
binary arrays ~120 ns per piece, binary_join_element_wise ~35 ns per piece:
no better than bytes.join at 70-90 ns per item, and every row needs several);
numpy byte-level gathers to assemble output (~5 ns per output byte, i.e.
~0.7 us per row); a cache of INFO texts across blocks (memory grows with the
input, breaking flatness). An interval library (ncls, cgranges) would only
replace the searchsorted calls, ~0.25 s per 1M rows here, and cyvcf2 writes
INFO one record at a time from Python, which is the cost removed above; so no
compiled dependency was added.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import chr20

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CONTIGS = [str(c) for c in range(1, 23)] + ["X", "Y", "MT"]
BASES = np.array(list("ACGT"))


@dataclass
class Run:
    seconds: float  # wall clock
    cpu: float  # user + system, all threads
    peak_rss_mb: float


def reference_root() -> Path:
    return Path(os.environ.get("GAS_REFERENCE_DIR", REPO / "var" / "reference"))


def _index(root: Path) -> tuple[dict[str, object], Path]:
    build = root / "GRCh37"
    index = build / "index.json"
    if not index.exists():
        sys.exit(f"No GRCh37 reference under {root}: run `make reference` first.")
    return json.loads(index.read_text()), build


def make_vcf(path: Path, n: int, root: Path, seed: int = 1) -> None:
    """A sorted n-variant GRCh37 VCF with one sample, written in blocks."""
    meta, build = _index(root)
    contigs = meta["contigs"]  # type: ignore[index]
    names, lengths = contigs["names"], contigs["lengths"]  # type: ignore[index]
    by_name = {name.removeprefix("chr"): (i, int(lengths[i])) for i, name in enumerate(names)}
    rng = np.random.default_rng(seed)
    sizes = np.array([by_name[c][1] for c in CONTIGS], dtype=np.float64)
    counts = rng.multinomial(n, sizes / sizes.sum())
    # Common SNPs (every one a SNV: its allele code is REF's byte << 8 | ALT's).
    known_key = np.load(build / "known_common_snps_key.npy")
    code = np.load(build / "known_common_snps_allele.npy")
    known_ref = (code >> 8).astype(np.uint8).view("S1")
    known_alt = (code & 0xFF).astype(np.uint8).view("S1")
    with path.open("w") as out:
        out.write("##fileformat=VCFv4.2\n##reference=GRCh37\n##source=gas-bench\n")
        for c in CONTIGS:
            out.write(f"##contig=<ID={c},length={by_name[c][1]},assembly=GRCh37>\n")
        out.write(
            '##FILTER=<ID=LowQual,Description="Low quality">\n'
            '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">\n'
            '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n'
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
            '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1\n"
        )
        for c, count in zip(CONTIGS, counts.tolist(), strict=True):
            if count:
                _write_contig(out, rng, c, int(count), by_name[c], known_key, known_ref, known_alt)


def _write_contig(
    out: object,
    rng: np.random.Generator,
    chrom: str,
    count: int,
    contig: tuple[int, int],
    known_key: np.ndarray,
    known_ref: np.ndarray,
    known_alt: np.ndarray,
) -> None:
    idx, length = contig
    lo, hi = np.searchsorted(known_key, [idx << 32, (idx + 1) << 32])
    n_known = min(int(count * 0.05), int(hi - lo))
    picked = np.sort(rng.choice(np.arange(lo, hi), n_known, replace=False)) if n_known else np.empty(0, int)
    pos = np.concatenate([rng.integers(1, length - 10, count - n_known), known_key[picked] & 0xFFFFFFFF])
    ref_code = rng.integers(0, 4, count)
    ref = BASES[ref_code].astype(object)
    # Another base than REF's (until 2026-12-01 a base drawn apart, REF itself a quarter of the time:
    # a record with no change, which gets no CSQ).
    alt = BASES[(ref_code + rng.integers(1, 4, count)) % 4].astype(object)
    kind = rng.random(count)
    ref_b, alt_b = ref.tolist(), alt.tolist()
    for i in np.flatnonzero(kind < 0.05).tolist():  # deletions of 1-5 bases
        ref_b[i] = ref_b[i] + "".join(BASES[rng.integers(0, 4, int(rng.integers(1, 6)))])
        alt_b[i] = ref_b[i][0]
    for i in np.flatnonzero((kind >= 0.05) & (kind < 0.10)).tolist():  # insertions
        alt_b[i] = ref_b[i] + "".join(BASES[rng.integers(0, 4, int(rng.integers(1, 6)))])
    for i in np.flatnonzero((kind >= 0.10) & (kind < 0.14)).tolist():  # second ALT allele
        other = next(b for b in "ACGT" if b not in (ref_b[i][0], alt_b[i]))
        alt_b[i] = f"{alt_b[i]},{other}"
    base = count - n_known
    for j, k in enumerate(picked.tolist()):
        ref_b[base + j] = known_ref[k].decode()
        alt_b[base + j] = known_alt[k].decode()
    order = np.argsort(pos, kind="stable")
    dp = rng.integers(5, 200, count).tolist()
    qual = rng.integers(10, 999, count).tolist()
    gt = np.where(rng.random(count) < 0.6, "0/1", "1/1").tolist()
    filt = np.where(rng.random(count) < 0.9, "PASS", "LowQual").tolist()
    pos_l = pos.tolist()
    lines = [
        f"{chrom}\t{pos_l[i]}\t.\t{ref_b[i]}\t{alt_b[i]}\t{qual[i]}\t{filt[i]}\tDP={dp[i]};AF=0.5"
        f"\tGT:DP\t{gt[i]}:{dp[i]}\n"
        for i in order.tolist()
    ]
    out.write("".join(lines))  # type: ignore[attr-defined]


def make_gene_bed(path: Path, root: Path) -> Path:
    """GENCODE genes of the GAS index as a BED file (0-based starts), sorted."""
    meta, build = _index(root)
    starts = np.load(build / "gene_start.npy")
    ends = np.load(build / "gene_end.npy")
    names = meta["contigs"]["names"]  # type: ignore[index]
    genes = meta["gene_names"]  # type: ignore[index]
    contig = (starts >> 32).tolist()
    s = (starts & 0xFFFFFFFF).tolist()
    e = (ends & 0xFFFFFFFF).tolist()
    with path.open("w") as out:
        for c, a, b, g in zip(contig, s, e, genes, strict=True):
            out.write(f"{names[c].removeprefix('chr')}\t{a - 1}\t{b}\t{g}\n")
    return path


def _run(cmd: list[str], out: Path, env: dict[str, str] | None = None) -> Run:
    """Wall time and peak RSS of one child process (wait4 gives that child's own rusage), writing
    `out`, removed first: freeing the previous run's file (600 MB of GAS output) took the next run
    ~0.5 s here, which no real job pays."""
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def time_gas(vcf: Path, out: Path, root: Path, summary: Path | None = None) -> Run:
    env = {**os.environ, "GAS_REFERENCE_DIR": str(root)}
    cmd = [str(VENV_BIN / "gas"), "annotate", str(vcf), "-o", str(out)]
    if summary is not None:
        cmd += ["--summary", str(summary)]
    return _run(cmd, out, env)


def time_bcftools(vcf: Path, bed: Path, header: Path, out: Path) -> Run:
    return _run(
        ["bcftools", "annotate", "-a", str(bed), "-c", "CHROM,FROM,TO,GENE", "-h", str(header),
         "-Ov", "-o", str(out), str(vcf)],
        out,
    )  # fmt: skip


def time_bcftools_csq(vcf: Path, fasta: Path, model: Path, out: Path) -> Run:
    # -s -: no samples (GAS reads none either); -l: each record on its own, as GAS does,
    # rather than haplotype-aware calls from phased genotypes.
    return _run(
        ["bcftools", "csq", "-f", str(fasta), "-g", str(model), "-s", "-", "-l", "-Ov", "-o", str(out),
         str(vcf)],
        out,
    )  # fmt: skip


def csq_track(gas_vcf: Path, work: Path) -> tuple[Path, Path] | None:
    """GAS's CSQ values of `gas_vcf` as a bgzipped, tabix-indexed track (CHROM, POS, REF, ALT, CSQ) and
    its header line, for `bcftools annotate` to write the same CSQ bytes GAS computes; None without
    pysam (`pip install -e '.[bench]'`)."""
    try:
        import pysam
    except ImportError:
        return None
    tab = work / "csq.tab"
    with gas_vcf.open("rb") as src, tab.open("wb") as out:
        for line in src:
            if line.startswith(b"#"):
                continue
            chrom, pos, _, ref, alt, _, _, info = line.split(b"\t", 8)[:8]
            at = info.find(b"CSQ=")
            if at >= 0:
                end = info.find(b";", at)
                csq = info[at + 4 : end if end >= 0 else len(info)]
                out.write(b"\t".join((chrom, pos, ref, alt, csq)) + b"\n")
    track = Path(pysam.tabix_index(str(tab), seq_col=0, start_col=1, end_col=1, force=True))
    header = work / "csq.hdr"
    header.write_text('##INFO=<ID=CSQ,Number=.,Type=String,Description="GAS\'s CSQ, as a track">\n')
    return track, header


def time_bcftools_csq_track(vcf: Path, track: Path, header: Path, out: Path) -> Run:
    return _run(
        ["bcftools", "annotate", "-a", str(track), "-c", "CHROM,POS,REF,ALT,CSQ", "-h", str(header),
         "-Ov", "-o", str(out), str(vcf)],
        out,
    )  # fmt: skip


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.seconds)


def consequences(n: int, repeat: int, work: Path, bcftools: bool) -> None:
    """GAS (every default track and consequences, chr20 sequence) vs `bcftools csq` on the same
    models and sequence, on an n-variant chr20 VCF."""
    if not chr20.FASTA.is_file():
        print(f"{chr20.FASTA} is absent (Debian's vt-examples): no consequence benchmark")
        return
    root = chr20.reference_dir(REPO)
    t = time.perf_counter()
    made = subprocess.run(
        [sys.executable, str(REPO / "bench" / "chr20.py"), str(root), str(reference_root() / "downloads"),
         str(work), str(n)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    inputs = json.loads(made.stdout)
    vcf, model, fasta = Path(inputs["vcf"]), Path(inputs["gff3"]), Path(inputs["fasta"])
    print(
        f"chr20 reference with its sequence in {root}; {n:,} chr20 variants "
        f"({vcf.stat().st_size / 1e6:.0f} MB) and the GFF3 of its {inputs['models']:,} transcript models "
        f"for bcftools csq, made in {time.perf_counter() - t:.1f} s"
    )
    summary = work / "summary_chr20.json"
    runs, engine_s = [], float("inf")
    for _ in range(repeat):
        runs.append(time_gas(vcf, work / "gas_chr20.vcf", root, summary))
        engine_s = min(engine_s, json.loads(summary.read_text())["elapsed_seconds"])
    gas = best(runs)
    per_record = 1e6 * engine_s / n
    print(
        f"gas annotate with consequences (all default tracks): {gas.seconds:6.2f} s  (cpu {gas.cpu:.2f} s; "
        f"engine alone {engine_s:.2f} s, {per_record:.1f} us a record; peak RSS {gas.peak_rss_mb:.0f} MB)"
    )
    (work / "gas_chr20.vcf").unlink()
    if not bcftools:
        return
    bcf = best([time_bcftools_csq(vcf, fasta, model, work / "bcftools_csq.vcf") for _ in range(repeat)])
    print(f"bcftools csq (same models, same sequence):  {bcf.seconds:6.2f} s  (cpu {bcf.cpu:.2f} s; "
          f"peak RSS {bcf.peak_rss_mb:.0f} MB)")  # fmt: skip
    print(f"ratio gas / bcftools csq: {gas.seconds / bcf.seconds:.2f}x  (goal <= 2x)")
    warm = warm_engine_seconds(vcf, work / "gas_chr20.vcf", root, repeat)
    print(f"the engine in a warm annotator process: {warm:6.2f} s, {warm / bcf.seconds:.2f}x bcftools csq")
    vcf.unlink()


def warm_engine_seconds(vcf: Path, out: Path, root: Path, repeat: int) -> float:
    """The engine as an annotator process runs it: one process, its imports, kernels and reference
    cache warmed by a first small job (the first 200 lines of `vcf`), then `vcf` timed (best of
    `repeat`). `gas annotate` pays the start-up every time; a job in the service does not."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from annotator.engine import annotate_file\n"
        "vcf, out, root, repeat = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])\n"
        "small = out.with_name('warm-up.vcf')\n"
        "with vcf.open('rb') as f:\n"
        "    small.write_bytes(b''.join(f.readline() for _ in range(200)))\n"
        "annotate_file(small, out, reference_root=root)\n"
        "best = float('inf')\n"
        "for _ in range(repeat):\n"
        "    out.unlink(missing_ok=True)\n"
        "    t = time.perf_counter()\n"
        "    annotate_file(vcf, out, reference_root=root)\n"
        "    best = min(best, time.perf_counter() - t)\n"
        "out.unlink()\n"
        "small.unlink()\n"
        "print(best)\n"
    )
    args = [sys.executable, "-c", code, str(vcf), str(out), str(root), str(repeat)]
    return float(subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip())


def reference_load_seconds(root: Path) -> float:
    """Time a fresh process takes to load the index and get an Annotator ready."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from annotator.annotate import Annotator\n"
        "from annotator.reference import load\n"
        "t = time.perf_counter()\n"
        "Annotator(load(Path(sys.argv[1]), 'GRCh37'))\n"
        "print(time.perf_counter() - t)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=1_000_000, help="size of the timed VCF")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the best is reported")
    parser.add_argument("--no-flatness", action="store_true", help="skip the 5x-size memory run")
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated files in this folder")
    parser.add_argument("--no-consequences", action="store_true", help="skip GAS vs bcftools csq on chr20")
    parser.add_argument("--no-genome", action="store_true", help="skip the whole-genome comparison")
    args = parser.parse_args()
    # Files in RAM (tmpfs) when there is one: both tools are timed on their own
    # work, not on the disk's writeback of ~150 MB of output per run.
    shm = Path("/dev/shm")
    scratch = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    root = reference_root()
    _index(root)
    bcftools = shutil.which("bcftools")
    if bcftools is None:
        print("bcftools is not installed: `apt-get install bcftools` (Debian) to compare against it;")
        print("timing GAS alone.")
    with tempfile.TemporaryDirectory(prefix="gas-bench-", dir=scratch) as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        n = args.variants
        if not args.no_consequences:
            consequences(n, args.repeat, work, bcftools is not None)
        if args.no_genome:
            return
        vcf = work / f"bench_{n}.vcf"
        t = time.perf_counter()
        make_vcf(vcf, n, root)
        size_mb = vcf.stat().st_size / 1e6
        print(f"generated {n:,} variants ({size_mb:.0f} MB) in {time.perf_counter() - t:.1f} s")

        summary = work / "summary.json"
        gas, engine_s = Run(float("inf"), 0.0, 0.0), float("inf")
        for _ in range(args.repeat):
            run = time_gas(vcf, work / "gas.vcf", root, summary)
            gas = min(gas, run, key=lambda r: r.seconds)
            engine_s = min(engine_s, json.loads(summary.read_text())["elapsed_seconds"])
        print(
            f"gas annotate (all default tracks, consequences with the rCRS only): {gas.seconds:6.2f} s  "
            f"(cpu {gas.cpu:.2f} s; "
            f"engine alone {engine_s:.2f} s, the rest is starting Python and imports)"
        )
        if bcftools is not None:
            bed = make_gene_bed(work / "genes.bed", root)
            header = work / "genes.hdr"
            header.write_text('##INFO=<ID=GENE,Number=.,Type=String,Description="GENCODE gene">\n')
            bcf = min(
                (time_bcftools(vcf, bed, header, work / "bcftools.vcf") for _ in range(args.repeat)),
                key=lambda r: r.seconds,
            )
            print(f"bcftools annotate (gene BED only): {bcf.seconds:6.2f} s  (cpu {bcf.cpu:.2f} s)")
            print(f"ratio gas / bcftools: {gas.seconds / bcf.seconds:.2f}x  (goal <= 2x)")
            # The same bytes: bcftools annotate handed GAS's CSQ (computed) as a track, so it only
            # reads it and writes it into each record, as GAS must.
            made = csq_track(work / "gas.vcf", work)
            if made is None:
                print("pysam is not installed (`pip install -e '.[bench]'`): no equal-output comparison")
            else:
                same = best([time_bcftools_csq_track(vcf, *made, work / "bcftools.vcf")
                             for _ in range(args.repeat)])  # fmt: skip
                size = (work / "bcftools.vcf").stat().st_size / 1e6
                print(
                    f"bcftools annotate writing GAS's CSQ, given as a track: {same.seconds:6.2f} s  "
                    f"(cpu {same.cpu:.2f} s; {size:.0f} MB written)"
                )
                print(f"ratio gas / bcftools writing the same CSQ: {gas.seconds / same.seconds:.2f}x")
            warm = warm_engine_seconds(vcf, work / "gas.vcf", root, args.repeat)
            ratio = warm / bcf.seconds
            print(f"the engine in a warm annotator process: {warm:6.2f} s, {ratio:.2f}x bcftools")
            print(f"bcftools peak RSS: {bcf.peak_rss_mb:.0f} MB")
        print(f"reference load in a fresh process: {reference_load_seconds(root):.3f} s  (goal < 0.5 s)")
        print(f"gas peak RSS at {n:,}: {gas.peak_rss_mb:.0f} MB")
        if not args.no_flatness:
            big = work / f"bench_{5 * n}.vcf"
            make_vcf(big, 5 * n, root)
            vcf.unlink()
            large = time_gas(big, work / "gas.vcf", root)
            growth = large.peak_rss_mb / gas.peak_rss_mb - 1
            print(
                f"gas peak RSS at {5 * n:,}: {large.peak_rss_mb:.0f} MB ({growth:+.1%}; goal within 15%), "
                f"{large.seconds:.2f} s"
            )


if __name__ == "__main__":
    main()

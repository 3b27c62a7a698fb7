"""The inputs of the consequence benchmark in `bench/engine.py`, all on GRCh37 chr20 with its
real sequence (Debian's vt-examples, /usr/share/doc/vt/examples/ref/20.fa.gz):

- a GRCh37 reference whose `[[sequence]]` is that FASTA, installed once into a cached
  directory from the downloads of the main reference (hard links);
- a generated VCF whose REF alleles are the sequence's;
- the reference's own chr20 transcript models as an Ensembl-style GFF3
  (`annotator.transcript_gff3`), and the FASTA beside its `.fai` and plain `.gzi`, so that
  `bcftools csq` works on exactly the models and bases GAS does.

`bench/engine.py` runs `prepare` in a child process: a child's peak RSS, as wait4 reports it,
starts from its parent's at the fork, so the benchmark process itself must stay small.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

FASTA = Path("/usr/share/doc/vt/examples/ref/20.fa.gz")
CONTIG = "20"  # the FASTA's name; GAS matches it to chr20
BUILD = "GRCh37"


def reference_dir(repo: Path) -> Path:
    """Where the chr20 reference is cached: under GAS_DATA_DIR when set, else the repo's var/."""
    data = os.environ.get("GAS_DATA_DIR")
    return (Path(data) if data else repo / "var") / "bench-chr20"


def install_reference(root: Path, downloads: Path) -> Path:
    """The GRCh37 index with chr20's sequence in `root` (a no-op once built there)."""
    from annotator import installer

    (root / "downloads").mkdir(parents=True, exist_ok=True)
    for f in downloads.iterdir():
        target = root / "downloads" / f.name
        if f.is_file() and not target.exists():
            try:
                os.link(f, target)
            except OSError:  # another file system
                shutil.copy(f, target)
    (root / "tracks.toml").write_text(f'[[sequence]]\nbuild = "{BUILD}"\npath = "{FASTA}"\n')
    installer.install(root, [BUILD], progress=False)
    return root


def bases() -> bytes:
    """chr20 whole, upper case (63 Mb)."""
    with gzip.open(FASTA, "rb") as fh:
        fh.readline()
        return fh.read().replace(b"\n", b"").upper()


def make_vcf(path: Path, n: int, seq: bytes, seed: int = 1) -> None:
    """A sorted n-variant chr20 VCF with one sample: positions uniform over the sequence's
    definite bases, REF from it; ~86% SNVs, 5% deletions and 5% insertions of 1-5 bases, 4%
    SNVs with a second ALT."""
    rng = np.random.default_rng(seed)
    codes = np.frombuffer(seq, np.uint8)
    definite = np.flatnonzero(np.isin(codes, np.frombuffer(b"ACGT", np.uint8)))
    definite = definite[definite < len(seq) - 10]
    pos = np.sort(rng.choice(definite, n, replace=False)) + 1
    kind = rng.random(n)
    length = rng.integers(1, 6, n)
    shift = rng.integers(1, 4, n)
    acgt = "ACGT"
    dp = rng.integers(5, 200, n).tolist()
    gt = np.where(rng.random(n) < 0.6, "0/1", "1/1").tolist()
    lines = []
    for i, p in enumerate(pos.tolist()):
        ref = chr(seq[p - 1])
        k = kind[i]
        if k < 0.05:  # deletion
            ref = seq[p - 1 : p + int(length[i])].decode()
            alt = ref[0]
        elif k < 0.10:  # insertion
            alt = ref + "".join(acgt[j] for j in rng.integers(0, 4, int(length[i])).tolist())
        else:
            alt = acgt[(acgt.index(ref) + int(shift[i])) % 4]
            if k < 0.14:
                alt += "," + next(b for b in acgt if b not in (ref, alt))
        lines.append(f"{CONTIG}\t{p}\t.\t{ref}\t{alt}\t50\tPASS\tDP={dp[i]}\tGT\t{gt[i]}\n")
    with path.open("w") as out:
        out.write(
            "##fileformat=VCFv4.2\n##reference=GRCh37\n##source=gas-bench\n"
            f"##contig=<ID={CONTIG},length={len(seq)},assembly=GRCh37>\n"
            '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">\n'
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1\n"
        )
        out.write("".join(lines))


def bcftools_inputs(root: Path, work: Path) -> tuple[Path, Path, int]:
    """The GFF3 of the reference's chr20 models and the FASTA with its indexes, in `work`;
    and how many models there are."""
    from annotator import intervals as iv
    from annotator.reference import load
    from annotator.transcript_gff3 import gff3
    from annotator.transcript_index import transcripts_of

    ref = load(root, BUILD)
    index = transcripts_of(ref)
    contig = ref.contig_names.index("chr20")
    starts = index.a["tx_start"] >> iv.SHIFT  # whole-genome keys: the contig in the high bits
    models = [index.transcript(i) for i in np.flatnonzero(starts == contig).tolist()]
    model = work / "chr20.gff3"
    model.write_text(gff3(models, CONTIG))
    fasta = work / "20.fa.gz"
    if not fasta.exists():
        fasta.symlink_to(FASTA)
        Path(f"{fasta}.fai").symlink_to(f"{FASTA}.fai")
        Path(f"{fasta}.gzi").write_bytes(gzip.decompress(Path(f"{FASTA}.gzi.gz").read_bytes()))
    return model, fasta, len(models)


def prepare(root: Path, downloads: Path, work: Path, n: int) -> dict[str, object]:
    """Everything the consequence benchmark reads, made in `work` (the reference in `root`)."""
    install_reference(root, downloads)
    vcf = work / f"chr20_{n}.vcf"
    make_vcf(vcf, n, bases())
    model, fasta, count = bcftools_inputs(root, work)
    return {"vcf": str(vcf), "gff3": str(model), "fasta": str(fasta), "models": count}


def main() -> None:
    parser = argparse.ArgumentParser(description="prepare the chr20 consequence benchmark's inputs")
    parser.add_argument("root", type=Path)
    parser.add_argument("downloads", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("variants", type=int)
    args = parser.parse_args()
    json.dump(prepare(args.root, args.downloads, args.work, args.variants), sys.stdout)


if __name__ == "__main__":
    main()

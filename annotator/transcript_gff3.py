"""Transcript models written as an Ensembl-style GFF3, the input `bcftools csq` reads.

The tests and `bench/engine.py` hand GAS's own models to `bcftools csq`, so an
independent calculator works on exactly what GAS does. Per gene one ``gene``
line; per model one ``mRNA`` (with a CDS) or ``transcript`` line, its exons,
UTRs and CDS pieces with their phase. Genes are keyed by their id and strand,
and a gene id met again beyond the end of its last models (GENCODE reuses
names such as ``Y_RNA``) becomes a gene of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from annotator.transcripts import Transcript


def gff3(transcripts: Iterable[Transcript], contig: str) -> str:
    """The models (all on `contig`, whose name the GFF3 uses) as one GFF3 text."""
    txs = sorted(transcripts, key=lambda t: (t.start, t.end, t.feature))
    genes: list[tuple[str, Transcript, list[Transcript]]] = []
    open_gene: dict[tuple[str, int], tuple[int, list[Transcript]]] = {}
    seen: dict[str, int] = {}
    for tx in txs:
        key = (tx.gene_id, tx.strand)
        current = open_gene.get(key)
        if current is not None and tx.start <= current[0]:
            current[1].append(tx)
            open_gene[key] = (max(current[0], tx.end), current[1])
            continue
        n = seen[tx.gene_id] = seen.get(tx.gene_id, 0) + 1
        gene_id = tx.gene_id if n == 1 else f"{tx.gene_id}.{n}"
        members = [tx]
        genes.append((gene_id, tx, members))
        open_gene[key] = (tx.end, members)
    lines = ["##gff-version 3"]
    for gene_id, first, members in genes:
        strand = "+" if first.strand > 0 else "-"
        start, end = min(t.start for t in members), max(t.end for t in members)
        biotype = "protein_coding" if any(t.coding for t in members) else first.biotype
        attrs = f"ID=gene:{gene_id};Name={first.gene};biotype={biotype}"
        lines.append(f"{contig}\tGAS\tgene\t{start}\t{end}\t.\t{strand}\t.\t{attrs}")
        for tx in members:
            lines += _transcript(tx, contig, gene_id)
    return "\n".join(lines) + "\n"


def _transcript(tx: Transcript, contig: str, gene_id: str) -> list[str]:
    strand = "+" if tx.strand > 0 else "-"

    def row(kind: str, start: int, end: int, attrs: str, phase: str = ".") -> str:
        return f"{contig}\tGAS\t{kind}\t{start}\t{end}\t.\t{strand}\t{phase}\t{attrs}"

    parent = f"Parent=transcript:{tx.feature}"
    kind = "mRNA" if tx.cds is not None else "transcript"
    # bcftools reads a protein_coding model without a CDS as broken; Ensembl calls such
    # GENCODE isoforms processed transcripts.
    biotype = "processed_transcript" if tx.cds is None and tx.biotype == "protein_coding" else tx.biotype
    attrs = f"ID=transcript:{tx.feature};Parent=gene:{gene_id};Name={tx.feature};biotype={biotype}"
    lines = [row(kind, tx.start, tx.end, attrs)]
    if tx.cds is None:
        lines += [row("exon", start, end, parent) for start, end in tx.exons]
        return lines
    low, high = tx.cds
    # In transcript order, so each CDS piece's phase follows from the coding bases before it.
    exons = tx.exons if tx.strand > 0 else tuple(reversed(tx.exons))
    done = 0
    for start, end in exons:
        lines.append(row("exon", start, end, parent))
        if start < low:
            utr = "five_prime_UTR" if tx.strand > 0 else "three_prime_UTR"
            lines.append(row(utr, start, min(end, low - 1), parent))
        if end > high:
            utr = "three_prime_UTR" if tx.strand > 0 else "five_prime_UTR"
            lines.append(row(utr, max(start, high + 1), end, parent))
        s, e = max(start, low), min(end, high)
        if s <= e:
            phase = tx.frame if done == 0 else (3 - (done - tx.frame) % 3) % 3
            lines.append(row("CDS", s, e, parent, str(phase)))
            done += e - s + 1
    return lines

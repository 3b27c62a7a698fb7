"""Transcript models: what the consequence calculator works on.

Built at install time from the GENCODE tables of the build's genome archive
(transcripts, exons linked to their transcript by file order, CDS, start and
stop codons), with one canonical transcript per gene and the MANE Select one
where known. This module holds the model every part agrees on; the index
builder and the calculator are written against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# A genome sequence of one contig: fetch(start, end) -> the bases from start to
# end (1-based, closed) on the plus strand, upper case; b"" outside the contig.
Fetch = Callable[[int, int], bytes]


@dataclass(frozen=True)
class Transcript:
    feature: str  # CSQ Feature: the ENST / NM accession a model matches, else its GAS name
    gene: str  # CSQ SYMBOL
    gene_id: str  # CSQ Gene: the Ensembl gene id where known, else the symbol
    biotype: str  # GENCODE type (protein_coding, lncRNA, ...)
    contig: int  # reference contig index
    strand: int  # 1 or -1
    exons: tuple[tuple[int, int], ...]  # 1-based closed, ascending genomic order
    cds: tuple[int, int] | None = None  # genomic span of the CDS, stop codon included; None: non-coding
    canonical: bool = False
    mane_select: str = ""  # the RefSeq NM accession of the MANE Select match, "" otherwise
    mito: bool = False  # translated with the vertebrate mitochondrial code
    # Bases at the CDS's 5' end before its first whole codon: 0 when the CDS
    # starts with its start codon; inferred (aligned to the final stop codon)
    # when the data has no ATG there.
    frame: int = 0
    # True when the frame above was inferred (no start codon annotated at the CDS's 5' end).
    frame_inferred: bool = False

    @property
    def start(self) -> int:
        return self.exons[0][0]

    @property
    def end(self) -> int:
        return self.exons[-1][1]

    @property
    def coding(self) -> bool:
        return self.cds is not None


# The CSQ sub-fields GAS writes, in VEP's spelling and order.
CSQ_FIELDS = (
    "Allele",
    "Consequence",
    "IMPACT",
    "SYMBOL",
    "Gene",
    "Feature_type",
    "Feature",
    "BIOTYPE",
    "EXON",
    "INTRON",
    "HGVSc",
    "HGVSp",
    "cDNA_position",
    "CDS_position",
    "Protein_position",
    "Amino_acids",
    "Codons",
    "DISTANCE",
    "STRAND",
    "CANONICAL",
    "MANE_SELECT",
)

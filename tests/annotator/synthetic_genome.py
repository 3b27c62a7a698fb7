"""A hand-written 600 bp contig with one transcript on each strand, for the consequence tests.

Coordinates are 1-based. Every piece is written out so a test's expected
codon, base and HGVS name can be read off this file by hand.

Plus strand, TXP (gene GP), exons 61-90, 131-150, 191-240, CDS 71-201:

      61-70   5' UTR       GCCGCCACCA                      c.-10..c.-1
      71-90   exon 1 CDS   ATG GCC CGT TGG AAA GAG CT      codons 1-6 (M A R W K E), c.1..c.20
      91-130  intron 1     GTAAGTACTGACTGACTGAC TTCTCTCTTTCCTTTTCCAG
     131-150  exon 2       G CAG GAC TAC AAA AAA GCT C      codon 7 = CT|G (L), 8-13 (Q D Y K K A), c.21..c.40
     151-190  intron 2     GTGAGTCCTGACTGACTGAC TTCTCTCTTTCCTTTTCCAG
     191-201  exon 3 CDS   GA TGG CAA TAA                  codon 14 = C|GA (R), 15-17 (W Q *), c.41..c.51
     202-240  3' UTR       CAA GGA TTC TAG GCATGCATTCAGGTTAACTGACGATTG   c.*1..c.*39

  protein M A R W K E L Q D Y K K A R W Q * (16 residues and the stop)

Minus strand, TXM (gene GM), genomic 401-475 holds the reverse complement of
this 75 bp pre-mRNA, so transcript position t sits at genomic 476 - t:

    t 1-8     5' UTR       GCAGCCAC                        c.-8..c.-1     (g 475-468)
    t 9-20    exon 1 CDS   ATG AAG TTT GGC                 codons 1-4 (M K F G), c.1..c.12  (g 467-456)
    t 21-50   intron       GTAAGGCCTTGACTTT CTTTCTTTTCCCAG                  (g 455-426)
    t 51-68   exon 2 CDS   GAA CTG AGA TCC GAC TGA         codons 5-10 (E L R S D *), c.13..c.30 (g 425-408)
    t 69-75   3' UTR       GCCTAAT                         c.*1..c.*7     (g 407-401)
"""

from __future__ import annotations

from annotator.codons import revcomp
from annotator.transcripts import Fetch, Transcript

FLANK_A = "TTAGGC" * 10
EXON1 = "GCCGCCACCA" + "ATGGCCCGTTGGAAAGAGCT"
INTRON1 = "GTAAGTACTGACTGACTGAC" + "TTCTCTCTTTCCTTTTCCAG"
EXON2 = "GCAGGACTACAAAAAAGCTC"
INTRON2 = "GTGAGTCCTGACTGACTGAC" + "TTCTCTCTTTCCTTTTCCAG"
EXON3 = "GATGGCAATAA" + "CAAGGATTCTAG" + "GCATGCATTCAGGTTAACTGACGATTG"
FLANK_B = "CCATGG" * 26 + "CCAT"
PRE_MRNA_M = (
    "GCAGCCAC" + "ATGAAGTTTGGC" + "GTAAGGCCTTGACTTT" + "CTTTCTTTTCCCAG" + "GAACTGAGATCCGACTGA" + "GCCTAAT"
)
FLANK_C = "GATC" * 31 + "G"

GENOME = (
    (FLANK_A + EXON1 + INTRON1 + EXON2 + INTRON2 + EXON3 + FLANK_B).encode()
    + revcomp(PRE_MRNA_M.encode())
    + FLANK_C.encode()
)
assert len(GENOME) == 600

TXP = Transcript(
    feature="TXP",
    gene="GP",
    gene_id="ENSG_P",
    biotype="protein_coding",
    contig=0,
    strand=1,
    exons=((61, 90), (131, 150), (191, 240)),
    cds=(71, 201),
    canonical=True,
    mane_select="NM_000001.1",
)
TXM = Transcript(
    feature="TXM",
    gene="GM",
    gene_id="ENSG_M",
    biotype="protein_coding",
    contig=0,
    strand=-1,
    exons=((401, 425), (456, 475)),
    cds=(408, 467),
)
# The first two exons of TXP read as a long non-coding RNA.
TXN = Transcript(
    feature="TXN",
    gene="GN",
    gene_id="GN",
    biotype="lncRNA",
    contig=0,
    strand=1,
    exons=((61, 90), (131, 150)),
)

# A mitochondrial contig: GG, then CDS ATG TGG ATG AAA AGA (M W M K, AGA a stop in the vertebrate
# mitochondrial code), then CC.
MT_GENOME = b"GG" + b"ATGTGGATGAAAAGA" + b"CC"
TX_MT = Transcript(
    feature="TXMT",
    gene="MT-T",
    gene_id="MT-T",
    biotype="protein_coding",
    contig=1,
    strand=1,
    exons=((3, 17),),
    cds=(3, 17),
    mito=True,
)

# A CDS with no ATG: TT, then CDS C GCT TGG TAA (one base of a codon cut off, then A W *), then GG.
FRAME_GENOME = b"TT" + b"CGCTTGGTAA" + b"GG"
TX_FRAME = Transcript(
    feature="TXF",
    gene="GF",
    gene_id="GF",
    biotype="protein_coding",
    contig=2,
    strand=1,
    exons=((1, 14),),
    cds=(3, 12),
    frame=1,
)


def fetch_of(genome: bytes) -> Fetch:
    def fetch(start: int, end: int) -> bytes:
        if start < 1 or end > len(genome):
            return b""
        return genome[start - 1 : end]

    return fetch


FETCH = fetch_of(GENOME)

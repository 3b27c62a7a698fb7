"""Sequence Ontology consequence terms and IMPACT classes in Ensembl VEP's order:
what the results viewer orders, filters and plots consequences by.

The engine writes the terms (INFO CSQ, GAS_CONSEQUENCE, GAS_IMPACT); the viewer
only reads them, so it keeps VEP's published order here rather than importing
the engine (``app`` imports no higher package).
"""

from __future__ import annotations

# Most severe first: VEP's consequence ranks (Constants.pm), the order the
# engine's annotator/consequence.SEVERITY holds too. A term's IMPACT is the
# engine's to say (GAS_IMPACT, CSQ's IMPACT); the viewer does not derive it.
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


def term_rank(term: str) -> int:
    """A term's place in VEP's order; a term VEP does not list ranks last."""
    return _RANK.get(term, len(TERMS))


def at_least(impact: str) -> tuple[str, ...]:
    """The IMPACT classes as severe as ``impact`` or more."""
    return IMPACTS[: IMPACTS.index(impact) + 1]


_RANK = {term: n for n, term in enumerate(TERMS)}

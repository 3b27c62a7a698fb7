"""Sequence Ontology consequence terms and IMPACT classes as Ensembl VEP ranks them:
what the results viewer orders, filters and plots consequences by.

The engine writes the terms (INFO CSQ, GAS_CONSEQUENCE, GAS_IMPACT); the viewer
only reads them, so it keeps VEP's published order here rather than importing
the engine (``app`` imports no higher package).
"""

from __future__ import annotations

# Most severe first, with each term's IMPACT (VEP's "Ensembl variation - calculated
# variant consequences" table). Severity and IMPACT are not the same order:
# regulatory_region_ablation is MODERATE yet ranks below every transcript term.
TERMS: dict[str, str] = {
    "transcript_ablation": "HIGH",
    "splice_acceptor_variant": "HIGH",
    "splice_donor_variant": "HIGH",
    "stop_gained": "HIGH",
    "frameshift_variant": "HIGH",
    "stop_lost": "HIGH",
    "start_lost": "HIGH",
    "transcript_amplification": "HIGH",
    "feature_elongation": "HIGH",
    "feature_truncation": "HIGH",
    "inframe_insertion": "MODERATE",
    "inframe_deletion": "MODERATE",
    "missense_variant": "MODERATE",
    "protein_altering_variant": "MODERATE",
    "splice_donor_5th_base_variant": "LOW",
    "splice_region_variant": "LOW",
    "splice_donor_region_variant": "LOW",
    "splice_polypyrimidine_tract_variant": "LOW",
    "incomplete_terminal_codon_variant": "LOW",
    "start_retained_variant": "LOW",
    "stop_retained_variant": "LOW",
    "synonymous_variant": "LOW",
    "coding_sequence_variant": "MODIFIER",
    "mature_miRNA_variant": "MODIFIER",
    "5_prime_UTR_variant": "MODIFIER",
    "3_prime_UTR_variant": "MODIFIER",
    "non_coding_transcript_exon_variant": "MODIFIER",
    "intron_variant": "MODIFIER",
    "NMD_transcript_variant": "MODIFIER",
    "non_coding_transcript_variant": "MODIFIER",
    "coding_transcript_variant": "MODIFIER",
    "upstream_gene_variant": "MODIFIER",
    "downstream_gene_variant": "MODIFIER",
    "TFBS_ablation": "MODIFIER",
    "TFBS_amplification": "MODIFIER",
    "TF_binding_site_variant": "MODIFIER",
    "regulatory_region_ablation": "MODERATE",
    "regulatory_region_amplification": "MODIFIER",
    "regulatory_region_variant": "MODIFIER",
    "intergenic_variant": "MODIFIER",
    "sequence_variant": "MODIFIER",
}
IMPACTS = ("HIGH", "MODERATE", "LOW", "MODIFIER")  # most severe first


def term_rank(term: str) -> int:
    """A term's place in VEP's order; a term VEP does not list ranks last."""
    return _RANK.get(term, len(TERMS))


def at_least(impact: str) -> tuple[str, ...]:
    """The IMPACT classes as severe as ``impact`` or more."""
    return IMPACTS[: IMPACTS.index(impact) + 1]


_RANK = {term: n for n, term in enumerate(TERMS)}

"""A hand-written annotated VCF (tests/data/annotated.vcf: CSQ with several ALTs and
transcripts, GAS_CONSEQUENCE/GAS_IMPACT, ClinVar keys, and one record without them) and what
a job's summary says of it, for the viewer's unit tests. It is hand-written for cases
the engine on the default GRCh37 reference does not give (ENST/ENSP accessions, MANE
Select, codon terms off MT, a record without the keys); its ##INFO lines are the
engine's own (tests/results/test_variant_table.py checks). Seeding a job with it replaces a
real job's result, summary and table; the table is built by ``variant_table.build``,
as the annotator builds it. The browser test uses a real annotation instead."""

from __future__ import annotations

from pathlib import Path

ANNOTATED_VCF = Path(__file__).parent / "data" / "annotated.vcf"
# The summary keys the engine adds for this file (its counts by hand).
SUMMARY = {
    "per_consequence": {"stop_gained": 1, "frameshift_variant": 1, "synonymous_variant": 1,
                        "non_coding_transcript_exon_variant": 1, "intergenic_variant": 1},
    "per_impact": {"HIGH": 2, "LOW": 1, "MODIFIER": 2},
    "clinvar": {"Pathogenic": 1, "Pathogenic/Likely_pathogenic": 1},
}


def plain_input() -> str:
    """The same records with no annotation: what the job's input was."""
    lines = []
    for line in ANNOTATED_VCF.read_text().splitlines():
        if line.startswith("##INFO"):
            continue
        if not line.startswith("#"):
            line = "\t".join([*line.split("\t")[:7], "."])
        lines.append(line + "\n")
    return "".join(lines)

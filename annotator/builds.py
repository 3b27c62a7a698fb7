"""Which genome build a VCF is on, from what its header declares.

Evidence is weighed in order of how deliberate it is: ``##reference`` /
``##assembly`` lines and ``##contig`` ``assembly=`` attributes, then contig
lengths (chr1 differs in every build), then a reference file name buried in
another header line (GATK writes ``reference_sequence=...human_g1k_v37.fasta``
into its command-line header). Nothing declared means nothing is known: the
caller says so instead of guessing silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Order matters: "hg19" must not be read as a b36 build, and rCRS alone (a
# mitochondrial-only file) is the MT sequence of GRCh37/GRCh38, checked last.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("NCBI36", re.compile(r"ncbi-?36|grch36|hg18|(?<![a-z0-9])b36(?![0-9])|(?<![a-z0-9])v36(?![0-9])")),
    (
        "GRCh37",
        re.compile(r"grch37|hg19|hs37|(?<![a-z0-9])b37(?![0-9])|(?<![a-z0-9])v37(?![0-9])|ncbi-?37"),
    ),
    ("GRCh38", re.compile(r"grch38|hg38|hs38|(?<![a-z0-9])b38(?![0-9])|(?<![a-z0-9])v38(?![0-9])")),
]
_RCRS = re.compile(r"rcrs|nc_012920")

# Lengths that identify a build on their own (UCSC/NCBI sequence reports).
CHR1_LENGTHS = {247249719: "NCBI36", 249250621: "GRCh37", 248956422: "GRCh38"}
RCRS_LENGTH = 16569  # MT in GRCh37 and GRCh38 (NC_012920)
UCSC_HG19_CHRM_LENGTH = 16571  # UCSC hg19 chrM (NC_001807): NOT rCRS

_CONTIG_ATTR = re.compile(r"(\w+)=(\"[^\"]*\"|[^,>]*)")


@dataclass(frozen=True)
class Detected:
    build: str | None  # NCBI36, GRCh37, GRCh38 or None
    evidence: str  # what it was read from, for the log
    mito_only_rcrs: bool = False
    contig_lengths: dict[str, int] | None = None


# Every pattern above needs one of these: a search is skipped where none is
# (the lookbehinds make a search slow, ~40 ms a MB, on a long header line).
_MARKERS = {"NCBI36": ("36", "hg18"), "GRCh37": ("37", "hg19"), "GRCh38": ("38",)}


def build_in(text: str) -> str | None:
    low = text.lower()
    for build, pattern in _PATTERNS:
        if any(m in low for m in _MARKERS[build]) and pattern.search(low):
            return build
    return None


def contig_attributes(line: str) -> dict[str, str]:
    inner = line[len("##contig=<") :].rstrip(">")
    return {k.lower(): v.strip('"') for k, v in _CONTIG_ATTR.findall(inner)}


def detect(meta_lines: list[str]) -> Detected:
    """meta_lines: the ``##`` header lines, newline-free."""
    declared: list[tuple[str, str]] = []
    hinted: list[tuple[str, str]] = []
    lengths: dict[str, int] = {}
    rcrs = False
    for line in meta_lines:
        key, _, value = line[2:].partition("=")
        key = key.strip().lower()
        if key in ("reference", "assembly"):
            b = build_in(value)
            if b:
                declared.append((b, f"##{key}={value.strip()}"))
            elif _RCRS.search(value.lower()):
                rcrs = True
        elif key == "contig":
            attrs = contig_attributes(line)
            if "assembly" in attrs and (b := build_in(attrs["assembly"])):
                declared.append((b, f"##contig assembly={attrs['assembly']}"))
            if attrs.get("length", "").isdigit() and "id" in attrs:
                lengths[attrs["id"]] = int(attrs["length"])
        elif (b := build_in(value)) is not None:
            hinted.append((b, f"##{key} line mentions {_mention(value, b)}"))
    for name, length in lengths.items():
        if name.lower().removeprefix("chr") == "1" and length in CHR1_LENGTHS:
            declared.append((CHR1_LENGTHS[length], f"##contig {name} length={length}"))
    for source in (declared, hinted):
        if source:
            builds = {b for b, _ in source}
            evidence = source[0][1]
            if len(builds) > 1:
                evidence += f" (conflicting declarations: {', '.join(sorted(builds))})"
            return Detected(source[0][0], evidence, contig_lengths=lengths or None)
    if rcrs:
        # A mitochondrion-only file on rCRS: GRCh37 and GRCh38 share that MT.
        return Detected("GRCh37", "##reference=rCRS (mitochondrial only)", True, lengths or None)
    return Detected(None, "no build declared in the header", contig_lengths=lengths or None)


def _mention(value: str, build: str) -> str:
    """The word in a long header value that named the build (keeps logs short)."""
    pattern = dict(_PATTERNS)[build]
    for word in re.split(r"[\s,;=\[\]\"']+", value):
        if pattern.search(word.lower()):
            return word[-80:]
    return build

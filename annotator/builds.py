"""Which genome build a VCF is on, from what its header declares.

Evidence is weighed in order of how deliberate it is: ``##reference`` /
``##assembly`` lines and ``##contig`` ``assembly=`` attributes, then contig
lengths (every primary chromosome differs in length between builds), then a
reference file name buried in another header line (GATK writes ``reference_sequence=...human_g1k_v37.fasta``
into its command-line header). Nothing declared means nothing is known: the
caller says so instead of guessing silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.jobs.builds import Build


def _pattern(number: int, names: str) -> re.Pattern[str]:
    # b37 / v37 stand alone (not inside "hub37"); "build36", "Build 37" is how
    # NCBI named its assemblies before the GRC.
    return re.compile(rf"{names}|(?<![a-z0-9])[bv]{number}(?![0-9])|build[ _.-]?{number}(?![0-9])")


# Order matters: "hg19" must not be read as a b36 build, and rCRS alone (a
# mitochondrial-only file) is the MT sequence of GRCh37/GRCh38, checked last.
# Keyed by app's Build, so that mypy refuses a build a job cannot name.
_PATTERNS: list[tuple[Build, re.Pattern[str]]] = [
    ("NCBI36", _pattern(36, "ncbi-?36|grch36|hg18")),
    ("GRCh37", _pattern(37, "grch37|hg19|hs37|ncbi-?37")),
    ("GRCh38", _pattern(38, "grch38|hg38|hs38")),
]
_RCRS = re.compile(r"rcrs|nc_012920")

# Lengths of the primary chromosomes 1-22, X, Y (UCSC chromInfo: hg18 as in
# the hg18ToHg19 chain, hg19 and hg38 as in bioframe's seqinfo). No length
# recurs across builds, so each one identifies its build.
_CHROMOSOMES = [*map(str, range(1, 23)), "X", "Y"]
_BUILD_LENGTHS: dict[Build, list[int]] = {
    "NCBI36": [
        247249719, 242951149, 199501827, 191273063, 180857866, 170899992, 158821424, 146274826,
        140273252, 135374737, 134452384, 132349534, 114142980, 106368585, 100338915, 88827254,
        78774742, 76117153, 63811651, 62435964, 46944323, 49691432, 154913754, 57772954,
    ],
    "GRCh37": [
        249250621, 243199373, 198022430, 191154276, 180915260, 171115067, 159138663, 146364022,
        141213431, 135534747, 135006516, 133851895, 115169878, 107349540, 102531392, 90354753,
        81195210, 78077248, 59128983, 63025520, 48129895, 51304566, 155270560, 59373566,
    ],
    "GRCh38": [
        248956422, 242193529, 198295559, 190214555, 181538259, 170805979, 159345973, 145138636,
        138394717, 133797422, 135086622, 133275309, 114364328, 107043718, 101991189, 90338345,
        83257441, 80373285, 58617616, 64444167, 46709983, 50818468, 156040895, 57227415,
    ],
}
CHROMOSOME_LENGTHS: dict[tuple[str, int], Build] = {
    (chrom, length): build
    for build, lengths in _BUILD_LENGTHS.items()
    for chrom, length in zip(_CHROMOSOMES, lengths, strict=True)
}
RCRS_LENGTH = 16569  # MT in GRCh37 and GRCh38 (NC_012920)
UCSC_HG19_CHRM_LENGTH = 16571  # UCSC hg19 chrM (NC_001807): NOT rCRS

_CONTIG_ATTR = re.compile(r"(\w+)=(\"[^\"]*\"|[^,>]*)")


@dataclass(frozen=True)
class Detected:
    build: Build | None
    evidence: str  # what it was read from, for the log
    mito_only_rcrs: bool = False
    contig_lengths: dict[str, int] | None = None


# Every pattern above needs one of these: a search is skipped where none is
# (the lookbehinds make a search slow, ~40 ms a MB, on a long header line).
_MARKERS: dict[Build, tuple[str, ...]] = {
    "NCBI36": ("36", "hg18"), "GRCh37": ("37", "hg19"), "GRCh38": ("38",),
}


def build_in(text: str) -> Build | None:
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
    declared: list[tuple[Build, str]] = []
    hinted: list[tuple[Build, str]] = []
    lengths: dict[str, int] = {}
    rcrs = False
    for line in meta_lines:
        key, _, value = line[2:].partition("=")
        key = key.strip().lower()
        if key.startswith("gas_"):
            # A previous run's provenance (the build its input declared, a lift-over
            # note): the records' own build is in the ##contig lines GAS wrote.
            continue
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
    by_length, disagreement = _by_lengths(lengths)
    if by_length is not None:
        declared.append(by_length)
    for source in (declared, hinted):
        if source:
            builds = {b for b, _ in source}
            evidence = source[0][1]
            if len(builds) > 1:
                evidence += f" (conflicting declarations: {', '.join(sorted(builds))})"
            return Detected(source[0][0], evidence + disagreement, contig_lengths=lengths or None)
    if rcrs:
        # A mitochondrion-only file on rCRS: GRCh37 and GRCh38 share that MT.
        return Detected("GRCh37", "##reference=rCRS (mitochondrial only)", True, lengths or None)
    return Detected(None, "no build declared in the header", contig_lengths=lengths or None)


def _by_lengths(lengths: dict[str, int]) -> tuple[tuple[Build, str] | None, str]:
    """The build most declared contig lengths belong to (with its evidence), and
    a remark naming the contigs whose lengths say another build ("" if none)."""
    votes: dict[Build, list[str]] = {}
    for name, length in lengths.items():
        short = name[3:] if name.lower().startswith("chr") else name
        build = CHROMOSOME_LENGTHS.get((short.upper(), length))
        if build is not None:
            votes.setdefault(build, []).append(name)
    if not votes:
        return None, ""
    ranked = sorted(votes.items(), key=lambda item: -len(item[1]))
    build, names = ranked[0]
    if len(names) == 1:
        evidence = f"##contig {names[0]} length={lengths[names[0]]}"
    else:
        more = ", ..." if len(names) > 3 else ""
        evidence = f"##contig lengths of {len(names)} contigs ({', '.join(names[:3])}{more})"
    disagreement = ""
    if len(ranked) > 1:
        odd = [f"{n} is {b}" for b, ns in ranked[1:] for n in ns]
        disagreement = f" (contig lengths disagree: {len(names)} say {build}, but {', '.join(odd[:5])})"
    return (build, evidence), disagreement


def _mention(value: str, build: Build) -> str:
    """The word in a long header value that named the build (keeps logs short)."""
    pattern = dict(_PATTERNS)[build]
    for word in re.split(r"[\s,;=\[\]\"']+", value):
        if pattern.search(word.lower()):
            return word[-80:]
    return build

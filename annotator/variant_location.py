"""Where a variant falls on a transcript it overlaps: exons, introns, splice sites, UTRs.

VEP's rules (VariationEffect.pm and BaseTranscriptVariationAllele::_intron_effects):
splice donor/acceptor are the 2 intronic bases next to an exon; the donor's 5th
base, its region (+3..+6), the polypyrimidine tract (-3..-17) and the splice
region (3-8 intronic, 1-3 exonic bases) lie around them. Only introns between
two exons have splice sites: a transcript's own ends have none.
"""

from __future__ import annotations

from bisect import bisect_right

from annotator.transcript_map import TranscriptMap


def overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    # VEP's overlap(): an insertion (start = end + 1) overlaps a feature holding both its flanks.
    return a_end >= b_start and a_start <= b_end


class Location:
    """Where a variant falls on a transcript it overlaps: exons, introns, splice sites, UTRs."""

    __slots__ = ("cdna_position", "cds_position", "exon", "in_cds", "intron", "terms")

    def __init__(self, m: TranscriptMap, start: int, stop: int, insertion: bool) -> None:
        tx = m.tx
        terms: set[str] = set()
        starts, ends = m.starts, m.ends
        n = len(starts)
        if start == stop:
            exons_hit, introns_hit, flags = one_base(m, start)
        else:
            exons_hit, introns_hit, flags = span(m, start, stop, insertion)
        donor, acceptor, fifth, donor_region, tract, region, intronic = flags
        if acceptor:
            terms.add("splice_acceptor_variant")
        if donor:
            terms.add("splice_donor_variant")
        if fifth:
            terms.add("splice_donor_5th_base_variant")
        elif donor_region:
            terms.add("splice_donor_region_variant")
        if tract:
            terms.add("splice_polypyrimidine_tract_variant")
        if region and not (donor or acceptor or donor_region or fifth):
            terms.add("splice_region_variant")
        if intronic:
            terms.add("intron_variant")
        self.exon = _numbers(exons_hit, n, m.plus)
        self.intron = _numbers(introns_hit, n - 1, m.plus)

        in_cdna = bool(exons_hit)
        self.in_cds = False
        if m.coding:
            assert tx.cds is not None
            cds_low, cds_high = tx.cds
            if in_cdna:
                self.in_cds = any(
                    overlap(start, stop, max(starts[i], cds_low), min(ends[i], cds_high)) for i in exons_hit
                )
                before = (insertion and start == cds_low) or overlap(start, stop, starts[0], cds_low - 1)
                after = (insertion and stop == cds_high) or overlap(start, stop, cds_high + 1, ends[-1])
                if before:
                    terms.add("5_prime_UTR_variant" if m.plus else "3_prime_UTR_variant")
                if after:
                    terms.add("3_prime_UTR_variant" if m.plus else "5_prime_UTR_variant")
        elif in_cdna:
            terms.add("non_coding_transcript_exon_variant")
        else:
            terms.add("non_coding_transcript_variant")
        if tx.biotype == "nonsense_mediated_decay":
            terms.add("NMD_transcript_variant")

        self.cdna_position = self.cds_position = ""
        if in_cdna:
            five, three = (m.cdna(start), m.cdna(stop)) if m.plus else (m.cdna(stop), m.cdna(start))
            self.cdna_position = positions(five, three)
            if self.in_cds:
                self.cds_position = positions(cds_position(m, five), cds_position(m, three))
        self.terms = terms


Flags = tuple[bool, bool, bool, bool, bool, bool, bool]


def one_base(m: TranscriptMap, g: int) -> tuple[list[int], list[int], Flags]:
    """span for a single base, by its offsets from the edges of its exon or intron (the common case)."""
    starts, ends = m.starts, m.ends
    i = bisect_right(starts, g) - 1
    if g <= ends[i]:
        # Exonic: only the 1-3 bases next to an intron are a splice region.
        region = (i > 0 and g - starts[i] < 3) or (i < len(starts) - 1 and ends[i] - g < 3)
        return [i], [], (False, False, False, False, False, region, False)
    from_start, from_end = g - ends[i] - 1, starts[i + 1] - 1 - g
    if from_start > 16 and from_end > 16:
        return [], [i], (False, False, False, False, False, False, True)
    low_site, high_site = from_start <= 1, from_end <= 1
    donor_side, acceptor_side = (from_start, from_end) if m.plus else (from_end, from_start)
    return (
        [],
        [i],
        (
            low_site if m.plus else high_site,
            high_site if m.plus else low_site,
            donor_side == 4,
            2 <= donor_side <= 5,
            2 <= acceptor_side <= 16,
            not (low_site or high_site) and (from_start <= 7 or from_end <= 7),
            from_start >= 2 and from_end >= 2,
        ),
    )


def span(m: TranscriptMap, start: int, stop: int, insertion: bool) -> tuple[list[int], list[int], Flags]:
    """The exons and introns start..stop overlaps, and VEP's splice flags for it (_intron_effects):
    donor, acceptor, donor 5th base, donor region, polypyrimidine tract, splice region, intronic."""
    starts, ends = m.starts, m.ends
    n = len(starts)
    lo, hi = (stop, start) if insertion else (start, stop)
    first = max(0, bisect_right(starts, lo) - 1)
    exons_hit = []
    i = first
    while i < n and starts[i] <= hi:
        if overlap(start, stop, starts[i], ends[i]):
            exons_hit.append(i)
        i += 1
    introns_hit = []
    donor = acceptor = fifth = donor_region = tract = region = intronic = False
    i = max(0, first - 1)
    while i < n - 1 and ends[i] + 1 - 3 <= hi:
        s, e = ends[i] + 1, starts[i + 1] - 1
        i += 1
        if e < s or e + 3 < lo:
            continue
        if overlap(start, stop, s, e):
            introns_hit.append(i - 1)
        if overlap(start, stop, s + 2, e - 2) or (insertion and (start == s + 2 or stop == e - 2)):
            intronic = True
        low_site, high_site = overlap(start, stop, s, s + 1), overlap(start, stop, e - 1, e)
        if m.plus:
            donor |= low_site
            acceptor |= high_site
            fifth |= overlap(start, stop, s + 4, s + 4)
            donor_region |= overlap(start, stop, s + 2, s + 5)
            tract |= overlap(lo, hi, e - 16, e - 2)
        else:
            donor |= high_site
            acceptor |= low_site
            fifth |= overlap(start, stop, e - 4, e - 4)
            donor_region |= overlap(start, stop, e - 5, e - 2)
            tract |= overlap(lo, hi, s + 2, s + 16)
        if not (low_site or high_site):
            region |= _splice_region(start, stop, s, e, insertion)
    return exons_hit, introns_hit, (donor, acceptor, fifth, donor_region, tract, region, intronic)


def _splice_region(start: int, stop: int, s: int, e: int, insertion: bool) -> bool:
    """3-8 bases into intron s..e or 1-3 into the exon, at either end (VEP's _intron_overlap)."""
    return (
        overlap(start, stop, s + 2, s + 7)
        or overlap(start, stop, e - 7, e - 2)
        or overlap(start, stop, s - 3, s - 1)
        or overlap(start, stop, e + 1, e + 3)
        or (insertion and (start == s or stop == e or start == s + 2 or stop == e - 2))
    )


def _numbers(indexes: list[int], total: int, plus: bool) -> str:
    """EXON/INTRON: the features' numbers from the transcript's 5' end (indexes ascend in genomic order)."""
    if not indexes:
        return ""
    if plus:
        low, high = indexes[0] + 1, indexes[-1] + 1
    else:
        low, high = total - indexes[-1], total - indexes[0]
    return f"{low}/{total}" if low == high else f"{low}-{high}/{total}"


def cds_position(m: TranscriptMap, c: int | None) -> int | None:
    if c is None or c < m.cds_start or c > m.cds_end:
        return None
    return c - m.cds_start + 1


def positions(five: int | None, three: int | None) -> str:
    """VEP's position field: 12, 12-14, an insertion's two flanks 12-13, "?" for an end off the feature."""
    if five is not None and three is not None:
        low, high = min(five, three), max(five, three)
        return str(low) if low == high else f"{low}-{high}"
    if five is None and three is None:
        return ""
    return f"?-{three}" if five is None else f"{five}-?"

"""The annotation engine: one VCF in, an annotated VCF + log + JSON summary out.

`annotate_file` streams its input in blocks of bytes (memory stays flat with
input size), splits each block into fields with numpy (`records`), annotates
it with numpy (`annotate`), and writes the output as it goes (`render`);
reading and parsing, and rendering and writing, run in threads beside it
(`background`): the CSQ texts, most of the output's bytes, are laid out by the
consequences op and written by the writer's thread while this one annotates
the next block.
It runs in a worker process: module-level, picklable arguments, no state kept
between calls except the reference cache.
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from annotator import __version__, render
from annotator.annotate import Annotation, Annotator
from annotator.background import BackgroundWriter, read_ahead
from annotator.builds import UCSC_HG19_CHRM_LENGTH, Detected, contig_attributes, detect
from annotator.input_gas import InputGasKeys
from annotator.liftover import LIFT_STATUS, Chain, on_target
from annotator.limits import LimitExceeded, Limits
from annotator.ops.base import Batch
from annotator.records import Records, Skipped, parse
from annotator.refcheck import HEADER as REF_MISMATCH_HEADER
from annotator.refcheck import KEY as REF_MISMATCH
from annotator.refcheck import RefCheck
from annotator.reference import Reference, ReferenceMissing, installed_builds, load
from annotator.render import Edits
from annotator.sequence import Sequence
from annotator.textjoin import Arena, Buffer
from annotator.vcf import Header, VcfError, VcfReader

__all__ = ["VcfError", "annotate_file"]

DEFAULT_BUILD = "GRCh37"
_OLD_META = re.compile(r"^##(INFO|FORMAT|FILTER)=([^<].*)$")

RCRS_LENGTH = 16569  # the revised Cambridge Reference Sequence: GRCh37's MT and GRCh38's chrM


@dataclass
class Plan:
    """Which reference to annotate on, and what the log must say about it."""

    declared: str | None
    evidence: str
    requested: str
    used: str
    lift_from: str | None
    note: str


def plan_build(detected: Detected, requested: str, installed: list[str], ref_root: Path) -> Plan:
    notes: list[str] = []
    if requested != "auto":
        source = requested
        if detected.build and detected.build != requested:
            notes.append(
                f"the header says {detected.build} ({detected.evidence}); "
                f"annotated as {requested} as requested"
            )
    elif detected.build:
        source = detected.build
    else:
        source = DEFAULT_BUILD
        notes.append(f"no build declared in the header; assumed {DEFAULT_BUILD}")
    if source in installed:
        return Plan(detected.build, detected.evidence, requested, source, None, "; ".join(notes))
    for target in installed:
        ref = load(ref_root, target)
        if ref.chain(source) is not None:
            notes.append(
                f"input is {source}: lifted over to {target} with {ref.meta['liftover'][source]['file']}"
            )
            return Plan(detected.build, detected.evidence, requested, target, source, "; ".join(notes))
    if requested != "auto" or not installed:
        raise ReferenceMissing(ref_root, source)
    used = DEFAULT_BUILD if DEFAULT_BUILD in installed else installed[0]
    notes.append(
        f"MISMATCH: input is {source} but only {', '.join(installed)} is installed and no lift-over "
        f"from {source} exists; positions were annotated as {used} coordinates unchanged, so genes "
        f"and bands may be wrong (install with `gas reference install --build {source}`)"
    )
    return Plan(detected.build, detected.evidence, requested, used, None, "; ".join(notes))


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        self.lines.append(f"[{time.monotonic() - self.t0:7.2f}s] {message}")


def _convert_v3_meta(line: str) -> str:
    """VCF v3.3 ``##INFO=DP,1,Integer,"Total Depth"`` → v4 angle-bracket form."""
    m = _OLD_META.match(line)
    if not m:
        return line
    kind, body = m.groups()
    parts = [p.strip() for p in re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)', body)]
    if kind == "FILTER":
        desc = parts[1].strip('"') if len(parts) > 1 else ""
        return f'##FILTER=<ID={parts[0]},Description="{desc}">'
    if len(parts) < 4:
        return line
    ident, number, typ = parts[0], parts[1], parts[2]
    desc = ",".join(parts[3:]).strip('"').replace('"', "'")
    number = "." if number in ("-1", "") else number
    return f'##{kind}=<ID={ident},Number={number},Type={typ},Description="{desc}">'


class _Contigs:
    """Per-run cache: input contig name → reference contig (and lift-over source)."""

    def __init__(self, ref: Reference, chain: Chain | None, header: Header, plan: Plan):
        self.ref = ref
        self.chain = chain
        self.cache: dict[str, tuple[int, int]] = {}
        self.index: dict[str, int] = {}
        self.lengths: dict[str, int] = {}
        for line in header.meta:
            if line.startswith("##contig="):
                attrs = contig_attributes(line)
                if attrs.get("length", "").isdigit() and "id" in attrs:
                    self.lengths[attrs["id"]] = int(attrs["length"])
        self.notes: list[str] = []
        self.dst: list[int] = [ref.contig_index(n) for n in chain.dst_names] if chain is not None else []
        self.declared: dict[int, str] = {}  # reference contig → its ##contig ID in the output

    def lookup(self, name: str) -> tuple[int, int]:
        """(reference contig or -1, chain source contig or -1)."""
        got = self.cache.get(name)
        if got is None:
            idx = self.ref.contig_index(name)
            if name.lower() in ("chrm", "m") and idx >= 0 and self.ref.build == "GRCh37":
                if self.lengths.get(name) == UCSC_HG19_CHRM_LENGTH:
                    self.notes.append(
                        f"{name} is declared {UCSC_HG19_CHRM_LENGTH} bp long: that is UCSC hg19's chrM "
                        "(NC_001807), not rCRS; its variants were annotated at rCRS positions and "
                        "may be off by a few bases"
                    )
                else:
                    self.notes.append(f"{name} read as the rCRS mitochondrion (GRCh37 MT)")
            src = -1
            is_mito = idx >= 0 and self.ref.display(idx) in ("MT", "M")
            if self.chain is not None and not is_mito:
                # NCBI36 and GRCh37 share the rCRS mitochondrion in the 1000 Genomes
                # references, so MT is never lifted.
                src = self.chain.source_contig(name)
                idx = -1
            got = (idx, src)
            self.cache[name] = got
            self.index[name] = idx
        return got


def annotate_file(
    input_path: Path,
    output_path: Path,
    *,
    reference_root: Path,
    build: str = "auto",
    log_path: Path | None = None,
    summary_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
    upstream_window: int = 5000,
    skip_bad_lines: bool = False,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Annotate `input_path` into `output_path`; returns the summary dict.

    Raises VcfError (with `.line`) for input that is not a readable VCF, and
    ReferenceMissing when no reference is installed for the build to use.
    With `skip_bad_lines`, records that cannot be read (wrong column count,
    bad POS, empty CHROM/REF/ALT, a symbolic END before POS) are left out and counted, with their first
    line numbers, in the log and the summary's ``skipped``. With `limits`, an
    input that crosses one raises LimitExceeded as soon as it does; the partial
    output is removed, as on any failure.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    reference_root = Path(reference_root)
    log = _Log()
    log(f"GAS annotation engine {__version__}")
    log(f"input {input_path.name} ({input_path.stat().st_size:,} bytes)")
    # A regular file is written beside and renamed into place, so a failed run
    # never leaves half a VCF; /dev/null, a FIFO or /dev/stdout are written as they are.
    direct = output_path.exists() and not output_path.is_file()
    tmp = output_path if direct else output_path.with_name(output_path.name + ".part")
    # Many short-lived objects, none in reference cycles: the cyclic GC would
    # rescan them all on every generation-0 pass.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with VcfReader(input_path, limits) as reader:
            summary = _run(
                reader, tmp, reference_root, build, upstream_window, progress, log, skip_bad_lines,
                reader.limits.records,
            )
        if not direct:
            os.replace(tmp, output_path)
    except (VcfError, LimitExceeded) as exc:
        log(f"FAILED: {exc}")
        _write_log(log_path, log)
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
        if not direct:
            tmp.unlink(missing_ok=True)
    log(f"wrote {output_path.name}")
    summary["elapsed_seconds"] = round(time.monotonic() - log.t0, 3)
    _write_log(log_path, log)
    if summary_path is not None:
        summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    if progress is not None:
        progress(100)
    return summary


def _write_log(path: Path | None, log: _Log) -> None:
    if path is not None:
        path.write_text("\n".join(log.lines) + "\n", errors="surrogateescape")


def _batch(rec: Records, cidx: npt.NDArray[np.int64], sep: bytes | None) -> Batch:
    """The records as the annotator takes them. With `sep` (fast path) each
    row's text is framed for insertion: a ";" after an INFO value, and the
    TAB or LF it replaces; without (slow path) the texts come bare."""
    data = np.frombuffer(rec.data, np.uint8)
    annotated = cidx >= 0
    bare = np.zeros(len(rec), np.int64)
    ref_start, alt_start = rec.ends[:, 2] + 1, rec.ends[:, 3] + 1
    upper = np.uint8(0xDF)  # ASCII letters: clearing bit 5 makes them upper case
    return Batch(
        contig=cidx,
        start=rec.pos,
        end=rec.end,
        single_base=(rec.ends[:, 3] - ref_start == 1) & (rec.ends[:, 4] - alt_start == 1),
        ref_base=data[ref_start] & upper,
        alt_base=data[alt_start] & upper,
        alleles=lambda i: (rec.field(i, 3), rec.field(i, 4)),
        text=data,
        ref_at=ref_start,
        ref_end=rec.ends[:, 3],
        alt_at=alt_start,
        alt_end=rec.ends[:, 4],
        lead=bare if sep is None else (annotated & ~rec.info_dot & ~rec.info_empty).astype(np.int64),
        tail=bare if sep is None else (~(annotated & rec.info_dot)).astype(np.int64),
        tails=(b"",) if sep is None else (b"", sep),
    )


def _run(
    reader: VcfReader,
    out_path: Path,
    reference_root: Path,
    requested: str,
    window: int,
    progress: Callable[[int], None] | None,
    log: _Log,
    skip_bad: bool,
    max_records: int | None,
) -> dict[str, Any]:
    header = reader.read_header()
    log(
        f"header: {header.fileformat or 'no ##fileformat line'}, {len(header.meta)} meta lines, "
        f"{len(header.samples)} samples, {'gzip' if reader.compressed else 'plain text'}"
    )
    detected = detect(header.meta)
    log(f"build declared: {detected.build or 'none'} ({detected.evidence})")
    plan = plan_build(detected, requested, installed_builds(reference_root), reference_root)
    ref = load(reference_root, plan.used)
    chain = ref.chain(plan.lift_from) if plan.lift_from else None
    log(f"annotating on {ref.build} ({ref.meta['annotation']}; {ref.provenance()})")
    if plan.note:
        log(f"NOTE: {plan.note}")
    if skip_bad:
        log("bad lines are skipped and counted (as asked), not fatal")
    annotator = Annotator(ref, window)
    contigs = _Contigs(ref, chain, header, plan)
    sequence = Sequence.of(ref)
    ref_check = RefCheck(sequence) if sequence.any() else None
    v3 = header.version() < (4, 0)

    n_tabs = len(header.columns) - 1
    sep = b"\t" if n_tabs >= 8 else b"\n"
    input_gas = InputGasKeys()
    per_chrom: Counter[str] = Counter()
    unannotated: Counter[str] = Counter()
    skipped = Skipped()
    lift_failed: Counter[str] = Counter()
    outside = Skipped()  # not skipped: kept, flagged, counted the same way
    contig_lengths = np.asarray(ref.meta["contigs"]["lengths"], np.int64)
    alleles = multiallelic = symbolic = lifted = records = longest_line = 0
    last_pct = -1

    with out_path.open("wb") as out_file:
        # Reading and splitting into fields (mostly numpy, which lets go of the
        # GIL) run a block ahead in a thread, while this one annotates.
        parsed = (
            parse(first, input_gas.strip(block), n_tabs, skipped, skip_bad)
            for first, block in reader.blocks()
        )
        blocks = read_ahead(parsed)
        # The header waits for the first records: their CHROM names say how the
        # ##contig lines the output needs are spelled ("chr1" or "1").
        first_rec = next((r for r in blocks if r is not None), None)
        first_names = first_rec.chrom_names if first_rec is not None else []
        contigs.declared = _declared_names(ref, first_names, lifted=chain is not None)
        text = _header_text(header, annotator, plan, ref, v3, first_rec is not None, contigs.declared)
        out_file.write(text.encode("utf-8", "surrogateescape"))
        arena = Arena()
        # One block queued for the writer, not two: a block's laid-out texts are most of what a run
        # holds (a gene-dense block's the most), and a deeper queue was no faster (1M and 5M records).
        with BackgroundWriter(out_file, depth=1) as out:
            for rec in itertools.chain([first_rec], blocks):
                if rec is None:
                    continue
                if max_records is not None and records + len(rec) > max_records:
                    raise LimitExceeded("records", max_records, int(rec.line_no[max_records - records]))
                records += len(rec)
                longest_line = max(longest_line, int((rec.line_end - rec.starts).max()))
                alleles += rec.alleles
                multiallelic += rec.multiallelic
                symbolic += rec.symbolic
                names = rec.chrom_names
                per_chrom.update(dict(zip(names, np.bincount(rec.chrom_code).tolist(), strict=False)))
                looked = [contigs.lookup(name) for name in names]
                cidx = np.array([idx for idx, _ in looked], np.int64)[rec.chrom_code]
                edits = Edits(v3=v3)
                unchanged = np.ones(len(rec), bool)  # REF as written: lifted records take the genome's
                if chain is not None:
                    src = np.array([s for _, s in looked], np.int64)[rec.chrom_code]
                    unchanged = src < 0
                    cidx, lifted_here = _lift(
                        chain, contigs, rec, src, cidx, plan, lift_failed, edits, sequence, ref_check
                    )
                    lifted += lifted_here
                cidx = _flag_outside(rec, cidx, contig_lengths, edits, outside)
                mismatch = ref_check.check(rec, cidx, unchanged) if ref_check else np.empty(0, np.int64)
                missing = cidx < 0
                missing[list(edits.info)] = False  # not lifted or outside the contig: counted apart
                for code, k in enumerate(np.bincount(rec.chrom_code[missing], minlength=len(names)).tolist()):
                    if k:
                        unannotated[names[code]] += k
                # The block's text is made and written on the writer's thread (`arena`, for the
                # ops' texts left for later, is its own), while this one annotates the next.
                if edits.needed:
                    batch = _batch(rec, cidx, None)
                    ann = annotator.annotate(batch)
                    RefCheck.mark(ann, batch.lead, mismatch)
                    out.write(functools.partial(_slow, rec, ann, edits, arena))
                else:
                    batch = _batch(rec, cidx, sep)
                    ann = annotator.annotate(batch)
                    RefCheck.mark(ann, batch.lead, mismatch)
                    out.write(functools.partial(_fast, rec, ann, rec.info_dot & (cidx >= 0), arena))
                if progress is not None and reader.size:
                    pct = min(99, int(100 * reader.bytes_consumed / reader.size))
                    if pct >= last_pct + 5:
                        progress(pct)
                        last_pct = pct
    for note in contigs.notes:
        log(f"NOTE: {note}")
    build_note = "; ".join([plan.note, *contigs.notes]) if contigs.notes else plan.note
    lines_read = reader.line_no
    summary: dict[str, Any] = {
        "engine": f"gas-annotator {__version__}",
        "input": {
            "file": reader.path.name,
            "bytes": reader.size,
            "compressed": reader.compressed,
            "fileformat": header.fileformat,
            "samples": len(header.samples),
        },
        "lines_read": lines_read,
        "header_lines": header.line_count,
        "variant_count": records,
        "longest_line": longest_line,
        "allele_count": alleles,
        "multiallelic": multiallelic,
        "symbolic": symbolic,
        "annotated": annotator.variants,
        "per_chromosome": dict(per_chrom),
        **annotator.summary(records),
        "unannotated_contigs": dict(unannotated),
        "build": {
            "declared": plan.declared,
            "evidence": plan.evidence,
            "requested": plan.requested,
            "used": plan.used,
            "lifted_from": plan.lift_from,
            "note": build_note,
        },
        "reference": {
            "build": ref.build,
            "annotation": ref.meta["annotation"],
            "sources": ref.provenance(),
            "upstream_window": window,
        },
        "outside_contig": {
            "count": outside.counts[_OUTSIDE_REASON],
            "first_lines": outside.first_lines.get(_OUTSIDE_REASON, []),
        },
        "skip_bad_lines": skip_bad,
        "skipped": skipped.as_dict(),
        "input_gas_values_dropped": input_gas.summary(),
    }
    if chain is not None:
        summary["liftover"] = {"lifted": lifted, "failed": dict(lift_failed)}
    if ref_check is not None:
        summary["ref_checked"] = ref_check.checked
        summary["ref_mismatch"] = ref_check.mismatched
    log(f"{lines_read:,} lines read: {header.line_count:,} header, {records:,} records")
    for reason, n in skipped.counts.items():
        first_lines = ", ".join(map(str, skipped.first_lines[reason]))
        log(f"skipped {n:,} x {reason} (first at line {first_lines})")
    log(
        f"{records:,} variants ({alleles:,} ALT alleles, {multiallelic:,} multi-allelic, "
        f"{symbolic:,} symbolic)"
    )
    if chain is not None:
        log(
            f"lift-over {plan.lift_from}->{ref.build}: {lifted:,} lifted, "
            f"{sum(lift_failed.values()):,} not lifted"
        )
        for reason, n in lift_failed.items():
            log(f"  not lifted: {n:,} x {reason} (kept, flagged GAS_UNLIFTED, not annotated)")
    if outside.counts:
        first_lines = ", ".join(map(str, outside.first_lines[_OUTSIDE_REASON]))
        log(
            f"{outside.counts[_OUTSIDE_REASON]:,} variants outside their contig (POS before 1, or past "
            f"the contig's {ref.build} length; first at line {first_lines}): kept, flagged "
            "GAS_OUTSIDE_CONTIG, not annotated"
        )
    if input_gas.records:
        log(f"NOTE: {input_gas.note()}")
    for contig, n in unannotated.items():
        log(f"no {ref.build} reference data for contig {contig!r}: {n:,} variants kept unannotated")
    log(f"annotated {annotator.variants:,} variants on {ref.build}")
    if ref_check is not None:
        log(ref_check.log_line(ref.build))
    log("region classes: " + ", ".join(f"{k} {v:,}" for k, v in summary["per_region_class"].items()))
    log(f"with a common SNP's rsID: {summary['in_dbsnp']:,} ({summary['dbsnp_share']:.1%})")
    if summary["clinvar"]:
        found = ", ".join(f"{sig} {n:,}" for sig, n in summary["clinvar"].items())
        log(f"in ClinVar's pathogenic subset (ALT alleles): {found}")
    return summary


def _fast(
    rec: Records, ann: Annotation, drop_dot: npt.NDArray[np.bool_], arena: Arena, into: Buffer
) -> memoryview:
    return render.fast(rec, ann.finish(arena), drop_dot, into)


def _slow(rec: Records, ann: Annotation, edits: Edits, arena: Arena, into: Buffer) -> bytes:
    return render.slow(rec, ann.finish(arena), edits)


_OUTSIDE = b"GAS_OUTSIDE_CONTIG"
_OUTSIDE_REASON = "outside the contig"
_OUTSIDE_INFO = (
    f"##INFO=<ID={_OUTSIDE.decode()},Number=0,Type=Flag,Description=\"POS is before 1 or the variant "
    "ends past its contig in the build it was annotated on (kept, not annotated)\">"
)


def _flag_outside(
    rec: Records, cidx: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], edits: Edits, counted: Skipped
) -> npt.NDArray[np.int64]:
    """Records the build cannot hold (after any lift-over) are not annotated:
    flagged, counted, and kept, since VCF allows POS 0 and length + 1 for
    telomeric breakends and a whole file out of range says "wrong build" more
    plainly kept than dropped."""
    known = cidx >= 0
    outside = known & ((rec.pos < 1) | (rec.end > lengths[np.maximum(cidx, 0)]))
    if not outside.any():
        return cidx
    for i in np.flatnonzero(outside).tolist():
        edits.info[i] = edits.info[i] + b";" + _OUTSIDE if i in edits.info else _OUTSIDE
        counted.add(_OUTSIDE_REASON, int(rec.line_no[i]))
    return np.where(outside, -1, cidx)


_INFO_END = re.compile(rb"(?:^|;)END=(\d{1,10})(?=;|$)")
_END_KEY = re.compile(rb"END=")
_END_NOT_LIFTED = -1
_LIFT_FAILURES = {**LIFT_STATUS, _END_NOT_LIFTED: "END outside the lifted span"}


def _rows_with_end(rec: Records) -> set[int]:
    """Rows whose INFO holds "END=": found in the whole block at once, since
    most files have none and a search per lifted row costs a tenth of the lift."""
    hits = np.array([m.start() for m in _END_KEY.finditer(rec.data)], np.int64)
    if not len(hits):
        return set()
    rows = np.searchsorted(rec.line_end, hits)
    in_info = (hits > rec.ends[rows, 6]) & (hits < rec.ends[rows, 7])
    return set(rows[in_info].tolist())


def _lift(
    chain: Chain,
    contigs: _Contigs,
    rec: Records,
    src: npt.NDArray[np.int64],
    cidx: npt.NDArray[np.int64],
    plan: Plan,
    failed: Counter[str],
    edits: Edits,
    sequence: Sequence,
    ref_check: RefCheck | None,
) -> tuple[npt.NDArray[np.int64], int]:
    """Move records to the target build (rec.pos/end change); unliftable ones are kept and flagged.
    Where the target has a sequence, REF is the target's and reverse-strand mappings are
    reverse-complemented (`liftover.on_target`); elsewhere they are refused."""
    dst, new_pos, status, reverse = chain.lift_stranded(src, rec.pos, rec.end)
    mapped = np.array([*contigs.dst, -1], dtype=np.int64)[dst]
    on_seq = (mapped >= 0) & (sequence.length[np.maximum(mapped, 0)] > 0)
    status = np.where(reverse & ~on_seq, 2, status)
    ok = (status == 0) & (mapped >= 0)
    span = rec.end - rec.pos
    cidx = cidx.copy()
    st = status.tolist()
    lifted = 0
    changed: list[int] = []
    retargeted = 0
    with_end = _rows_with_end(rec)
    for i in np.flatnonzero(src >= 0).tolist():
        chrom = rec.chrom_names[int(rec.chrom_code[i])]
        reason, alleles, ref_changed = "", None, False
        if ok[i] and on_seq[i]:
            got = on_target(
                rec.field(i, 3), rec.field(i, 4), int(new_pos[i]), bool(reverse[i]),
                sequence.fetcher(int(mapped[i])),
            )
            if isinstance(got, str):
                ok[i], reason = False, got
            else:
                new_pos[i], new_ref, new_alt, ref_changed = got
                alleles = (new_ref, new_alt)
        if ok[i] and i in with_end and (m := _INFO_END.search(rec.field(i, 7))):
            end = int(m.group(1))
            if rec.pos[i] <= end <= rec.end[i]:
                # Inside the span the chain moved whole, so it moves by the same offset.
                edits.end[i] = str(end + int(new_pos[i] - rec.pos[i])).encode()
            else:
                ok[i] = False  # an END the lift did not check (beyond a plain REF): not guessed
                st[i] = _END_NOT_LIFTED
        if ok[i]:
            edits.chrom[i] = contigs.declared[int(mapped[i])].encode()
            edits.pos[i] = str(int(new_pos[i])).encode()
            orig = f"GAS_ORIG={plan.lift_from}:{chrom}:{int(rec.pos[i])}"
            edits.info[i] = orig.encode("utf-8", "surrogateescape")
            cidx[i] = mapped[i]
            lifted += 1
            if alleles is not None:
                edits.alleles[i] = alleles
                retargeted += 1
                if ref_changed:
                    changed.append(i)
        else:
            reason = reason or _LIFT_FAILURES.get(st[i], "lifted to a contig this build lacks")
            edits.info[i] = b"GAS_UNLIFTED=" + reason.replace(" ", "_").encode()
            failed[reason] += 1
            cidx[i] = -1
    if ref_check is not None:
        for i in changed:
            edits.info[i] += f";{REF_MISMATCH}".encode()
        ref_check.count(retargeted, rec.line_no[changed].tolist())
    # Records not lifted (MT, unliftable ones) are written as the header declares
    # their contig when it has another spelling (M, chrMT): BCF needs every CHROM declared.
    idents = [contigs.declared.get(contigs.ref.contig_index(name), name) for name in rec.chrom_names]
    respelled = np.array([i != n for i, n in zip(idents, rec.chrom_names, strict=True)])[rec.chrom_code]
    for i in np.flatnonzero(~ok & respelled).tolist():
        edits.chrom[i] = idents[int(rec.chrom_code[i])].encode()
        edits.pos[i] = str(int(rec.pos[i])).encode()
    rec.pos = np.where(ok, new_pos, rec.pos)
    rec.end = np.where(ok, new_pos + span, rec.end)
    return cidx, lifted


def _declared_names(ref: Reference, first_names: list[str], lifted: bool) -> dict[int, str]:
    """The build's contigs as the output declares them: chromosomes spelled as the
    first record is ("chr1" or "1"), the mitochondrion as the first block spells
    it (else "chrM" or "MT"; read as rCRS). Alternate haplotypes and unplaced
    scaffolds (UCSC names) only when lifted records may land there; otherwise
    the input declares its own."""
    chr_style = bool(first_names) and first_names[0].lower().startswith("chr")
    mito = next((n for n in first_names if n.lower().removeprefix("chr") in ("m", "mt")), None)
    names = {}
    for idx, name in enumerate(ref.contig_names):
        short = name.removeprefix("chr")
        if short in ("M", "MT"):
            names[idx] = mito or ("chrM" if chr_style else "MT")
        elif short.isdigit() or short in ("X", "Y"):
            names[idx] = "chr" + short if chr_style else short
        elif lifted:
            names[idx] = name
    return names


def _contig_lines(ref: Reference, declared: dict[int, str]) -> list[str]:
    lengths = ref.meta["contigs"]["lengths"]
    return [
        f"##contig=<ID={ident},length={RCRS_LENGTH if ref.display(idx) in ('M', 'MT') else lengths[idx]},"
        f"assembly={ref.build}>"
        for idx, ident in declared.items()
    ]


# The input's own declarations of what GAS writes (see input_gas).
_REPLACED_META = ("##INFO=<ID=GAS_", "##INFO=<ID=CSQ,", "##GAS")


def _header_text(
    header: Header, annotator: Annotator, plan: Plan, ref: Reference, v3: bool,
    has_records: bool, declared: dict[int, str],
) -> str:
    meta = [
        m for m in header.meta
        if not m.startswith(_REPLACED_META) or m.startswith(_INPUT_PROVENANCE)
    ]
    add_contigs = has_records and not any(m.startswith("##contig=") for m in meta)
    if plan.lift_from:
        # The input's contig lines describe the old build's sequences (those the
        # build lacks stay: their records stay too, unlifted); its ##reference
        # would make a re-annotation lift the output once more.
        meta = [_renamed_reference(m) for m in meta if not _builds_contig(m, ref)]
        add_contigs = has_records
    if add_contigs:
        # bcftools and htslib want every CHROM declared (BCF cannot be written without).
        meta += _contig_lines(ref, declared)
    if v3:
        # bcftools and htslib reject v3.3 meta lines; the v4 forms say the same.
        meta = [_convert_v3_meta(m) for m in meta]
        if meta and meta[0].startswith("##fileformat="):
            meta[0] = "##fileformat=VCFv4.2"
        else:
            meta.insert(0, "##fileformat=VCFv4.2")
    elif not (meta and meta[0].startswith("##fileformat=")):
        meta.insert(0, "##fileformat=VCFv4.2")
    lines = [*meta, *annotator.info_headers(lifted=plan.lift_from is not None), _OUTSIDE_INFO]
    if Sequence.of(ref).any():
        lines.append(REF_MISMATCH_HEADER)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines += [
        f"##GAS_version={__version__}",
        f"##GAS_date={stamp}",
        f'##GAS_reference=<Build={ref.build},Annotation="{ref.meta["annotation"]}",Sources="{ref.provenance()}">',
        f'##GAS_buildDeclared=<Build={plan.declared or "none"},Evidence="{_quote(plan.evidence)}">',
    ]
    if v3:
        lines.append(f"##GAS_inputFileformat={header.fileformat}")
    if plan.note:
        lines.append(f'##GAS_note="{_quote(plan.note)}"')
    lines.append("\t".join(header.columns))
    return "\n".join(lines) + "\n"


def _builds_contig(line: str, ref: Reference) -> bool:
    """A ##contig line for a sequence the build has (under any of its names)."""
    return line.startswith("##contig=") and ref.contig_index(contig_attributes(line).get("id", "")) >= 0


# Header lines that describe the original input: kept when GAS's output is annotated again.
_INPUT_PROVENANCE = ("##GAS_inputReference=", "##GAS_inputAssembly=")


def _renamed_reference(line: str) -> str:
    for key, kept in (("##reference=", "##GAS_inputReference="), ("##assembly=", "##GAS_inputAssembly=")):
        if line.lower().startswith(key):
            return kept + line[len(key) :]
    return line


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")

"""A job: its attributes, its states, and the object keys that belong to it."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

Status = Literal["pending", "running", "completed", "failed", "cancelled", "deleting"]
Storage = Literal["hot", "archiving", "cold", "restoring"]

PENDING: Status = "pending"
RUNNING: Status = "running"
COMPLETED: Status = "completed"
FAILED: Status = "failed"
CANCELLED: Status = "cancelled"
DELETING: Status = "deleting"
FINISHED: tuple[Status, ...] = (COMPLETED, FAILED)
# What may be deleted: a job nothing works on any more (a deletion cut short is deleted again).
ENDED: tuple[Status, ...] = (COMPLETED, FAILED, CANCELLED, DELETING)

# The moves a job's status may make; the job store refuses any other (app/ports/jobs). A move
# to the same status writes other fields: a running job's progress, a completed job's storage.
STATUS_MOVES: dict[Status, frozenset[Status]] = {
    # an annotator claims it, or gives up on it; its owner cancels it
    PENDING: frozenset({RUNNING, FAILED, CANCELLED}),
    # progress; back to pending when moved to the large lane (annotator/worker.py); done
    RUNNING: frozenset({RUNNING, PENDING, COMPLETED, FAILED, CANCELLED}),
    COMPLETED: frozenset({COMPLETED, DELETING}),  # its result's storage moves; deleted
    FAILED: frozenset({DELETING}),
    CANCELLED: frozenset({DELETING}),
    # Every other move is conditional on the states above, so a job being deleted is
    # left alone by the annotator and the daemons (app/jobs/control.py).
    DELETING: frozenset({DELETING}),
}
# The moves a completed job's result may make (app/jobs/storage.py). None is a job without a
# result: it becomes hot as the job completes. An upgrade while archiving turns the move back
# (archiving → hot or restoring); a same-state move rewrites the restore or its storage error.
STORAGE_MOVES: dict[Storage | None, frozenset[Storage]] = {
    None: frozenset({"hot"}),
    "hot": frozenset({"hot", "archiving"}),
    "archiving": frozenset({"archiving", "cold", "hot", "restoring"}),
    "cold": frozenset({"cold", "restoring"}),
    "restoring": frozenset({"restoring", "hot"}),
}


class ForbiddenMove(ValueError):
    """A transition the state machines do not allow: a bug in its caller, never retried away."""


def check_move(was: Iterable[Status], to: Status, when: dict[str, Any] | None,
               fields: dict[str, Any]) -> None:
    """Raise :class:`ForbiddenMove` unless every status in ``was`` may move to ``to`` and a
    storage write names the storage it leaves (``when``), bar a result stored on completion."""
    for status in was:
        if to not in STATUS_MOVES.get(status, frozenset()):
            raise ForbiddenMove(f"a job's status cannot move from {status!r} to {to!r}")
    if "storage" not in fields:
        return
    storage = fields["storage"]
    leaves = (when or {}).get("storage")
    if leaves is None and (to != COMPLETED or COMPLETED in was):
        raise ForbiddenMove(f"a storage move to {storage!r} must say which storage it leaves")
    if storage not in STORAGE_MOVES.get(leaves, frozenset()):
        raise ForbiddenMove(f"a result's storage cannot move from {leaves!r} to {storage!r}")

# The longest object key, in UTF-8 bytes: S3's limit, and the local store's.
MAX_KEY_BYTES = 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def utcnow() -> datetime:
    return datetime.now(UTC)


def safe_file_name(name: str, max_length: int = 120) -> str:
    """A name that is safe as the last part of an object key and of a path.

    Keeps letters, digits, ``.``, ``_`` and ``-``; drops directories, control and
    bidi characters, and leading dots, so nothing a user names can leave their prefix.
    """
    name = unicodedata.normalize("NFKD", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = name.encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("_", name).strip("._-")
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        keep = max_length - len(ext) - 1
        name = f"{stem[:keep]}.{ext}" if dot and 0 < len(ext) < 12 else name[:max_length]
    return name or "input.vcf"


def file_stem(name: str) -> str:
    """The name a person gave the input, safe, without its .vcf/.gz/.bgz: what the names of
    the files made from it start with (``free_1.vcf.gz`` → ``free_1``)."""
    stem = safe_file_name(name)
    for suffix in (".gz", ".bgz", ".vcf"):
        stem = stem.removesuffix(suffix)
    return stem or "input"


def display_file_name(name: str, max_length: int = 255) -> str:
    """The name a person gave, minus what can hide or fake text (controls, bidi)."""
    cleaned = "".join(
        ch for ch in name.replace("\\", "/").rsplit("/", 1)[-1]
        if unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return cleaned.strip()[:max_length] or "input.vcf"


# Every input key starts here: <prefix><user_id>/<job_id>~<file name>.
INPUTS_PREFIX = "inputs/"


def input_prefix(user_id: str) -> str:
    return f"{INPUTS_PREFIX}{user_id}/"


def input_key(user_id: str, job_id: str, file_name: str) -> str:
    return f"{input_prefix(user_id)}{job_id}~{file_name}"


def result_prefix(user_id: str, job_id: str) -> str:
    return f"results/{user_id}/{job_id}~"


def result_job_id(key: str) -> str | None:
    """The job a result key belongs to (``results/<user_id>/<job_id>~<name>``); None if none."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "results":
        return None
    try:
        return str(uuid.UUID(parts[2].partition("~")[0]))
    except ValueError:
        return None


def table_key(job: Job) -> str:
    """The results viewer's table of a job, beside its result."""
    return f"{result_prefix(job.user_id, job.job_id)}variants.arrow"


def result_keys(job: Job) -> tuple[str, str, str, str]:
    """The keys a run stores a job's result, log, summary and results table under (in the
    results bucket), whether or not it got that far."""
    prefix, stem = result_prefix(job.user_id, job.job_id), file_stem(job.input_file_name)
    return f"{prefix}{stem}.annot.vcf", f"{prefix}{stem}.log.txt", f"{prefix}summary.json", table_key(job)


def parse_input_key(user_id: str, key: str) -> tuple[str, str] | None:
    """``(job_id, file name)`` when ``key`` is one of the user's input keys, else None."""
    prefix = input_prefix(user_id)
    # No store holds a key with NUL, or that is not UTF-8 or over S3's 1024 bytes.
    if not key.startswith(prefix) or "\x00" in key:
        return None
    try:
        if len(key.encode()) > MAX_KEY_BYTES:
            return None
    except UnicodeEncodeError:
        return None
    job_part, sep, name = key[len(prefix):].partition("~")
    try:
        job_id = str(uuid.UUID(job_part))
    except ValueError:
        return None
    if job_id != job_part or "/" in name:
        return None
    return job_id, (name if sep else "")


# A running job's phases, in order, each with the part of the job's progress (from, to %) it
# takes: measured on a 1M-variant file here, fetching it took well under a second, annotating
# 9.8 s, building the results table 22 s and storing the results 0.6 s (more on S3). Each phase
# reports how far through it is; the job's progress is where that falls in its part.
PHASES: dict[str, tuple[int, int]] = {
    "reading": (0, 3), "annotating": (3, 35), "table": (35, 92), "storing": (92, 99),
}
PHASE_NAMES = {
    "reading": "reading the file", "annotating": "annotating",
    "table": "building the results table", "storing": "storing the results",
}


def overall_progress(phase: str, fraction: float) -> int:
    """The job's progress (0-99) when `phase` is `fraction` (0-1) done."""
    lo, hi = PHASES[phase]
    return lo + int((hi - lo) * min(max(fraction, 0.0), 1.0))


@dataclass
class Job:
    job_id: str
    user_id: str
    input_file_name: str
    input_bucket: str
    input_key: str
    input_size: int
    submitted_at: datetime
    status: Status = PENDING
    started_at: datetime | None = None
    completed_at: datetime | None = None
    progress: int = 0
    phase: str | None = None  # of a running job: a key of PHASES
    variant_count: int | None = None
    build: str | None = None  # the one chosen; None: detected from the file
    build_used: str | None = None  # the one annotated on, once completed
    skip_bad_lines: bool = False
    lines_skipped: int | None = None  # once completed: bad, blank and stray comment lines
    result_bucket: str | None = None
    result_key: str | None = None
    log_key: str | None = None
    summary_key: str | None = None
    storage: Storage | None = None
    archived_at: datetime | None = None
    restore_requested_at: datetime | None = None
    restore_tier: str | None = None
    storage_error: str | None = None
    error: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> Job:
        data = {k: row[k] for k in cls.__dataclass_fields__ if k in row}
        for key in ("job_id", "user_id"):
            data[key] = str(data[key])
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def summary(self) -> JobSummary:
        return JobSummary(self.job_id, self.submitted_at, self.input_file_name, self.status, self.progress,
                          self.build, self.build_used, self.variant_count, self.storage)


class JobSummary(NamedTuple):
    """What the job list shows of a job: read alone, it is a third of the cost of whole
    jobs, and, being a plain tuple, it keys the list's rendered rows (app/web/job_rows.py)."""

    job_id: str
    submitted_at: datetime
    input_file_name: str
    status: Status
    progress: int
    build: str | None
    build_used: str | None
    variant_count: int | None
    storage: Storage | None

"""Telling "the disk is full" apart from other I/O errors: it is the operator's to fix,
so the person is told plainly, and nothing is retried in a loop meanwhile."""

from __future__ import annotations

import errno

# No space, no quota left, or over the process's file-size limit (RLIMIT_FSIZE).
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL

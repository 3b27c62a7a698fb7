"""Whether a process is still there, for the parts that outlive or clean up after another."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True unless no process has this pid (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""Text that goes into INFO values, and compact storage of many short texts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_INFO_UNSAFE = str.maketrans({";": "_", "=": "_", ",": "_", " ": "_", "\t": "_", "\n": "_"})


def info_safe(value: str) -> str:
    """A name made safe for an INFO value list (no ; = , whitespace)."""
    return value.translate(_INFO_UNSAFE)


def text_blob(texts: list[str]) -> npt.NDArray[np.uint8]:
    """Many short texts stored as one array (newline-separated), read back with `split_blob`."""
    return np.frombuffer("\n".join(texts).encode("utf-8", "surrogateescape"), np.uint8).copy()


def split_blob(blob: npt.NDArray[np.uint8]) -> list[bytes]:
    return bytes(blob).split(b"\n")

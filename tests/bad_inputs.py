"""Making bad inputs out of good ones, and running a case under a time limit.

Every bad file is made at test time from a real one (the demo video, a classroom frame,
a project written by LabelStore, a proposals file written by proposals_file, the model
files), so nothing large is committed and the damage is the kind real files suffer: a
copy cut off, bytes flipped by a bad disk, the wrong file under the right name.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np

# A case that takes longer than this is a hang as far as a user can tell.
CASE_SECONDS = 20


class Hung(Exception):
    """A case ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float = CASE_SECONDS) -> Iterator[None]:
    """Raise :class:`Hung` in the main thread when ``seconds`` pass (a blocking open of a
    pipe or a read of a device is interrupted too)."""

    def expired(signum, frame):
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def truncated(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def flipped(data: bytes, at: int | float, span: int = 16) -> bytes:
    """``span`` bytes inverted at byte ``at`` (or at that fraction of the file)."""
    start = int(len(data) * at) if isinstance(at, float) else at
    out = bytearray(data)
    for i in range(start, min(start + span, len(out))):
        out[i] ^= 0xFF
    return bytes(out)


def random_bytes(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def overwritten(data: bytes, at: float, n: int, seed: int = 0) -> bytes:
    start = int(len(data) * at)
    return data[:start] + random_bytes(n, seed) + data[start + n :]


def snapshot(paths: list[Path]) -> dict[Path, bytes | None]:
    """The bytes of each regular file (None for anything else), to compare after a case."""
    out: dict[Path, bytes | None] = {}
    for path in paths:
        try:
            out[path] = path.read_bytes() if path.is_file() and os.access(path, os.R_OK) else None
        except OSError:
            out[path] = None
    return out

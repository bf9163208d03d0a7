"""Writing a file so that a crash leaves the old one or the new one, never half of one.

Every file Lesson Review writes besides the SQLite project (exports, proposals files,
snapshots, settings) goes through here: a temporary file beside the target (created
owner-only by mkstemp, whatever the umask), fsync, ``os.replace``, then an fsync of the
folder so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` in one step; on any failure the old file stays.
    The new file is readable by its owner only."""
    target = Path(path).expanduser().absolute()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)
    return target


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes_atomically(path, text.encode("utf-8"))


def _fsync_folder(folder: Path) -> None:
    # Makes the rename durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Writing a file so that a crash leaves the old one or the new one, never half of one.

Every file Lesson Review writes besides the SQLite project (exports, proposals files,
snapshots, settings) goes through here: a temporary file beside the target (created
owner-only by mkstemp, whatever the umask), fsync, ``os.replace``, then an fsync of the
folder so the rename itself survives a power cut.

Before anything is computed for a file, :func:`check_target` says whether it may be written
at all: never onto a folder, a device or another non-regular file, never onto a file the
same command reads (the project, the recording), and a text file never replaces one that is
not text (a video or a project file given by mistake).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

_SQLITE_MAGIC = b"SQLite format 3\x00"
# How much of an existing file is read to tell text from anything else.
_SNIFF_BYTES = 64 << 10


class TargetError(Exception):
    """A file Lesson Review was asked to write cannot be written there; the message says
    why and what to do."""

    def __init__(self, path: Path, why: str, advice: str) -> None:
        super().__init__(f"cannot write {path}: {why}. {advice}")
        self.path = path


def check_target(
    path: str | os.PathLike[str],
    *,
    reads: Iterable[str | os.PathLike[str]] = (),
    text: bool,
) -> Path:
    """``path`` as an absolute path, if a file may be written there; else :class:`TargetError`.

    ``reads``: the files the same command reads, which it must never replace. ``text``:
    the new file is text, so an existing file that is not text (a video, a project, an
    image) is refused rather than replaced.
    """
    target = Path(path).expanduser().absolute()
    folder = target.parent
    if not folder.is_dir():
        raise TargetError(
            target,
            f"the folder {folder} does not exist"
            if not folder.exists()
            else f"{folder} is not a folder",
            "Create the folder first, or choose a file in an existing folder.",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TargetError(target, f"the folder {folder} is not writable", "Choose another folder.")
    name_max = _name_max(folder)
    if len(os.fsencode(target.name)) > name_max:
        raise TargetError(
            target, f"the file name is longer than {name_max} bytes", "Choose a shorter name."
        )
    try:
        info = target.stat()
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise TargetError(target, exc.strerror or str(exc), "Choose another file.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise TargetError(target, "it is a folder", "Give a file name inside it instead.")
    if not stat.S_ISREG(info.st_mode):
        raise TargetError(target, "it is not a regular file", "Choose a file name.")
    for source in reads:
        with contextlib.suppress(OSError):
            if os.path.samefile(source, target):
                raise TargetError(
                    target,
                    "it is the file this command reads",
                    "Choose another name for the output; the input is never replaced.",
                )
    if text and not _is_text(target):
        raise TargetError(
            target,
            "a file that is not text is there (a video, a project or an image?)",
            "Choose another name; Lesson Review only replaces text files it could have written.",
        )
    return target


def _is_text(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError:
        return False
    if head.startswith(_SQLITE_MAGIC) or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` in one step; on any failure the old file stays.
    The new file is readable by its owner only."""
    target = Path(path).expanduser().absolute()
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISREG(target.stat().st_mode):
            # A rename over a folder fails anyway; over a device node it would replace it.
            raise TargetError(target, "it is not a regular file", "Choose a file name.")
    # A short temporary name: the target's own name may already be as long as allowed.
    fd, tmp = tempfile.mkstemp(prefix=".lessonreview-", suffix=".tmp", dir=target.parent)
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

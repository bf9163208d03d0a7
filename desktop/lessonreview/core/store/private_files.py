"""Files that only their owner may read: the project, its companions, snapshots.

A project made by Lesson Review is owner-only from its first byte (the label store
creates it 0600, and SQLite gives the -wal and -shm files the database's mode). A
project copied in from elsewhere, or made by an older version, may be readable by
everyone on the machine; :func:`tighten_project` fixes that when it is opened.
POSIX only: on Windows a file in the user's profile is private by its folder's ACL.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_MODE = 0o600
# What SQLite and the label store put beside a project file.
_COMPANIONS = ("-wal", "-shm", "-journal")


def project_files(project: Path) -> list[Path]:
    """The project file and every file beside it that holds its data: the WAL and
    shared-memory files, and the backups made before a migration (``*.bak-vN``)."""
    project = Path(project)
    names = [project, *(project.with_name(project.name + s) for s in _COMPANIONS)]
    names += sorted(project.parent.glob(f"{_glob_escape(project.name)}.bak-v*"))
    return [p for p in names if p.is_file()]


def backups(project: Path) -> list[Path]:
    """Copies of the project made before a migration: they hold what it held then."""
    project = Path(project)
    return sorted(project.parent.glob(f"{_glob_escape(project.name)}.bak-v*"))


def readable_by_others(path: Path) -> bool:
    if os.name != "posix":
        return False
    return bool(Path(path).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def tighten_project(project: Path) -> list[Path]:
    """Make the project's files owner-only; returns those whose mode was changed.

    Call it before opening the database, so that a -wal created by the open inherits
    the tightened mode. Files owned by another user are left alone (chmod would fail,
    and opening them already says what is wrong).
    """
    if os.name != "posix":
        return []
    changed = []
    for path in project_files(project):
        try:
            info = path.stat()
            if info.st_uid != os.getuid() or not readable_by_others(path):
                continue
            os.chmod(path, PRIVATE_MODE)
        except OSError:
            continue  # vanished (a -shm removed by SQLite) or on a filesystem without modes
        changed.append(path)
    return changed


def make_private_folder(folder: Path) -> Path:
    """Create ``folder`` and any missing parents as owner-only (0700), whatever the umask.
    Folders that exist already are left as they are: they are the user's."""
    folder = Path(folder).expanduser().absolute()
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        if os.name == "posix":
            # mkdir's mode is masked by the umask, which may also have cleared owner bits.
            os.chmod(path, 0o700)
    return folder


def _glob_escape(name: str) -> str:
    # A project called "class [3a].lessonreview" must not be read as a glob pattern.
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)

"""Consent before anything is derived from a recording, on the paths without a window.

The desktop app asks for the consent record before it analyses a recording or loads
proposals into it. ``lessonreview analyze`` has no dialog: it finds each recording's
record in a project file (by the recording's content, so a renamed or moved copy is the
same recording), or records one given on the command line for recordings that have
none. A recording without a record is not analysed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lessonreview.core.media.video import Recording, RecordingError, check_file, file_sha256
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Consent


@dataclass(frozen=True)
class ConsentCheck:
    """Per recording: consented, not consented, or not readable (the analysis reports
    why a file cannot be read; no record can be found or made for it)."""

    consented: tuple[Path, ...]
    missing: tuple[Path, ...]
    unreadable: tuple[Path, ...]


def check_consent(
    project: Path, paths: Iterable[Path], *, new: Consent | None = None
) -> ConsentCheck:
    """Which recordings have a consent record in ``project``. With ``new``, recordings
    without a record get it (and are added to the project, which is created if need be);
    existing records are kept as they are. Without ``new``, a missing project file means
    no recording has consent (nothing is created)."""
    if new is not None and new.retention_until < date.today():
        raise ValueError(
            f"the retention date {new.retention_until.isoformat()} has passed: the data "
            "would have to be deleted at once"
        )
    readable, unreadable = {}, []
    for path in paths:
        try:
            check_file(path)
            readable[path] = file_sha256(path)
        except (OSError, RecordingError):
            unreadable.append(path)
    consented, missing = [], []
    if new is None and not project.is_file():
        return ConsentCheck((), tuple(readable), tuple(unreadable))
    # Only a new record is a reason to write: looking one up never creates a project.
    store = LabelStore.open(project, create=new is not None)
    try:
        for path, sha256 in readable.items():
            rid = store.find_recording(sha256=sha256)
            if rid is None and new is not None:
                try:
                    rid = store.add_recording(Recording.open(path).info(sha256=sha256))
                except RecordingError:
                    unreadable.append(path)
                    continue
            if rid is not None and store.consent(rid) is None and new is not None:
                store.set_consent(rid, new)
            if rid is not None and store.consent(rid) is not None:
                consented.append(path)
            else:
                missing.append(path)
    finally:
        store.close()
    return ConsentCheck(tuple(consented), tuple(missing), tuple(unreadable))

"""Keeping data no longer than consented: which recordings are past their keep-until
date, and removing a recording's data from a project when asked.

Qt-free so that the command line (and a scheduled clean-up, one day) can use it too.
Removing data never touches the video file: the project only points at it, and the
video belongs to whoever recorded it, who deletes it by their own rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import RecordingRow


@dataclass(frozen=True)
class ExpiredRecording:
    """A recording whose consent allowed keeping its data until a day now past."""

    recording_id: int
    file_name: str
    retention_until: date
    days_past: int


@dataclass(frozen=True)
class Removal:
    """What ``remove_recording_data`` took out of the project, counted per kind."""

    recording_id: int
    file_name: str
    labels: int
    decisions: int
    people: int
    video_path: Path  # left exactly as it was

    def describe(self) -> str:
        """One plain sentence for the reviewer, e.g. in a message box."""
        parts = [
            _count(self.labels, "reviewed label"),
            _count(self.decisions, "decision-log entry", "decision-log entries"),
            _count(self.people, "person record"),
        ]
        return (
            f"Removed from the project: {', '.join(parts)}, and the entry for "
            f"{self.file_name} with its consent record. The video file itself was not "
            f"touched: {self.video_path}"
        )


def expired_recordings(
    recordings: Iterable[RecordingRow], *, today: date
) -> list[ExpiredRecording]:
    """Recordings whose keep-until date is before ``today``, longest overdue first.

    The date is inclusive ("keep until 31 March" allows the 31st). A recording without
    a consent record has no date and is not listed: it cannot have been analysed, so
    the project holds nothing about it but its entry.
    """
    out = [
        ExpiredRecording(
            recording_id=rec.id,
            file_name=Path(rec.path).name,
            retention_until=rec.consent.retention_until,
            days_past=(today - rec.consent.retention_until).days,
        )
        for rec in recordings
        if rec.consent is not None and rec.consent.retention_until < today
    ]
    return sorted(out, key=lambda e: (-e.days_past, e.recording_id))


def remove_recording_data(store: LabelStore, rid: int) -> Removal:
    """Remove every label, decision, person and the entry of recording ``rid`` from the
    project (the store compacts the file so the rows are gone from disk)."""
    row = store.recording(rid)
    counts = store.delete_recording_data(rid)
    return Removal(
        recording_id=rid,
        file_name=Path(row.path).name,
        labels=counts.get("labels", 0),
        decisions=counts.get("decisions", 0),
        people=counts.get("people", 0),
        video_path=Path(row.path),
    )


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"

"""BORIS tabular events: written from reviewed labels, and read back as another coder's
labels.

The columns are those of BORIS's own "Export events > Tabular events" (one row per
event): a state label is a START row at its start and a STOP row at its end, a
one-frame label a POINT row. One observation per coder, named ``"<file> - <coder>"``.
Reading takes files BORIS wrote (CSV or TSV), including older ones whose START/STOP
column is called ``Status``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lessonreview.core.exchange.importing import CodedFile, CodedSegment
from lessonreview.core.exchange.label_rows import (
    ExchangeError,
    ExportedRecording,
    ExportSummary,
)
from lessonreview.core.store.atomic_file import write_text_atomically
from lessonreview.core.store.export import csv_text

KIND = "BORIS file"
MAX_BYTES = 64 << 20

COLUMNS = (
    "Observation id",
    "Observation date",
    "Description",
    "Observation duration",
    "Observation type",
    "Source",
    "Time offset (s)",
    "Media duration (s)",
    "FPS",
    "Subject",
    "Behavior",
    "Behavioral category",
    "Behavior type",
    "Time",
    "Media file name",
    "Image index",
    "Image file path",
    "Comment",
)
START, STOP, POINT = "START", "STOP", "POINT"
# What reading needs; "Behavior type" may be called "Status" (older BORIS).
_NEEDED = ("Subject", "Behavior", "Time")


def observation_id(file_name: str, coder: str) -> str:
    return f"{file_name} - {coder}"


def write(recording: ExportedRecording, path: str | os.PathLike[str]) -> ExportSummary:
    rec = recording.recording
    name = recording.file_name
    date = datetime.now(UTC).replace(microsecond=0).isoformat(sep=" ")
    events: list[tuple[float, int, dict[str, Any]]] = []
    for item in recording.labels:
        lab = item.label
        common = {
            "Observation id": observation_id(name, item.coder),
            "Observation date": date,
            "Description": "Reviewed labels exported by Lesson Review",
            "Observation duration": rec.duration_s,
            "Observation type": "Media file(s)",
            "Source": f"player #1:{name}",
            "Time offset (s)": 0,
            "Media duration (s)": rec.duration_s,
            "FPS": round(rec.fps, 3),
            "Subject": lab.person,
            "Behavior": item.behaviour,
            "Behavioral category": "",
            "Media file name": name,
            "Image file path": "NA",
            "Comment": recording.schemes.title(item.behaviour),
        }
        if lab.end_frame - lab.start_frame == 1:
            events.append(
                (
                    item.start_s,
                    1,
                    {
                        **common,
                        "Behavior type": POINT,
                        "Time": item.start_s,
                        "Image index": lab.start_frame,
                    },
                )
            )
            continue
        # At one time a STOP sorts before a START, as BORIS writes them.
        events.append(
            (
                item.start_s,
                2,
                {
                    **common,
                    "Behavior type": START,
                    "Time": item.start_s,
                    "Image index": lab.start_frame,
                },
            )
        )
        events.append(
            (
                item.end_s,
                0,
                {**common, "Behavior type": STOP, "Time": item.end_s, "Image index": lab.end_frame},
            )
        )
    events.sort(key=lambda e: (e[2]["Observation id"], e[0], e[1], e[2]["Subject"]))
    rows = [row for _, _, row in events]
    target = write_text_atomically(path, csv_text(COLUMNS, rows))
    return ExportSummary(
        path=target, n_labels=len(recording.labels), n_pending=recording.pending_count
    )


def read(path: str | os.PathLike[str]) -> CodedFile:
    """The events of a BORIS tabular events file (CSV or TSV), START and STOP paired per
    observation, subject and behaviour."""
    path = Path(path)
    text = _text(path)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    type_column = "Behavior type" if "Behavior type" in header else "Status"
    missing = [c for c in (*_NEEDED, type_column) if c not in header]
    if missing:
        raise ExchangeError(
            f"{path.name} is not a BORIS tabular events file: it has no "
            f"{', '.join(repr(c) for c in missing)} column{'s' if len(missing) > 1 else ''}. "
            "In BORIS, export it with Observations > Export events > Tabular events (CSV or TSV)."
        )
    open_: dict[tuple[str, str, str], list[tuple[float, str]]] = defaultdict(list)
    segments: list[CodedSegment] = []
    problems: list[str] = []
    for n, row in enumerate(reader, start=2):
        where = f"row {n}"
        subject = (row.get("Subject") or "").strip()
        behaviour = (row.get("Behavior") or "").strip()
        kind = (row.get(type_column) or "").strip().upper()
        origin = (row.get("Observation id") or "").strip()
        try:
            t = float((row.get("Time") or "").strip())
        except ValueError:
            problems.append(f"{where}: the time {row.get('Time')!r} is not a number of seconds")
            continue
        if not math.isfinite(t):
            problems.append(f"{where}: the time {row.get('Time')!r} is not a number of seconds")
            continue
        key = (origin, subject, behaviour)
        if kind == POINT:
            segments.append(CodedSegment(subject, behaviour, t, None, origin, where))
        elif kind == START:
            open_[key].append((t, where))
        elif kind == STOP:
            if not open_[key]:
                problems.append(
                    f"{where}: a STOP of {behaviour!r} for {subject!r} without its START"
                )
                continue
            start, start_where = open_[key].pop(0)
            segments.append(
                CodedSegment(subject, behaviour, start, t, origin, f"{start_where} to {n}")
            )
        else:
            problems.append(f"{where}: {type_column} is {kind!r}, not START, STOP or POINT")
    for (_, subject, behaviour), starts in open_.items():
        for _, where in starts:
            problems.append(f"{where}: a START of {behaviour!r} for {subject!r} without its STOP")
    if problems:
        listed = "\n".join(f"- {p}" for p in problems[:8])
        more = f"\n- and {len(problems) - 8} more" if len(problems) > 8 else ""
        raise ExchangeError(
            f"{path.name} cannot be imported:\n{listed}{more}\nNothing was imported. "
            "Correct the coding in BORIS and export the tabular events again."
        )
    if not segments:
        raise ExchangeError(f"{path.name} holds no events: nothing to import.")
    return CodedFile(path=path, kind=KIND, segments=tuple(segments))


def _text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ExchangeError(
                f"{path.name} is {size >> 20} MB, too large to be the coding of one recording."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ExchangeError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExchangeError(
            f"{path.name} is not a text file (CSV or TSV) in UTF-8: export the tabular "
            "events from BORIS again as CSV or TSV."
        ) from exc

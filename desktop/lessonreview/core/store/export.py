"""Exports: the reviewed labels of a recording, and the decision log (audit trail).

Only reviewed labels leave the project: accepted and corrected ones. Rejected
proposals are decisions, not labels, and pending proposals were never decided, so
neither is exported; the JSON export says how many proposals were still pending.
Files are written atomically (temp file, then ``os.replace``): a crash mid-export
leaves the previous export whole, never a truncated one.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lessonreview.core.domain import REVIEWED
from lessonreview.core.store.atomic_file import write_text_atomically
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.segment_fields import SEGMENT_COLUMNS, segment_fields
from lessonreview.core.store.store_rows import Label, RecordingRow, now_utc

LABELS_SCHEMA = "lessonreview.labels/1"
DECISIONS_SCHEMA = "lessonreview.decisions/1"
FORMATS = ("csv", "json")

# The reviewer-given name sits right after the pseudonym it belongs to.
_NAME_AT = SEGMENT_COLUMNS.index("person") + 1
LABEL_COLUMNS = (
    "label_id",
    *SEGMENT_COLUMNS[:_NAME_AT],
    "person_name",
    *SEGMENT_COLUMNS[_NAME_AT:],
    "source",
    "status",
    "reviewer",
    "decided_at",
)
DECISION_COLUMNS = (
    "id",
    "recording_id",
    "recording_sha256",
    "label_id",
    "action",
    "payload",
    "reviewer",
    "decided_at",
    "undoes",
)


@dataclass(frozen=True)
class ExportSummary:
    n_labels: int
    n_pending: int  # proposals still undecided, hence not in the file
    path: Path


def export_labels(
    store: LabelStore,
    rid: int,
    path: str | os.PathLike[str],
    *,
    fmt: str,
    pending_count: int,
    coder: str | None = None,
) -> ExportSummary:
    """Write the recording's reviewed labels to ``path`` as CSV or JSON: every coder's
    (each row names its coder in ``reviewer``), or only ``coder``'s."""
    _check_format(fmt)
    recording = store.recording(rid)
    names = {row.person_id: row.name for row in store.people(rid) if row.name}
    seconds = store.saved_seconds(rid)
    rows = [
        _label_row(lab, name=names.get(lab.person), seconds=seconds)
        for lab in store.labels(rid, coder=coder)
        if lab.status in REVIEWED
    ]
    if fmt == "csv":
        text = _csv(LABEL_COLUMNS, rows)
    else:
        document = {
            "schema": LABELS_SCHEMA,
            "exported_at": now_utc().isoformat(),
            "recording": _recording_header(recording),
            "pending_not_exported": pending_count,
            "labels": rows,
        }
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    target = write_text_atomically(path, text)
    return ExportSummary(n_labels=len(rows), n_pending=pending_count, path=target)


def export_decision_log(
    store: LabelStore, rid: int | None, path: str | os.PathLike[str], *, fmt: str
) -> int:
    """Write the decision log (one recording's, or all with ``rid=None``); returns
    the number of entries written."""
    _check_format(fmt)
    recordings = {r.id: r for r in store.recordings()}
    if rid is not None:
        recordings = {rid: store.recording(rid)}
    rows = [
        {
            "id": d.id,
            "recording_id": d.recording_id,
            "recording_sha256": recordings[d.recording_id].sha256,
            "label_id": d.label_id,
            "action": str(d.action),
            "payload": d.payload,
            "reviewer": d.reviewer,
            "decided_at": d.decided_at.isoformat(),
            "undoes": d.undoes,
        }
        for d in store.decisions(rid)
    ]
    if fmt == "csv":
        flat = [{**r, "payload": json.dumps(r["payload"], sort_keys=True)} for r in rows]
        text = _csv(DECISION_COLUMNS, flat)
    else:
        document = {
            "schema": DECISIONS_SCHEMA,
            "exported_at": now_utc().isoformat(),
            "recordings": [_recording_header(r) for r in recordings.values()],
            "decisions": rows,
        }
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_text_atomically(path, text)
    return len(rows)


def _label_row(label: Label, *, name: str | None, seconds: dict[int, float]) -> dict[str, Any]:
    values = {
        "label_id": label.id,
        "person_name": name,
        **segment_fields(label, seconds=lambda frame: round(seconds[frame], 6)),
        "source": label.source.value,
        "status": label.status.value,
        "reviewer": label.reviewer,
        "decided_at": label.decided_at.isoformat(),
    }
    return {column: values[column] for column in LABEL_COLUMNS}


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")


# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula
# (a person renamed "=HYPERLINK(...)" would become a link): such text gets a leading
# apostrophe, which spreadsheets show as plain text. Numbers are written as they are.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _recording_header(recording: RecordingRow) -> dict[str, Any]:
    # The file name, not the full path: the folder layout of the reviewer's machine
    # is nobody's business and means nothing elsewhere. The consent record travels
    # as its purpose and retention date; who consented stays in the project.
    consent = recording.consent
    return {
        "file_name": Path(recording.path).name,
        "sha256": recording.sha256,
        "width": recording.width,
        "height": recording.height,
        "fps": recording.fps,
        "frame_count": recording.frame_count,
        "duration_s": recording.duration_s,
        "consent_purpose": consent.purpose if consent else None,
        "retention_until": consent.retention_until.isoformat() if consent else None,
    }

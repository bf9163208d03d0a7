"""The decision log (audit trail) as CSV or JSON, and what every tabular export shares:
spreadsheet-safe CSV text and the recording's header.

The label exports (CSV, JSON, ELAN, BORIS, AVA) are in :mod:`lessonreview.core.exchange`.
Files are written atomically (temp file, then ``os.replace``): a crash mid-export
leaves the previous export whole, never a truncated one.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from lessonreview.core.store.atomic_file import write_text_atomically
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import RecordingRow, now_utc

DECISIONS_SCHEMA = "lessonreview.decisions/1"
FORMATS = ("csv", "json")

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
        text = csv_text(DECISION_COLUMNS, flat)
    else:
        document = {
            "schema": DECISIONS_SCHEMA,
            "exported_at": now_utc().isoformat(),
            "recordings": [recording_header(r) for r in recordings.values()],
            "decisions": rows,
        }
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_text_atomically(path, text)
    return len(rows)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")


# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula
# (a person renamed "=HYPERLINK(...)" would become a link): such text gets a leading
# apostrophe, which spreadsheets show as plain text. Numbers are written as they are.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(columns: tuple[str, ...], rows: list[dict[str, Any]], *, header: bool = True) -> str:
    """Rows as CSV text, with a header line unless ``header`` is false; text a
    spreadsheet would run as a formula is made plain (see _FORMULA_START)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def recording_header(recording: RecordingRow) -> dict[str, Any]:
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

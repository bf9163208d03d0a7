"""Reviewed labels as CSV (one row per label) and JSON (``lessonreview.labels/2``).

Both carry the recording (file name and sha256) on every label, so exports of several
recordings stay apart once merged, and the coder, the machine's confidence and the
model files that proposed each label. See docs/exchange-formats.md for the columns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lessonreview.core.exchange.label_rows import (
    LABEL_COLUMNS,
    ExportedRecording,
    ExportSummary,
    label_row,
)
from lessonreview.core.store.atomic_file import write_text_atomically
from lessonreview.core.store.export import csv_text, recording_header
from lessonreview.core.store.store_rows import now_utc

LABELS_SCHEMA = "lessonreview.labels/2"


def write_csv(recording: ExportedRecording, path: str | os.PathLike[str]) -> ExportSummary:
    rows = [label_row(item, recording=recording) for item in recording.labels]
    target = write_text_atomically(path, csv_text(LABEL_COLUMNS, rows))
    return _summary(recording, target)


def write_json(recording: ExportedRecording, path: str | os.PathLike[str]) -> ExportSummary:
    # In JSON the model files stay an object; the CSV cell is its flat form.
    rows = [
        {
            **label_row(item, recording=recording),
            "model_versions": dict(sorted(item.models.items())),
        }
        for item in recording.labels
    ]
    document = {
        "schema": LABELS_SCHEMA,
        "exported_at": now_utc().isoformat(),
        "recording": recording_header(recording.recording),
        "coders": sorted({item.coder for item in recording.labels}),
        "pending_not_exported": recording.pending_count,
        "labels": rows,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return _summary(recording, write_text_atomically(path, text))


def _summary(recording: ExportedRecording, target: Path) -> ExportSummary:
    return ExportSummary(
        path=target, n_labels=len(recording.labels), n_pending=recording.pending_count
    )

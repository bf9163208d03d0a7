"""Saving the one-page lesson report from the window: ask where, refuse what must not be
replaced (the project, the recording, a file that is not text), write it atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from lessonreview.core.reflection.lesson_report import context_for, write_report
from lessonreview.core.reflection.lesson_summary import LessonSummary
from lessonreview.core.reflection.room_still import png_bytes
from lessonreview.core.store.atomic_file import TargetError, check_target
from lessonreview.core.store.label_store import LabelStore


def save_report(
    parent: QWidget,
    store: LabelStore,
    rid: int,
    summary: LessonSummary,
    *,
    still: np.ndarray | None,
    path: Path | None = None,
) -> Path | None:
    """Write the report of ``summary``, asking for a file when ``path`` is None; the
    path written, or None when cancelled or refused (the reviewer was told why)."""
    recording = store.recording(rid)
    if path is None:
        suggested = store.folder / f"{Path(recording.path).stem}-report.html"
        chosen, _ = QFileDialog.getSaveFileName(
            parent, "Save lesson report", str(suggested), "HTML page (*.html)"
        )
        if not chosen:
            return None
        path = Path(chosen)
    try:
        target = check_target(path, reads=[store.path, recording.path], text=True)
        context = context_for(
            recording,
            still_png=None if still is None else png_bytes(still),
            still_size=None if still is None else (still.shape[1], still.shape[0]),
        )
        return write_report(summary, context, target)
    except (TargetError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        QMessageBox.warning(parent, "Lesson report not saved", f"The report was not saved: {why}")
        return None

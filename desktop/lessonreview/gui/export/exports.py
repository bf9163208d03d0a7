"""Writing files out of the project: reviewed labels, and the decision log.

Each function asks where (a dialog), calls the core export, and returns the sentence
for the status bar, or None when nothing was written. Errors are shown here, in
plain words, and never leave a half-written file (the core writes atomically).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.export import export_decision_log, export_labels
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.gui.export.export_dialog import ExportDialog

DECISION_LOG_FILTER = "CSV (*.csv);;JSON (*.json)"


def export_reviewed_labels(
    parent: QWidget,
    session: ReviewSession,
    *,
    store: LabelStore,
    recording_path: Path,
) -> str | None:
    dialog = ExportDialog(
        recording_name=recording_path.name,
        n_labels=session.label_count(),
        n_pending=session.pending_count(),
        default_dir=recording_path.parent,
        parent=parent,
    )
    if not dialog.exec():
        return None
    try:
        summary = export_labels(
            store,
            session.recording_id,
            dialog.target,
            fmt=dialog.fmt,
            pending_count=session.pending_count(),
        )
    except (OSError, StoreError) as exc:
        QMessageBox.critical(
            parent, "Export failed", f"Nothing was written to {dialog.target}:\n\n{exc}"
        )
        return None
    pending = (
        f" {summary.n_pending} pending proposals were not exported." if summary.n_pending else ""
    )
    return f"Exported {summary.n_labels} reviewed labels to {summary.path}.{pending}"


def decision_log_target(parent: QWidget, default: Path) -> Path | None:
    """Ask where to write the decision log; None if the reviewer cancelled."""
    name, _ = QFileDialog.getSaveFileName(
        parent, "Export decision log", str(default), DECISION_LOG_FILTER
    )
    return Path(name) if name else None


def write_decision_log(
    parent: QWidget, store: LabelStore, rid: int | None, target: Path
) -> str | None:
    """Write one recording's log (all recordings' with ``rid=None``) to ``target``,
    as JSON if its name ends in .json, else CSV."""
    try:
        n = export_decision_log(
            store, rid, target, fmt="json" if target.suffix.lower() == ".json" else "csv"
        )
    except (OSError, StoreError) as exc:
        QMessageBox.critical(parent, "Export failed", f"Nothing was written to {target}:\n\n{exc}")
        return None
    return f"Decision log exported to {target} ({n} entries)."


def export_decision_log_as(
    parent: QWidget, store: LabelStore, rid: int | None, *, default: Path
) -> str | None:
    target = decision_log_target(parent, default)
    return write_decision_log(parent, store, rid, target) if target else None

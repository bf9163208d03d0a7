"""Writing files out of the project (reviewed labels in every format, the decision log),
and reading another program's coding in as a coder's labels.

Each function asks where (a dialog), calls the core, and returns the sentence for the
status bar, or None when nothing was written. Errors are shown here, in plain words,
and never leave a half-written file (the core writes atomically) nor half an import.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from lessonreview.core.domain import PersonTrack
from lessonreview.core.exchange.formats import export_recording, read_coded
from lessonreview.core.exchange.importing import import_coded
from lessonreview.core.exchange.label_rows import ExchangeError
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.atomic_file import TargetError, check_target
from lessonreview.core.store.export import export_decision_log
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.gui.export.export_dialog import ExportDialog

DECISION_LOG_FILTER = "CSV (*.csv);;JSON (*.json)"


def export_reviewed_labels(
    parent: QWidget,
    session: ReviewSession,
    *,
    store: LabelStore,
    recording_path: Path,
    tracks: tuple[PersonTrack, ...] = (),
) -> str | None:
    """``tracks``: the people of the analysis on screen, for the AVA boxes (else those of
    the analysis the project keeps)."""
    rid = session.recording_id
    dialog = ExportDialog(
        recording_name=recording_path.name,
        n_labels=session.label_count(),
        n_pending=session.pending_count(),
        default_dir=recording_path.parent,
        coders=tuple(sorted({lab.reviewer for lab in store.labels(rid)})),
        parent=parent,
    )
    if not dialog.exec():
        return None
    try:
        target = check_target(dialog.target, reads=[store.path, recording_path], text=True)
        summary = export_recording(
            store,
            rid,
            target,
            fmt=dialog.fmt,
            coder=dialog.chosen_coder,
            pending_count=session.pending_count(),
            tracks=tracks or None,
        )
    except (OSError, StoreError, TargetError, ExchangeError) as exc:
        QMessageBox.critical(
            parent, "Export failed", f"Nothing was written to {dialog.target}:\n\n{exc}"
        )
        return None
    pending = (
        f" {summary.n_pending} pending proposals were not exported." if summary.n_pending else ""
    )
    notes = "".join(f" {note[0].upper()}{note[1:]}." for note in summary.notes)
    return f"Exported {summary.n_labels} reviewed labels to {summary.path}.{pending}{notes}"


IMPORT_FILTER = (
    "ELAN or BORIS coding (*.eaf *.csv *.tsv);;ELAN (*.eaf);;BORIS tabular events (*.csv *.tsv)"
)


def import_coding(
    parent: QWidget,
    *,
    store: LabelStore,
    rid: int,
    timebase: Timebase,
    default_dir: Path,
    reviewer: str,
) -> str | None:
    """Ask for an ELAN or BORIS file and whose coding it is, then import it as that
    coder's labels of the recording. The sentence for the status bar, or None."""
    name, _ = QFileDialog.getOpenFileName(
        parent, "Import coding from ELAN or BORIS", str(default_dir), IMPORT_FILTER
    )
    if not name:
        return None
    try:
        coded = read_coded(Path(name))
    except ExchangeError as exc:
        QMessageBox.warning(parent, "Import failed", str(exc))
        return None
    origins = sorted({seg.origin for seg in coded.segments})
    only = None
    if len(origins) > 1:
        only, ok = QInputDialog.getItem(
            parent,
            "Whose coding?",
            f"{coded.path.name} holds the coding of several coders. Import:",
            origins,
            0,
            False,
        )
        if not ok:
            return None
    suggested = (only or (origins[0] if origins else "")).strip()
    if suggested == reviewer or not suggested:
        suggested = ""
    coder, ok = QInputDialog.getText(
        parent,
        "Imported coder",
        "The imported labels become this coder's own labels (not yours):",
        text=suggested,
    )
    if not ok:
        return None
    try:
        summary = import_coded(store, rid, coded, coder=coder, timebase=timebase, only=only)
    except (ExchangeError, StoreError) as exc:
        QMessageBox.warning(parent, "Import failed", str(exc))
        return None
    already = f" ({summary.n_already} were there already)" if summary.n_already else ""
    return (
        f"Imported {summary.n_imported} labels of {summary.coder} from {coded.path.name}"
        f"{already}. They are {summary.coder}'s labels, kept apart from yours."
    )


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

"""The files a recording is opened from: asking for a recording or a proposals file,
finding the installed demo, reading a proposals file and checking it fits the
recording, and saying why a recording did not open.

The main window assembles what these return: each function asks or warns in a dialog
over ``parent`` and returns None when there is nothing to open.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from lessonreview.core.media.video import RecordingError
from lessonreview.core.store import proposals_file
from lessonreview.gui.shell.resources import demo_recording

VIDEO_FILTER = "Recordings (*.mp4 *.mov *.avi *.mkv *.webm *.m4v *.jpg *.jpeg *.png);;All files (*)"


def ask_recording(parent: QWidget, recent: list[str]) -> Path | None:
    start = str(Path(recent[0]).parent) if recent else str(Path.home())
    name, _ = QFileDialog.getOpenFileName(parent, "Open recording", start, VIDEO_FILTER)
    return Path(name) if name else None


def ask_proposals_file(parent: QWidget) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(
        parent, "Open proposals file", str(Path.home()), "Proposals (*.json)"
    )
    return Path(name) if name else None


def installed_demo(parent: QWidget) -> Path | None:
    path = demo_recording()
    if not path.exists():
        QMessageBox.warning(
            parent, "Demo missing", f"The demo recording is not installed here:\n{path}"
        )
        return None
    return path


def read_proposals(parent: QWidget, path: Path) -> proposals_file.ProposalsDocument | None:
    try:
        return proposals_file.read(path)
    except (OSError, proposals_file.ProposalsFileError) as exc:
        QMessageBox.critical(parent, "Proposals not loaded", f"{path}:\n\n{exc}")
        return None


def recording_of(doc: proposals_file.ProposalsDocument, path: Path) -> Path:
    """The recording a proposals file names; a relative name is beside the file."""
    recording = Path(doc.recording.path)
    if not recording.is_absolute():
        recording = (path.parent / recording).resolve()
    return recording


def proposals_for(
    parent: QWidget, path: Path, *, sha256: str, recording_name: str, frame_count: int
) -> proposals_file.ProposalsDocument | None:
    """The proposals in ``path`` if they were made for the recording with ``sha256`` (and
    name only frames it has)."""
    doc = read_proposals(parent, path)
    if doc is None:
        return None
    try:
        proposals_file.check_fits(doc, frame_count=frame_count)
    except proposals_file.ProposalsFileError as exc:
        QMessageBox.critical(parent, "Proposals not loaded", f"{path}:\n\n{exc}")
        return None
    if doc.recording.sha256 != sha256:
        QMessageBox.warning(
            parent,
            "Proposals not loaded",
            f"{path.name} was made for a different recording (its content differs from "
            f"{recording_name}). Analyse this recording instead.",
        )
        return None
    return doc


def report_open_failure(parent: QWidget, path: Path, exc: Exception) -> None:
    # A reading error says enough; anything else is a bug, so its type is worth showing.
    detail = (
        str(exc) if isinstance(exc, RecordingError | OSError) else f"{type(exc).__name__}: {exc}"
    )
    QMessageBox.critical(parent, "Recording not opened", f"{path}\n\n{detail}")

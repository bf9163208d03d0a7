"""File > "Save snapshot of this frame…": a PNG of the frame, faces blurred unless the
reviewer unticks "Blur faces (recommended)" for this one picture, which is logged.

The dialog is cheap; decoding the frame, finding the people and encoding the PNG run as
a background task (``gui.background``, never in a Qt slot) over immutable inputs. An
unblurred picture is logged before this reports success; if the log cannot be written,
the picture is deleted again, so an unlogged unblurred snapshot never stays on disk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lessonreview.core.media.video import Recording
from lessonreview.core.privacy.face_blur import FaceRegionSource
from lessonreview.core.privacy.snapshot import (
    Snapshot,
    SnapshotError,
    find_faces,
    find_people,
    log_unblurred,
    save_snapshot,
)
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.core.vision.model_errors import ModelFileError, ModelMissingError
from lessonreview.core.vision.model_files import ModelName, resolve
from lessonreview.gui.background import Report, Tasks

BLUR_TEXT = "Blur faces (recommended)"


class SnapshotDialog(QDialog):
    def __init__(self, default_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save snapshot of this frame")
        self.setMinimumWidth(560)
        intro = QLabel(
            "The frame is saved as a PNG picture, without boxes or labels. Faces are blurred "
            "as in the privacy view.",
            self,
        )
        intro.setWordWrap(True)
        self.path = QLineEdit(str(default_path), self)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.blur = QCheckBox(BLUR_TEXT, self)
        self.blur.setChecked(True)
        self.warning = QLabel(
            "<span style='color:#b00020'><b>Faces will be recognisable in this picture.</b> "
            "Your name, the time and the frame are recorded in the decision log.</span>",
            self,
        )
        self.warning.setWordWrap(True)
        self.warning.setVisible(False)
        self.blur.toggled.connect(self._show_warning)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.blur)
        layout.addWidget(self.warning)
        layout.addWidget(buttons)

    def _show_warning(self, blur: bool) -> None:
        self.warning.setVisible(not blur)
        self.adjustSize()  # make room for the warning rather than squeezing it

    @property
    def target(self) -> Path:
        path = Path(self.path.text().strip()).expanduser()
        return path if path.suffix.lower() == ".png" else path.with_name(path.name + ".png")

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save snapshot", self.path.text(), "PNG (*.png)"
        )
        if name:
            self.path.setText(name)


class SnapshotSaver(QObject):
    """Makes one snapshot at a time off the GUI thread; logs an unblurred one."""

    saved = Signal(object)  # core Snapshot, after it was written (and logged if unblurred)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = Tasks(self, name="snapshot")

    @property
    def busy(self) -> bool:
        return self._tasks.busy

    def save(
        self,
        recording: Recording,
        frame: int,
        *,
        known: Sequence[FaceRegionSource],
        store: LabelStore,
        rid: int,
        reviewer: str,
        models_dir: Path | None,
        parent: QWidget,
    ) -> bool:
        """Ask where and whether to blur, then start; False if the reviewer cancelled."""
        if self.busy:
            return False
        default = recording.path.with_name(f"{recording.path.stem}-frame{frame}.png")
        dialog = SnapshotDialog(default, parent)
        if not dialog.exec():
            return False
        target, blur = dialog.target, dialog.blur.isChecked()
        detector = _model(ModelName.PERSON_DETECTOR, models_dir) if blur else None
        face_model = _model(ModelName.FACE_DETECTOR, models_dir) if blur else None
        known = tuple(known)
        time_s = recording.timebase.frame_to_seconds(frame)

        def work(_report: Report) -> Snapshot:
            with recording.reader() as reader:
                image = reader.frame(frame)
            people = find_people(image, known, detector_model=detector) if blur else []
            faces = find_faces(image, face_model=face_model) if face_model is not None else None
            return save_snapshot(image, target, frame=frame, people=people, faces=faces, blur=blur)

        def done(snapshot: Snapshot) -> None:
            if not snapshot.blurred:
                try:
                    log_unblurred(store, rid, snapshot, reviewer=reviewer, time_s=time_s)
                except StoreError as exc:
                    with contextlib.suppress(OSError):
                        snapshot.path.unlink()
                    self.failed.emit(
                        f"The unblurred picture was deleted again: its export could not be "
                        f"recorded in the decision log.\n\n{exc}"
                    )
                    return
            self.saved.emit(snapshot)

        def failed(exc: Exception) -> None:
            known_kinds = (SnapshotError, OSError, ModelFileError)
            detail = str(exc) if isinstance(exc, known_kinds) else f"{type(exc).__name__}: {exc}"
            self.failed.emit(f"No snapshot was saved to {target}:\n\n{detail}")

        self._tasks.start(work, done=done, failed=failed)
        return True

    def finish(self) -> None:
        """Wait for a snapshot in progress and handle its result now (log it), so that
        closing the recording or the project never loses the log entry."""
        self._tasks.finish()


def _model(name: ModelName, models_dir: Path | None) -> Path | None:
    # The person detector finds people the analysis has not seen (or has not run for),
    # the face detector faces whose person nobody found; without a model file the
    # snapshot blurs what the others found, and the status line says so.
    try:
        return resolve(name, explicit_dir=models_dir)
    except ModelMissingError:
        return None

"""The main window's analysis controls: starting a run (after consent, and after asking
before any model download), the progress bar and Cancel button in the status bar, and
applying the result to the open recording.

The run itself is the core's, on the runner's background task; this is what the window
shows of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QProgressBar, QPushButton, QStatusBar, QWidget

from lessonreview.core.analysis.pipeline import AnalysisRequest
from lessonreview.core.media.video import Recording
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import now_utc
from lessonreview.core.vision.model_errors import ModelMissingError
from lessonreview.core.vision.model_files import ModelName, resolve, resolve_all
from lessonreview.gui.analysis.analysis_runner import AnalysisRunner
from lessonreview.gui.background import Tasks
from lessonreview.gui.shell.workspace import Workspace


class Host(Protocol):
    """What the analysis controls read from the main window."""

    store: LabelStore | None
    session: ReviewSession | None
    recording: Recording | None
    recording_id: int | None
    workspace: Workspace | None
    models_dir: Path | None

    def record_consent(self) -> None: ...

    def show_status(self, text: str | None) -> None: ...

    def update_actions(self) -> None: ...

    def note_models(self, analysis, *, since: datetime | None = None) -> None: ...


class AnalysisControls(QObject):
    finished = Signal(object)  # the ProposalsDocument, once its proposals are in the queue

    def __init__(self, host: Host, parent: QWidget, status_bar: QStatusBar) -> None:
        super().__init__(parent)
        self._host = host
        self._parent = parent
        self.runner = AnalysisRunner(self)
        self._started_at = now_utc()
        self._end_people_wait: Callable[[], None] = lambda: None
        self._face_download = Tasks(self, name="face-model-download")
        self.runner.progress.connect(self._on_progress)
        self.runner.download.connect(self._on_download)
        self.runner.sample.connect(self._on_sample)
        self.runner.proposals.connect(self._on_proposals)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self.progress = QProgressBar(parent)
        self.progress.setMaximumWidth(260)
        self.progress.setFormat("Analysing %p%")
        self.cancel_button = QPushButton("Cancel analysis", parent)
        self.cancel_button.clicked.connect(self.runner.cancel)
        status_bar.addPermanentWidget(self.progress)
        status_bar.addPermanentWidget(self.cancel_button)
        self.show_progress(False)

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self) -> None:
        h = self._host
        if h.session is None or h.store is None or h.recording is None or self.runner.running:
            return
        if h.store.consent(h.recording_id) is None:
            h.record_consent()
            if h.store.consent(h.recording_id) is None:
                return
        allow_download = False
        request = AnalysisRequest(path=h.recording.path, models_dir=h.models_dir)
        # The privacy view's face detector (which the hand step also uses when it is
        # there) is asked for here too: this is where the app asks before downloading
        # anything.
        try:
            resolve_all((*request.model_names, ModelName.FACE_DETECTOR), explicit_dir=h.models_dir)
        except ModelMissingError as exc:
            missing = {spec.name for spec in exc.missing}
            answer = QMessageBox.question(
                self._parent,
                "Model files needed",
                f"{exc}\n\nDownload them now ({exc.download_size}) from their official sources "
                "(MediaPipe, YOLOX)? "
                "This is the only network connection Lesson Review makes.",
            )
            if answer == QMessageBox.StandardButton.Yes:
                allow_download = True
                if ModelName.FACE_DETECTOR in missing:
                    self._download_face_detector()
            elif missing & set(request.model_names):
                h.show_status(
                    "Not analysed: the model files are missing. Copy them into the models "
                    "folder, or choose Analysis > Analyse recording (Ctrl+R) and let them download."
                )
                return
        self.runner.start(replace(request, allow_download=allow_download))
        # Its proposals come before its people, which the tracker settles only at the end.
        self._end_people_wait = h.session.wait_for_people(
            "The analysis is still finding the people of this recording: merge, split or "
            "rename them once it is done."
        )
        # Its proposals reach the queue (and may be decided) before it ends, when its
        # model files are known: they are noted as of now.
        self._started_at = now_utc()
        self.show_progress(True)
        self.progress.setValue(0)
        h.show_status(
            "Analysing… proposals join the review queue as each part of the lesson is done; "
            "you can play, review and label meanwhile."
        )
        h.update_actions()

    def cancel(self) -> None:
        self.runner.cancel()

    def _download_face_detector(self) -> None:
        if self._face_download.busy:
            return
        models_dir = self._host.models_dir

        def done(path: Path) -> None:
            if self._host.workspace is not None:
                self._host.workspace.set_face_detector(path)

        def failed(exc: Exception) -> None:
            self._host.show_status(
                f"The face detector for the privacy view was not downloaded: {exc}"
            )

        self._face_download.start(
            lambda _report: resolve(
                ModelName.FACE_DETECTOR, explicit_dir=models_dir, allow_download=True
            ),
            done=done,
            failed=failed,
        )

    def shutdown(self) -> None:
        """Cancel and wait: closing the recording leaves no analysis thread behind."""
        self.runner.shutdown()
        self.show_progress(False)

    def show_progress(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)

    # The runner's signals come only from the current run, and closing the recording
    # shuts the run down first: the session and workspace are there for each of these.
    def _on_download(self, done: int, total: int) -> None:
        self.progress.setFormat("Downloading models %p%")
        # Sizes in KiB: a QProgressBar holds ints, and model files overflow it in bytes.
        self.progress.setMaximum(max(1, total // 1024) if total else 0)
        self.progress.setValue(done // 1024)

    def _on_progress(self, p) -> None:
        self.progress.setFormat("Analysing %p%")
        self.progress.setMaximum(max(1, p.total))
        self.progress.setValue(p.done)

    def _on_sample(self, sample) -> None:
        self._host.workspace.add_sample(sample)

    def _on_proposals(self, proposals) -> None:
        self._host.session.add_proposals(proposals)

    def _on_finished(self, doc) -> None:
        h = self._host
        self.show_progress(False)
        h.workspace.set_people(doc.people)
        self._end_people_wait()
        h.note_models(doc.analysis, since=self._started_at)
        h.session.add_proposals(doc.proposals)
        damage = doc.analysis.damage_note()
        note = f" {damage}" if damage is not None else ""
        h.show_status(
            f"Analysis done in {doc.analysis.elapsed_s:.0f} s: {len(doc.people)} people, "
            # Most proposals joined the queue while the analysis ran: count the queue.
            f"{h.session.pending_count()} proposals to review.{note}"
        )
        h.update_actions()
        self.finished.emit(doc)

    def _on_failed(self, message: str) -> None:
        self._host.workspace.keep_people_so_far()
        self._end_people_wait()
        self.show_progress(False)
        self._host.update_actions()
        QMessageBox.critical(self._parent, "Analysis failed", message)

    def _on_cancelled(self) -> None:
        self._host.workspace.keep_people_so_far()
        self._end_people_wait()
        self.show_progress(False)
        self._host.show_status(
            "Analysis cancelled. Nothing was saved; run it again from the Analysis menu."
        )
        self._host.update_actions()

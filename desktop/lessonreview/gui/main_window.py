"""The main window: assembles the start screen and the review workspace and wires
menus to the core. It opens and closes things; it does not decide anything."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
)

from lessonreview.core import proposals_file
from lessonreview.core import settings as settings_io
from lessonreview.core.analysis import AnalysisRequest
from lessonreview.core.domain import Status
from lessonreview.core.export import export_decision_log, export_labels
from lessonreview.core.label_store import LabelStore, StoreError
from lessonreview.core.model_files import ModelMissingError, ModelName, resolve
from lessonreview.core.review_session import ReviewSession
from lessonreview.core.video import Recording, RecordingError, file_sha256
from lessonreview.gui.analysis_runner import AnalysisRunner
from lessonreview.gui.app import demo_recording
from lessonreview.gui.background import BackgroundCall
from lessonreview.gui.consent_dialog import ConsentDialog
from lessonreview.gui.export_dialog import ExportDialog
from lessonreview.gui.help_dialog import HelpDialog, about_html, keys_html
from lessonreview.gui.review_panel import KEYS
from lessonreview.gui.start_screen import StartScreen
from lessonreview.gui.workspace import PLAYER_KEYS, Workspace

VIDEO_FILTER = "Recordings (*.mp4 *.mov *.avi *.mkv *.webm *.m4v *.jpg *.jpeg *.png);;All files (*)"
DEMO_CONSENT = (
    "Public demo: real classroom frames from the 'cctv-accurate' dataset, CC BY 4.0 "
    "(see Help > About); no consent forms needed for this clip."
)


class MainWindow(QMainWindow):
    def __init__(
        self,
        *,
        project_path: Path | None = None,
        models_dir: Path | None = None,
        settings_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Lesson Review")
        self.resize(1500, 940)
        self.setAcceptDrops(True)
        self._settings_path = settings_path
        self.settings = settings_io.load(settings_path)
        self.models_dir = models_dir or (
            Path(self.settings.models_dir) if self.settings.models_dir else None
        )
        self.project_path = (
            Path(project_path) if project_path else settings_io.default_project_path()
        )
        self.store: LabelStore | None = None
        self.workspace: Workspace | None = None
        self.session: ReviewSession | None = None
        self.recording: Recording | None = None
        self.recording_id: int | None = None
        self._opening: BackgroundCall | None = None
        self.runner = AnalysisRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.sample.connect(self._on_sample)
        self.runner.finished.connect(self._on_analysis_finished)
        self.runner.failed.connect(self._on_analysis_failed)
        self.runner.cancelled.connect(self._on_analysis_cancelled)

        self.stack = QStackedWidget(self)
        self.start = StartScreen(self)
        self.start.open_requested.connect(self.choose_recording)
        self.start.demo_requested.connect(self.open_demo)
        self.start.recent_requested.connect(lambda p: self.open_recording(Path(p)))
        self.stack.addWidget(self.start)
        self.setCentralWidget(self.stack)

        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(260)
        self.progress.setFormat("Analysing %p%")
        self.cancel_button = QPushButton("Cancel analysis", self)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.status_text = QLabel(self)
        self.statusBar().addWidget(self.status_text, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self._show_progress(False)

        self._build_menus()
        self._open_store()
        self.start.set_recent(self.settings.recent)
        self._update_actions()

    # --- menus ----------------------------------------------------------------
    def _action(
        self, menu, text: str, slot, shortcut: str | QKeySequence | None = None, *, checkable=False
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        self._action(m, "&Open recording…", self.choose_recording, QKeySequence.StandardKey.Open)
        self._action(m, "Open &demo recording", self.open_demo)
        self._action(m, "Open p&roposals file…", self.choose_proposals_file)
        self.recent_menu = m.addMenu("Recent recordings")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        m.addSeparator()
        self._action(m, "Open &project…", self.choose_project)
        m.addSeparator()
        self.export_action = self._action(
            m, "&Export reviewed labels…", self.export_labels, "Ctrl+E"
        )
        self.export_log_action = self._action(m, "Export decision &log…", self.export_decision_log)
        m.addSeparator()
        self._action(m, "&Close recording", self.close_recording, QKeySequence.StandardKey.Close)
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        m = bar.addMenu("&Edit")
        self.undo_action = self._action(m, "&Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action(m, "&Redo", self.redo, QKeySequence("Ctrl+Shift+Z"))
        m.addSeparator()
        self._action(m, "Reviewer &name…", self.ask_reviewer)

        m = bar.addMenu("&Analysis")
        self.consent_action = self._action(m, "Record &consent…", self.record_consent)
        self.analyse_action = self._action(m, "&Analyse recording", self.start_analysis, "Ctrl+R")
        self.cancel_action = self._action(m, "&Cancel analysis", self.runner.cancel)

        self.view_menu = bar.addMenu("&View")
        self.privacy_action = self._action(
            self.view_menu,
            "&Privacy view (blur faces)",
            self._set_privacy,
            "Ctrl+B",
            checkable=True,
        )
        self.privacy_action.setChecked(self.settings.privacy_view)
        self.skeleton_action = self._action(
            self.view_menu, "Show &skeletons", self._set_skeleton, "Ctrl+K", checkable=True
        )
        self.skeleton_action.setChecked(self.settings.show_skeleton)
        self.group_action = self._action(
            self.view_menu,
            "&Group timeline by behaviour",
            self._set_grouping,
            "Ctrl+G",
            checkable=True,
        )

        self.people_menu = bar.addMenu("&People")
        self._action(
            self.people_menu,
            "&Rename person…",
            lambda: self.workspace and self.workspace.rename_person(),
        )
        self._action(
            self.people_menu,
            "&Merge two people…",
            lambda: self.workspace and self.workspace.merge_people(),
        )
        self._action(
            self.people_menu,
            "&Split person at playhead…",
            lambda: self.workspace and self.workspace.split_person(),
        )

        m = bar.addMenu("&Help")
        self._action(
            m, "&Keyboard shortcuts", self.show_keys, QKeySequence.StandardKey.HelpContents
        )
        self._action(m, "What this project &stores", self.show_data_sheet)
        self._action(m, "&About Lesson Review", self.show_about)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.recent:
            act = self.recent_menu.addAction(Path(p).name)
            act.setToolTip(p)
            act.triggered.connect(lambda _=False, p=p: self.open_recording(Path(p)))
        if not self.settings.recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _update_actions(self) -> None:
        has = self.session is not None
        for a in (self.export_action, self.export_log_action, self.consent_action):
            a.setEnabled(has)
        self.analyse_action.setEnabled(has and not self.runner.running)
        self.cancel_action.setEnabled(self.runner.running)
        self.undo_action.setEnabled(has and self.session.can_undo())
        self.redo_action.setEnabled(has and self.session.can_redo())
        self.undo_action.setText(
            f"&Undo {self.session.undo_text()}" if has and self.session.can_undo() else "&Undo"
        )
        self.redo_action.setText(
            f"&Redo {self.session.redo_text()}" if has and self.session.can_redo() else "&Redo"
        )
        self.people_menu.setEnabled(has)

    # --- project ----------------------------------------------------------------
    def _open_store(self) -> bool:
        try:
            self.project_path.parent.mkdir(parents=True, exist_ok=True)
            self.store = LabelStore.open(self.project_path)
        except (StoreError, OSError) as exc:
            self.store = None
            QMessageBox.critical(
                self,
                "Project not opened",
                f"The project file\n{self.project_path}\ncould not be opened:\n\n{exc}",
            )
            return False
        self._status(f"Project: {self.project_path}")
        return True

    def choose_project(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Open or create a project",
            str(self.project_path.parent),
            "Lesson Review projects (*.lessonreview)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if not name:
            return
        self.close_recording()
        if self.store is not None:
            self.store.close()
        self.project_path = Path(name)
        self._open_store()
        self._remember(last_project=str(self.project_path))

    # --- opening ------------------------------------------------------------------
    def choose_recording(self) -> None:
        start = (
            str(Path(self.settings.recent[0]).parent) if self.settings.recent else str(Path.home())
        )
        name, _ = QFileDialog.getOpenFileName(self, "Open recording", start, VIDEO_FILTER)
        if name:
            self.open_recording(Path(name))

    def choose_proposals_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open proposals file", str(Path.home()), "Proposals (*.json)"
        )
        if name:
            self.open_proposals_file(Path(name))

    def open_demo(self) -> None:
        path = demo_recording()
        if not path.exists():
            QMessageBox.warning(
                self, "Demo missing", f"The demo recording is not installed here:\n{path}"
            )
            return
        self.open_recording(path, demo=True)

    def open_proposals_file(self, path: Path) -> None:
        try:
            doc = proposals_file.read(path)
        except (OSError, proposals_file.ProposalsFileError) as exc:
            QMessageBox.critical(self, "Proposals not loaded", f"{path}:\n\n{exc}")
            return
        recording = Path(doc.recording.path)
        if not recording.is_absolute():
            recording = (path.parent / recording).resolve()
        self.open_recording(recording, proposals=path)

    def open_recording(
        self, path: Path, *, proposals: Path | None = None, demo: bool = False
    ) -> None:
        if self.store is None and not self._open_store():
            return
        if not self.ensure_reviewer():
            return
        self.close_recording()
        path = Path(path)
        self._status(f"Opening {path.name}…")

        def work():
            recording = Recording.open(path)
            return recording, file_sha256(path)

        call = BackgroundCall(work, self)
        call.done.connect(
            lambda result: self._recording_ready(*result, proposals=proposals, demo=demo)
        )
        call.failed.connect(lambda exc: self._open_failed(path, exc))
        self._opening = call.start()

    def _open_failed(self, path: Path, exc: Exception) -> None:
        self._status("")
        detail = (
            str(exc)
            if isinstance(exc, RecordingError | OSError)
            else f"{type(exc).__name__}: {exc}"
        )
        QMessageBox.critical(self, "Recording not opened", f"{path}\n\n{detail}")

    def _recording_ready(
        self, recording: Recording, sha256: str, *, proposals: Path | None, demo: bool
    ) -> None:
        try:
            rid = self.store.add_recording(recording.info(sha256=sha256))
            session = ReviewSession(
                self.store, rid, timebase=recording.timebase, reviewer=self.settings.reviewer
            )
        except StoreError as exc:
            QMessageBox.critical(self, "Project error", str(exc))
            return
        self.recording, self.recording_id, self.session = recording, rid, session
        self.workspace = Workspace(
            recording,
            session,
            privacy=self.privacy_action.isChecked(),
            skeleton=self.skeleton_action.isChecked(),
            parent=self,
        )
        self.workspace.consent_requested.connect(self.record_consent)
        self.workspace.analyse_requested.connect(self.start_analysis)
        self.stack.addWidget(self.workspace)
        self.stack.setCurrentWidget(self.workspace)
        self._session_unsubscribe = session.subscribe(lambda _change: self._update_actions())
        self.setWindowTitle(f"{recording.path.name} — Lesson Review")
        self.settings = self.settings.with_recent(recording.path)
        self._save_settings()
        if recording.damaged_at_s is not None:
            QMessageBox.warning(
                self,
                "Damaged recording",
                f"{recording.path.name} is damaged: only the first {recording.damaged_at_s:.1f} s can be "
                "played and analysed.",
            )
        if demo and self.store.consent(rid) is None:
            self.record_consent(prefill=DEMO_CONSENT)
        if proposals is not None:
            self._load_proposals(proposals, sha256)
        elif self.store.consent(rid) is not None:
            self.start_analysis()
        self._refresh_consent_banner()
        self._update_actions()
        self.workspace.setFocus()

    def _load_proposals(self, path: Path, sha256: str) -> None:
        try:
            doc = proposals_file.read(path)
        except (OSError, proposals_file.ProposalsFileError) as exc:
            QMessageBox.critical(self, "Proposals not loaded", f"{path}:\n\n{exc}")
            return
        if doc.recording.sha256 != sha256:
            QMessageBox.warning(
                self,
                "Proposals not loaded",
                f"{path.name} was made for a different recording (its content differs from "
                f"{self.recording.path.name}). Analyse this recording instead.",
            )
            return
        self.workspace.add_people(doc.people)
        change = self.session.add_proposals(doc.proposals)
        self._status(f"Loaded {len(change.added)} pending proposals from {path.name} (unreviewed).")

    def close_recording(self) -> None:
        self.runner.shutdown()
        self._show_progress(False)
        if self.workspace is not None:
            self._session_unsubscribe()
            self.workspace.close_workspace()
            self.stack.removeWidget(self.workspace)
            self.workspace.deleteLater()
        self.workspace = self.session = self.recording = self.recording_id = None
        self.stack.setCurrentWidget(self.start)
        self.start.set_recent(self.settings.recent)
        self.setWindowTitle("Lesson Review")
        self._update_actions()

    # --- reviewer and consent -----------------------------------------------------------
    def ensure_reviewer(self) -> bool:
        if self.settings.reviewer:
            return True
        return self.ask_reviewer()

    def ask_reviewer(self) -> bool:
        name, ok = QInputDialog.getText(
            self,
            "Reviewer",
            "Your name or initials (stored with each decision you make):",
            text=self.settings.reviewer or "",
        )
        if not ok or not name.strip():
            return bool(self.settings.reviewer)
        self._remember(reviewer=name.strip())
        if self.session is not None:
            self.session.set_reviewer(name.strip())
        return True

    def record_consent(self, prefill: str | None = None) -> None:
        if self.session is None:
            return
        existing = self.store.consent(self.recording_id)
        dialog = ConsentDialog(
            self.recording.path.name,
            reviewer=self.settings.reviewer,
            existing=existing,
            parent=self,
        )
        if prefill and existing is None:
            dialog.consented_by.setPlainText(prefill)
            dialog.purpose.setText("Trying out Lesson Review")
        if dialog.exec():
            try:
                self.store.set_consent(self.recording_id, dialog.consent())
            except StoreError as exc:
                QMessageBox.critical(self, "Consent not saved", str(exc))
                return
        self._refresh_consent_banner()

    def _refresh_consent_banner(self) -> None:
        if self.workspace is not None:
            self.workspace.set_consent(self.store.consent(self.recording_id))

    # --- analysis --------------------------------------------------------------------------
    def start_analysis(self) -> None:
        if self.session is None or self.runner.running:
            return
        if self.store.consent(self.recording_id) is None:
            self.record_consent()
            if self.store.consent(self.recording_id) is None:
                return
        allow_download = False
        try:
            for name in (ModelName.PERSON_DETECTOR, ModelName.POSE_FULL):
                resolve(name, explicit_dir=self.models_dir)
        except ModelMissingError as exc:
            answer = QMessageBox.question(
                self,
                "Model files needed",
                f"{exc}\n\nDownload them now from their official sources (MediaPipe, YOLOX)? "
                "This is the only network connection Lesson Review makes.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            allow_download = True
        request = AnalysisRequest(
            path=self.recording.path, models_dir=self.models_dir, allow_download=allow_download
        )
        self.runner.start(request)
        self._show_progress(True)
        self.progress.setValue(0)
        self._status(
            "Analysing… proposals appear for review when it finishes; you can play and label meanwhile."
        )
        self._update_actions()

    def _show_progress(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)

    def _on_progress(self, run_id: int, p) -> None:
        if run_id == self.runner.run_id:
            self.progress.setMaximum(max(1, p.total))
            self.progress.setValue(p.done)

    def _on_sample(self, run_id: int, sample) -> None:
        if run_id == self.runner.run_id and self.workspace is not None:
            self.workspace.add_sample(sample)

    def _on_analysis_finished(self, run_id: int, doc) -> None:
        if run_id != self.runner.run_id or self.session is None:
            return
        self._show_progress(False)
        self.workspace.set_people(doc.people)
        change = self.session.add_proposals(doc.proposals)
        note = ""
        if doc.analysis.stopped_at_s is not None:
            note = f" The file is damaged: analysed up to {doc.analysis.stopped_at_s:.1f} s."
        self._status(
            f"Analysis done in {doc.analysis.elapsed_s:.0f} s: {len(doc.people)} people, "
            f"{len(change.added)} new proposals to review.{note}"
        )
        self._update_actions()

    def _on_analysis_failed(self, run_id: int, message: str) -> None:
        if run_id != self.runner.run_id:
            return
        self._show_progress(False)
        self._update_actions()
        QMessageBox.critical(self, "Analysis failed", message)

    def _on_analysis_cancelled(self, run_id: int) -> None:
        if run_id == self.runner.run_id:
            self._show_progress(False)
            self._status(
                "Analysis cancelled. Nothing was saved; run it again from the Analysis menu."
            )
            self._update_actions()

    # --- editing -----------------------------------------------------------------------------
    def undo(self) -> None:
        if self.session is not None and self.session.can_undo():
            self._guard(self.session.undo)

    def redo(self) -> None:
        if self.session is not None and self.session.can_redo():
            self._guard(self.session.redo)

    def _guard(self, call) -> None:
        try:
            call()
        except StoreError as exc:
            QMessageBox.critical(self, "Not saved", str(exc))
        self._update_actions()

    def _set_privacy(self, on: bool) -> None:
        if self.workspace is not None:
            self.workspace.set_privacy(on)
        self._remember(privacy_view=on)

    def _set_skeleton(self, on: bool) -> None:
        if self.workspace is not None:
            self.workspace.set_skeleton(on)
        self._remember(show_skeleton=on)

    def _set_grouping(self, on: bool) -> None:
        if self.workspace is not None:
            self.workspace.set_group_by_behaviour(on)

    # --- export ------------------------------------------------------------------------------
    def export_labels(self) -> None:
        if self.session is None:
            return
        n_labels = sum(
            1 for s in self.session.segments() if s.status in (Status.ACCEPTED, Status.CORRECTED)
        )
        dialog = ExportDialog(
            recording_name=self.recording.path.name,
            n_labels=n_labels,
            n_pending=self.session.pending_count(),
            default_dir=self.recording.path.parent,
            parent=self,
        )
        if not dialog.exec():
            return
        try:
            summary = export_labels(
                self.store,
                self.recording_id,
                dialog.target,
                fmt=dialog.fmt,
                pending_count=self.session.pending_count(),
            )
        except (OSError, StoreError) as exc:
            QMessageBox.critical(
                self, "Export failed", f"Nothing was written to {dialog.target}:\n\n{exc}"
            )
            return
        pending = (
            f" {summary.n_pending} pending proposals were not exported."
            if summary.n_pending
            else ""
        )
        self._status(f"Exported {summary.n_labels} reviewed labels to {summary.path}.{pending}")

    def export_decision_log(self) -> None:
        if self.session is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Export decision log",
            str(self.recording.path.with_name(self.recording.path.stem + "-decisions.csv")),
            "CSV (*.csv);;JSON (*.json)",
        )
        if not name:
            return
        try:
            export_decision_log(
                self.store,
                self.recording_id,
                Path(name),
                fmt="json" if name.endswith(".json") else "csv",
            )
        except (OSError, StoreError) as exc:
            QMessageBox.critical(self, "Export failed", str(exc))
            return
        self._status(f"Decision log exported to {name}.")

    # --- help ----------------------------------------------------------------------------------
    def show_keys(self) -> None:
        review = [(" / ".join(b.keys), b.text) for b in KEYS]
        HelpDialog(
            "Keyboard shortcuts",
            keys_html(
                [
                    ("Playback", PLAYER_KEYS),
                    ("Review", review),
                    ("Edit", [("Ctrl+Z", "Undo"), ("Ctrl+Shift+Z", "Redo")]),
                ]
            ),
            self,
        ).exec()

    def show_about(self) -> None:
        HelpDialog("About Lesson Review", about_html(), self).exec()

    def show_data_sheet(self) -> None:
        from lessonreview.gui.data_sheet import data_sheet_html

        if self.store is not None:
            HelpDialog(
                "What this project stores", data_sheet_html(self.store, self.project_path), self
            ).exec()

    # --- plumbing --------------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.status_text.setText(text)

    def _remember(self, **changes) -> None:
        self.settings = replace(self.settings, **changes)
        self._save_settings()

    def _save_settings(self) -> None:
        try:
            settings_io.save(self.settings, self._settings_path)
        except OSError as exc:
            self._status(f"Settings not saved: {exc}")

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt API)
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            path = Path(urls[0].toLocalFile())
            if path.suffix.lower() == ".json":
                self.open_proposals_file(path)
            else:
                self.open_recording(path)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.close_recording()
        if self._opening is not None:
            self._opening.wait(10)
        if self.store is not None:
            self.store.close()
            self.store = None
        event.accept()

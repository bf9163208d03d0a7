"""The main window: assembles the start screen and the review workspace and wires
menus to the core. It opens and closes things; it does not decide anything. Which
file to open, and whether a proposals file fits, is ``recording_files``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
)

from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.review.label_drafts import checked_reviewer
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store import settings as settings_io
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.core.store.private_files import make_private_folder, tighten_project
from lessonreview.core.vision.model_files import ModelMissingError, ModelName, model_hosts, resolve
from lessonreview.core.vision.offline import keep_libraries_offline
from lessonreview.gui.agreement.agreement_dialog import AgreementDialog
from lessonreview.gui.background import Report, Tasks
from lessonreview.gui.export.exports import export_reviewed_labels, import_coding
from lessonreview.gui.open_schemes import behaviour_codes, open_schemes, use_schemes
from lessonreview.gui.review.bulk_review import BULK_KEYS, BulkReview
from lessonreview.gui.review.decision_errors import decide
from lessonreview.gui.review.review_queue import KEYS
from lessonreview.gui.schemes.scheme_editor import SchemeEditor
from lessonreview.gui.shell.analysis_controls import AnalysisControls
from lessonreview.gui.shell.help_dialog import HelpDialog, about_html, keys_html
from lessonreview.gui.shell.kept_proposals import KeptProposals
from lessonreview.gui.shell.menus import build_menus, fill_recent_menu
from lessonreview.gui.shell.privacy_actions import PrivacyActions
from lessonreview.gui.shell.recording_files import (
    ask_proposals_file,
    ask_recording,
    installed_demo,
    proposals_for,
    read_proposals,
    recording_of,
    report_open_failure,
)
from lessonreview.gui.shell.reflection_dock import ReflectionDock
from lessonreview.gui.shell.start_screen import StartScreen
from lessonreview.gui.shell.workspace import PLAYER_KEYS, Workspace

DEMO_CONSENT = (
    "Public demo: real classroom frames from the 'cctv-accurate' dataset, CC BY 4.0 "
    "(see Help > About); no consent forms needed for this clip."
)


class MainWindow(QMainWindow):
    recording_opened = Signal(int)  # recording id, once it is on screen

    def __init__(
        self,
        *,
        project_path: Path | None = None,
        models_dir: Path | None = None,
        settings_path: Path | None = None,
    ) -> None:
        super().__init__()
        # Before any model loads: MediaPipe and onnxruntime would otherwise report usage
        # to their vendors from native code. Idempotent, so a second window is fine.
        keep_libraries_offline(exempt=model_hosts())
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
        self.bulk: BulkReview | None = None
        self.agreement: AgreementDialog | None = None
        # Opening reads and hashes the whole file: off the GUI thread. A recording asked
        # for while another is still opening replaces it.
        self._opening = Tasks(self, name="open-recording")
        self.privacy = PrivacyActions(self, self)
        self.reflection = ReflectionDock(self)

        self.stack = QStackedWidget(self)
        self.start = StartScreen(self)
        self.start.open_requested.connect(self.choose_recording)
        self.start.demo_requested.connect(self.open_demo)
        self.start.recent_requested.connect(lambda p: self.open_recording(Path(p)))
        self.stack.addWidget(self.start)
        self.setCentralWidget(self.stack)

        self.status_text = QLabel(self)
        self.statusBar().addWidget(self.status_text, 1)
        self.analysis = AnalysisControls(self, self, self.statusBar())
        self.kept = KeptProposals(self, self)
        self.analysis.finished.connect(self.kept.keep)

        self.menus = build_menus(self)
        self.menus.recent_menu.aboutToShow.connect(
            lambda: fill_recent_menu(
                self.menus.recent_menu, self.settings.recent, self.open_recording
            )
        )
        self.menus.privacy.setChecked(self.settings.privacy_view)
        self.menus.skeleton.setChecked(self.settings.show_skeleton)
        self._open_store()
        self.start.set_recent(self.settings.recent)
        self.update_actions()
        # After the window is up: a dialog over an empty screen reads as a crash.
        QTimer.singleShot(0, self.privacy.check_retention_at_start)

    def update_actions(self) -> None:
        m, has = self.menus, self.session is not None
        for a in m.for_open_recording():
            a.setEnabled(has)
        for a in (m.audit, m.export_log):
            a.setEnabled(self.store is not None)
        m.analyse.setEnabled(has and not self.analysis.running)
        m.cancel.setEnabled(self.analysis.running)
        can_undo, can_redo = has and self.session.can_undo(), has and self.session.can_redo()
        m.undo.setEnabled(can_undo)
        m.redo.setEnabled(can_redo)
        m.undo.setText(f"&Undo {self.session.undo_text()}" if can_undo else "&Undo")
        m.redo.setText(f"&Redo {self.session.redo_text()}" if can_redo else "&Redo")
        m.people_menu.setEnabled(has)

    # --- project ----------------------------------------------------------------
    def _open_store(self) -> bool:
        try:
            make_private_folder(self.project_path.parent)
            # Before opening: a -wal made by this open then inherits the owner-only mode.
            loosened = tighten_project(self.project_path)
            self.store = LabelStore.open(self.project_path)
        except (StoreError, OSError) as exc:
            self.store = None
            QMessageBox.critical(
                self,
                "Project not opened",
                f"The project file\n{self.project_path}\ncould not be opened:\n\n{exc}",
            )
            return False
        note = f" ({len(loosened)} files made private to your account)" if loosened else ""
        self.show_status(f"Project: {self.project_path}{note}")
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
        self.update_actions()
        self.privacy.check_retention_at_start()

    # --- opening ------------------------------------------------------------------
    def choose_recording(self) -> None:
        path = ask_recording(self, self.settings.recent)
        if path is not None:
            self.open_recording(path)

    def choose_proposals_file(self) -> None:
        path = ask_proposals_file(self)
        if path is not None:
            self.open_proposals_file(path)

    def open_demo(self) -> None:
        path = installed_demo(self)
        if path is not None:
            self.open_recording(path, demo=True)

    def open_proposals_file(self, path: Path) -> None:
        doc = read_proposals(self, path)
        if doc is not None:
            self.open_recording(recording_of(doc, path), proposals=path)

    def open_recording(
        self, path: Path, *, proposals: Path | None = None, demo: bool = False
    ) -> None:
        if self.store is None and not self._open_store():
            return
        if not self.ensure_reviewer():
            return
        self.close_recording()
        path = Path(path)
        self.show_status(f"Opening {path.name}…")

        def work(_report: Report) -> tuple[Recording, str]:
            return Recording.open(path), file_sha256(path)

        self._opening.start(
            work,
            done=lambda result: self._recording_ready(*result, proposals=proposals, demo=demo),
            failed=lambda exc: self._open_failed(path, exc),
        )

    def _open_failed(self, path: Path, exc: Exception) -> None:
        self.show_status("")
        report_open_failure(self, path, exc)

    def _recording_ready(
        self, recording: Recording, sha256: str, *, proposals: Path | None, demo: bool
    ) -> None:
        try:
            rid = self.store.add_recording(recording.info(sha256=sha256))
            # Its row read once here: a damaged one is reported before anything is set up.
            self.store.recording(rid)
            session = ReviewSession(
                self.store, rid, timebase=recording.timebase, reviewer=self.settings.reviewer
            )
        except StoreError as exc:
            QMessageBox.critical(self, "Project error", str(exc))
            return
        self.recording, self.recording_id, self.session = recording, rid, session
        self.show_status("")  # opened: what comes next (the analysis) says so itself
        use_schemes(session.schemes)
        self.workspace = Workspace(
            recording,
            session,
            privacy=self.menus.privacy.isChecked(),
            skeleton=self.menus.skeleton.isChecked(),
            parent=self,
        )
        self.workspace.consent_requested.connect(self.record_consent)
        self.workspace.analyse_requested.connect(self.start_analysis)
        hidden = set(self.settings.hidden_behaviours)
        if hidden:
            self.workspace.timeline.set_behaviour_filter(
                [c for c in behaviour_codes() if c not in hidden]
            )
        self.workspace.timeline.behaviours_changed.connect(
            lambda shown: self._remember(
                hidden_behaviours=tuple(c for c in behaviour_codes() if c not in shown)
            )
        )
        self._attach_face_detector()
        self.stack.addWidget(self.workspace)
        self.stack.setCurrentWidget(self.workspace)
        self._session_unsubscribe = session.subscribe(self._session_changed)
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
        # Before the analysis starts: it may ask about model files over this window.
        self.privacy.refresh_consent_banner()
        if proposals is not None:
            self._load_proposals(proposals, sha256)
        elif self.kept.restore(sha256):
            pass  # the kept analysis is in the review: no need to analyse again
        elif self.store.consent(rid) is not None:
            self.start_analysis()
        self.reflection.attach()
        self.update_actions()
        self.workspace.setFocus()
        self.recording_opened.emit(rid)

    def _session_changed(self, _change) -> None:
        self.kept.drop_if_done()
        self.update_actions()

    def _load_proposals(self, path: Path, sha256: str) -> None:
        # Proposals are derived from the video: like an analysis, they need consent first.
        if self.store.consent(self.recording_id) is None:
            self.record_consent()
            if self.store.consent(self.recording_id) is None:
                self.show_status(
                    f"The proposals in {path.name} were not loaded: no consent is recorded for "
                    "this recording. Record consent (Analysis > Record consent…), then open "
                    "the proposals file again."
                )
                return
        doc = proposals_for(
            self,
            path,
            sha256=sha256,
            recording_name=self.recording.path.name,
            frame_count=self.recording.frame_count,
        )
        if doc is None:
            return
        self.workspace.add_people(doc.people)
        self.note_models(doc.analysis)
        change = self.session.add_proposals(doc.proposals)
        self.show_status(
            f"Loaded {len(change.added)} pending proposals from {path.name} (unreviewed)."
        )

    def close_recording(self) -> None:
        if self.bulk is not None:
            self.bulk.finish()
            self.bulk.close()
            self.bulk.deleteLater()
            self.bulk = None
        if self.agreement is not None:
            self.agreement.close()
            self.agreement.deleteLater()
            self.agreement = None
        self.analysis.shutdown()
        self.kept.finish()
        self.privacy.snapshots.finish()
        self.reflection.detach()
        if self.workspace is not None:
            self._session_unsubscribe()
            self.workspace.close_workspace()
            self.stack.removeWidget(self.workspace)
            self.workspace.deleteLater()
        self.workspace = self.session = self.recording = self.recording_id = None
        self.stack.setCurrentWidget(self.start)
        self.start.set_recent(self.settings.recent)
        self.setWindowTitle("Lesson Review")
        self.update_actions()

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
        try:
            checked_reviewer(name)
        except ValueError as exc:
            QMessageBox.warning(self, "Reviewer", str(exc).capitalize() + ".")
            return bool(self.settings.reviewer)
        self._remember(reviewer=name.strip())
        if self.session is not None:
            # Blind coding: the review switches to this coder's own labels.
            self._guard(lambda: self.session.set_reviewer(name.strip()))
            self.show_status(f"Reviewing as {name.strip()}: only your own labels are shown.")
        return True

    def record_consent(self, prefill: str | None = None) -> None:
        self.privacy.record_consent(prefill=prefill)

    # --- analysis --------------------------------------------------------------------------
    def start_analysis(self) -> None:
        self.analysis.start()

    def cancel_analysis(self) -> None:
        self.analysis.cancel()

    # --- editing and view ----------------------------------------------------------------------
    def open_bulk_review(self) -> None:
        """Review > Bulk review…: the queue (as the timeline filters and the panel orders
        it) a page of blurred pictures at a time."""
        if self.workspace is None:
            return
        if self.bulk is not None:
            self.bulk.finish()
            self.bulk.deleteLater()
        try:
            face_model = resolve(ModelName.FACE_DETECTOR, explicit_dir=self.models_dir)
        except ModelMissingError:
            face_model = None  # faces blurred around the people located, as in the player
        queue = self.workspace.panel.model
        self.bulk = BulkReview(
            self.session,
            self.recording,
            queue=lambda: [queue.segment(i) for i in range(queue.rowCount())],
            picture_of=self.workspace.thumbnail_request,
            face_model=face_model,
            parent=self,
        )
        self.bulk.show()
        self.bulk.activateWindow()

    def open_agreement(self) -> None:
        """Review > Agreement between coders…: compare two coders of the open recording;
        a disagreement double-clicked there is shown on the video here."""
        if self.session is None or self.store is None:
            return
        if self.agreement is not None:
            self.agreement.close()
            self.agreement.deleteLater()
        self.agreement = AgreementDialog(
            self.store,
            self.recording_id,
            reviewer=self.session.reviewer,
            recording_name=self.recording.path.name,
            parent=self,
        )
        self.agreement.jump_requested.connect(self._show_frame)
        self.agreement.show()
        self.agreement.activateWindow()

    def _show_frame(self, frame: int) -> None:
        if self.workspace is not None:
            self.workspace.player.pause()
            self.workspace.player.seek(frame)

    def undo(self) -> None:
        if self.session is not None and self.session.can_undo():
            self._guard(self.session.undo)

    def redo(self) -> None:
        if self.session is not None and self.session.can_redo():
            self._guard(self.session.redo)

    def _guard(self, call) -> None:
        decide(self, call)
        self.update_actions()

    def _attach_face_detector(self) -> None:
        try:
            path = resolve(ModelName.FACE_DETECTOR, explicit_dir=self.models_dir)
        except ModelMissingError:
            # The safe default: the blur around located people, and a note that says so.
            self.workspace.set_face_detector(
                None, why_not="the face detector's model is missing: Analyse offers to download it"
            )
        else:
            self.workspace.set_face_detector(path)

    def set_privacy(self, on: bool) -> None:
        if self.workspace is not None:
            self.workspace.set_privacy(on)
        self._remember(privacy_view=on)

    def set_skeleton(self, on: bool) -> None:
        if self.workspace is not None:
            self.workspace.set_skeleton(on)
        self._remember(show_skeleton=on)

    def set_grouping(self, on: bool) -> None:
        if self.workspace is not None:
            self.workspace.set_group_by_behaviour(on)

    # --- files out of the project ----------------------------------------------------------------
    def export_labels(self) -> None:
        if self.session is not None:
            self.show_status(
                export_reviewed_labels(
                    self,
                    self.session,
                    store=self.store,
                    recording_path=self.recording.path,
                    tracks=self.workspace.tracks,
                )
            )

    def import_coding(self) -> None:
        if self.session is not None:
            self.show_status(
                import_coding(
                    self,
                    store=self.store,
                    rid=self.recording_id,
                    timebase=self.recording.timebase,
                    default_dir=self.recording.path.parent,
                    reviewer=self.settings.reviewer or "",
                )
            )

    def note_models(self, analysis, *, since: datetime | None = None) -> None:
        """Remember which model files made the proposals now loaded (shown since
        ``since``, default now), for the exports; show the reviewer which stretches of
        the recording the analysis could not decode."""
        if self.workspace is not None:
            self.workspace.set_damage_note(analysis.damage_note())
        try:
            self.store.note_analysis_models(
                self.recording_id, analysis.models, rate_hz=analysis.rate_hz, loaded_at=since
            )
        except StoreError:
            # Not worth stopping the review for: the exports then say no model for
            # these labels, which is true of what the project knows.
            pass

    # --- coding schemes ---------------------------------------------------------------
    def edit_schemes(self) -> SchemeEditor | None:
        """Open the scheme editor (not blocking); the open recording follows its changes."""
        if self.store is None and not self._open_store():
            return None
        editor = SchemeEditor(self.store, self)
        editor.changed.connect(self._schemes_changed)
        editor.finished.connect(editor.deleteLater)
        editor.open()
        return editor

    def _schemes_changed(self) -> None:
        if self.session is not None:
            self.session.reload_schemes()
            use_schemes(self.session.schemes)
        elif self.store is not None:
            use_schemes(self.store.coding_schemes())
        if self.workspace is not None:
            self.workspace.schemes_changed()
        self.show_status(
            f"Coding schemes saved: {', '.join(s.name for s in open_schemes().own) or 'none of your own'}"
        )

    # --- help ----------------------------------------------------------------------------------
    def show_keys(self) -> None:
        review = [(" / ".join(b.keys), b.text) for b in KEYS]
        edit = [("Ctrl+Z", "Undo"), ("Ctrl+Shift+Z", "Redo")]
        coding = [
            (b.key, f"{'Start / stop' if b.kind == 'state' else 'Code'} {b.name} ({s.name})")
            for s in open_schemes().own
            for b in s.behaviours
        ]
        sections = [
            ("Playback", PLAYER_KEYS),
            ("Review", review),
            *([("Coding (your schemes; select a person first)", coding)] if coding else []),
            ("Bulk review", list(BULK_KEYS)),
            ("Edit", edit),
        ]
        HelpDialog("Keyboard shortcuts", keys_html(sections), self).exec()

    def show_about(self) -> None:
        HelpDialog("About Lesson Review", about_html(), self).exec()

    # --- plumbing --------------------------------------------------------------------------------
    def show_status(self, text: str | None) -> None:
        if text is not None:
            self.status_text.setText(text)

    def _remember(self, **changes) -> None:
        self.settings = replace(self.settings, **changes)
        self._save_settings()

    def _save_settings(self) -> None:
        try:
            settings_io.save(self.settings, self._settings_path)
        except OSError as exc:
            self.show_status(f"Settings not saved: {exc}")

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
        self._opening.drop()
        self._opening.wait(10)
        if self.store is not None:
            self.store.close()
            self.store = None
        event.accept()

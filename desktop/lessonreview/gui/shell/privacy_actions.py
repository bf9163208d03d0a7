"""The main window's privacy actions: the consent record, snapshots (blurred unless
chosen otherwise and logged), the decision log view, keep-until dates and deleting a
recording's data, and the "what this project stores" sheet.

It reads what is open from the window (:class:`Host`) and decides nothing itself: the
core does, the dialogs ask.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from lessonreview.core.media.video import Recording
from lessonreview.core.privacy.retention import expired_recordings
from lessonreview.core.store import settings as settings_io
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.gui.export.exports import export_decision_log_as
from lessonreview.gui.privacy import retention
from lessonreview.gui.privacy.audit_view import AuditDialog
from lessonreview.gui.privacy.consent_dialog import ConsentDialog
from lessonreview.gui.privacy.data_sheet import data_sheet, data_sheet_html
from lessonreview.gui.privacy.snapshot import SnapshotSaver
from lessonreview.gui.shell.help_dialog import HelpDialog
from lessonreview.gui.shell.kept_proposals import KeptProposals
from lessonreview.gui.shell.workspace import Workspace


class Host(Protocol):
    """What these actions read from the main window."""

    store: LabelStore | None
    project_path: Path
    recording: Recording | None
    recording_id: int | None
    workspace: Workspace | None
    settings: settings_io.Settings
    models_dir: Path | None
    kept: KeptProposals

    def close_recording(self) -> None: ...

    def show_status(self, text: str | None) -> None: ...


class PrivacyActions(QObject):
    snapshot_saved = Signal(object)  # core Snapshot, written (and logged if unblurred)
    retention_checked = Signal(object)  # list of core Removal, empty if nothing removed

    def __init__(self, host: Host, parent: QWidget) -> None:
        super().__init__(parent)
        self._host = host
        self._parent = parent
        self.snapshots = SnapshotSaver(self)
        self.snapshots.saved.connect(self._on_snapshot_saved)
        self.snapshots.failed.connect(lambda msg: QMessageBox.critical(parent, "Snapshot", msg))

    # --- consent ----------------------------------------------------------------------
    def record_consent(self, *, prefill: str | None = None) -> None:
        """Who consented, to what, until when: asked for the open recording."""
        h = self._host
        if h.store is None or h.recording is None or h.recording_id is None:
            return
        existing = h.store.consent(h.recording_id)
        dialog = ConsentDialog(
            h.recording.path.name,
            reviewer=h.settings.reviewer,
            existing=existing,
            parent=self._parent,
        )
        if prefill and existing is None:
            dialog.consented_by.setPlainText(prefill)
            dialog.purpose.setText("Trying out Lesson Review")
        if dialog.exec():
            try:
                h.store.set_consent(h.recording_id, dialog.consent())
            except StoreError as exc:
                QMessageBox.critical(self._parent, "Consent not saved", str(exc))
                return
            h.kept.drop_if_done()  # no longer asked to keep them: they go
        self.refresh_consent_banner()

    def refresh_consent_banner(self) -> None:
        h = self._host
        if h.workspace is not None and h.store is not None:
            h.workspace.set_consent(h.store.consent(h.recording_id))

    # --- snapshots ------------------------------------------------------------------
    def save_snapshot(self) -> None:
        """File > Save snapshot of this frame: the frame on screen, without overlays."""
        h = self._host
        if h.workspace is None or h.recording is None or h.store is None:
            return
        frame = max(0, h.workspace.player.position)
        # The people drawn on this frame: the analysis' boxes and poses, nearest sample.
        video = h.workspace.video
        known = tuple(video.overlay) if video.frame == frame else ()
        self.snapshots.save(
            h.recording,
            frame,
            known=known,
            store=h.store,
            rid=h.recording_id,
            reviewer=h.settings.reviewer or "",
            models_dir=h.models_dir,
            parent=self._parent,
        )

    def _on_snapshot_saved(self, snapshot) -> None:
        if not snapshot.blurred:
            how = "faces NOT blurred; this is recorded in the decision log"
        elif snapshot.faces_detected is None:
            how = (
                f"faces blurred ({snapshot.faces_blurred} people; no face detector, so a face "
                "nobody found may show)"
            )
        else:
            how = (
                f"faces blurred ({snapshot.faces_blurred} people, "
                f"{snapshot.faces_detected} faces found by the face detector)"
            )
        self._host.show_status(
            f"Snapshot of frame {snapshot.frame} saved to {snapshot.path}, {how}."
        )
        self.snapshot_saved.emit(snapshot)

    # --- the decision log ---------------------------------------------------------------
    def decision_log_default(self) -> Path:
        h = self._host
        if h.recording is not None:
            return h.recording.path.with_name(h.recording.path.stem + "-decisions.csv")
        return h.project_path.with_name(h.project_path.stem + "-decisions.csv")

    def export_decision_log(self) -> None:
        h = self._host
        if h.store is not None:
            h.show_status(
                export_decision_log_as(
                    self._parent, h.store, h.recording_id, default=self.decision_log_default()
                )
            )

    def show_audit(self) -> None:
        """The open recording's decision log, or the whole project's with none open."""
        h = self._host
        if h.store is None:
            return
        title = h.recording.path.name if h.recording is not None else "whole project"
        try:
            dialog = AuditDialog(
                h.store,
                h.recording_id,
                title=title,
                default_export=self.decision_log_default(),
                parent=self._parent,
            )
        except StoreError as exc:
            QMessageBox.critical(self._parent, "Decision log not shown", str(exc))
            return
        dialog.exec()
        if dialog.last_status:
            h.show_status(dialog.last_status)

    # --- keep-until dates and deleting -----------------------------------------------------
    def check_retention_at_start(self) -> None:
        """Say nothing unless some recording is past its keep-until date."""
        recordings = self._recordings()
        if recordings and expired_recordings(recordings, today=date.today()):
            self.check_retention()
        else:
            self.retention_checked.emit([])

    def _recordings(self) -> list:
        """The project's recordings; none (after saying why) if the file is damaged."""
        h = self._host
        if h.store is None:
            return []
        try:
            return h.store.recordings()
        except StoreError as exc:
            QMessageBox.critical(self._parent, "Project damaged", str(exc))
            return []

    def check_retention(self) -> None:
        """Offer to delete the data of recordings past their keep-until date."""
        h = self._host
        if h.store is None:
            return
        expired = expired_recordings(self._recordings(), today=date.today())
        if not expired:
            QMessageBox.information(
                self._parent,
                "Keep-until dates",
                "No recording in this project is past its keep-until date.",
            )
            self.retention_checked.emit([])
            return
        if h.recording_id in {e.recording_id for e in expired}:
            h.close_recording()
        removals = retention.offer_deletion(self._parent, h.store, expired)
        if removals:
            h.show_status(
                f"Deleted the data of {len(removals)} recording(s); the video files were not touched."
            )
        self.retention_checked.emit(removals)

    def delete_recording_data(self) -> None:
        """Project > Delete this recording's data, for the open recording."""
        h = self._host
        if h.store is None or h.recording_id is None:
            return
        rid = h.recording_id
        if not retention.confirm_deletion(self._parent, h.store, rid):
            return
        h.close_recording()
        removal = retention.remove_one(self._parent, h.store, rid)
        if removal is not None:
            h.show_status(removal.describe())

    def show_data_sheet(self) -> None:
        h = self._host
        if h.store is not None:
            try:
                html = data_sheet_html(data_sheet(h.store))
            except StoreError as exc:
                QMessageBox.critical(self._parent, "Project damaged", str(exc))
                return
            HelpDialog("What this project stores", html, self._parent).exec()

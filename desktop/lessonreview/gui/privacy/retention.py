"""Removing a recording's data: when its keep-until date has passed (offered at start),
or on request for the open recording. The video file is never touched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lessonreview.core.privacy.retention import ExpiredRecording, Removal, remove_recording_data
from lessonreview.core.store.label_store import LabelStore, StoreError

DELETE_TEXT = "Delete recording data"
KEEP_TEXT = "Keep for now"


class RetentionDialog(QDialog):
    """Lists recordings past their keep-until date, all ticked; "Delete recording data"
    removes the ticked ones, "Keep for now" changes nothing (asked again next start)."""

    def __init__(
        self,
        expired: Sequence[ExpiredRecording],
        parent: QWidget | None = None,
        *,
        counts: Mapping[int, Mapping[str, int]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keep-until date passed")
        self.resize(720, 380)
        intro = QLabel(self)
        intro.setWordWrap(True)
        n = len(expired)
        intro.setText(
            f"The consent for <b>{n} recording{'s' if n != 1 else ''}</b> in this project allowed "
            "keeping its data only until a date that has now passed. Deleting removes its labels, "
            "decisions, people and consent record from this project. <b>The video files are not "
            "touched</b>: delete those yourself where they are kept."
        )
        self.list = QListWidget(self)
        for e in expired:
            text = (
                f"{e.file_name} — keep until {e.retention_until.isoformat()} "
                f"({e.days_past} day{'s' if e.days_past != 1 else ''} ago)"
            )
            if counts and e.recording_id in counts:
                c = counts[e.recording_id]
                text += f": {c['labels']} labels, {c['decisions']} decisions, {c['people']} people"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, e.recording_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        buttons = QDialogButtonBox(self)
        self.delete_button = QPushButton(DELETE_TEXT, self)
        self.keep_button = QPushButton(KEEP_TEXT, self)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.keep_button.setDefault(True)  # Enter must never delete
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def chosen(self) -> list[int]:
        """Ids of the ticked recordings."""
        return [
            int(item.data(Qt.ItemDataRole.UserRole))
            for item in (self.list.item(i) for i in range(self.list.count()))
            if item.checkState() == Qt.CheckState.Checked
        ]


def offer_deletion(
    parent: QWidget, store: LabelStore, expired: Sequence[ExpiredRecording]
) -> list[Removal]:
    """Show the dialog; remove what the reviewer ticked and say what was removed."""
    counts = {e.recording_id: store.counts(e.recording_id) for e in expired}
    dialog = RetentionDialog(expired, parent, counts=counts)
    if not dialog.exec():
        return []
    removals = _remove(parent, store, dialog.chosen())
    show_removals(parent, removals)
    return removals


def confirm_deletion(parent: QWidget, store: LabelStore, rid: int) -> bool:
    """Ask before removing one recording's data, saying exactly what would go."""
    counts = store.counts(rid)
    name = store.recording(rid).path
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(DELETE_TEXT)
    box.setText(
        f"Remove everything this project holds about <b>{escape(name)}</b>?<br><br>"
        f"{counts['labels']} reviewed labels, {counts['decisions']} decision-log entries and "
        f"{counts['people']} person records, and its consent record, will be deleted. This "
        "cannot be undone. Pending proposals in memory are dropped too.<br><br>"
        "<b>The video file is not touched.</b>"
    )
    delete = box.addButton(DELETE_TEXT, QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton(KEEP_TEXT, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.exec()
    return box.clickedButton() is delete


def remove_one(parent: QWidget, store: LabelStore, rid: int) -> Removal | None:
    removals = _remove(parent, store, [rid])
    show_removals(parent, removals)
    return removals[0] if removals else None


def _remove(parent: QWidget, store: LabelStore, ids: Sequence[int]) -> list[Removal]:
    removals = []
    for rid in ids:
        try:
            removals.append(remove_recording_data(store, rid))
        except StoreError as exc:
            QMessageBox.critical(parent, "Not deleted", f"The data was NOT deleted:\n\n{exc}")
    return removals


def show_removals(parent: QWidget, removals: Sequence[Removal]) -> None:
    if removals:
        QMessageBox.information(
            parent, "Recording data deleted", "\n\n".join(r.describe() for r in removals)
        )

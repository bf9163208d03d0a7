"""Recording consent before the first analysis of a recording."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from lessonreview.core.store.store_rows import Consent


class ConsentDialog(QDialog):
    """Asks who consented, for what purpose, and until when the data may be kept."""

    def __init__(
        self, recording_name: str, *, reviewer: str, existing: Consent | None = None, parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Consent for this recording")
        self._reviewer = reviewer
        intro = QLabel(
            f"<b>{recording_name}</b><br>Before Lesson Review analyses a recording, record the consent "
            "that covers it. The recording can be played without this, but not analysed.",
            self,
        )
        intro.setWordWrap(True)
        self.consented_by = QPlainTextEdit(self)
        self.consented_by.setPlaceholderText(
            "e.g. parents of class 7B, signed forms on file (school office)"
        )
        self.consented_by.setFixedHeight(60)
        self.purpose = QLineEdit(self)
        self.purpose.setPlaceholderText(
            "e.g. teacher's self-reflection on questioning, spring term"
        )
        self.retention = QDateEdit(self)
        self.retention.setCalendarPopup(True)
        self.retention.setDisplayFormat("yyyy-MM-dd")
        self.retention.setMinimumDate(QDate.currentDate())
        self.retention.setDate(QDate.currentDate().addMonths(6))
        self.keep_proposals = QCheckBox(
            "Keep the machine's undecided proposals with the project until they are reviewed",
            self,
        )
        self.keep_proposals.setToolTip(
            "Without this, undecided proposals live only while the recording is open, and "
            "reopening it analyses it again. With it, they are stored marked unreviewed, never "
            "exported, and deleted when every proposal is decided, when this recording's data "
            "is deleted, or at the keep-until date."
        )
        if existing is not None:
            self.keep_proposals.setChecked(existing.keep_proposals)
            self.consented_by.setPlainText(existing.consented_by)
            self.purpose.setText(existing.purpose)
            d = existing.retention_until
            self.retention.setDate(QDate(d.year, d.month, d.day))
        form = QFormLayout()
        form.addRow("Who consented:", self.consented_by)
        form.addRow("Purpose:", self.purpose)
        form.addRow("Keep data until:", self.retention)
        form.addRow("", self.keep_proposals)
        keep_note = QLabel(
            "Then reopening the recording needs no new analysis. They are stored marked "
            "unreviewed, never exported, and deleted once all are decided, with this "
            "recording's data, or at the keep-until date.",
            self,
        )
        keep_note.setWordWrap(True)
        keep_note.setStyleSheet("color: #555555;")
        form.addRow("", keep_note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.consented_by.textChanged.connect(self._update)
        self.purpose.textChanged.connect(self._update)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._update()

    def _update(self) -> None:
        ok = bool(self.consented_by.toPlainText().strip()) and bool(self.purpose.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ok)

    def consent(self) -> Consent:
        q = self.retention.date()
        return Consent(
            consented_by=self.consented_by.toPlainText().strip(),
            purpose=self.purpose.text().strip(),
            retention_until=date(q.year(), q.month(), q.day()),
            recorded_by=self._reviewer,
            recorded_at=datetime.now().astimezone(),
            keep_proposals=self.keep_proposals.isChecked(),
        )

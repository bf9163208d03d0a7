"""Export of reviewed labels: says plainly what is exported and what is not."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)


class ExportDialog(QDialog):
    def __init__(
        self, *, recording_name: str, n_labels: int, n_pending: int, default_dir: Path, parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export reviewed labels")
        self._stem = Path(recording_name).stem
        summary = QLabel(self)
        summary.setWordWrap(True)
        text = f"<b>{n_labels}</b> reviewed label{'s' if n_labels != 1 else ''} of <b>{recording_name}</b> will be exported."
        if n_pending:
            text += (
                f"<br><span style='color:#b35900'><b>{n_pending}</b> proposal{'s are' if n_pending != 1 else ' is'} "
                "still pending and will <b>not</b> be exported.</span> Review them first if they matter."
            )
        text += "<br>Rejected proposals are decisions, not labels: they are in the decision log, not here."
        summary.setText(text)
        self.format = QComboBox(self)
        self.format.addItem("CSV (spreadsheets, R, pandas)", "csv")
        self.format.addItem("JSON (lessonreview.labels/1)", "json")
        self.path = QLineEdit(str(default_dir / f"{self._stem}-labels.csv"), self)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        self.format.currentIndexChanged.connect(self._format_changed)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format:", self.format)
        form.addRow("File:", row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    @property
    def fmt(self) -> str:
        return self.format.currentData()

    @property
    def target(self) -> Path:
        return Path(self.path.text()).expanduser()

    def _format_changed(self) -> None:
        p = Path(self.path.text())
        self.path.setText(str(p.with_suffix("." + self.fmt)))

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export to", self.path.text(), f"{self.fmt.upper()} (*.{self.fmt})"
        )
        if name:
            self.path.setText(name)

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

from lessonreview.core.exchange.formats import FORMATS, SUFFIXES, TITLES

ALL_CODERS = "All coders"


class ExportDialog(QDialog):
    def __init__(
        self,
        *,
        recording_name: str,
        n_labels: int,
        n_pending: int,
        default_dir: Path,
        coders: tuple[str, ...] = (),
        parent=None,
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
        for fmt in FORMATS:
            self.format.addItem(TITLES[fmt], fmt)
        self.coder = QComboBox(self)
        self.coder.addItem(ALL_CODERS, None)
        for name in coders:
            self.coder.addItem(name, name)
        self.path = QLineEdit(str(default_dir / f"{self._stem}{SUFFIXES['csv']}"), self)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        self.format.currentIndexChanged.connect(self._format_changed)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format:", self.format)
        form.addRow("Coder:", self.coder)
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

    @property
    def chosen_coder(self) -> str | None:
        """The coder whose labels to export; None for every coder's."""
        return self.coder.currentData()

    def _format_changed(self) -> None:
        folder = Path(self.path.text()).expanduser().parent
        self.path.setText(str(folder / f"{self._stem}{SUFFIXES[self.fmt]}"))

    def _browse(self) -> None:
        ext = Path(SUFFIXES[self.fmt]).suffix
        name, _ = QFileDialog.getSaveFileName(
            self, "Export to", self.path.text(), f"{self.format.currentText()} (*{ext})"
        )
        if name:
            self.path.setText(name)

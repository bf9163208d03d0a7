"""Review > Agreement between coders: the same figures as ``lessonreview agreement``
(both come from :func:`~lessonreview.core.agreement.agreement.agreement_for` and are
shown through the same formatting), the disagreement list, and the consensus pass.

Comparing is a comparison asked for: only here does a coder see another's labels, and
only as the list of where the two differ. The dialog owns no domain state: it reads
the store each time it compares, and the consensus buttons write through
:mod:`~lessonreview.core.agreement.consensus`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lessonreview.core.agreement import consensus
from lessonreview.core.agreement.agreement import (
    DEFAULT_OVERLAP,
    DEFAULT_SLICE_S,
    DEFAULT_TOLERANCE_S,
    MAX_TOLERANCE_S,
    AgreementError,
    AgreementReport,
    Disagreement,
    agreement_for,
    behaviour_title,
    describe_settings,
    figure_headers,
    figure_rows,
)
from lessonreview.core.domain import CONSENSUS_CODER, format_time
from lessonreview.core.store.label_store import LabelStore, StoreError

_DISAGREEMENT_HEADERS = (
    "time",
    "person",
    "behaviour",
    "only in",
    "nearest of the other",
    "settled",
)


class AgreementDialog(QDialog):
    """Compare two coders of the open recording. ``jump_requested(frame)`` asks the
    window to show that frame of the video."""

    jump_requested = Signal(int)

    def __init__(
        self,
        store: LabelStore,
        recording_id: int,
        *,
        reviewer: str,
        recording_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Agreement between coders — {recording_name}")
        self.resize(980, 720)
        self._store = store
        self._rid = recording_id
        self._reviewer = reviewer
        self.report: AgreementReport | None = None

        coders = [c for c in store.coders(recording_id) if c != CONSENSUS_CODER]
        self.coder_a, self.coder_b = QComboBox(self), QComboBox(self)
        for combo in (self.coder_a, self.coder_b):
            combo.addItems(coders)
        if reviewer in coders:
            self.coder_a.setCurrentText(reviewer)
        others = [c for c in coders if c != self.coder_a.currentText()]
        if others:
            self.coder_b.setCurrentText(others[0])
        self.slice_s = QDoubleSpinBox(self, decimals=2, minimum=0.04, maximum=600.0)
        self.slice_s.setValue(DEFAULT_SLICE_S)
        self.slice_s.setSuffix(" s")
        self.overlap = QDoubleSpinBox(self, decimals=2, minimum=0.05, maximum=1.0, singleStep=0.05)
        self.overlap.setValue(DEFAULT_OVERLAP)
        self.tolerance = QDoubleSpinBox(
            self, decimals=2, minimum=0.0, maximum=MAX_TOLERANCE_S, singleStep=0.1
        )
        self.tolerance.setValue(DEFAULT_TOLERANCE_S)
        self.tolerance.setSuffix(" s")
        self.tolerance.setToolTip(
            "Two point events (one-frame labels) of the same person and behaviour agree "
            "when at most this far apart"
        )
        self.compare_button = QPushButton("&Compare", self)
        self.compare_button.clicked.connect(self.compare)

        choose = QHBoxLayout()
        form = QFormLayout()
        form.addRow("Coder A:", self.coder_a)
        form.addRow("Coder B:", self.coder_b)
        choose.addLayout(form)
        form = QFormLayout()
        form.addRow("Time slice:", self.slice_s)
        form.addRow("Segments agree at IoU ≥", self.overlap)
        form.addRow("Point events agree within ±", self.tolerance)
        choose.addLayout(form)
        choose.addWidget(self.compare_button, alignment=Qt.AlignmentFlag.AlignBottom)
        choose.addStretch(1)

        self.settings_text = QLabel(self)
        self.settings_text.setWordWrap(True)
        self.figures = _table(self, 7)
        # Numbers read best in columns of their own width, not spread across the dialog.
        self.figures.horizontalHeader().setStretchLastSection(False)
        self.disagreements = _table(self, len(_DISAGREEMENT_HEADERS))
        self.disagreements.setHorizontalHeaderLabels(_DISAGREEMENT_HEADERS)
        self.disagreements.cellDoubleClicked.connect(lambda row, _col: self.show_on_video(row))
        self.disagreements.itemSelectionChanged.connect(self._update_buttons)

        self.agreed_by = QLineEdit(self)
        self.agreed_by.setPlaceholderText("the coders who agreed, e.g. Ann, Ben")
        self.show_button = QPushButton("&Show on video", self)
        self.show_button.clicked.connect(lambda: self.show_on_video(self._row()))
        self.keep_button = QPushButton("&Keep as final label", self)
        self.keep_button.clicked.connect(self.keep_selected)
        self.drop_button = QPushButton("&Drop (no final label)", self)
        self.drop_button.clicked.connect(self.drop_selected)
        self.confirm_button = QPushButton("Confirm &agreements as final", self)
        self.confirm_button.clicked.connect(self.confirm_agreements)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Agreed by:", self))
        buttons.addWidget(self.agreed_by, 1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.drop_button)
        buttons.addWidget(self.confirm_button)

        self.disagreements_title = QLabel(self)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.settings_text)
        layout.addWidget(self.figures)
        layout.addWidget(self.disagreements_title)
        layout.addWidget(self.disagreements, 1)
        consensus_note = QLabel(
            "Consensus: settle each disagreement together. The final labels are saved as the "
            "coder “consensus” (export them with that coder); the decision log records who "
            "agreed. Neither coder's own labels change.",
            self,
        )
        consensus_note.setWordWrap(True)
        layout.addWidget(consensus_note)
        layout.addLayout(buttons)

        if len(coders) < 2:
            self.settings_text.setText(
                "Agreement needs two coders of this recording: "
                f"{'only ' + coders[0] + ' has' if coders else 'nobody has'} coded it so far. "
                "A second reviewer sets their name (Edit > Reviewer name…) and codes the "
                "recording; their labels stay their own until compared here."
            )
            self.compare_button.setEnabled(False)
        else:
            self.compare()
        self._update_buttons()

    # -- comparing ----------------------------------------------------------------------

    def compare(self) -> None:
        coders = [self.coder_a.currentText(), self.coder_b.currentText()]
        try:
            report = agreement_for(
                self._store,
                self._rid,
                coders,
                slice_s=self.slice_s.value(),
                overlap=self.overlap.value(),
                tolerance_s=self.tolerance.value(),
            )
        except (AgreementError, StoreError) as exc:
            QMessageBox.warning(self, "Agreement", str(exc))
            return
        self.report = report
        if not self.agreed_by.text().strip():
            self.agreed_by.setText(", ".join(coders))
        self.settings_text.setText(describe_settings(report))
        self.figures.setColumnCount(7)
        self.figures.setHorizontalHeaderLabels(figure_headers(report))
        _fill(self.figures, figure_rows(report), numbers=True)
        self.figures.resizeColumnsToContents()
        rows_height = sum(self.figures.rowHeight(r) for r in range(self.figures.rowCount()))
        self.figures.setFixedHeight(rows_height + self.figures.horizontalHeader().height() + 4)
        self._fill_disagreements()

    def figure_texts(self) -> list[tuple[str, ...]]:
        """The figures table as shown (what a test compares with the command line)."""
        return [
            tuple(self.figures.item(r, c).text() for c in range(self.figures.columnCount()))
            for r in range(self.figures.rowCount())
        ]

    def _fill_disagreements(self) -> None:
        report = self.report
        settled = consensus.settled(self._store, self._rid)
        rows = []
        for d in report.disagreements:
            s = d.segment
            if d.offset_s is not None:
                near = f"{format_time(d.nearest.start_s)} ({d.offset_s:.2f} s away)"
            elif d.nearest is not None:
                near = (
                    f"{format_time(d.nearest.start_s)}–{format_time(d.nearest.end_s)} "
                    f"(IoU {d.iou:.2f})"
                )
            else:
                near = "none overlaps"

            rows.append(
                (
                    f"{format_time(s.start_s)}–{format_time(s.end_s)}",
                    s.person,
                    behaviour_title(s.behaviour, report.schemes),
                    s.coder,
                    near,
                    _settled_text(settled.get(s.label_id)),
                )
            )
        _fill(self.disagreements, rows)
        self.disagreements_title.setText(
            f"<b>{len(rows)} disagreement{'s' if len(rows) != 1 else ''}</b> "
            "(double-click one to see it on the video)"
        )
        self._update_buttons()

    # -- acting on a disagreement -------------------------------------------------------

    def _row(self) -> int:
        rows = self.disagreements.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _selected(self) -> Disagreement | None:
        row = self._row()
        if self.report is None or not 0 <= row < len(self.report.disagreements):
            return None
        return self.report.disagreements[row]

    def show_on_video(self, row: int) -> None:
        if self.report is not None and 0 <= row < len(self.report.disagreements):
            self.jump_requested.emit(self.report.disagreements[row].segment.start_frame)

    def keep_selected(self) -> None:
        d = self._selected()
        if d is not None:
            self._settle(
                lambda agreed: consensus.keep_as_final(
                    self._store,
                    self._rid,
                    segment=d.segment,
                    settles=[d.segment, *([d.nearest] if d.nearest else [])],
                    agreed_by=agreed,
                    recorded_by=self._reviewer,
                )
            )

    def drop_selected(self) -> None:
        d = self._selected()
        if d is not None:
            self._settle(
                lambda agreed: consensus.drop(
                    self._store,
                    self._rid,
                    settles=[d.segment],
                    agreed_by=agreed,
                    recorded_by=self._reviewer,
                )
            )

    def confirm_agreements(self) -> None:
        """Every matched pair not settled yet becomes a final label (coder A's segment)."""
        if self.report is None:
            return
        done = consensus.settled(self._store, self._rid)
        todo = [m for m in self.report.matches if m.a.label_id not in done]

        def save(agreed: list[str]) -> None:
            with self._store.transaction():
                for m in todo:
                    consensus.keep_as_final(
                        self._store,
                        self._rid,
                        segment=m.a,
                        settles=[m.a, m.b],
                        agreed_by=agreed,
                        recorded_by=self._reviewer,
                    )

        self._settle(save)

    def _settle(self, write) -> None:
        agreed = [n.strip() for n in self.agreed_by.text().split(",") if n.strip()]
        try:
            write(agreed)
        except StoreError as exc:
            QMessageBox.critical(self, "Not saved", f"The consensus was NOT saved:\n\n{exc}")
            return
        except AgreementError as exc:
            QMessageBox.warning(self, "Not saved", str(exc))
            return
        row = self._row()
        self._fill_disagreements()
        if row >= 0:
            self.disagreements.selectRow(min(row + 1, self.disagreements.rowCount() - 1))

    def _update_buttons(self) -> None:
        has = self._selected() is not None
        for b in (self.show_button, self.keep_button, self.drop_button):
            b.setEnabled(has)
        self.confirm_button.setEnabled(self.report is not None and bool(self.report.matches))


def _settled_text(s: consensus.Settled | None) -> str:
    if s is None:
        return ""
    what = "final label" if s.final_label_id is not None else "dropped"
    return f"{what} ({', '.join(s.agreed_by)})"


def _table(parent: QWidget, columns: int) -> QTableWidget:
    table = QTableWidget(0, columns, parent)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]], *, numbers: bool = False) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if numbers and c > 0:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)

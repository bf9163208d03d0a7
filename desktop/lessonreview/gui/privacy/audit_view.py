"""The decision log, read-only: who decided what and when, undos and redos included.

A thin table model over ``LabelStore.decisions()``; the dialog never writes to the
project. "Export…" writes the same entries through the core decision-log export.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from lessonreview.core.domain import DecisionAction, format_time
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import DecisionRow
from lessonreview.gui.export.exports import export_decision_log_as
from lessonreview.gui.open_schemes import behaviour_title

COLUMNS = ("#", "When", "Reviewer", "Decision", "Details", "Reverses")

ACTION_TITLES = {
    DecisionAction.ACCEPT: "Accepted",
    DecisionAction.CORRECT: "Corrected",
    DecisionAction.REJECT: "Rejected",
    DecisionAction.ADD: "Added a label",
    DecisionAction.IMPORT: "Imported a label",
    DecisionAction.EDIT: "Edited a label",
    DecisionAction.DELETE: "Deleted a label",
    DecisionAction.MERGE_PEOPLE: "Merged two people",
    DecisionAction.SPLIT_PERSON: "Split a person",
    DecisionAction.RENAME_PERSON: "Renamed a person",
    DecisionAction.UNDO: "Undo",
    DecisionAction.REDO: "Redo",
    DecisionAction.UNBLURRED_SNAPSHOT: "Saved a snapshot WITHOUT face blur",
    DecisionAction.CONSENSUS: "Consensus",
}


def _label_text(label: dict[str, Any] | None) -> str:
    if not label:
        return ""
    behaviour = behaviour_title(str(label.get("behaviour", "?")))
    span = ""
    if "start_s" in label and "end_s" in label:
        span = f" {format_time(float(label['start_s']), hundredths=False)}–{format_time(float(label['end_s']), hundredths=False)}"
    return f"{behaviour}, {label.get('person', '?')}{span}"


def details(row: DecisionRow) -> str:
    """The entry in one line of plain words; unknown actions show their raw payload."""
    p = row.payload
    match row.action:
        case DecisionAction.ACCEPT | DecisionAction.REJECT | DecisionAction.ADD:
            return _label_text(p.get("after") or p.get("proposal"))
        case DecisionAction.IMPORT:
            return f"{_label_text(p.get('after'))} from {p.get('file', '?')}"
        case DecisionAction.CORRECT:
            return f"{_label_text(p.get('proposal'))} → {_label_text(p.get('after'))}"
        case DecisionAction.EDIT:
            return f"{_label_text(p.get('before'))} → {_label_text(p.get('after'))}"
        case DecisionAction.DELETE:
            return _label_text(p.get("before"))
        case DecisionAction.UNDO | DecisionAction.REDO:
            return str(p.get("label", ""))
        case DecisionAction.MERGE_PEOPLE:
            return f"{p.get('absorb')} merged into {p.get('keep')}"
        case DecisionAction.SPLIT_PERSON:
            return f"{p.get('person')} from frame {p.get('at_frame')} on is {p.get('new_person')}"
        case DecisionAction.RENAME_PERSON:
            return f"{p.get('person')}: {p.get('before') or '(no name)'} → {p.get('after') or '(no name)'}"
        case DecisionAction.UNBLURRED_SNAPSHOT:
            return (
                f"frame {p.get('frame')} ({format_time(float(p.get('time_s', 0.0)), hundredths=False)}) "
                f"saved as {p.get('file_name')}, faces visible"
            )
        case DecisionAction.CONSENSUS:
            agreed = ", ".join(p.get("agreed_by", ()))
            final = _label_text(p.get("final")) if p.get("final") else "no final label"
            return f"{final}; agreed by {agreed}"
    return json.dumps(p, sort_keys=True)[:200]


class DecisionLogModel(QAbstractTableModel):
    """Read-only rows of the decision log, oldest first."""

    def __init__(self, rows: list[DecisionRow], parent=None) -> None:
        super().__init__(parent)
        self._rows = list(rows)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def entry(self, row: int) -> DecisionRow:
        return self._rows[row]

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return json.dumps(row.payload, indent=1, sort_keys=True)[:2000]
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and row.action == DecisionAction.UNBLURRED_SNAPSHOT
        ):
            return QColor("#b00020")
        return None

    @staticmethod
    def _text(row: DecisionRow, column: int) -> str:
        match column:
            case 0:
                return str(row.id)
            case 1:
                return row.decided_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            case 2:
                return row.reviewer
            case 3:
                return ACTION_TITLES.get(row.action, row.action)
            case 4:
                return details(row)
            case _:
                return f"#{row.undoes}" if row.undoes is not None else ""


class AuditDialog(QDialog):
    """The decision log of one recording (or of the whole project with ``rid=None``)."""

    def __init__(
        self,
        store: LabelStore,
        rid: int | None,
        *,
        title: str,
        default_export: Path,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Decision log — {title}")
        self.resize(980, 560)
        self._store, self._rid, self._default = store, rid, default_export
        self.last_status: str | None = None
        self.model = DecisionLogModel(store.decisions(rid), self)
        intro = QLabel(self)
        intro.setWordWrap(True)
        n = self.model.rowCount()
        intro.setText(
            f"<b>{n}</b> entr{'y' if n == 1 else 'ies'}, oldest first. Every decision a reviewer "
            "made is here, with who made it and when; an undo adds an entry rather than erasing "
            "one. This view is read-only."
        )
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.scrollToBottom()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.export_button = QPushButton("Export…", self)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self.export)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def export(self) -> None:
        status = export_decision_log_as(self, self._store, self._rid, default=self._default)
        if status:
            self.last_status = status

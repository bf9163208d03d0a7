"""The scheme editor: the project's coding schemes and their behaviours.

Each change is saved to the project when it is made (the store checks it first: a code,
key or name used twice, a key of the review window, a behaviour that labels use), and a
refused change says why in the dialog and leaves the scheme as it was. The built-in
scheme, the one the machine proposes for, is shown but not editable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lessonreview.core.domain import (
    BehaviourKind,
    CodingScheme,
    SchemeBehaviour,
    SchemeError,
    behaviour_code,
    free_keys,
)
from lessonreview.core.store.atomic_file import TargetError
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.core.store.scheme_file import import_scheme_file, write_scheme_file

# Colours offered to a new behaviour, in turn: distinct from each other and from the
# built-in behaviours' Okabe-Ito hues.
NEW_COLOURS = ("#1F77B4", "#2CA02C", "#9467BD", "#8C564B", "#17BECF", "#BCBD22", "#7F7F7F")
_KIND_TEXT = {
    BehaviourKind.STATE: "State (press to start, press to stop)",
    BehaviourKind.POINT: "Point event (one press, one frame)",
}
_ERROR_STYLE = "color: #a40000;"


def swatch(colour: str, size: int = 16) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class BehaviourForm(QDialog):
    """One behaviour's fields. ``save`` is called with the behaviour on OK and returns
    None when it was saved, else why not (shown here; the form stays open)."""

    def __init__(
        self,
        behaviour: SchemeBehaviour,
        *,
        save: Callable[[SchemeBehaviour], str | None],
        new: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New behaviour" if new else f"Edit {behaviour.name}")
        self._behaviour = behaviour
        self._save = save
        self._new = new
        self._colour = behaviour.colour
        self.name = QLineEdit(behaviour.name, self)
        self.name.setPlaceholderText("e.g. Teacher at the board")
        self.key = QLineEdit(behaviour.key, self)
        self.key.setMaxLength(1)
        self.key.setMaximumWidth(40)
        self.kind = QComboBox(self)
        for kind, text in _KIND_TEXT.items():
            self.kind.addItem(text, kind)
        self.kind.setCurrentIndex(self.kind.findData(behaviour.kind))
        self.colour = QPushButton(behaviour.colour, self)
        self.colour.setIcon(swatch(behaviour.colour))
        self.colour.clicked.connect(self._choose_colour)
        self.definition = QPlainTextEdit(behaviour.definition, self)
        self.definition.setPlaceholderText(
            "What counts and what does not, so that two coders code alike"
        )
        self.definition.setMinimumHeight(90)
        self.code = QLabel(behaviour.code if not new else "made from the name", self)
        self.code.setToolTip("Written into each label; it never changes once the behaviour exists")
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(_ERROR_STYLE)

        form = QFormLayout()
        form.addRow("Name", self.name)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key)
        key_row.addWidget(QLabel(f"allowed: {' '.join(free_keys())}", self))
        key_row.addStretch(1)
        form.addRow("Key", key_row)
        form.addRow("Kind", self.kind)
        form.addRow("Colour", self.colour)
        form.addRow("Definition", self.definition)
        form.addRow("Code", self.code)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(520, 0)

    def set_colour(self, colour: str) -> None:
        self._colour = QColor(colour).name().upper()
        self.colour.setText(self._colour)
        self.colour.setIcon(swatch(self._colour))

    def _choose_colour(self) -> None:
        chosen = QColorDialog.getColor(QColor(self._colour), self, "Behaviour colour")
        if chosen.isValid():
            self.set_colour(chosen.name())

    def behaviour(self) -> SchemeBehaviour:
        name = self.name.text().strip()
        return replace(
            self._behaviour,
            code=behaviour_code(name) if self._new and name else self._behaviour.code,
            name=name,
            key=self.key.text().strip().upper(),
            colour=self._colour,
            definition=self.definition.toPlainText().strip(),
            kind=BehaviourKind(self.kind.currentData()),
        )

    def accept(self) -> None:
        if not self.name.text().strip():
            self.error.setText("Give the behaviour a name.")
            return
        problem = self._save(self.behaviour())
        if problem:
            self.error.setText(problem)
            return
        super().accept()


class SchemeEditor(QDialog):
    """The project's coding schemes. ``changed`` is emitted after every saved change."""

    changed = Signal()

    def __init__(self, store: LabelStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Coding schemes")
        self._store = store
        self._schemes = store.coding_schemes()
        self.form: BehaviourForm | None = None

        self.scheme = QComboBox(self)
        self.scheme.currentIndexChanged.connect(lambda _: self._show_scheme())
        self.new_button = QPushButton("New scheme…", self)
        self.new_button.clicked.connect(lambda: self.new_scheme())
        self.delete_scheme_button = QPushButton("Remove scheme", self)
        self.delete_scheme_button.clicked.connect(self.delete_scheme)
        self.import_button = QPushButton("Import…", self)
        self.import_button.clicked.connect(lambda: self.import_scheme())
        self.export_button = QPushButton("Export…", self)
        self.export_button.clicked.connect(lambda: self.export_scheme())
        top = QHBoxLayout()
        top.addWidget(QLabel("Scheme", self))
        top.addWidget(self.scheme, 1)
        for button in (
            self.new_button,
            self.delete_scheme_button,
            self.import_button,
            self.export_button,
        ):
            top.addWidget(button)

        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, 6, self)
        self.table.setHorizontalHeaderLabels(
            ["Key", "Name", "Kind", "Colour", "Labels", "Definition"]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for column in range(5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _: self.edit_behaviour())
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton("Add behaviour…", self)
        self.add_button.clicked.connect(self.add_behaviour)
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(self.edit_behaviour)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_behaviour)
        side = QVBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button):
            side.addWidget(button)
        side.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 1)
        middle.addLayout(side)

        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(_ERROR_STYLE)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addLayout(middle, 1)
        layout.addWidget(self.problem)
        layout.addWidget(close)
        self.resize(900, 480)
        self._reload()

    # -- what is shown ------------------------------------------------------------------
    @property
    def current(self) -> CodingScheme:
        return self._schemes.schemes[max(0, self.scheme.currentIndex())]

    def _reload(self, *, select: int | None = None) -> None:
        """Read the schemes again; show the scheme with id ``select`` (else the same)."""
        keep = self.current.id if select is None and self.scheme.count() else select
        self._schemes = self._store.coding_schemes()
        self.scheme.blockSignals(True)
        self.scheme.clear()
        for s in self._schemes.schemes:
            self.scheme.addItem(s.name, s.id)
        index = self.scheme.findData(keep) if keep is not None else -1
        self.scheme.setCurrentIndex(index if index >= 0 else 0)
        self.scheme.blockSignals(False)
        self._show_scheme()

    def _show_scheme(self) -> None:
        scheme = self.current
        counts = self._store.label_counts()
        if scheme.built_in:
            self.note.setText(
                "The machine proposes these behaviours; they cannot be changed here. Their "
                "keys change the behaviour of the segment under review. For behaviours the "
                "machine does not propose, make a scheme of your own (New scheme…)."
            )
        else:
            self.note.setText(
                "Code these by keyboard while reviewing: select a person, then press a state's "
                "key to start it and again to stop it, or a point event's key to code the instant."
            )
        self.table.setRowCount(len(scheme.behaviours))
        for row, b in enumerate(scheme.behaviours):
            cells = [
                b.key,
                b.name,
                "State" if b.kind is BehaviourKind.STATE else "Point event",
                b.colour,
                str(counts.get(b.code, 0)),
                b.definition,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3:
                    item.setIcon(swatch(b.colour))
                if column == 4:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                item.setToolTip(f"{b.name} (code {b.code})")
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        self._update_buttons()

    def _update_buttons(self) -> None:
        own = not self.current.built_in
        chosen = self.selected() is not None
        self.add_button.setEnabled(own)
        self.edit_button.setEnabled(own and chosen)
        self.remove_button.setEnabled(own and chosen)
        self.delete_scheme_button.setEnabled(own)

    def selected(self) -> SchemeBehaviour | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.current.behaviours[rows[0].row()]

    def select_behaviour(self, code: str) -> None:
        for row, b in enumerate(self.current.behaviours):
            if b.code == code:
                self.table.selectRow(row)

    # -- saving --------------------------------------------------------------------------
    def _save(self, scheme: CodingScheme) -> str | None:
        """Save ``scheme``; None when saved, else why not."""
        try:
            saved = self._store.save_scheme(scheme)
        except (SchemeError, StoreError) as exc:
            return str(exc)
        self.problem.clear()
        self._reload(select=saved.id)
        self.changed.emit()
        return None

    def new_scheme(self, name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self, "New coding scheme", "Name of the scheme:")
            if not ok:
                return
        # A scheme is made empty, then filled one behaviour at a time.
        problem = self._save(CodingScheme(name=name.strip(), behaviours=()))
        if problem:
            self.problem.setText(problem)

    def add_behaviour(self) -> BehaviourForm:
        """Open the form for a new behaviour (window-modal, not blocking: see ``form``)."""
        used_keys = {b.key.upper() for s in self._schemes.schemes for b in s.behaviours}
        used_colours = {b.colour.upper() for s in self._schemes.schemes for b in s.behaviours}
        key = next((k for k in free_keys() if k not in used_keys), "")
        colour = next((c for c in NEW_COLOURS if c not in used_colours), NEW_COLOURS[0])
        blank = SchemeBehaviour(code="", name="", key=key, colour=colour)
        scheme = self.current

        taken = set(self._schemes.codes)

        def save(b: SchemeBehaviour) -> str | None:
            # Two names can make one code ("Group work", "Group-work"): the code only has
            # to be unique, so the second gets a number.
            code, n = b.code, 1
            while code in taken:
                n += 1
                code = f"{b.code[:36]}_{n}"
            return self._save(
                replace(scheme, behaviours=(*scheme.behaviours, replace(b, code=code)))
            )

        return self._open_form(BehaviourForm(blank, save=save, new=True, parent=self))

    def edit_behaviour(self) -> BehaviourForm | None:
        chosen, scheme = self.selected(), self.current
        if chosen is None or scheme.built_in:
            return None

        def save(b: SchemeBehaviour) -> str | None:
            behaviours = tuple(b if x.code == chosen.code else x for x in scheme.behaviours)
            return self._save(replace(scheme, behaviours=behaviours))

        return self._open_form(BehaviourForm(chosen, save=save, new=False, parent=self))

    def _open_form(self, form: BehaviourForm) -> BehaviourForm:
        self.form = form
        form.setWindowModality(Qt.WindowModality.WindowModal)
        form.finished.connect(form.deleteLater)
        form.open()
        return form

    def remove_behaviour(self) -> None:
        """Remove the selected behaviour; refused, with how many labels use it, when any do."""
        chosen, scheme = self.selected(), self.current
        if chosen is None or scheme.built_in:
            return
        behaviours = tuple(b for b in scheme.behaviours if b.code != chosen.code)
        problem = self._save(replace(scheme, behaviours=behaviours))
        if problem:
            self.problem.setText(problem)

    def delete_scheme(self) -> None:
        scheme = self.current
        if scheme.built_in or scheme.id is None:
            return
        try:
            self._store.delete_scheme(scheme.id)
        except (SchemeError, StoreError) as exc:
            self.problem.setText(str(exc))
            return
        self.problem.clear()
        self._reload(select=None)
        self.changed.emit()

    # -- files ---------------------------------------------------------------------------
    def export_scheme(self, path: str | Path | None = None) -> Path | None:
        scheme = self.current
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self,
                "Export coding scheme",
                str(self._store.folder / f"{behaviour_code(scheme.name)}.scheme.json"),
                "Coding schemes (*.json)",
            )
            if not name:
                return None
            path = name
        try:
            written = write_scheme_file(path, scheme)
        except (TargetError, OSError) as exc:
            self.problem.setText(f"The scheme was not exported: {exc}")
            return None
        self.problem.setText("")
        self.note.setText(f"Exported {scheme.name} to {written}.")
        return written

    def import_scheme(self, path: str | Path | None = None) -> CodingScheme | None:
        if path is None:
            name, _ = QFileDialog.getOpenFileName(
                self, "Import coding scheme", str(self._store.folder), "Coding schemes (*.json)"
            )
            if not name:
                return None
            path = name
        try:
            saved = import_scheme_file(self._store, path)
        except (SchemeError, StoreError) as exc:
            self.problem.setText(str(exc))
            return None
        self.problem.clear()
        self._reload(select=saved.id)
        self.changed.emit()
        return saved

"""What the window shows before a recording is open."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class StartScreen(QWidget):
    open_requested = Signal()
    demo_requested = Signal()
    recent_requested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        title = QLabel("<h1>Lesson Review</h1>", self)
        blurb = QLabel(
            "Review a consented classroom recording. Lesson Review proposes when someone raises a "
            "hand, stands, reads, writes or rests their head on the desk; <b>you</b> accept, correct "
            "or reject every proposal. Nothing is saved until you have decided on it.<br><br>"
            "No emotion or attention scores, no face recognition: people are pseudonymous "
            '("Person 7"), and faces are blurred in the privacy view.',
            self,
        )
        blurb.setWordWrap(True)
        blurb.setMaximumWidth(640)
        self.open_button = QPushButton("Open recording…", self)
        self.demo_button = QPushButton("Open demo recording", self)
        for b in (self.open_button, self.demo_button):
            b.setMinimumHeight(36)
        self.open_button.clicked.connect(self.open_requested)
        self.demo_button.clicked.connect(self.demo_requested)
        self.recent = QListWidget(self)
        self.recent.setMaximumWidth(640)
        self.recent.itemActivated.connect(
            lambda item: self.recent_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.recent_label = QLabel("<b>Recent recordings</b> (double-click to open)", self)
        drop = QLabel("You can also drop a video file onto this window.", self)
        drop.setStyleSheet("color: palette(mid);")

        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(title)
        column.addWidget(blurb)
        column.addSpacing(12)
        column.addLayout(buttons)
        column.addSpacing(12)
        column.addWidget(self.recent_label)
        column.addWidget(self.recent)
        column.addWidget(drop)
        column.addStretch(2)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 3)
        outer.addStretch(1)

    def set_recent(self, paths: list[str] | tuple[str, ...]) -> None:
        self.recent.clear()
        for p in paths:
            item = QListWidgetItem(f"{Path(p).name}    —    {Path(p).parent}")
            item.setData(Qt.ItemDataRole.UserRole, p)
            if not Path(p).exists():
                item.setText(item.text() + "   (missing)")
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.recent.addItem(item)
        self.recent_label.setVisible(bool(paths))
        self.recent.setVisible(bool(paths))

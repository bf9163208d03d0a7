"""Bulk review: the review queue a page at a time, as pictures, every one seen by a human.

A page shows the first proposals of the queue (its behaviour filter and order), each as
a small picture of the person at the segment's middle with every face blurred
(``core.privacy.person_thumbnail``), with behaviour, time and confidence. The reviewer
marks the wrong ones (click, or Space on the current one) and accepts the page
(Ctrl+Enter): the unmarked ones are accepted, the marked ones rejected, in one bulk
decision (``ReviewSession.decide_many``: one log entry each, one undo step). A page is
accepted only once all its pictures are on screen, so nothing is decided unseen.

The pictures are decoded by a background task (``gui.background``) that owns its own
reader of the recording; a page changed meanwhile makes the task's replies stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QImage, QKeySequence, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lessonreview.core.domain import format_time, person_sort_key
from lessonreview.core.privacy.person_thumbnail import ThumbnailRequest, person_thumbnails
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.gui.background import Report, Tasks
from lessonreview.gui.open_schemes import behaviour_title
from lessonreview.gui.review.decision_errors import decide

# At most this many pictures on a page; fewer when fewer fit the window, since a page
# is accepted whole and a picture scrolled out of sight would be decided unseen.
PAGE_SIZE = 24
PICTURE = QSize(150, 180)
MARKED_BRUSH = QBrush(QColor("#f4b6b6"))
MARK_COLOUR = QColor("#d0021b")
ACCEPT_KEYS = ("Ctrl+Return", "Ctrl+Enter")

# The bulk review's keys, for Help.
BULK_KEYS = (
    ("Ctrl+Shift+B", "Open the bulk review (menu Review, Bulk review…)"),
    ("Click / Space", "Mark the picture as wrong (rejected), or unmark it"),
    ("Arrows", "Move between the pictures"),
    ("Ctrl+Enter", "Accept the page: the unmarked accepted, the marked rejected"),
    ("Ctrl+Z", "Undo the whole page"),
    ("Esc", "Close the bulk review"),
)


class PageModel(QAbstractListModel):
    """The page's proposals, their pictures (once decoded) and the reviewer's marks."""

    def __init__(self, person_label: Callable[[str], str], parent=None) -> None:
        super().__init__(parent)
        self._person_label = person_label
        self.segments: list = []
        self.pictures: dict[str, QPixmap] = {}
        self.marked: set[str] = set()
        self._waiting = QPixmap(PICTURE)
        self._waiting.fill(QColor("#d0d0d0"))

    def set_page(self, segments: list) -> None:
        self.beginResetModel()
        keys = {s.key for s in segments}
        self.segments = list(segments)
        self.pictures = {k: p for k, p in self.pictures.items() if k in keys}
        self.marked &= keys
        self.endResetModel()

    def set_picture(self, key: str, picture: QPixmap) -> None:
        self.pictures[key] = picture
        self._changed(key)

    def toggle(self, row: int) -> None:
        if 0 <= row < len(self.segments):
            key = self.segments[row].key
            self.marked ^= {key}
            self._changed(key)

    @property
    def all_shown(self) -> bool:
        return all(s.key in self.pictures for s in self.segments)

    def _changed(self, key: str) -> None:
        for row, seg in enumerate(self.segments):
            if seg.key == key:
                self.dataChanged.emit(self.index(row), self.index(row))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.segments)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not 0 <= index.row() < len(self.segments):
            return None
        seg = self.segments[index.row()]
        marked = seg.key in self.marked
        if role == Qt.ItemDataRole.DisplayRole:
            conf = f"{seg.confidence:.2f}" if seg.confidence is not None else "-"
            verdict = "✗ REJECT" if marked else "accept"
            return (
                f"{behaviour_title(seg.behaviour)}\n{self._person_label(seg.person)} · "
                f"{format_time(seg.start_s)} · {conf}\n{verdict}"
            )
        if role == Qt.ItemDataRole.DecorationRole:
            picture = self.pictures.get(seg.key, self._waiting)
            return crossed(picture) if marked else picture
        if role == Qt.ItemDataRole.BackgroundRole and marked:
            return MARKED_BRUSH
        if role == Qt.ItemDataRole.ToolTipRole:
            return seg.evidence or ""
        return None


def crossed(picture: QPixmap) -> QPixmap:
    """The picture of a proposal marked wrong: framed and crossed in red, so the mark
    shows on the current item too, whose background is the selection's colour."""
    out = QPixmap(picture)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(MARK_COLOUR, 6))
    painter.drawRect(out.rect().adjusted(3, 3, -3, -3))
    painter.setPen(QPen(MARK_COLOUR, 2))
    painter.drawLine(out.rect().topLeft(), out.rect().bottomRight())
    painter.drawLine(out.rect().topRight(), out.rect().bottomLeft())
    painter.end()
    return out


class PageView(QListView):
    """The page as a grid, never scrolled: it holds what fits. Space marks or unmarks
    the current proposal."""

    resized = Signal()

    def __init__(self, model: PageModel, parent=None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(PICTURE)
        self.setGridSize(QSize(PICTURE.width() + 24, PICTURE.height() + 70))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.clicked.connect(lambda index: model.toggle(index.row()))

    @property
    def fitting(self) -> int:
        """How many pictures fit without scrolling (at least one)."""
        grid, room = self.gridSize(), self.viewport().size()
        across = max(1, room.width() // grid.width())
        down = max(1, room.height() // grid.height())
        return min(PAGE_SIZE, across * down)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self.resized.emit()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            self.model().toggle(self.currentIndex().row())
            return
        super().keyPressEvent(event)


class BulkReview(QDialog):
    """Review > Bulk review…: the queue as pages of pictures, accepted a page at a time."""

    def __init__(
        self,
        session,
        recording,
        *,
        queue: Callable[[], list],
        picture_of: Callable[[object], ThumbnailRequest],
        face_model: Path | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bulk review")
        self.resize(1480, 900)
        self._session = session
        self._recording = recording
        self._queue = queue
        self._picture_of = picture_of
        self._face_model = face_model
        self._tasks = Tasks(self, name="bulk-pictures")
        self._stop = threading.Event()  # tells the running task its page is gone
        self.note = ""  # why fewer faces than usual may be found, if so

        self.model = PageModel(session.person_label, self)
        self.view = PageView(self.model, self)
        self.heading = QLabel(self)
        self.person = QComboBox(self)
        self.person.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._fill_people()
        self.person.currentIndexChanged.connect(lambda _: self.load_page())
        self.heading.setWordWrap(True)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        hint = QLabel(
            "Look at every picture. Click one, or press Space on it (arrows move), to mark it "
            "wrong: marked ones are rejected. Ctrl+Enter accepts the others and rejects the "
            "marked ones, then shows the next page. Faces are always blurred. Ctrl+Z undoes a "
            "whole page. To correct a proposal, close this and use the review panel.",
            self,
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555555;")

        self.accept_action = QAction("Accept page", self)
        self.accept_action.setShortcuts([QKeySequence(k) for k in ACCEPT_KEYS])
        self.accept_action.triggered.connect(self.accept_page)
        self.addAction(self.accept_action)
        self.undo_action = QAction("Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(self.undo)
        self.addAction(self.undo_action)

        self.accept_button = QPushButton("Accept page (Ctrl+Enter)", self)
        self.accept_button.clicked.connect(self.accept_page)
        close = QPushButton("Close (Esc)", self)
        close.clicked.connect(self.close)
        for button in (self.accept_button, close):
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.accept_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(QLabel("Person", self))
        top.addWidget(self.person)
        layout.addLayout(top)
        layout.addWidget(hint)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

        self.model.dataChanged.connect(lambda *_: self._update_heading())
        self.view.resized.connect(self._resized)
        self._unsubscribe = session.subscribe(self._on_change)
        self.load_page()
        self.view.setFocus()

    # --- pages ------------------------------------------------------------------------
    def _queued(self) -> list:
        """The review queue, of the person chosen (if one is)."""
        person = self.person.currentData()
        return [s for s in self._queue() if person is None or s.person == person]

    def _fill_people(self) -> None:
        chosen = self.person.currentData()
        people = {s.person for s in self._queue()} | ({chosen} if chosen else set())
        people = sorted(people, key=person_sort_key)
        self.person.blockSignals(True)
        self.person.clear()
        self.person.addItem("Everyone", None)
        for p in people:
            self.person.addItem(self._session.person_label(p), p)
        self.person.setCurrentIndex(max(0, self.person.findData(chosen)))
        self.person.blockSignals(False)

    def _resized(self) -> None:
        if len(self.model.segments) != min(self.view.fitting, len(self._queued())):
            self.load_page()

    def _on_change(self, change) -> None:
        # The page stays as the reviewer sees it while proposals arrive (a running
        # analysis) or elsewhere change: it moves on only when one of its proposals was
        # decided (this page accepted, or elsewhere) or a step was undone or redone.
        shown = {s.key for s in self.model.segments}
        if change.people_changed:
            self._fill_people()
        moved_on = shown & set(change.removed) or change.label.startswith(("Undo ", "Redo "))
        if moved_on or not shown:
            self.load_page()
        else:
            self._update_heading()

    def load_page(self) -> None:
        """Show the first proposals of the queue; pictures already decoded are kept."""
        self._fill_people()
        page = self._queued()[: self.view.fitting]
        if [s.key for s in page] == [s.key for s in self.model.segments]:
            self._update_heading()
            return
        self.model.set_page(page)
        self.view.setCurrentIndex(self.model.index(0))
        missing = [s for s in page if s.key not in self.model.pictures]
        self._update_heading()
        if missing:
            self._decode(missing)

    def _decode(self, segments: list) -> None:
        requests = tuple(self._picture_of(s) for s in segments)
        recording, face_model = self._recording, self._face_model
        size = (PICTURE.width(), PICTURE.height())
        self._stop.set()
        self._stop = stop = threading.Event()

        def work(report: Report) -> None:
            with recording.reader() as reader:
                for key, rgb in person_thumbnails(
                    reader, requests, size=size, face_model=face_model
                ):
                    if stop.is_set():
                        return
                    h, w = rgb.shape[:2]
                    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
                    report((key, image))

        self._tasks.start(
            work,
            done=lambda _: self._update_heading(),
            failed=self._decode_failed,
            update=self._picture_ready,
        )

    def _decode_failed(self, exc: Exception) -> None:
        if isinstance(exc, ModelFileError) and self._face_model is not None:
            # As the player does: blur the faces around the people located, and say so.
            self._face_model = None
            self.note = f"Faces blurred around the people located only: {exc}"
            self._decode([s for s in self.model.segments if s.key not in self.model.pictures])
            return
        self.status.setText(f"The pictures could not be made: {exc}")

    def _picture_ready(self, reply) -> None:
        key, image = reply
        self.model.set_picture(key, QPixmap.fromImage(image))

    def _update_heading(self) -> None:
        queued = len(self._queued())
        shown = self.model.rowCount()
        pending = self._session.pending_count()
        hidden = pending - queued
        self.heading.setText(
            f"<b>{shown} of {queued} queued proposals on this page</b>"
            + (f" · {hidden} not queued (timeline filter or person)" if hidden > 0 else "")
        )
        ready = shown > 0 and self.model.all_shown
        self.accept_action.setEnabled(ready)
        self.accept_button.setEnabled(ready)
        if shown == 0:
            self.status.setText("Nothing left to review among the behaviours shown.")
        elif not self.model.all_shown:
            waiting = shown - len(self.model.pictures)
            self.status.setText(f"Making the pictures ({waiting} to go)…")
        else:
            marked = len(self.model.marked)
            self.status.setText(
                f"{shown - marked} to accept, {marked} marked to reject."
                + (f" ({self.note})" if self.note else "")
            )

    # --- decisions --------------------------------------------------------------------
    def accept_page(self) -> None:
        """Accept the unmarked proposals of the page and reject the marked ones, as one
        step; only once every picture of the page is on screen."""
        if not self.model.segments or not self.model.all_shown:
            return
        page = self.model.segments
        reject = [s.proposal_key for s in page if s.key in self.model.marked]
        accept = [s.proposal_key for s in page if s.key not in self.model.marked]
        decide(self, lambda: self._session.decide_many(accept=accept, reject=reject))

    def undo(self) -> None:
        if self._session.can_undo():
            decide(self, self._session.undo)

    def done(self, result: int) -> None:
        """Closed (Esc, the button, the window's close box): stop listening, and stop
        the task within one picture."""
        self.finish()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.finish()
        super().closeEvent(event)

    def finish(self) -> None:
        self._unsubscribe()
        self._unsubscribe = lambda: None
        self._stop.set()
        self._tasks.drop()
        self._tasks.wait(10)

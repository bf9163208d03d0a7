"""The review's vocabulary: every key and what it does, and the queue of pending proposals as a Qt list model (a thin adapter over the
session's list). Shown by the review panel, the menus and Help alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from lessonreview.core.domain import Behaviour, Status, format_time
from lessonreview.gui.open_schemes import behaviour_codes, behaviour_title

BEHAVIOUR_KEYS = {
    Behaviour.HAND_RAISED: "1",
    Behaviour.STANDING: "2",
    Behaviour.READING: "3",
    Behaviour.WRITING: "4",
    Behaviour.HEAD_DOWN: "5",
}


@dataclass(frozen=True)
class KeyBinding:
    name: str
    keys: tuple[str, ...]
    text: str


# One table of every key, shown in the panel's buttons, the menus and Help.
KEYS = (
    KeyBinding("accept", ("A",), "Accept the segment (with your corrections, if any)"),
    KeyBinding("reject", ("R",), "Reject the proposal / delete a decided label"),
    *(
        KeyBinding(f"behaviour_{b.value}", (k,), f"Change behaviour to {b.title}")
        for b, k in BEHAVIOUR_KEYS.items()
    ),
    KeyBinding("person", ("P",), "Change the person"),
    KeyBinding("start_earlier", ("Z",), "Start one frame earlier"),
    KeyBinding("start_later", ("X",), "Start one frame later"),
    KeyBinding("start_earlier_s", ("Shift+Z",), "Start one second earlier"),
    KeyBinding("start_later_s", ("Shift+X",), "Start one second later"),
    KeyBinding("end_earlier", ("C",), "End one frame earlier"),
    KeyBinding("end_later", ("V",), "End one frame later"),
    KeyBinding("end_earlier_s", ("Shift+C",), "End one second earlier"),
    KeyBinding("end_later_s", ("Shift+V",), "End one second later"),
    KeyBinding("next", ("J", "Down"), "Next in the queue"),
    KeyBinding("previous", ("K", "Up"), "Previous in the queue"),
    KeyBinding("play_segment", ("Return", "Enter"), "Play the segment"),
    KeyBinding("reset", ("Backspace",), "Undo your unsaved corrections to the draft"),
    KeyBinding("mark_in", ("I",), "Mark the start of a new label at the playhead"),
    KeyBinding("mark_out", ("O",), "Mark the end of a new label at the playhead"),
    KeyBinding("add_label", ("M",), "Add a label the machine missed (from the marks)"),
)


class QueueModel(QAbstractListModel):
    """A thin Qt adapter over the session's list of pending segments."""

    def __init__(self, session, timebase, parent=None) -> None:
        super().__init__(parent)
        self._session = session
        self._timebase = timebase
        self._order = "time"
        self._shown: frozenset[str] = frozenset(behaviour_codes())
        self._rows: list = []
        self._row_of: dict[str, int] | None = None
        self._codes: set[str] | None = None  # at least the behaviours of the pending segments
        self.hidden = 0  # pending segments of behaviours not shown
        self.refresh()

    def set_order(self, order: str) -> None:
        self._order = order
        self.refresh()

    def set_behaviours(self, shown: frozenset[str]) -> None:
        """Queue only these behaviours (a teacher may want hand raised and standing only)."""
        self._shown = frozenset(shown)
        self.refresh()

    def refresh(self, change=None) -> None:
        """Rebuild the rows from the session; ``change``, the session's last change,
        spares a pass over every pending segment to learn their behaviours."""
        self.beginResetModel()
        pending = self._session.pending(order=self._order)
        if change is None or self._codes is None:
            self._codes = {s.behaviour for s in pending}
        else:
            # A superset of the pending behaviours: decisions only take codes away.
            self._codes |= {s.behaviour for s in change.added}
        if self._codes <= self._shown:
            self._rows = pending
        else:
            self._rows = [s for s in pending if s.behaviour in self._shown]
        self._row_of = None  # made when first asked: most refreshes never ask
        self.hidden = len(pending) - len(self._rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def segment(self, row: int):
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, key: str) -> int:
        if self._row_of is None:
            self._row_of = {s.key: i for i, s in enumerate(self._rows)}
        return self._row_of.get(key, -1)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        seg = self.segment(index.row())
        if seg is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            conf = f"{seg.confidence:.2f}" if seg.confidence is not None else "-"
            return (
                f"{format_time(seg.start_s)}  {self._session.person_label(seg.person)}  "
                f"{behaviour_title(seg.behaviour)}  ({conf})"
            )
        if role == Qt.ItemDataRole.ToolTipRole:
            return seg.evidence or ""
        return None


def segment_for_person(session, person: str, frame: int):
    """What to review when the reviewer clicks ``person`` on the video at ``frame``.

    Their segment under the playhead, decided or not (a pending one first), needs no
    seek: it is on screen already. Else their next pending proposal from the playhead
    on, sought to. Returns (segment or None, whether to seek to it).
    """
    theirs = [s for s in session.segments() if s.person == person]
    under = [
        s for s in theirs if s.start_frame <= frame < s.end_frame and s.status != Status.REJECTED
    ]
    if under:
        return min(under, key=lambda s: (s.status != Status.PENDING, s.start_frame, s.key)), False
    ahead = [s for s in theirs if s.status == Status.PENDING and s.start_frame >= frame]
    if ahead:
        return min(ahead, key=lambda s: (s.start_frame, s.key)), True
    return None, False

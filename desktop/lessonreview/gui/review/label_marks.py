"""Adding a label the machine missed: mark its start (I) and end (O) at the playhead,
then M asks whose it is and which behaviour.

Beside the review panel rather than inside it, because this flow shares nothing with the
segment under review but the person last looked at: it has its own state (the two
marks) and its own line of text, and it never touches the draft.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QLabel, QMessageBox, QWidget

from lessonreview.core.domain import format_time
from lessonreview.gui.open_schemes import behaviour_codes, behaviour_title
from lessonreview.gui.review.decision_errors import decide
from lessonreview.gui.review.person_choice import ask_person


class LabelMarks(QObject):
    changed = Signal(object, object)  # mark in / mark out frames (or None)

    def __init__(
        self,
        session,
        timebase,
        *,
        playhead: Callable[[], int],
        people_at: Callable[[int], list[str]],
        focused_person: Callable[[], str | None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._timebase = timebase
        self._playhead = playhead
        self._people_at = people_at
        self._focused_person = focused_person
        self._parent = parent
        self._mark_in: int | None = None
        self._mark_out: int | None = None
        # Without the marks on screen a reviewer cannot tell whether M will add
        # anything, or over which stretch.
        self.label = QLabel(parent)
        self.label.setWordWrap(True)

    def mark_in(self) -> None:
        self._mark_in = self._playhead()
        self._marks_changed()

    def mark_out(self) -> None:
        self._mark_out = self._playhead() + 1
        self._marks_changed()

    def _marks_changed(self) -> None:
        start, end = self._mark_in, self._mark_out
        tb = self._timebase

        def at(frame: int | None) -> str:
            return "…" if frame is None else format_time(tb.frame_to_seconds(frame))

        if start is None and end is None:
            self.label.setText("")
        elif start is not None and end is not None and end > start:
            self.label.setText(f"New label {at(start)} – {at(end)}: press M to add it.")
        else:
            self.label.setText(
                f"New label {at(start)} – {at(end)}: mark the start (I) before the end (O)."
            )
        self.changed.emit(start, end)

    def add_label(self) -> None:
        parent = self._parent
        start, end = self._mark_in, self._mark_out
        if start is None or end is None or end <= start:
            QMessageBox.information(
                parent,
                "Add a label",
                "Mark the start with I and the end with O at the playhead first, then press M.",
            )
            return
        people = self._session.people_to_choose(self._people_at(start))
        if not people:
            QMessageBox.information(
                parent, "Add a label", "No person is known yet for this recording."
            )
            return
        person = ask_person(
            parent,
            self._session,
            people,
            title="Add a label",
            prompt="Person:",
            current=self._focused_person(),
        )
        if person is None:
            return
        codes = behaviour_codes()
        titles = [behaviour_title(c) for c in codes]
        b_choice, ok = QInputDialog.getItem(parent, "Add a label", "Behaviour:", titles, 0, False)
        if not ok:
            return
        behaviour = codes[titles.index(b_choice)]
        decide(
            parent,
            lambda: self._session.add_label(
                person=person, behaviour=behaviour, start_frame=start, end_frame=end
            ),
        )
        self._mark_in = self._mark_out = None
        self._marks_changed()

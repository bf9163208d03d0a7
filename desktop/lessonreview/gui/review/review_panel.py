"""The review queue and the decision on the current segment, keyboard first.

The panel holds one piece of UI state: the *draft* of the segment being reviewed
(behaviour, person, start, end as the reviewer is nudging them). Pressing Accept
turns an unchanged draft into an accept and a changed one into a correction; no
decision exists until then. Everything else lives in the core ReviewSession.
Adding a label the machine missed (the I/O marks and M) is ``label_marks``; coding a
behaviour of the project's own coding schemes by its key (press to start, press to stop,
as in BORIS) is ``KeyboardCoding``, whose running states the panel lists.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from lessonreview.core.domain import Behaviour, BehaviourKind, Segment, Status, format_time
from lessonreview.core.review.keyboard_coding import KeyboardCoding
from lessonreview.gui.flow_layout import FlowLayout
from lessonreview.gui.open_schemes import behaviour_colour, behaviour_title, open_schemes
from lessonreview.gui.review.decision_errors import decide
from lessonreview.gui.review.label_marks import LabelMarks
from lessonreview.gui.review.person_choice import ask_person
from lessonreview.gui.review.review_queue import (
    BEHAVIOUR_KEYS,
    KEYS,
    QueueModel,
    segment_for_person,
)
from lessonreview.gui.review.segment_details import SegmentDetails


class ReviewPanel(QWidget):
    seek_requested = Signal(int)
    play_range_requested = Signal(int, int)
    current_changed = Signal(object)  # the Segment under review, or None
    marks_changed = Signal(object, object)  # mark in / mark out frames (or None)

    def __init__(
        self, session, timebase, *, playhead=lambda: 0, people_at=lambda frame: [], parent=None
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._timebase = timebase
        self._playhead = playhead
        self._people_at = people_at
        self._current = None
        self._draft: Segment | None = None
        # A person clicked on the video who has no segment to review there: the panel
        # says so, and M offers them first.
        self._focus: str | None = None

        self.model = QueueModel(session, timebase, self)
        # A table of one column rather than a list view: its rows are fixed-height
        # header sections, so a long queue is not walked row by row (asking the model
        # of each) after every decision, as list and tree views do.
        self.list = QTableView(self)
        self.list.horizontalHeader().hide()
        self.list.horizontalHeader().setStretchLastSection(True)
        rows = self.list.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.list.setShowGrid(False)
        self.list.setWordWrap(False)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setModel(self.model)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.clicked.connect(lambda idx: self.select_key(self.model.segment(idx.row()).key))

        self.order = QComboBox(self)
        self.order.addItem("By time", "time")
        self.order.addItem("Lowest confidence first", "confidence")
        self.order.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.order.currentIndexChanged.connect(lambda _: self._set_order(self.order.currentData()))

        self.counts = QLabel(self)
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.details = details = SegmentDetails(timebase, session.person_label, self)

        self.label_marks = LabelMarks(
            session,
            timebase,
            playhead=playhead,
            people_at=people_at,
            focused_person=lambda: self.focused_person,
            parent=self,
        )
        self.label_marks.changed.connect(self.marks_changed)
        self.marks = self.label_marks.label

        self.actions: dict[str, QAction] = {}
        for binding in KEYS:
            action = QAction(binding.text, self)
            action.setShortcuts([QKeySequence(k) for k in binding.keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(self._handler(binding.name))
            self.actions[binding.name] = action
            self.addAction(action)

        buttons = QHBoxLayout()
        for name, text in (
            ("accept", "Accept (A)"),
            ("reject", "Reject (R)"),
            ("person", "Person… (P)"),
            ("play_segment", "Play (Enter)"),
        ):
            button = QPushButton(text, self)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(self.actions[name].trigger)
            buttons.addWidget(button)
        # Wraps to a second line in a narrow panel, so that the window fits a laptop's screen.
        behaviour_row = FlowLayout()
        for b, key in BEHAVIOUR_KEYS.items():
            button = QPushButton(f"{key} {b.title}", self)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(self.actions[f"behaviour_{b.value}"].trigger)
            behaviour_row.addWidget(button)
        self.coding = KeyboardCoding(session)
        self._coded_person: str | None = None
        self._coding_actions: list[QAction] = []
        self.running = QLabel(self)
        self.running.setWordWrap(True)
        self.running.setTextFormat(Qt.TextFormat.RichText)
        self.set_coding_keys()
        self.hint = QLabel(
            "Z/X start ∓1 frame · C/V end ∓1 frame · Shift = 1 s · J/K next/previous · "
            "I/O mark · M add label · Backspace reset draft · Ctrl+Z undo",
            self,
        )
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555555;")  # palette(mid) is too faint to read

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Review queue", self))
        top.addStretch(1)
        top.addWidget(self.order)
        layout.addLayout(top)
        layout.addWidget(self.counts)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.title)
        layout.addWidget(details)
        layout.addLayout(behaviour_row)
        layout.addLayout(buttons)
        layout.addWidget(self.marks)
        layout.addWidget(self.running)
        layout.addWidget(self.hint)

        self._unsubscribe = session.subscribe(self._on_change)
        self._refresh_counts()
        self._select_row(0)

    # --- keyboard coding ----------------------------------------------------
    def set_coding_keys(self) -> None:
        """One shortcut per behaviour of the project's own coding schemes (again after
        the scheme editor saved)."""
        for action in self._coding_actions:
            self.removeAction(action)
            action.deleteLater()
        self._coding_actions = []
        for scheme in open_schemes().own:
            for b in scheme.behaviours:
                verb = "Start / stop" if b.kind is BehaviourKind.STATE else "Code"
                action = QAction(f"{verb} {b.name} ({b.key})", self)
                action.setShortcut(QKeySequence(b.key))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                action.triggered.connect(lambda _=False, code=b.code: self.code_behaviour(code))
                self._coding_actions.append(action)
                self.addAction(action)
        self._show_running()

    def code_behaviour(self, code: str, *, person: str | None = None) -> None:
        """The key of behaviour ``code``: start or stop it (a state), or code the
        instant (a point event), for the person selected, at the playhead."""
        # The person last coded stays selected for the next key, even once the label
        # just saved moved the queue on (which forgets a person clicked on the video).
        person = person or self.focused_person or self._coded_person
        if person is None:
            self._show_running(
                f"Select a person first (click them on the video) to code {behaviour_title(code)}."
            )
            return
        if decide(self, lambda: self.coding.press(code, person=person, frame=self._playhead())):
            self._coded_person = person
        self._show_running()

    def _show_running(self, note: str = "") -> None:
        states = self.coding.running()
        lines = [
            f"<b><span style='color: {behaviour_colour(r.behaviour)}'>●</span> "
            f"{behaviour_title(r.behaviour)}</b> — {self._session.person_label(r.person)} "
            f"since {format_time(self._timebase.frame_to_seconds(r.start_frame))} "
            f"(press {self._key_of(r.behaviour)} to stop)"
            for r in states
        ]
        if note:
            lines.append(note)
        if not lines and self._coding_actions:
            keys = ", ".join(a.shortcut().toString() for a in self._coding_actions)
            lines.append(f"Coding keys {keys}: nothing running.")
        self.running.setText("<br>".join(lines))
        self.running.setVisible(bool(lines))

    def _key_of(self, code: str) -> str:
        found = open_schemes().behaviour(code)
        return found.key if found is not None else "?"

    # --- wiring -------------------------------------------------------------
    def _handler(self, name: str):
        if name.startswith("behaviour_"):
            behaviour = Behaviour(name.removeprefix("behaviour_"))
            return lambda: self._edit_draft(behaviour=behaviour)
        steps = {
            "start_earlier": ("start_frame", -1, False),
            "start_later": ("start_frame", +1, False),
            "start_earlier_s": ("start_frame", -1, True),
            "start_later_s": ("start_frame", +1, True),
            "end_earlier": ("end_frame", -1, False),
            "end_later": ("end_frame", +1, False),
            "end_earlier_s": ("end_frame", -1, True),
            "end_later_s": ("end_frame", +1, True),
        }
        if name in steps:
            field, sign, by_second = steps[name]
            return lambda: self.nudge(field, sign, by_second=by_second)
        if name in ("mark_in", "mark_out", "add_label"):
            return getattr(self.label_marks, name)
        return getattr(self, name)

    def close_session(self) -> None:
        # Running states are saved where the video stands: closing loses no coding.
        if self.coding.running():
            decide(self, lambda: self.coding.stop_all(frame=self._playhead()))
        self._unsubscribe()

    @property
    def current(self):
        return self._current

    @property
    def draft(self) -> Segment | None:
        return self._draft

    @property
    def focused_person(self) -> str | None:
        """Whom the reviewer is looking at: the person last clicked on the video when
        they had nothing to review there, else the draft's person."""
        if self._focus is not None:
            return self._focus
        return self._draft.person if self._draft is not None else None

    def focus_person(self, person: str) -> None:
        """Review ``person`` (clicked on the video): see ``segment_for_person``. With
        nothing of theirs to review, the panel says so and the current segment stays:
        the keys go on acting on what the panel shows, never on nothing."""
        seg, seek = segment_for_person(self._session, person, self._playhead())
        if seg is not None:
            self.select_key(seg.key, seek=seek)
            return
        self._focus = person
        self._show()
        self.current_changed.emit(self._current)

    def _set_order(self, order: str) -> None:
        key = self._current.key if self._current else None
        self.model.set_order(order)
        self._reselect(key, 0)

    def _on_change(self, change) -> None:
        key = self._current.key if self._current else None
        row = self.list.currentIndex().row()
        self.model.refresh(change)
        self._refresh_counts()
        if key in change.removed:
            # The segment just decided left the queue: move on to what is now in its place.
            replacement = next((s for s in change.added if s.status == Status.PENDING), None)
            self._reselect(
                replacement.key if replacement and replacement.key != key else None, max(row, 0)
            )
        else:
            self._reselect(key, max(row, 0))

    def _reselect(self, key: str | None, fallback_row: int) -> None:
        row = self.model.row_of(key) if key else -1
        if row < 0 and key:
            seg = next((s for s in self._session.segments() if s.key == key), None)
            if seg is not None:
                self._set_current(seg, keep_draft=True)
                return
        if row >= 0:
            self.list.setCurrentIndex(self.model.index(row))
            self._set_current(self.model.segment(row), keep_draft=True)
            return
        self._select_row(min(fallback_row, self.model.rowCount() - 1))

    def _refresh_counts(self) -> None:
        labels = self._session.label_count()
        hidden = self.model.hidden
        self.counts.setText(
            f"{self._session.pending_count()} pending · {labels} label{'s' if labels != 1 else ''}"
            + (f" · {hidden} of behaviours not shown" if hidden else "")
        )

    def set_behaviours(self, shown) -> None:
        """Queue only the behaviours shown (the timeline's choice); the one under review
        stays if it is still queued."""
        key = self._current.key if self._current else None
        self.model.set_behaviours(shown)
        self._refresh_counts()
        if key and self.model.row_of(key) >= 0:
            self._reselect(key, 0)
        else:
            self._select_row(0)

    def _select_row(self, row: int) -> None:
        seg = self.model.segment(row)
        if seg is None:
            self.list.clearSelection()
            self._set_current(None)
            return
        self.list.setCurrentIndex(self.model.index(row))
        self._set_current(seg)

    def select_key(self, key: str, *, seek: bool = True) -> None:
        """Make a segment current: from the queue, or a decided one clicked on the
        timeline; ``seek`` moves the playhead to its start."""
        row = self.model.row_of(key)
        if row >= 0:
            self._select_row(row)
            if seek:
                self.seek_requested.emit(self._current.start_frame)
            return
        seg = next((s for s in self._session.segments() if s.key == key), None)
        if seg is not None:
            self.list.clearSelection()
            self._set_current(seg)
            if seek:
                self.seek_requested.emit(seg.start_frame)

    def _set_current(self, seg, *, keep_draft: bool = False) -> None:
        # The reviewer's unsaved corrections survive a change elsewhere (a rename, an
        # undo, proposals arriving), not a change of the segment itself; so does the
        # person they clicked on.
        same = self._current is not None and seg is not None and self._current == seg
        self._current = seg
        if not (keep_draft and same):
            self._focus = None
        if seg is None:
            self._draft = None
        elif not (keep_draft and same and self._draft):
            self._draft = Segment(**seg.parts())
        self._show()
        self.current_changed.emit(seg)

    def _show(self) -> None:
        seg, draft = self._current, self._draft
        focus = ""
        if self._focus is not None:
            focus = (
                f"{self._session.person_label(self._focus)}: no proposals here — "
                "press I/O/M to add a label"
            )
        if seg is None or draft is None:
            if self._session.pending_count() == 0:
                empty = "Nothing left to review."
            elif self.model.rowCount() == 0:
                empty = (
                    "Nothing left to review among the behaviours shown; the others are "
                    "still pending (show them on the timeline)."
                )
            else:
                empty = ""
            self.title.setText(focus or empty)
            self.details.clear()
            return
        changed = self._changes()
        self.title.setText(
            (f"{focus}<br>The keys still act on this segment:<br>" if focus else "")
            + f"<b>{'Proposal' if seg.proposal_key and seg.status == Status.PENDING else 'Label'}</b>"
            + (" <i>(corrected, not yet saved: press A)</i>" if changed else "")
        )

        self.details.show_segment(seg, draft, changed)

    def _changes(self) -> dict:
        seg, draft = self._current, self._draft
        if seg is None or draft is None:
            return {}
        return {name: value for name, value in draft.parts().items() if value != getattr(seg, name)}

    # --- actions --------------------------------------------------------------
    def accept(self) -> None:
        seg = self._current
        if seg is None:
            return
        changes = self._changes()
        if seg.status == Status.PENDING:
            if changes:
                done = decide(self, lambda: self._session.correct(seg.proposal_key, **changes))
            else:
                done = decide(self, lambda: self._session.accept(seg.proposal_key))
            self._moved_on(seg, done)
        elif changes:
            decide(self, lambda: self._session.edit_label(seg.label_id, **changes))
        else:
            self.next()

    def reject(self) -> None:
        seg = self._current
        if seg is None:
            return
        if seg.status == Status.PENDING:
            self._moved_on(seg, decide(self, lambda: self._session.reject(seg.proposal_key)))
        elif seg.label_id is not None:
            decide(self, lambda: self._session.delete_label(seg.label_id))

    def _moved_on(self, decided, done: bool) -> None:
        """After a decision the queue shows the next proposal: the video goes to it too."""
        if done and self._current is not None and self._current.key != decided.key:
            self.seek_requested.emit(self._current.start_frame)

    def _edit_draft(self, **changes) -> None:
        if self._draft is None:
            return
        self._draft = replace(self._draft, **changes)
        self._show()
        self.current_changed.emit(self._current)

    def reset(self) -> None:
        if self._current is not None:
            self._set_current(self._current)

    def nudge(self, field: str, sign: int, *, by_second: bool) -> None:
        if self._draft is None:
            return
        tb = self._timebase
        frame = getattr(self._draft, field)
        if by_second:
            t = tb.frame_to_seconds(frame) + sign * 1.0
            # An end may be the recording's end (frame_count), which no time maps to.
            frame = tb.frame_count if t >= tb.duration_s else tb.seconds_to_frame(max(0.0, t))
        else:
            frame += sign
        frame = max(0, min(tb.frame_count, frame))
        other_start = self._draft.start_frame if field == "end_frame" else None
        other_end = self._draft.end_frame if field == "start_frame" else None
        if (other_start is not None and frame <= other_start) or (
            other_end is not None and frame >= other_end
        ):
            return  # a segment keeps at least one frame
        self._edit_draft(**{field: frame})
        self.seek_requested.emit(frame if field == "start_frame" else max(0, frame - 1))

    def person(self) -> None:
        if self._draft is None:
            return
        people = self._session.people_to_choose(self._people_at(self._playhead()))
        person = ask_person(
            self,
            self._session,
            people,
            title="Change person",
            prompt="Person:",
            current=self._draft.person,
        )
        if person is not None:
            self._edit_draft(person=person)

    def next(self) -> None:
        row = self.list.currentIndex().row()
        self._select_row(min(row + 1, self.model.rowCount() - 1) if row >= 0 else 0)
        if self._current is not None:
            self.seek_requested.emit(self._current.start_frame)

    def previous(self) -> None:
        row = self.list.currentIndex().row()
        self._select_row(max(row - 1, 0))
        if self._current is not None:
            self.seek_requested.emit(self._current.start_frame)

    def play_segment(self) -> None:
        if self._draft is not None:
            self.play_range_requested.emit(self._draft.start_frame, self._draft.end_frame)

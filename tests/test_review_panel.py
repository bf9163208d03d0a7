"""The review panel alone: the queue, the draft of the segment under review, and the
keys that turn it into a decision. A real review session on a real project file,
with hand-made proposals (no video), so each test takes a fraction of a second.

Keys go through the panel's own shortcuts, so the panel is shown as an active window
(under Xvfb no window manager activates one; see tests/test_review_app.py).
"""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from lessonreview.core.domain import Behaviour, Proposal, RecordingInfo, Source, Status
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.gui.review.review_panel import ReviewPanel

pytestmark = pytest.mark.gui

FPS = 20.0
FRAMES = 400  # 20 s
TIMEBASE = Timebase.constant(FPS, FRAMES)


KEY: dict[str, str] = {}
NAME: dict[str, str] = {}


def proposal(pid: str, person: str, behaviour: Behaviour, start: int, end: int, conf: float):
    """A proposal; ``KEY[pid]`` is its key, ``NAME[key]`` the short name."""
    p = Proposal(
        person=person,
        behaviour=behaviour,
        start_frame=start,
        end_frame=end,
        confidence=conf,
        evidence=f"because {pid}",
    )
    KEY[pid], NAME[p.key] = p.key, pid
    return p


PROPOSALS = [
    proposal("a", "P1", Behaviour.HAND_RAISED, 0, 40, 0.9),
    proposal("b", "P2", Behaviour.STANDING, 60, 100, 0.3),
    proposal("c", "P3", Behaviour.WRITING, 120, 300, 0.7),
    proposal("d", "P1", Behaviour.READING, 390, 400, 0.5),
]


class Review:
    """A panel on a session, with a playhead the test moves by hand."""

    def __init__(self, qtbot, tmp_path) -> None:
        self.path = tmp_path / "panel.lessonreview"
        self.store = LabelStore.open(self.path)
        rid = self.store.add_recording(
            RecordingInfo(
                path=str(tmp_path / "lesson.mp4"),
                sha256="a" * 64,
                width=640,
                height=360,
                fps=FPS,
                frame_count=FRAMES,
                duration_s=FRAMES / FPS,
            )
        )
        self.session = ReviewSession(self.store, rid, timebase=TIMEBASE, reviewer="Tester")
        self.session.add_proposals(PROPOSALS)
        self.playhead = 0
        self.panel = ReviewPanel(
            self.session,
            TIMEBASE,
            playhead=lambda: self.playhead,
            people_at=lambda frame: ["P1", "P2", "P3", "P9"],
        )
        qtbot.addWidget(self.panel)
        self.panel.resize(420, 640)
        self.panel.show()
        qtbot.waitExposed(self.panel)
        self.panel.activateWindow()
        qtbot.waitUntil(self.panel.isActiveWindow)
        self.seeks: list[int] = []
        self.panel.seek_requested.connect(self.seeks.append)
        self._qtbot = qtbot

    def press(self, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        self._qtbot.keyClick(QApplication.focusWidget() or self.panel, key, modifier)

    def rows(self, sql: str) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def close(self) -> None:
        self.panel.close_session()
        self.store.close()


@pytest.fixture
def review(qtbot, tmp_path):
    r = Review(qtbot, tmp_path)
    yield r
    r.close()


@pytest.fixture(autouse=True)
def no_message_boxes(monkeypatch):
    shown: list[str] = []
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(
            QMessageBox, kind, lambda parent, title, text, *a, **k: shown.append(text)
        )
    return shown


def test_the_queue_starts_on_the_first_proposal_and_counts_what_is_left(review):
    panel = review.panel
    assert panel.current.proposal_key == KEY["a"]
    assert panel.counts.text() == "4 pending · 0 labels"
    review.press(Qt.Key.Key_A)
    review.press(Qt.Key.Key_R)
    assert panel.counts.text() == "2 pending · 1 label"  # a rejected proposal is no label
    assert panel.current.proposal_key == KEY["c"]


def test_after_a_or_r_the_video_goes_to_the_next_proposal(review):
    """The queue moves on after a decision, and so does the playhead: the reviewer sees
    the next proposal without pressing J."""
    panel = review.panel
    review.press(Qt.Key.Key_A)  # a (frames 0-40) accepted
    assert panel.current.proposal_key == KEY["b"]
    assert review.seeks[-1] == 60  # b starts at frame 60
    review.press(Qt.Key.Key_R)  # b rejected
    assert panel.current.proposal_key == KEY["c"] and review.seeks[-1] == 120


def test_the_queue_holds_only_the_behaviours_chosen(review):
    """A teacher who wants raised hands and standing only reviews just those; the rest
    stay pending, and the panel says so."""
    panel = review.panel
    panel.set_behaviours(frozenset({Behaviour.HAND_RAISED, Behaviour.STANDING}))
    queued = [panel.model.segment(i).behaviour for i in range(panel.model.rowCount())]
    assert queued == [Behaviour.HAND_RAISED, Behaviour.STANDING]
    assert panel.counts.text() == "4 pending · 0 labels · 2 of behaviours not shown"
    review.press(Qt.Key.Key_A)
    review.press(Qt.Key.Key_A)
    assert "Nothing left to review among the behaviours shown" in panel.title.text()
    assert review.session.pending_count() == 2  # writing and reading were not decided
    panel.set_behaviours(frozenset(Behaviour))
    assert panel.current.proposal_key == KEY["c"]


def test_lowest_confidence_first_puts_the_doubtful_ones_on_top(review):
    panel = review.panel
    panel.order.setCurrentIndex(panel.order.findData("confidence"))
    order = [NAME[panel.model.segment(i).proposal_key] for i in range(panel.model.rowCount())]
    assert order == ["b", "d", "c", "a"]
    assert panel.current.proposal_key == KEY["a"]  # the order changes, the one under review stays


def test_backspace_throws_away_the_unsaved_corrections(review):
    panel = review.panel
    review.press(Qt.Key.Key_3)
    review.press(Qt.Key.Key_V)
    assert "not yet saved" in panel.title.text()
    review.press(Qt.Key.Key_Backspace)
    assert (panel.draft.behaviour, panel.draft.end_frame) == (Behaviour.HAND_RAISED, 40)
    assert "not yet saved" not in panel.title.text()
    review.press(Qt.Key.Key_A)
    assert review.rows("SELECT status, behaviour, end_frame FROM labels") == [
        ("accepted", "hand_raised", 40)
    ]


def test_moving_away_from_a_draft_saves_nothing(review):
    review.press(Qt.Key.Key_2)
    review.press(Qt.Key.Key_J)
    review.press(Qt.Key.Key_K)
    assert review.panel.draft.behaviour == Behaviour.HAND_RAISED
    assert review.rows("SELECT count(*) FROM labels") == [(0,)]


def test_nudges_never_leave_the_recording_nor_an_empty_segment(review):
    panel = review.panel
    review.press(Qt.Key.Key_Z)  # "a" starts at frame 0: nothing earlier
    assert panel.draft.start_frame == 0
    for _ in range(45):  # end earlier, 40 frames long: stops at one frame
        review.press(Qt.Key.Key_C)
    assert (panel.draft.start_frame, panel.draft.end_frame) == (0, 1)
    review.press(Qt.Key.Key_X)  # a later start would empty it
    assert panel.draft.start_frame == 0
    review.press(Qt.Key.Key_Backspace)
    for _ in range(3):
        review.press(Qt.Key.Key_J)
    assert panel.current.proposal_key == KEY["d"]  # 390..400, the last frames
    review.press(Qt.Key.Key_V, Qt.KeyboardModifier.ShiftModifier)
    assert panel.draft.end_frame == FRAMES


def test_a_nudge_shows_the_frame_it_moved_to(review):
    review.press(Qt.Key.Key_J)  # "b", 60..100
    review.seeks.clear()
    review.press(Qt.Key.Key_Z)
    review.press(Qt.Key.Key_C)
    # The new first frame; the new last frame (the end is exclusive).
    assert review.seeks == [59, 98]


def test_enter_plays_the_draft_not_the_proposal(review, qtbot):
    review.press(Qt.Key.Key_X, Qt.KeyboardModifier.ShiftModifier)  # start one second later
    with qtbot.waitSignal(review.panel.play_range_requested) as played:
        review.press(Qt.Key.Key_Return)
    assert played.args == [20, 40]
    with qtbot.waitSignal(review.panel.play_range_requested) as played:
        review.press(Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)  # the keypad's
    assert played.args == [20, 40]


def test_a_decided_label_can_be_corrected_and_deleted_from_the_timeline(review):
    panel, session = review.panel, review.session
    review.press(Qt.Key.Key_A)
    label = next(s for s in session.segments() if s.status is Status.ACCEPTED)
    panel.select_key(label.key)  # as a click on the timeline does
    assert panel.current.key == label.key and "Label" in panel.title.text()
    review.press(Qt.Key.Key_4)
    review.press(Qt.Key.Key_A)
    assert review.rows("SELECT status, behaviour FROM labels") == [("corrected", "writing")]
    corrected = next(s for s in session.segments() if s.label_id is not None)
    panel.select_key(corrected.key)
    review.press(Qt.Key.Key_R)
    # A machine label is kept as rejected: a re-analysis must not propose it again.
    assert review.rows("SELECT status FROM labels") == [("rejected",)]
    assert session.pending_count() == 3


def test_the_person_dialog_cancelled_changes_nothing(review, monkeypatch):
    asked = []

    def cancel(parent, title, label, items, current=0, editable=True, *a, **k):
        asked.append(list(items))
        return "", False

    monkeypatch.setattr(QInputDialog, "getItem", cancel)
    review.press(Qt.Key.Key_P)
    assert asked == [["Person 1", "Person 2", "Person 3", "Person 9"]]
    assert review.panel.draft.person == "P1"


def test_a_new_label_needs_both_marks_first(review, monkeypatch, no_message_boxes):
    review.press(Qt.Key.Key_M)
    assert len(no_message_boxes) == 1 and "Mark the start with I" in no_message_boxes[0]
    answers = iter(["Person 9", Behaviour.WRITING.title])
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: (next(answers), True))
    review.playhead = 200
    review.press(Qt.Key.Key_I)
    assert "0:10.00 – …" in review.panel.marks.text()
    review.playhead = 239
    review.press(Qt.Key.Key_O)
    assert "0:10.00 – 0:12.00: press M" in review.panel.marks.text()
    review.press(Qt.Key.Key_M)
    assert review.rows(
        "SELECT person, behaviour, start_frame, end_frame, source, status FROM labels"
    ) == [("P9", "writing", 200, 240, "manual", "accepted")]
    assert review.panel.marks.text() == ""  # the marks are used up


def test_an_unrelated_change_keeps_the_draft(review):
    panel, session = review.panel, review.session
    review.press(Qt.Key.Key_J)  # "b"
    review.press(Qt.Key.Key_5)
    review.press(Qt.Key.Key_V)
    session.rename_person("P3", "Window seat")  # e.g. from the People menu
    session.add_proposals([proposal("e", "P4", Behaviour.STANDING, 0, 10, 0.5)])
    assert panel.current.proposal_key == KEY["b"]
    assert (panel.draft.behaviour, panel.draft.end_frame) == (Behaviour.HEAD_DOWN, 101)


def test_undo_brings_a_decided_proposal_back_to_the_queue(review):
    panel, session = review.panel, review.session
    review.press(Qt.Key.Key_R)
    assert panel.model.row_of(f"p:{KEY['a']}") == -1
    session.undo()
    assert panel.model.row_of(f"p:{KEY['a']}") == 0
    assert review.rows("SELECT count(*) FROM labels") == [(0,)]
    assert panel.counts.text() == "4 pending · 0 labels"


def test_after_the_last_decision_the_panel_says_so(review):
    for _ in PROPOSALS:
        review.press(Qt.Key.Key_A)
    assert review.panel.current is None
    assert review.panel.title.text() == "Nothing left to review."
    review.press(Qt.Key.Key_A)  # nothing under review: nothing happens
    assert review.rows("SELECT count(*) FROM labels WHERE source = 'machine'") == [(4,)]
    assert {r[0] for r in review.rows("SELECT source FROM labels")} == {Source.MACHINE.value}

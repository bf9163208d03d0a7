"""Coding schemes on screen: the scheme editor (a real dialog on a real project file), coding
one's own behaviours by keyboard in the review panel, and the timeline naming them.

Keys go through the panel's own shortcuts, so the panel is shown as an active window
(see tests/test_review_panel.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from lessonreview.core.domain import (
    APP_KEYS,
    BUILT_IN_SCHEME,
    BehaviourKind,
    CodingScheme,
    CodingSchemes,
    RecordingInfo,
    SchemeBehaviour,
)
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.scheme_file import read_scheme_file
from lessonreview.gui.colours import BEHAVIOUR_HEX
from lessonreview.gui.open_schemes import use_schemes
from lessonreview.gui.review.review_panel import ReviewPanel
from lessonreview.gui.review.review_queue import KEYS
from lessonreview.gui.schemes.scheme_editor import SchemeEditor
from lessonreview.gui.shell.workspace import PLAYER_KEYS
from lessonreview.gui.timeline.timeline_store import Grouping
from lessonreview.gui.timeline.timeline_view import TimelineView

pytestmark = pytest.mark.gui

FPS = 25.0
FRAMES = 500
TIMEBASE = Timebase.constant(FPS, FRAMES)

GROUP = SchemeBehaviour(
    code="group_work", name="Group work", key="G", colour="#2CA02C", kind=BehaviourKind.STATE
)
QUESTION = SchemeBehaviour(
    code="question", name="Question asked", key="Q", colour="#9467BD", kind=BehaviourKind.POINT
)
TALK = CodingScheme(name="Classroom talk", behaviours=(GROUP, QUESTION))


@pytest.fixture(autouse=True)
def built_in_schemes_after():
    """The open project's schemes are the app's one shared lookup: give the next test
    the built-in ones back."""
    yield
    use_schemes(CodingSchemes())


def add_recording(store: LabelStore, tmp_path) -> int:
    return store.add_recording(
        RecordingInfo(
            path=str(tmp_path / "lesson.mp4"),
            sha256="d" * 64,
            width=640,
            height=360,
            fps=FPS,
            frame_count=FRAMES,
            duration_s=FRAMES / FPS,
        )
    )


def rows(path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_the_keys_a_scheme_may_not_take_are_the_review_windows_own():
    singles = {k for b in KEYS for k in b.keys if len(k) == 1}
    player = {k for keys, _ in PLAYER_KEYS for k in keys.split(" / ") if len(k) == 1}
    assert singles <= APP_KEYS
    assert player <= APP_KEYS and {"-", "+"} <= player
    assert {b.key for b in BUILT_IN_SCHEME.behaviours} <= singles  # they change a draft


def test_the_built_in_scheme_has_the_palettes_colours():
    assert {b.code: b.colour for b in BUILT_IN_SCHEME.behaviours} == {
        str(b): c for b, c in BEHAVIOUR_HEX.items()
    }


def test_the_editor_makes_a_scheme_and_refuses_clashes_with_a_reason(qtbot, tmp_path):
    path = tmp_path / "p.lessonreview"
    store = LabelStore.open(path)
    editor = SchemeEditor(store)
    qtbot.addWidget(editor)
    editor.show()
    changes: list[None] = []
    editor.changed.connect(lambda: changes.append(None))
    # The built-in scheme is shown, not editable.
    assert editor.current.built_in and not editor.add_button.isEnabled()
    assert editor.table.rowCount() == 5 and editor.table.item(0, 1).text() == "Hand raised"

    editor.new_scheme("Classroom talk")
    assert editor.current.name == "Classroom talk" and editor.add_button.isEnabled()

    form = editor.add_behaviour()
    qtbot.waitExposed(form)
    form.name.setText("Group work")
    form.key.setText("g")
    form.definition.setPlainText("Three or more pupils working on one task together.")
    form.buttons.button(form.buttons.StandardButton.Ok).click()
    assert not form.isVisible()
    assert rows(path, "SELECT code, name, key, kind, definition FROM scheme_behaviours") == [
        (
            "group_work",
            "Group work",
            "G",
            "state",
            "Three or more pupils working on one task together.",
        )
    ]

    form = editor.add_behaviour()
    form.name.setText("Question asked")
    form.key.setText("G")  # taken by Group work
    form.kind.setCurrentIndex(form.kind.findData(BehaviourKind.POINT))
    form.buttons.button(form.buttons.StandardButton.Ok).click()
    assert form.isVisible()
    assert "the key G is already used by Group work" in form.error.text()
    form.key.setText("J")  # a key of the review window
    form.buttons.button(form.buttons.StandardButton.Ok).click()
    assert "the key J is already a key of the review window" in form.error.text()
    form.key.setText("Q")
    form.buttons.button(form.buttons.StandardButton.Ok).click()
    assert not form.isVisible()
    assert rows(path, "SELECT code, key, kind FROM scheme_behaviours ORDER BY position") == [
        ("group_work", "G", "state"),
        ("question_asked", "Q", "point"),
    ]
    assert len(changes) == 3
    assert [editor.table.item(r, 1).text() for r in range(editor.table.rowCount())] == [
        "Group work",
        "Question asked",
    ]

    # Editing keeps the code; the new name is what the table shows.
    editor.select_behaviour("group_work")
    form = editor.edit_behaviour()
    form.name.setText("Pair or group work")
    form.set_colour("#17becf")
    form.buttons.button(form.buttons.StandardButton.Ok).click()
    assert rows(path, "SELECT code, name, colour FROM scheme_behaviours WHERE key = 'G'") == [
        ("group_work", "Pair or group work", "#17BECF")
    ]
    editor.close()
    store.close()


def test_removing_a_behaviour_that_labels_use_says_how_many_and_keeps_it(qtbot, tmp_path):
    store = LabelStore.open(tmp_path / "p.lessonreview")
    store.save_scheme(TALK)
    rid = add_recording(store, tmp_path)
    session = ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann")
    for start in (0, 40, 80):
        session.add_label(person="P1", behaviour="question", start_frame=start, end_frame=start + 1)
    editor = SchemeEditor(store)
    qtbot.addWidget(editor)
    editor.scheme.setCurrentIndex(1)
    assert editor.table.item(1, 4).text() == "3"  # the Labels column
    editor.select_behaviour("question")
    editor.remove_behaviour()
    assert "3 labels use Question asked" in editor.problem.text()
    assert "delete or recode those labels first" in editor.problem.text()
    assert [b.code for b in store.coding_schemes().own[0].behaviours] == ["group_work", "question"]
    editor.select_behaviour("group_work")  # no labels: removed
    editor.remove_behaviour()
    assert [b.code for b in store.coding_schemes().own[0].behaviours] == ["question"]
    editor.close()
    store.close()


def test_the_editor_exports_and_imports_a_scheme_file(qtbot, tmp_path):
    with LabelStore.open(tmp_path / "a.lessonreview") as a:
        a.save_scheme(TALK)
        editor = SchemeEditor(a)
        qtbot.addWidget(editor)
        editor.scheme.setCurrentIndex(1)
        written = editor.export_scheme(tmp_path / "talk.json")
        editor.close()
    assert read_scheme_file(written).behaviours == TALK.behaviours
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with LabelStore.open(tmp_path / "b.lessonreview") as b:
        editor = SchemeEditor(b)
        qtbot.addWidget(editor)
        assert editor.import_scheme(tmp_path / "broken.json") is None
        assert "broken.json is not a usable coding-scheme file" in editor.problem.text()
        assert editor.import_scheme(written) is not None
        assert editor.current.name == "Classroom talk" and editor.problem.text() == ""
        assert b.coding_schemes().own[0].behaviours == TALK.behaviours
        editor.close()


def test_own_behaviours_are_coded_by_keyboard_into_the_project_file(qtbot, tmp_path):
    path = tmp_path / "p.lessonreview"
    store = LabelStore.open(path)
    store.save_scheme(TALK)
    rid = add_recording(store, tmp_path)
    session = ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann")
    use_schemes(session.schemes)
    playhead = [0]
    panel = ReviewPanel(session, TIMEBASE, playhead=lambda: playhead[0], people_at=lambda f: ["P2"])
    qtbot.addWidget(panel)
    panel.resize(420, 640)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)

    def press(key) -> None:
        qtbot.keyClick(QApplication.focusWidget() or panel, key)

    assert "Coding keys G, Q: nothing running" in panel.running.text()
    press(Qt.Key.Key_G)  # nobody selected: says what to do, codes nothing
    assert "Select a person first" in panel.running.text()
    assert panel.coding.running() == []

    panel.focus_person("P2")
    playhead[0] = 100
    press(Qt.Key.Key_G)
    assert "Group work</b> — Person 2 since 0:04.00 (press G to stop)" in panel.running.text()
    assert rows(path, "SELECT count(*) FROM labels") == [(0,)]
    playhead[0] = 130
    press(Qt.Key.Key_Q)
    playhead[0] = 180
    press(Qt.Key.Key_G)
    assert "nothing running" in panel.running.text()
    assert rows(
        path,
        "SELECT person, behaviour, start_frame, end_frame, start_s, end_s, source, reviewer "
        "FROM labels ORDER BY id",
    ) == [
        ("P2", "question", 130, 131, 5.2, 5.24, "manual", "Ann"),
        ("P2", "group_work", 100, 180, 4.0, 7.2, "manual", "Ann"),
    ]
    assert rows(path, "SELECT action FROM decisions ORDER BY id") == [("add",), ("add",)]
    assert panel.counts.text() == "0 pending · 2 labels"
    session.undo()  # the state is one undo step
    assert rows(path, "SELECT behaviour FROM labels") == [("question",)]

    # A state still running when the recording closes is saved where the video stands.
    playhead[0] = 200
    press(Qt.Key.Key_G)
    playhead[0] = 260
    panel.close_session()
    assert rows(path, "SELECT behaviour, start_frame, end_frame FROM labels ORDER BY id") == [
        ("question", 130, 131),
        ("group_work", 200, 260),
    ]
    assert panel.coding.running() == []
    store.close()


def test_the_timeline_names_and_filters_own_behaviours(qtbot, tmp_path):
    with LabelStore.open(tmp_path / "p.lessonreview") as store:
        store.save_scheme(TALK)
        rid = add_recording(store, tmp_path)
        session = ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann")
        use_schemes(session.schemes)
        view = TimelineView(TIMEBASE)
        qtbot.addWidget(view)
        view.set_grouping(Grouping.BEHAVIOUR)
        view.set_segments(session.segments())
        assert view.row_labels()[-2:] == ["Group work", "Question asked"]
        change = session.add_label(person="P1", behaviour="group_work", start_frame=0, end_frame=50)
        view.apply_change(change)
        assert view.segment_keys() == {s.key for s in session.segments()}
        # A behaviour added in the editor reaches the filter and the rows.
        board = SchemeBehaviour(code="board", name="At the board", key="B", colour="#8C564B")
        saved = store.coding_schemes().own[0]
        store.save_scheme(replace(saved, behaviours=(*saved.behaviours, board)))
        session.reload_schemes()
        use_schemes(session.schemes)
        view.set_behaviour_filter([c for c in session.schemes.codes if c != "question"])
        view.schemes_changed()
        assert "board" in view.shown_behaviours and "question" not in view.shown_behaviours
        assert view.row_labels()[-2:] == ["Group work", "At the board"]
        view.close()


def test_the_editor_is_reached_from_the_menu_and_the_open_recording_follows_it(
    qtbot, tmp_path, monkeypatch, classroom_frames
):
    import shutil
    from pathlib import Path

    from PySide6.QtWidgets import QMessageBox

    from app_window import isolated_user
    from lessonreview.gui.shell.main_window import MainWindow

    settings_path = isolated_user(monkeypatch, tmp_path)
    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, **k: QMessageBox.StandardButton.Ok)
    w = MainWindow(project_path=tmp_path / "class.lessonreview", settings_path=settings_path)
    qtbot.addWidget(w)
    w.show()
    still = Path(shutil.copy(classroom_frames[0], tmp_path / "lesson.jpg"))
    with qtbot.waitSignal(w.recording_opened):
        w.open_recording(still)
    project_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Project")
    item = next(a for a in project_menu.actions() if a.text() == "&Coding schemes…")
    item.trigger()
    editor = w.findChild(SchemeEditor)
    assert editor is not None and editor.isVisible()

    editor.new_scheme("Classroom talk")
    form = editor.add_behaviour()
    form.name.setText("Group work")
    form.key.setText("G")
    form.buttons.button(form.buttons.StandardButton.Ok).click()
    assert editor.problem.text() == ""

    ws = w.workspace
    assert "group_work" in ws.timeline.shown_behaviours
    assert "Group work" in [b.text() for b in ws.timeline._header._buttons.values()]
    assert [a.shortcut().toString() for a in ws.panel._coding_actions] == ["G"]
    assert "Coding keys G: nothing running" in ws.panel.running.text()
    editor.close()
    w.close()


def test_a_new_behaviour_whose_name_makes_a_taken_code_gets_its_own(qtbot, tmp_path):
    with LabelStore.open(tmp_path / "p.lessonreview") as store:
        store.save_scheme(TALK)
        editor = SchemeEditor(store)
        qtbot.addWidget(editor)
        editor.scheme.setCurrentIndex(1)
        form = editor.add_behaviour()
        form.name.setText("Group-work")
        form.key.setText("W")
        form.buttons.button(form.buttons.StandardButton.Ok).click()
        assert form.error.text() == ""
        assert [b.code for b in store.coding_schemes().own[0].behaviours] == [
            "group_work",
            "question",
            "group_work_2",
        ]
        editor.close()

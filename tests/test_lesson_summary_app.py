"""View > Lesson summary in the real window: it follows the reviewer's decisions (only
accepted and corrected proposals count), clicking a plot seeks the player, and the report
saved from it names nobody and never replaces the project file.

Run under Xvfb: ``xvfb-run -a -s "-screen 0 1600x1000x24" python -m pytest tests/test_lesson_summary_app.py``.
The recording is the demo (real CC BY 4.0 classroom frames, resources/demo/ATTRIBUTION.md);
the proposals are written by hand so that the test knows what each one is.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton

from app_window import isolated_user, record_consent
from lessonreview.core.domain import (
    Behaviour,
    BehaviourKind,
    Box,
    CodingScheme,
    CodingSchemes,
    Observation,
    PersonTrack,
    Proposal,
    SchemeBehaviour,
)
from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.store import proposals_file
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument, times_of
from lessonreview.gui.open_schemes import use_schemes
from lessonreview.gui.reflection.report_file import save_report
from lessonreview.gui.shell.main_window import MainWindow
from lessonreview.gui.shell.resources import demo_recording

pytestmark = pytest.mark.gui

WAIT_MS = 15_000
HAND_1 = Proposal(
    person="P1",
    behaviour=Behaviour.HAND_RAISED,
    start_frame=100,
    end_frame=140,
    confidence=0.8,
    evidence="wrist above the head",
)
HAND_2 = Proposal(
    person="P2",
    behaviour=Behaviour.HAND_RAISED,
    start_frame=300,
    end_frame=330,
    confidence=0.7,
    evidence="wrist above the head",
)
STAND = Proposal(
    person="P1",
    behaviour=Behaviour.STANDING,
    start_frame=400,
    end_frame=480,
    confidence=0.6,
    evidence="hips above the desk",
)


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    isolated_user(monkeypatch, tmp_path)
    video = tmp_path / "lesson.mp4"
    video.write_bytes(demo_recording().read_bytes())
    recording = Recording.open(video)
    project = tmp_path / "lesson.lessonreview"
    with LabelStore.open(project) as store:
        record_consent(store, video)
    tracks = tuple(
        PersonTrack(
            id=pid,
            observations=tuple(
                Observation(frame=f, t=recording.timebase.frame_to_seconds(f), box=box, score=0.9)
                for f in range(0, recording.frame_count, 10)
            ),
        )
        for pid, box in (("P1", Box(100, 100, 200, 350)), ("P2", Box(900, 400, 1000, 650)))
    )
    proposals = (HAND_1, HAND_2, STAND)
    doc = ProposalsDocument(
        recording=recording.info(sha256=file_sha256(video)),
        analysis=AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=1.0),
        people=tracks,
        proposals=proposals,
        seconds=times_of(proposals, recording.timebase.frame_to_seconds),
    )
    path = tmp_path / "lesson.proposals.json"
    proposals_file.write(doc, path)
    w = MainWindow(project_path=project, settings_path=tmp_path / "config" / "settings.json")
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    with qtbot.waitSignal(w.recording_opened, timeout=WAIT_MS):
        w.open_recording(video, proposals=path)
    qtbot.waitUntil(lambda: w.session.pending_count() == 3, timeout=WAIT_MS)
    yield w
    w.close_recording()
    w.reflection._stills.wait(30)
    # The open project's schemes are the app's one shared appearance state: a test that
    # saved its own must not leave them to the next test's widgets.
    use_schemes(CodingSchemes())


def test_summary_counts_only_what_the_reviewer_accepted(qtbot, window):
    window.menus.summary.trigger()
    view = window.reflection.view
    assert view is not None and window.reflection.dock.isVisible()
    hands = lambda: view.summary.over_time[Behaviour.HAND_RAISED]  # noqa: E731
    assert hands().total == 0  # three proposals pending: nothing counts yet
    assert view.summary.progress.pending == 3
    # Reviewed from the start up to the first pending proposal: where the queue stands.
    assert "(up to 0:05)" in view.progress.text()

    window.session.accept(HAND_1.key)
    qtbot.waitUntil(lambda: hands().total == 1, timeout=WAIT_MS)
    window.session.reject(HAND_2.key)
    qtbot.waitUntil(lambda: view.summary.progress.pending == 1, timeout=WAIT_MS)
    assert hands().total == 1
    assert view.summary.progress.rejected == 1
    # One dot on the room map: the accepted hand, where P1 sits (left, upper half).
    assert len(view._dots.data) == 1
    assert view.summary.zone_counts()["far left"] == 1
    # Reviewed up to the last pending proposal, the standing one.
    t_stand = window.recording.timebase.frame_to_seconds(STAND.start_frame)
    assert view.summary.progress.reviewed_until_s == pytest.approx(t_stand)

    window.undo()  # the rejection
    qtbot.waitUntil(lambda: view.summary.progress.pending == 2, timeout=WAIT_MS)
    assert hands().total == 1


def click_plot(qtbot, view, behaviour: Behaviour, t: float, y: float = 0.0) -> None:
    plot = view._plot_items[behaviour]
    scene = plot.getViewBox().mapViewToScene(QPointF(t, y))
    pos = view.plots.mapFromScene(scene)
    qtbot.mouseClick(view.plots.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))


def test_clicking_a_plot_or_a_raised_hand_seeks_the_player(qtbot, window):
    window.reflection.set_shown(True)
    view = window.reflection.view
    window.session.accept(HAND_1.key)
    qtbot.waitUntil(
        lambda: view.summary.over_time[Behaviour.HAND_RAISED].total == 1, timeout=WAIT_MS
    )
    player = window.workspace.player
    timebase = window.recording.timebase

    click_plot(qtbot, view, Behaviour.STANDING, 20.0, 0.2)
    qtbot.waitUntil(
        lambda: abs(player.position - timebase.seconds_to_frame(20.0)) <= 1, timeout=WAIT_MS
    )

    # A click on the tick of the accepted hand, a little beside its centre: exactly the
    # frame the hand went up, not the time under the mouse.
    beside = timebase.frame_to_seconds(HAND_1.start_frame) + 0.15
    assert timebase.seconds_to_frame(beside) != HAND_1.start_frame
    click_plot(qtbot, view, Behaviour.HAND_RAISED, beside)
    qtbot.waitUntil(lambda: player.position == HAND_1.start_frame, timeout=WAIT_MS)


def test_report_from_the_window_names_nobody_and_spares_the_project(
    qtbot, window, monkeypatch, tmp_path
):
    window.reflection.set_shown(True)
    view = window.reflection.view
    window.session.accept(HAND_1.key)
    window.session.rename_person("P1", "Ada Named")
    qtbot.waitUntil(
        lambda: view.summary.over_time[Behaviour.HAND_RAISED].total == 1, timeout=WAIT_MS
    )
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))

    project = window.store.path
    before = project.read_bytes()
    assert (
        save_report(
            window, window.store, window.recording_id, view.summary, still=None, path=project
        )
        is None
    )
    assert "it is the file this command reads" in warnings[-1]
    assert project.read_bytes() == before

    out = save_report(
        window,
        window.store,
        window.recording_id,
        view.summary,
        still=window.reflection.still,
        path=tmp_path / "report.html",
    )
    assert out == tmp_path / "report.html"
    text = html.unescape(re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", out.read_text()))
    for who in ("P1", "P2", "Person 1", "Ada", "Named"):
        assert who not in text
    assert re.search(r"<th>Hand raised</th><td>1</td>", text)
    assert Path(out).stat().st_mode & 0o077 == 0  # owner-only, like every file the app writes


def test_the_teacher_marks_a_phase_at_the_playhead_and_the_summary_splits(
    qtbot, window, monkeypatch
):
    window.reflection.set_shown(True)
    view = window.reflection.view
    window.session.accept(HAND_1.key)
    window.session.accept(HAND_2.key)
    player = window.workspace.player
    player.seek(200)
    qtbot.waitUntil(lambda: player.position == 200, timeout=WAIT_MS)
    monkeypatch.setattr(
        "lessonreview.gui.reflection.lesson_summary_view.QInputDialog.getText",
        lambda *a, **k: ("group work", True),
    )
    qtbot.mouseClick(view.phase_button, Qt.MouseButton.LeftButton)
    phases = window.store.phases(window.recording_id)
    assert [(p.name, p.start_frame) for p in phases] == [("group work", 200)]
    by_phase = {p.name: p.counts[Behaviour.HAND_RAISED] for p in view.summary.phases}
    assert by_phase == {"(before the first phase)": 1, "group work": 1}
    assert re.search(r"group work \([0-9:]+, 1 hand[,)]", view.phases_text.text())
    assert view._phase_marks  # drawn on the plots

    monkeypatch.setattr(
        "lessonreview.gui.reflection.lesson_summary_view.QInputDialog.getItem",
        lambda _parent, _title, _label, items, *a: (items[0], True),
    )
    qtbot.mouseClick(view.unphase_button, Qt.MouseButton.LeftButton)
    assert window.store.phases(window.recording_id) == []
    assert view.summary.phases == ()


def talk_scheme(name: str) -> CodingScheme:
    """A scheme of two own behaviours: a state (the teacher at the board) and a point
    event (a question asked)."""
    return CodingScheme(
        name=name,
        behaviours=(
            SchemeBehaviour(
                code="teacher_at_board", name="Teacher at the board", key="B", colour="#1F77B4"
            ),
            SchemeBehaviour(
                code="question",
                name="Question asked",
                key="Q",
                colour="#9467BD",
                kind=BehaviourKind.POINT,
            ),
        ),
    )


def test_own_behaviours_coded_in_the_window_show_in_the_summary_under_their_names(qtbot, window):
    """A coder's own behaviours, coded by hand, are in the summary: a state behaviour
    by its time, a point event by its count; a rejected proposal still counts nothing."""
    window.store.save_scheme(talk_scheme("Classroom talk"))
    window._schemes_changed()  # what the scheme editor's Save does
    window.menus.summary.trigger()
    view = window.reflection.view
    assert not view.own_text.isVisible()  # nothing of the own schemes coded yet
    five_s = window.recording.timebase.seconds_to_frame(5.0)
    window.session.add_label(
        person="P1", behaviour="teacher_at_board", start_frame=0, end_frame=five_s
    )
    for frame in (50, 120):
        window.session.add_label(
            person="P2", behaviour="question", start_frame=frame, end_frame=frame + 1
        )
    window.session.reject(HAND_2.key)
    qtbot.waitUntil(lambda: len(view.summary.own) == 2, timeout=WAIT_MS)
    text = re.sub(r"<[^>]+>", "", html.unescape(view.own_text.text()))
    assert "Teacher at the board (Classroom talk): 0:05 in all (1 label)" in text
    assert "Question asked (Classroom talk): 2 times" in text
    assert view.own_text.isVisible()
    assert view.summary.reviewed_labels == 3


def clipped_texts(window) -> list[str]:
    """Every text of the lesson summary dock that does not fit where it is drawn: a
    one-line label, a button or the progress bar narrower than its text, a plot or
    room-map title wider than its plot or past the picture's edge, a lesson phase's
    numbered line off its plot, or the summary itself wider than the dock shows."""
    dock = window.reflection.dock
    view = window.reflection.view
    # Drawn whole, as the reviewer sees each part when scrolled to it: pyqtgraph places
    # its texts on the map when it paints them, and a part scrolled out of sight is not.
    view.grab()
    out = []
    shown = window.reflection.scroll.viewport().width()
    if view.width() > shown:
        out.append(f"the summary is {view.width()} px wide in a dock showing {shown} px")
    for label in view.findChildren(QLabel):
        if label.isVisible() and not label.wordWrap() and label.text():
            need = label.fontMetrics().horizontalAdvance(label.text())
            if need > label.contentsRect().width():
                out.append(f"label {label.text()!r}: {need} px in {label.contentsRect().width()}")
    for button in view.findChildren(QPushButton):
        need = button.fontMetrics().horizontalAdvance(button.text()) + 8
        if need > button.width():
            out.append(f"button {button.text()!r}: {need} px in {button.width()}")
    bar = view.progress
    need = bar.fontMetrics().horizontalAdvance(bar.text())
    if need > bar.contentsRect().width():
        out.append(f"progress {bar.text()!r}: {need} px in {bar.contentsRect().width()}")
    for widget, items in (
        (view.plots, list(view._plot_items.values())),
        (view.room, [view._room_plot]),
    ):
        visible = widget.viewport().rect()
        for plot in items:
            title = plot.titleLabel
            text = title.item.toPlainText()
            on_screen = widget.mapFromScene(title.item.sceneBoundingRect()).boundingRect()
            if title.item.boundingRect().width() > plot.width() or not visible.contains(on_screen):
                out.append(f"title {text!r} at {on_screen} in a picture of {visible}")
    for zone, text in view._zone_texts.items():
        on_screen = view.room.mapFromScene(text.sceneBoundingRect()).boundingRect()
        if not view.room.viewport().rect().contains(on_screen):
            out.append(f"room map {zone} count at {on_screen}, past the picture's edge")
    for behaviour, plot in view._plot_items.items():
        lo, hi = plot.viewRange()[0]
        if lo > 0 or hi < view.summary.duration_s:
            out.append(f"the {behaviour} plot shows {lo:g} to {hi:g} s, not the whole lesson")
    for plot, line in view._phase_marks:
        lo, hi = plot.viewRange()[0]
        if not lo <= line.value() <= hi:
            out.append(f"phase line at {line.value():g} s off its plot ({lo:g} to {hi:g} s)")
    if dock.width() < window.reflection.scroll.minimumWidth():
        out.append("the dock is narrower than its minimum")
    return out


def own_behaviours_and_phases(qtbot, window) -> None:
    window.store.save_scheme(talk_scheme("Classroom talk about the board"))
    window._schemes_changed()
    window.session.add_label(person="P1", behaviour="teacher_at_board", start_frame=0, end_frame=99)
    window.session.add_label(person="P2", behaviour="question", start_frame=50, end_frame=51)
    window.session.accept(HAND_1.key)
    view = window.reflection.view
    view.mark_phase("introduction", at_frame=0)
    view.mark_phase("group work with a long name", at_frame=200)
    qtbot.waitUntil(lambda: len(view.summary.own) == 2, timeout=WAIT_MS)


@pytest.mark.parametrize("size", [(1366, 768), (1600, 1000)])
@pytest.mark.parametrize("own", [False, True], ids=["five behaviours", "own and phases"])
def test_every_text_of_the_summary_fits_the_dock_at_its_default_width_and_narrowed(
    qtbot, window, size, own
):
    """On a teacher's laptop (1366x768) and a desktop screen, with and without own coding
    schemes and lesson phases, nothing of the summary dock is cut off: not when it opens
    at its default width, not when the reviewer narrows it as far as it goes or widens it.
    And the window with the dock still fits the screen."""
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() == size[0], timeout=WAIT_MS)
    window.reflection.set_shown(True)
    if own:
        own_behaviours_and_phases(qtbot, window)
    dock = window.reflection.dock
    # The blurred still of the room changes the map's picture: measured once it is there.
    qtbot.waitUntil(lambda: not window.reflection._stills.busy, timeout=60_000)
    qtbot.wait(300)  # the summary's redraw and the layout settle
    assert window.width() <= size[0] and window.height() <= size[1]
    assert dock.width() > window.reflection.scroll.minimumWidth()  # opens wider than its least
    assert clipped_texts(window) == []
    for width in (1, 700):  # narrowed as far as it goes, then widened
        window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        qtbot.wait(200)
        assert window.width() <= size[0]
        assert clipped_texts(window) == [], f"the dock at {dock.width()} px"

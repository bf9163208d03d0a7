"""The timeline as a reviewer meets it: rows, clicks, decisions, filter, playhead.

Run under a display (CI uses Xvfb). Segments and changes are the review session's own
types, made by hand: the widget relies on their attributes only.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolButton, QToolTip

from lessonreview.core.domain import Behaviour, Source, Status
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.pending_proposals import ReviewItem
from lessonreview.core.review.review_session import Change
from lessonreview.gui.timeline.timeline_store import Grouping
from lessonreview.gui.timeline.timeline_view import TimelineView

pytestmark = pytest.mark.gui

FPS = 25.0
TIMEBASE = Timebase.constant(FPS, 1500)  # one minute


def seg(
    key: str,
    person: str,
    behaviour: Behaviour,
    start_s: float,
    end_s: float,
    status: Status = Status.PENDING,
    *,
    confidence: float | None = 0.8,
    evidence: str | None = "wrist above shoulder",
) -> ReviewItem:
    start, end = TIMEBASE.seconds_to_frame(start_s), TIMEBASE.seconds_to_frame(end_s)
    return ReviewItem(
        key=key,
        person=person,
        behaviour=behaviour,
        start_frame=start,
        end_frame=end,
        start_s=TIMEBASE.frame_to_seconds(start),
        end_s=TIMEBASE.frame_to_seconds(end),
        status=status,
        source=Source.MACHINE,
        confidence=confidence,
        evidence=evidence,
        proposal_key=key[2:] if key.startswith("p:") else None,
        label_id=int(key[2:]) if key.startswith("l:") else None,
    )


SEGMENTS = [
    seg("p:1", "P1", Behaviour.HAND_RAISED, 2.0, 6.0),
    seg("p:2", "P10", Behaviour.WRITING, 10.0, 20.0, Status.ACCEPTED),
    seg("p:3", "P2", Behaviour.READING, 30.0, 40.0, Status.CORRECTED),
    seg("p:4", "P2", Behaviour.STANDING, 44.0, 50.0, Status.REJECTED),
]


@pytest.fixture
def view(qtbot):
    widget = TimelineView(TIMEBASE)
    qtbot.addWidget(widget)
    widget.resize(1000, 400)
    widget.set_segments(SEGMENTS)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def centre(view: TimelineView, key: str) -> QPoint:
    rect = view.segment_rect(key)
    assert rect is not None, f"{key} is not drawn"
    return rect.center().toPoint()


def click(qtbot, view: TimelineView, point: QPoint) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_one_row_per_person_in_numeric_order(view):
    assert view.row_labels() == ["Person 1", "Person 2", "Person 10"]


def test_rows_use_the_reviewers_names_for_people(qtbot):
    names = {"P2": "Table by the window"}
    widget = TimelineView(TIMEBASE, person_label=lambda p: names.get(p, p))
    qtbot.addWidget(widget)
    widget.set_segments(SEGMENTS)
    assert widget.row_labels() == ["P1", "Table by the window", "P10"]
    names["P1"] = "Front left"
    widget.refresh_labels()
    assert widget.row_labels()[0] == "Front left"


def test_segments_sit_in_their_persons_row(view):
    rows = [(view.viewport_point(0, r).y(), view.viewport_point(0, r + 1).y()) for r in range(3)]
    for key, row in (("p:1", 0), ("p:3", 1), ("p:4", 1), ("p:2", 2)):
        y = centre(view, key).y()
        assert rows[row][0] < y < rows[row][1], key


def test_clicking_empty_space_seeks_to_that_time(qtbot, view):
    # Zoomed so that one pixel is less than one frame: the frame is exact.
    view.zoom_to(11.0, 14.0)
    t = 12.3 + 0.5 / FPS
    point = view.viewport_point(t, 0.5)  # Person 1 has nothing at 12 s
    with qtbot.waitSignal(view.seek_requested) as seek:
        click(qtbot, view, point)
    assert seek.args == [TIMEBASE.seconds_to_frame(t)]


def test_clicking_a_segment_reports_its_key_and_seeks(qtbot, view):
    point = centre(view, "p:3")
    with (
        qtbot.waitSignal(view.segment_clicked) as clicked,
        qtbot.waitSignal(view.seek_requested) as seek,
    ):
        click(qtbot, view, point)
    assert clicked.args == ["p:3"]
    assert 30 * FPS <= seek.args[0] < 40 * FPS


def test_apply_change_removes_and_adds_exactly_the_segments(qtbot, view):
    accepted = replace(SEGMENTS[0], key="l:7", status=Status.ACCEPTED, label_id=7)
    new_person = seg("p:9", "P3", Behaviour.HEAD_DOWN, 50.0, 55.0)
    view.apply_change(
        Change(removed=("p:1",), added=(accepted, new_person), people_changed=False, label="x")
    )
    assert view.segment_keys() == {"l:7", "p:2", "p:3", "p:4", "p:9"}
    assert view.row_labels() == ["Person 1", "Person 2", "Person 3", "Person 10"]
    assert view.segment_rect("p:1") is None
    with qtbot.waitSignal(view.segment_clicked) as clicked:
        click(qtbot, view, centre(view, "l:7"))
    assert clicked.args == ["l:7"]
    # The last segment of a person gone: their row goes too.
    view.apply_change(Change(removed=("l:7",), added=(), people_changed=False, label="y"))
    assert view.row_labels() == ["Person 2", "Person 3", "Person 10"]


def test_overlapping_segments_of_a_person_are_both_visible_and_clickable(qtbot, view):
    overlap = seg("p:5", "P2", Behaviour.HAND_RAISED, 32.0, 36.0)
    view.apply_change(Change(removed=(), added=(overlap,), people_changed=False, label="x"))
    a, b = view.segment_rect("p:3"), view.segment_rect("p:5")
    assert not a.intersects(b)
    for key in ("p:3", "p:5"):
        with qtbot.waitSignal(view.segment_clicked) as clicked:
            click(qtbot, view, centre(view, key))
        assert clicked.args == [key]


def test_filter_hides_a_behaviour(qtbot, view):
    point = centre(view, "p:2")
    view.set_behaviour_filter([b for b in Behaviour if b is not Behaviour.WRITING])
    assert "p:2" not in view.shown_segment_keys()
    assert view.segment_rect("p:2") is None
    with qtbot.assertNotEmitted(view.segment_clicked), qtbot.waitSignal(view.seek_requested):
        click(qtbot, view, point)
    assert view.row_labels() == ["Person 1", "Person 2", "Person 10"]  # rows stay put


def test_the_legend_buttons_filter_too(qtbot, view):
    button = next(b for b in view.findChildren(QToolButton) if b.text() == "Hand raised")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert Behaviour.HAND_RAISED not in view.shown_behaviours
    assert "p:1" not in view.shown_segment_keys()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert "p:1" in view.shown_segment_keys()


def test_grouping_by_behaviour(qtbot, view):
    view.set_grouping(Grouping.BEHAVIOUR)
    assert view.row_labels() == [b.title for b in Behaviour]
    top, bottom = view.viewport_point(0, 0).y(), view.viewport_point(0, 1).y()
    assert top < centre(view, "p:1").y() < bottom  # hand raised: the first row
    view.set_behaviour_filter([Behaviour.READING, Behaviour.STANDING])
    assert view.row_labels() == ["Standing", "Reading"]
    with qtbot.waitSignal(view.segment_clicked) as clicked:
        click(qtbot, view, centre(view, "p:3"))
    assert clicked.args == ["p:3"]


def dark_rows_in_column(view: TimelineView, x: int) -> int:
    image = view.viewport().grab().toImage()
    y0, y1 = view.viewport_point(0, 0).y(), view.viewport_point(0, 3).y()
    return sum(1 for y in range(y0 + 2, y1 - 2) if QColor(image.pixel(x, y)).lightness() < 80)


def test_playhead_is_drawn_where_the_frame_is(qtbot, view):
    view.set_playhead_frame(625)  # 25 s: nobody has a segment there
    assert view.playhead_seconds == TIMEBASE.frame_to_seconds(625)
    x = view.viewport_point(25.0, 0).x()
    qtbot.waitUntil(lambda: dark_rows_in_column(view, x) > 50)
    view.set_playhead_frame(700)
    qtbot.waitUntil(lambda: dark_rows_in_column(view, x) == 0)
    assert dark_rows_in_column(view, view.viewport_point(28.0, 0).x()) > 50


def test_playhead_turns_the_page_when_it_leaves_the_view(view):
    view.zoom_to(0.0, 10.0)
    view.set_playhead_frame(int(5 * FPS))
    view.set_playhead_frame(int(12 * FPS))
    lo, hi = view.visible_range()
    assert lo <= 12.0 <= hi and hi - lo == pytest.approx(10.0)


def test_selecting_a_segment_off_screen_brings_it_into_view(view):
    view.zoom_to(0.0, 10.0)
    view.set_selected("p:3")
    lo, hi = view.visible_range()
    assert lo <= 30.0 and 40.0 <= hi
    assert view.selected_key == "p:3"


def test_wheel_zooms_time_only(qtbot, view):
    before = view.visible_range()
    rows_top = view.viewport_point(0, 0).y()
    point = QPointF(view.viewport_point(30.0, 1.5))
    wheel = QWheelEvent(
        point,
        QPointF(view.viewport().mapToGlobal(point.toPoint())),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    lo, hi = view.visible_range()
    assert hi - lo < before[1] - before[0]
    assert lo < 30.0 < hi
    assert view.viewport_point(0, 0).y() == rows_top  # rows did not move


def test_zoom_to_shows_that_span(view):
    view.zoom_to(20.0, 25.0)
    lo, hi = view.visible_range()
    assert lo == pytest.approx(20.0) and hi == pytest.approx(25.0)
    view.zoom_all()
    assert view.visible_range() == pytest.approx((0.0, TIMEBASE.duration_s))


def test_hovering_a_segment_tells_what_it_is(qtbot, view):
    qtbot.mouseMove(view.viewport(), centre(view, "p:1"))
    qtbot.waitUntil(lambda: QToolTip.isVisible() and "Hand raised" in QToolTip.text())
    text = QToolTip.text()
    for part in ("Person 1", "00:02.00", "00:06.00", "Pending", "80%", "wrist above shoulder"):
        assert part in text


def test_ten_thousand_segments_load_and_take_a_decision(qtbot):
    timebase = Timebase.constant(FPS, int(45 * 60 * FPS))
    segments = []
    for i in range(10_000):
        start = (i * 7919) % (timebase.frame_count - 400)
        segments.append(
            ReviewItem(
                key=f"p:{i}",
                person=f"P{i % 30 + 1}",
                behaviour=list(Behaviour)[i % 5],
                start_frame=start,
                end_frame=start + 50 + i % 300,
                start_s=timebase.frame_to_seconds(start),
                end_s=timebase.frame_to_seconds(start + 50 + i % 300),
                status=list(Status)[i % 4],
                source=Source.MACHINE,
                confidence=0.5,
                evidence=None,
                proposal_key=str(i),
                label_id=None,
            )
        )
    widget = TimelineView(timebase)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.set_segments(segments)
    widget.show()
    qtbot.waitExposed(widget)
    assert len(widget.row_labels()) == 30
    decided = replace(segments[123], key="l:1", status=Status.ACCEPTED, label_id=1)
    widget.apply_change(Change(("p:123",), (decided,), people_changed=False, label="Accept"))
    keys = widget.segment_keys()
    assert len(keys) == 10_000 and "l:1" in keys and "p:123" not in keys
    widget.set_selected("l:1")
    widget.zoom_to(decided.start_s - 1, decided.end_s + 1)
    with qtbot.waitSignal(widget.segment_clicked) as clicked:
        click(qtbot, widget, centre(widget, "l:1"))
    assert clicked.args == ["l:1"]


def test_dragging_pans_time_only(qtbot, view):
    view.zoom_to(20.0, 30.0)
    rows_top = view.viewport_point(0, 0).y()
    start = view.viewport_point(25.0, 2.5)
    end = view.viewport_point(22.0, 0.5)  # to the left (and up, which must not scroll rows)
    viewport = view.viewport()
    with qtbot.assertNotEmitted(view.seek_requested):  # a pan is not a click
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
        for i in range(1, 11):
            qtbot.mouseMove(viewport, start + (end - start) * i / 10)
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    lo, hi = view.visible_range()
    assert lo == pytest.approx(23.0, abs=0.1) and hi == pytest.approx(33.0, abs=0.1)
    assert view.viewport_point(0, 0).y() == rows_top


def test_an_empty_timeline_still_seeks(qtbot):
    timebase = Timebase.constant(FPS, 250)
    widget = TimelineView(timebase)
    qtbot.addWidget(widget)
    widget.resize(600, 200)
    widget.set_segments([])
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.row_labels() == []
    widget.set_playhead_frame(10_000)  # past the end: clamps to the last frame
    assert widget.playhead_seconds == timebase.frame_to_seconds(249)
    t = 5.0 + 0.5 / FPS  # mid-frame: half a frame is more than half a pixel here
    with qtbot.waitSignal(widget.seek_requested) as seek:
        click(qtbot, widget, widget.viewport_point(t, 0.5))
    assert seek.args == [timebase.seconds_to_frame(t)]


@pytest.mark.parametrize("span_s", [30.0, 2700.0, 6 * 3600.0, 86400.0 * 40, 86400.0 * 3650])
def test_the_ruler_keeps_about_one_label_per_110_pixels_however_long_the_recording(qtbot, span_s):
    """A file whose timestamps span years crashed the window painting one label an hour."""
    from lessonreview.gui.timeline.timeline_items import TimeAxisItem

    axis = TimeAxisItem(orientation="bottom")
    (major, _), (minor, _) = axis.tickSpacing(0.0, span_s, 1300.0)
    assert span_s / major <= 1300.0 / 110.0 + 1
    assert span_s / minor <= 1300.0 / 12.0 + 1
    assert major % minor == pytest.approx(0.0, abs=1e-9) or major == minor

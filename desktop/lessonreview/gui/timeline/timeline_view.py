"""The timeline: every segment of a recording, one row per person (or per behaviour).

The x axis is in seconds, converted through the recording's timebase; the y axis is
rows, each tall enough to read its name: with more people than fit, the rows scroll
(``timeline_rows``) instead of shrinking until their names overlap.

The widget owns no domain state: it draws the segments the review session hands it
(``set_segments``, then ``apply_change`` per decision) and reports what the reviewer
clicked (``seek_requested``, ``segment_clicked``). Which segment a point hits, and
what hovering it tells, is ``timeline_pick``; where the visible time span moves, as
the selection and the playhead go, is ``timeline_span``.

Segments are duck-typed: anything with the attributes of
``lessonreview.core.review.pending_proposals.ReviewItem`` (key, person, behaviour, start_frame,
end_frame, start_s, end_s, status, source, confidence, evidence) will do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QCursor, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QToolTip, QVBoxLayout, QWidget

from lessonreview.core.domain import person_name
from lessonreview.gui.colours import PLAYHEAD_HEX
from lessonreview.gui.open_schemes import behaviour_codes, behaviour_title
from lessonreview.gui.timeline.timeline_items import (
    MIN_SEGMENT_PX,
    SegmentLayer,
    TimeAxisItem,
    TimelineHeader,
)
from lessonreview.gui.timeline.timeline_pick import pick_segment, segment_tooltip
from lessonreview.gui.timeline.timeline_rows import RowScroller
from lessonreview.gui.timeline.timeline_span import clamp_span, span_following, span_revealing
from lessonreview.gui.timeline.timeline_store import (
    Grouping,
    SegmentStore,
    build_layout,
    pack_lanes,
)


class TimelineView(QWidget):
    """Segments over time, with a playhead; zoom and pan on the time axis only.

    ``seek_requested(frame)`` is emitted for every click on the timeline (on a segment
    too, before ``segment_clicked(key)``, so a listener of the latter may seek
    elsewhere, e.g. to the segment's start, and have the last word).
    """

    seek_requested = Signal(int)
    segment_clicked = Signal(str)
    # The behaviours shown (a frozenset of behaviour codes): the review queue follows them.
    behaviours_changed = Signal(object)

    def __init__(
        self,
        timebase,
        *,
        person_label: Callable[[str], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._timebase = timebase
        self._person_label = person_label or person_name
        self._grouping = Grouping.PERSON
        self._shown: frozenset[str] = frozenset(behaviour_codes())
        self._store = SegmentStore()
        self._selected_key: str | None = None
        self._playhead_frame: int | None = None
        self._playhead_s = 0.0
        self._x_range = (0.0, self._duration())
        self._hover_key: str | None = None

        self._time_axis = TimeAxisItem(orientation="bottom")
        self._row_axis = pg.AxisItem(orientation="left")
        # Per-widget settings only: pg.setConfigOptions would change every other plot.
        self._plot = pg.PlotWidget(
            background="w", axisItems={"bottom": self._time_axis, "left": self._row_axis}
        )
        self._plot.setAntialiasing(False)
        self._plot.setMinimumHeight(120)
        item = self._plot.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        for axis in (self._time_axis, self._row_axis):
            axis.setPen(pg.mkPen("#666666"))
            axis.setTextPen(pg.mkPen("#222222"))
        self._row_axis.setStyle(tickLength=0)
        self._vb = item.getViewBox()
        self._vb.setMouseEnabled(x=True, y=False)
        self._vb.invertY(True)
        self._vb.disableAutoRange()

        self._layer_layout = self._make_layout()
        self._layer_people: set[str] = set()
        self._layer = SegmentLayer(self._store, self._layer_layout, duration_s=self._duration())
        self._vb.addItem(self._layer, ignoreBounds=True)
        self._playhead = pg.InfiniteLine(
            pos=0.0, angle=90, movable=False, pen=pg.mkPen(PLAYHEAD_HEX, width=2)
        )
        self._playhead.setZValue(10)
        self._vb.addItem(self._playhead, ignoreBounds=True)

        self._header = TimelineHeader(
            on_grouping=self.set_grouping,
            on_filter=self.set_behaviour_filter,
            on_whole=self.zoom_all,
            parent=self,
        )
        self._rows = RowScroller(
            self._vb,
            row_count=lambda: self._layer_layout.rows,
            names=self._row_axis,
            plot=self._plot,
            parent=self,
        )
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self._plot, 1)
        body.addWidget(self._rows.bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._header)
        layout.addLayout(body, 1)

        self._vb.sigXRangeChanged.connect(self._on_x_range)
        scene = self._plot.scene()
        scene.sigMouseClicked.connect(self._on_click)
        scene.sigMouseMoved.connect(self._on_hover)
        self._relayout()
        self.zoom_all()

    # --- loading -----------------------------------------------------------------------

    def set_segments(self, segments: Iterable) -> None:
        """Replace every segment."""
        self._store.clear()
        for segment in segments:
            self._store.add(segment)
        self._relayout()

    def apply_change(self, change) -> None:
        """Remove ``change.removed`` keys and add ``change.added`` segments; redraw once.

        Only the rows the change touches are stacked again; the rest stays as it was.
        """
        store = self._store
        touched = [s for s in (store.slot_of(k) for k in change.removed) if s is not None]
        rows = set(self._layer.rows()[touched].tolist()) if touched else set()
        for key in change.removed:
            store.remove(key)
        for segment in change.added:
            store.add(segment)
        self._refresh_selection_slot()
        present = store.people_present()
        new_code = len(store.codes) != len(self._layer_layout.behaviour_row)
        if change.people_changed or present != self._layer_people or new_code:
            self._relayout()
            return
        added = [store.slot_of(s.key) for s in change.added]
        row = self._layer.rows()
        rows.update(row[added].tolist())
        rows.discard(-1)
        if rows:
            pack_lanes(store, row, rows=rows)
        self._layer.invalidate()

    def refresh_labels(self) -> None:
        """Ask ``person_label`` again, e.g. after a reviewer renamed a person."""
        self._relayout()

    def schemes_changed(self) -> None:
        """The coding schemes changed (the scheme editor saved): a new behaviour is shown,
        and every name and colour is read again."""
        known = set(self._header.behaviours())
        self._header.set_behaviours(behaviour_codes())
        self.set_behaviour_filter(self._shown | {c for c in behaviour_codes() if c not in known})
        self._layer.invalidate()

    # --- what is shown -------------------------------------------------------------------

    @property
    def grouping(self) -> Grouping:
        return self._grouping

    def set_grouping(self, grouping: Grouping) -> None:
        self._grouping = Grouping(grouping)
        self._header.show_grouping(self._grouping)
        self._relayout()

    @property
    def shown_behaviours(self) -> frozenset[str]:
        return self._shown

    def set_behaviour_filter(self, behaviours: Iterable[str] | None) -> None:
        """Show only these behaviours; None shows all."""
        shown = frozenset(str(b) for b in (behaviour_codes() if behaviours is None else behaviours))
        changed = shown != self._shown
        self._shown = shown
        self._header.show_filter(self._shown)
        self._relayout()
        if changed:
            self.behaviours_changed.emit(shown)

    def row_labels(self) -> list[str]:
        """The row titles, top to bottom."""
        return list(self._layer_layout.labels)

    def segment_keys(self) -> set[str]:
        """Every segment loaded, shown or filtered out."""
        return self._store.keys()

    def shown_segment_keys(self) -> set[str]:
        """The segments the current rows and filter draw (in any part of the time axis)."""
        return {self._store.segments[i].key for i in np.nonzero(self._layer.rows() >= 0)[0]}

    # --- selection, playhead, zoom -------------------------------------------------------

    @property
    def selected_key(self) -> str | None:
        return self._selected_key

    def set_selected(self, key: str | None, *, reveal: bool = True) -> None:
        """Highlight a segment (the one the review queue is on); pan to it if off screen."""
        self._selected_key = key
        self._refresh_selection_slot()
        self._layer.invalidate()
        segment = self._store.get(key) if key else None
        if reveal and segment is not None:
            row = int(self._layer.rows()[self._store.slot_of(key)])
            if row >= 0:
                self._rows.reveal(row)
            target = span_revealing(segment.start_s, segment.end_s, self._x_range)
            if target is not None:
                self.zoom_to(*target)

    @property
    def playhead_seconds(self) -> float:
        return self._playhead_s

    def set_playhead_frame(self, frame: int) -> None:
        """Move the playhead. Called at the video's frame rate: moves one line, nothing else."""
        frame = min(max(int(frame), 0), max(int(self._timebase.frame_count), 1) - 1)
        if frame == self._playhead_frame:
            return
        self._playhead_frame = frame
        t = self._timebase.frame_to_seconds(frame)
        was = self._playhead_s
        self._playhead_s = t
        self._playhead.setValue(t)
        target = span_following(t, was, self._x_range, duration=self._duration())
        if target is not None:
            self.zoom_to(*target)

    def visible_range(self) -> tuple[float, float]:
        return self._x_range

    def zoom_to(self, start_s: float, end_s: float) -> None:
        start, end = clamp_span(
            start_s, end_s, duration=self._duration(), min_span=self._min_span()
        )
        self._vb.setXRange(start, end, padding=0)

    def zoom_all(self) -> None:
        self.zoom_to(0.0, self._duration())

    def row_range(self) -> tuple[int, int]:
        """The rows in view, as (top, bottom) in row units: (0, rows) when all fit."""
        return self._rows.range()

    # --- geometry, for tests and for other widgets that point at the timeline ----------

    def viewport(self) -> QWidget:
        """The widget that receives the timeline's mouse events."""
        return self._plot.viewport()

    def viewport_point(self, seconds: float, row: float) -> QPoint:
        """Where a time (seconds) and a row position (0.5 = middle of the top row) are."""
        scene = self._vb.mapViewToScene(QPointF(seconds, row))
        return self._plot.mapFromScene(scene)

    def segment_rect(self, key: str) -> QRectF | None:
        """A shown segment's rectangle in viewport pixels, or None if it is not shown."""
        slot = self._store.slot_of(key)
        if slot is None:
            return None
        row, top, height = self._layer.placement()
        if row[slot] < 0:
            return None
        a = QPointF(self.viewport_point(self._store.x0[slot], top[slot]))
        b = QPointF(self.viewport_point(self._store.x1[slot], top[slot] + height[slot]))
        rect = QRectF(a, b).normalized()
        if rect.width() < MIN_SEGMENT_PX:
            rect.setWidth(MIN_SEGMENT_PX)
        return rect

    def segment_at(self, point: QPoint) -> str | None:
        """The key of the segment drawn at a viewport point, topmost first."""
        view = self._vb.mapSceneToView(self._plot.mapToScene(point))
        return self._pick(view.x(), view.y())

    # --- internals ---------------------------------------------------------------------

    def _duration(self) -> float:
        return max(float(self._timebase.duration_s), 1e-3)

    def _min_span(self) -> float:
        frames = max(int(self._timebase.frame_count), 1)
        return min(self._duration(), max(0.05, 5 * self._duration() / frames))

    def _make_layout(self):
        return build_layout(
            self._grouping,
            people=self._store.people,
            present=self._store.people_present(),
            codes=self._store.codes,
            order=behaviour_codes(),
            shown=self._shown,
            person_label=self._person_label,
            behaviour_label=behaviour_title,
        )

    def _relayout(self) -> None:
        self._layer_layout = self._make_layout()
        self._layer_people = self._store.people_present()
        self._layer.set_layout(self._layer_layout)
        pack_lanes(self._store, self._layer.rows())
        self._refresh_selection_slot()
        labels = self._layer_layout.labels
        self._row_axis.setTicks([[(i + 0.5, label) for i, label in enumerate(labels)], []])
        metrics = QFontMetrics(self._row_axis.style.get("tickFont") or self.font())
        widest = max((metrics.horizontalAdvance(label) for label in labels), default=40)
        self._row_axis.setWidth(widest + 14)
        self._apply_limits()

    def _apply_limits(self) -> None:
        rows = max(1, self._layer_layout.rows)
        duration = self._duration()
        self._vb.setLimits(
            xMin=0.0,
            xMax=duration,
            minXRange=self._min_span(),
            maxXRange=duration,
            yMin=0.0,
            yMax=rows,
        )
        self._rows.fit()

    def _refresh_selection_slot(self) -> None:
        key = self._selected_key
        self._layer.selected_slot = self._store.slot_of(key) if key else None

    def _on_x_range(self, _vb, x_range) -> None:
        self._x_range = (float(x_range[0]), float(x_range[1]))

    def _scene_to_time(self, scene_pos: QPointF) -> float | None:
        """The time under a scene point on the rows or on the ruler below them."""
        rect = self._vb.sceneBoundingRect()
        on_ruler = self._time_axis.sceneBoundingRect().contains(scene_pos)
        if not (rect.contains(scene_pos) or on_ruler):
            return None
        return self._vb.mapSceneToView(scene_pos).x()

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        t = self._scene_to_time(event.scenePos())
        if t is None:
            return
        event.accept()
        frame_count = max(int(self._timebase.frame_count), 1)
        t = min(max(t, 0.0), self._duration())
        frame = min(max(int(self._timebase.seconds_to_frame(t)), 0), frame_count - 1)
        key = None
        if self._vb.sceneBoundingRect().contains(event.scenePos()):
            view = self._vb.mapSceneToView(event.scenePos())
            key = self._pick(view.x(), view.y())
        self.seek_requested.emit(frame)
        if key is not None:
            self.segment_clicked.emit(key)

    def _on_hover(self, scene_pos: QPointF) -> None:
        key = None
        if self._vb.sceneBoundingRect().contains(scene_pos):
            view = self._vb.mapSceneToView(scene_pos)
            key = self._pick(view.x(), view.y())
        if key == self._hover_key:
            return
        self._hover_key = key
        viewport = self._plot.viewport()
        if key is None:
            QToolTip.hideText()
            viewport.unsetCursor()
            return
        viewport.setCursor(Qt.CursorShape.PointingHandCursor)
        QToolTip.showText(QCursor.pos(), self.tooltip_text(key), viewport)

    def tooltip_text(self, key: str) -> str:
        """What hovering a segment tells: behaviour, person, times, status, the machine's why."""
        segment = self._store.get(key)
        return "" if segment is None else segment_tooltip(segment, self._person_label)

    def _pick(self, x: float, y: float) -> str | None:
        pixel_s = abs(self._vb.viewPixelSize()[0])
        return pick_segment(self._store, self._layer, x, y, pixel_s=pixel_s)

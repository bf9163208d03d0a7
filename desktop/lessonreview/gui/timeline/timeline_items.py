"""The graphics items of the timeline: the segment layer, the time ruler, the header.

``SegmentLayer`` is the single graphics item that draws every segment (see
``timeline_store`` for why they are arrays, not items).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from lessonreview.core.domain import Behaviour, Status, format_time
from lessonreview.gui.colours import (
    SELECTION_BAND_RGBA,
    SELECTION_HEX,
    STATUS_STYLE,
    paint_segment_rects,
    segment_icon,
    text_colour_on,
)
from lessonreview.gui.flow_layout import FlowLayout
from lessonreview.gui.open_schemes import behaviour_codes, behaviour_title
from lessonreview.gui.timeline.timeline_store import (
    ROW_PAD,
    STATUS_INDEX,
    Grouping,
    RowLayout,
    SegmentStore,
)

# Drawn back to front: what a reviewer decided sits over what they rejected.
_PAINT_ORDER = (Status.REJECTED, Status.PENDING, Status.ACCEPTED, Status.CORRECTED)
# Topmost first, for picking the segment under the mouse.
PICK_ORDER = {s: rank for rank, s in enumerate(reversed(_PAINT_ORDER))}
MIN_SEGMENT_PX = 2  # the shortest hand raise in the longest lesson must still show
_LABEL_LIMIT = 300  # texts drawn in segments per paint; beyond that they are noise


class SegmentLayer(pg.GraphicsObject):
    """Draws every segment of a ``SegmentStore`` in one item.

    A drawing selects the segments in the visible range with numpy, merges those that
    fall on the same pixels, and draws each behaviour and status as one batch of
    rectangles in device pixels, so outlines and hatching stay crisp at any zoom. The
    result is kept as a pixmap until the segments, the rows, the selection or the view
    change (``invalidate``), so the playhead passing over it costs a blit.
    """

    def __init__(self, store: SegmentStore, layout: RowLayout, *, duration_s: float) -> None:
        super().__init__()
        self._store = store
        self._layout = layout
        self._duration = max(duration_s, 1e-6)
        self.selected_slot: int | None = None
        self._version = 0
        self._cache: QPixmap | None = None
        self._cache_key: tuple | None = None
        self._band = QColor("#F2F2F2")

    def set_layout(self, layout: RowLayout) -> None:
        self.prepareGeometryChange()
        self._layout = layout
        self.invalidate()

    def boundingRect(self) -> QRectF:
        return QRectF(0.0, 0.0, self._duration, max(1, self._layout.rows))

    def rows(self) -> np.ndarray:
        """The row of every slot, -1 where the segment is hidden or the slot free."""
        store = self._store
        n = store.size
        row = self._layout.row_of(store.person[:n], store.behaviour[:n])
        return np.where(store.alive[:n], row, -1)

    def placement(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, top and height (in row units) of every slot; row -1 for hidden ones."""
        store = self._store
        n = store.size
        row = self.rows()
        height = (1.0 - 2 * ROW_PAD) / np.maximum(store.depth[:n], 1)
        return row, row + ROW_PAD + store.lane[:n] * height, height

    def invalidate(self) -> None:
        """Say the segments, rows or selection changed: the next paint draws afresh."""
        self._version += 1
        self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        # The visible range is drawn once into a pixmap and blitted from then on until
        # the data or the view changes: the playhead moves with every frame played and each
        # move exposes a strip of this item, which must not cost a full drawing.
        transform = painter.transform()
        view = self.viewRect() or self.boundingRect()
        device = transform.mapRect(view).toAlignedRect()
        if device.isEmpty():
            return
        to_px = (transform.m11(), transform.m31(), transform.m22(), transform.m32())
        ratio = painter.device().devicePixelRatioF()
        key = (self._version, device.getRect(), to_px, ratio, painter.font().key())
        if key != self._cache_key:
            self._cache = QPixmap(
                math.ceil(device.width() * ratio), math.ceil(device.height() * ratio)
            )
            self._cache.setDevicePixelRatio(ratio)
            self._cache.fill(Qt.GlobalColor.transparent)
            target = QPainter(self._cache)
            try:
                target.setFont(painter.font())
                target.setRenderHint(QPainter.RenderHint.Antialiasing, False)
                target.translate(-device.left(), -device.top())
                clip = (device.left() - 4, device.right() + 4)
                self._render(target, view=view, to_px=to_px, clip=clip)
            finally:
                target.end()
            self._cache_key = key
        painter.save()
        painter.resetTransform()
        painter.drawPixmap(device.topLeft(), self._cache)
        painter.restore()

    def _render(self, painter: QPainter, *, view: QRectF, to_px, clip: tuple[int, int]) -> None:
        """Draw the visible range, in viewport pixels.

        ``to_px`` is (x scale, x offset, y scale, y offset) from the view's seconds and
        rows to viewport pixels; ``clip`` the leftmost and rightmost columns worth drawing.
        """
        store = self._store
        row, top, height = self.placement()
        slot = self.selected_slot
        selected = slot is not None and slot < store.size and row[slot] >= 0
        self._paint_rows(
            painter, to_px=to_px, clip=clip, selected_row=int(row[slot]) if selected else None
        )
        if not store.size:
            return
        n = store.size
        # Rows scrolled out of view (a crowded lesson) cost nothing to draw.
        y0, y1 = sorted((view.top(), view.bottom()))
        visible = (
            (row >= 0)
            & (row + 1 > y0)
            & (row < y1)
            & (store.x1[:n] >= view.left())
            & (store.x0[:n] <= view.right())
        )
        slots = np.nonzero(visible)[0]
        if len(slots):
            boxes = _device_boxes(store, slots, top=top, height=height, to_px=to_px, clip=clip)
            self._paint_segments(painter, slots, boxes=boxes)
            self._paint_labels(painter, slots, boxes=boxes, left=clip[0] + 4)
        if selected:
            one = np.array([slot])
            box = _device_boxes(store, one, top=top, height=height, to_px=to_px, clip=clip)
            self._paint_selection(painter, box)

    def _paint_rows(self, painter: QPainter, *, to_px, clip, selected_row: int | None) -> None:
        _, _, sy, ty = to_px

        def band(r: int) -> QRect:
            y0, y1 = sorted((round(r * sy + ty), round((r + 1) * sy + ty)))
            return QRect(clip[0], y0, clip[1] - clip[0], y1 - y0)

        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._band)
        painter.drawRects([band(r) for r in range(1, self._layout.rows, 2)])
        if selected_row is not None:
            # The whole row of the segment under review, so the eye finds the person.
            painter.setBrush(QColor(*SELECTION_BAND_RGBA))
            painter.drawRect(band(selected_row))

    def _paint_segments(self, painter: QPainter, slots: np.ndarray, *, boxes) -> None:
        store = self._store
        a, b, y0, h = boxes
        n_codes = max(1, len(store.codes))
        group = store.status[slots].astype(np.int64) * n_codes + store.behaviour[slots]
        a, b, y0, h, group = _merge_runs(a, b, y0=y0, h=h, group=group)
        # drawRect's convention: a one-pixel outline covers x .. x + width inclusive.
        w, hh = (b - a - 1), (h - 1)
        # An outline would swallow the colour of a bar this narrow: fill it only.
        narrow = (b - a) < 5
        for status in _PAINT_ORDER:
            for index, behaviour in enumerate(store.codes):
                g = STATUS_INDEX[status] * n_codes + index
                in_group = group == g
                for sel, outlined in ((in_group & narrow, False), (in_group & ~narrow, True)):
                    idx = np.nonzero(sel)[0]
                    if not len(idx):
                        continue
                    rects = list(
                        map(
                            QRect,
                            a[idx].tolist(),
                            y0[idx].tolist(),
                            w[idx].tolist(),
                            hh[idx].tolist(),
                        )
                    )
                    thin = bool((h[idx] < 8).any())
                    paint_segment_rects(
                        painter, rects, behaviour, status, thin=thin, outlined=outlined
                    )

    def _paint_labels(self, painter: QPainter, slots: np.ndarray, *, boxes, left: int) -> None:
        """Name the behaviour (or, in rows of behaviours, the person) inside wide segments."""
        metrics = QFontMetrics(painter.font())
        a, b, y0, h = boxes
        roomy = np.nonzero(((b - a) >= 40) & (h >= metrics.height()))[0][:_LABEL_LIMIT]
        store, layout = self._store, self._layout
        for i in roomy.tolist():
            segment = store.segments[slots[i]]
            if layout.grouping is Grouping.PERSON:
                text = behaviour_title(segment.behaviour)
            else:
                text = layout.person_labels.get(segment.person, segment.person)
            # A segment that starts off screen keeps its name in view.
            x = max(int(a[i]), left) + 4
            box = QRect(x, int(y0[i]), int(b[i]) - x - 2, int(h[i]))
            if metrics.horizontalAdvance(text) > box.width():
                continue  # a name cut to "Wri..." is noise; the tooltip has it whole
            status = Status(segment.status)
            if status in (Status.ACCEPTED, Status.CORRECTED):
                painter.setPen(text_colour_on(segment.behaviour))
            else:
                # Over hatching or a faded fill, black text needs a quiet patch behind it.
                patch = metrics.boundingRect(text).adjusted(-2, 0, 2, 0)
                patch.moveCenter(box.center())
                patch.moveLeft(box.left() - 2)
                painter.fillRect(patch, QColor(255, 255, 255, 210))
                painter.setPen(QColor("#000000"))
            painter.drawText(box, Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_selection(self, painter: QPainter, boxes) -> None:
        """A yellow halo edged in black: unlike any status outline, and seen on any fill."""
        a, b, y0, h = (int(v[0]) for v in boxes)
        rect = QRect(a, y0, b - a, h)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        halo = QPen(QColor(SELECTION_HEX), 4)
        halo.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(halo)
        painter.drawRect(rect.adjusted(-3, -3, 2, 2))
        edge = QPen(QColor("#000000"), 1)
        edge.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(edge)
        painter.drawRect(rect.adjusted(-6, -6, 5, 5))


def _device_boxes(store: SegmentStore, slots, *, top, height, to_px, clip):
    """Left, right, top and height in whole device pixels, at least MIN_SEGMENT_PX wide.

    Clipped to the visible columns: zoomed in on a long lesson, a segment can be
    millions of pixels wide, and a dashed outline that long costs real time.
    """
    sx, tx, sy, ty = to_px
    px0 = np.clip(store.x0[slots] * sx + tx, clip[0], clip[1])
    px1 = np.clip(store.x1[slots] * sx + tx, clip[0], clip[1])
    a = np.floor(np.minimum(px0, px1)).astype(np.int64)
    b = np.maximum(np.round(np.maximum(px0, px1)).astype(np.int64), a + MIN_SEGMENT_PX)
    ya = np.round(top[slots] * sy + ty)
    yb = np.round((top[slots] + height[slots]) * sy + ty)
    y0 = np.minimum(ya, yb).astype(np.int64)
    h = np.maximum(np.abs(yb - ya).astype(np.int64), 1)
    return a, b, y0, h


def _merge_runs(a, b, *, y0, h, group):
    """Merge rectangles of one style and lane that overlap on screen into one.

    When zoomed out, hundreds of short segments land on the same few pixels; drawing
    their union is what the eye sees anyway and costs a fraction. Segments that only
    touch stay separate, so their outlines still show where one ends and the next begins.
    """
    if len(a) < 2:
        return a, b, y0, h, group
    order = np.lexsort((a, y0, group))
    a, b, y0, h, group = a[order], b[order], y0[order], h[order], group[order]
    new_block = np.empty(len(a), dtype=bool)
    new_block[0] = True
    new_block[1:] = (group[1:] != group[:-1]) | (y0[1:] != y0[:-1])
    # A running maximum of right edges that restarts at each block: offset each block
    # far beyond the previous one so one accumulate serves them all.
    block = np.cumsum(new_block)
    span = int(b.max() - a.min()) + 10
    offset = block * span
    reach = np.maximum.accumulate(b + offset) - offset
    starts = new_block.copy()
    starts[1:] |= a[1:] >= reach[:-1]
    idx = np.nonzero(starts)[0]
    return a[idx], np.maximum.reduceat(b, idx), y0[idx], h[idx], group[idx]


def _hours_step(wanted_s: float) -> float:
    """A step of 1, 2 or 5 times a power of ten hours, at least ``wanted_s``: a ruler over
    a recording longer than a lesson (or one whose timestamps say so) keeps about one
    label per 110 pixels instead of one an hour."""
    hours = wanted_s / 3600.0
    power = 10.0 ** math.floor(math.log10(hours))
    return 3600.0 * next(m * power for m in (1, 2, 5, 10) if m * power >= hours)


class TimeAxisItem(pg.AxisItem):
    """A time ruler in minutes and seconds, with steps a person counts in (5 s, 1 min...)."""

    _STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30)  # seconds
    _STEPS += (60, 120, 300, 600, 900, 1800, 3600)  # minutes, up to an hour

    def __init__(self, *args, label_px: float = 110.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._label_px = label_px

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        span = abs(maxVal - minVal)
        if span <= 0 or size <= 0:
            return []
        # About one labelled tick per ``label_px`` pixels: by default room for "00:00.00".
        wanted = span / max(1.0, size / self._label_px)
        major = next((s for s in self._STEPS if s >= wanted), None) or _hours_step(wanted)
        minor_wanted = span / max(1.0, size / 12.0)
        minor = next((s for s in self._STEPS if s >= minor_wanted and _divides(s, major)), major)
        return [(major, 0), (minor, 0)]

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            out.append(format_time(v, hundredths=spacing < 1, pad_minutes=True))
        return out


def _divides(step: float, major: float) -> bool:
    ratio = major / step
    return abs(ratio - round(ratio)) < 1e-6


class TimelineHeader(QWidget):
    """Row grouping, a behaviour filter that doubles as the colour legend, and the status key."""

    def __init__(
        self,
        *,
        on_grouping: Callable[[Grouping], None],
        on_filter: Callable[[list[str]], None],
        on_whole: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._on_filter = on_filter
        # Lines up like words and wraps: with a project's own behaviours, one line of
        # buttons is wider than a laptop's screen.
        row = FlowLayout(self)
        row.setContentsMargins(4, 2, 4, 0)
        self._row = row
        self._grouping = QComboBox()
        self._grouping.addItem("Rows: people", Grouping.PERSON)
        self._grouping.addItem("Rows: behaviours", Grouping.BEHAVIOUR)
        self._grouping.currentIndexChanged.connect(
            lambda i: on_grouping(Grouping(self._grouping.itemData(i)))
        )
        row.addWidget(self._grouping)
        self._buttons: dict[str, QToolButton] = {}
        self.set_behaviours(behaviour_codes())
        for status in Status:
            # The status' picture and its name together, so a line never parts them.
            key = QWidget()
            pair = QHBoxLayout(key)
            pair.setContentsMargins(6, 0, 0, 0)
            pair.setSpacing(4)
            icon = QLabel()
            icon.setPixmap(segment_icon(Behaviour.STANDING, status).pixmap(28, 14))
            pair.addWidget(icon)
            pair.addWidget(QLabel(STATUS_STYLE[status].title))
            row.addWidget(key)
        fit = QToolButton()
        fit.setText("Whole lesson")
        fit.setToolTip("Zoom out to the whole recording (wheel zooms, drag pans)")
        fit.clicked.connect(on_whole)
        row.addWidget(fit)

    def behaviours(self) -> list[str]:
        """The behaviour codes the filter offers."""
        return list(self._buttons)

    def set_behaviours(self, codes) -> None:
        """One filter button per behaviour of the coding schemes, in their order; a
        behaviour kept keeps whether it is shown."""
        shown = {c for c, b in self._buttons.items() if b.isChecked()}
        for button in self._buttons.values():
            self._row.removeWidget(button)
            button.deleteLater()
        known = set(self._buttons)
        self._buttons = {}
        for code in codes:
            title = behaviour_title(code)
            button = QToolButton()
            button.setText(title)
            button.setIcon(segment_icon(code, Status.ACCEPTED))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setCheckable(True)
            button.setChecked(code in shown or code not in known)
            button.setToolTip(
                f"Show or hide {title.lower()} on the timeline and in the review queue"
            )
            button.toggled.connect(self._filter_toggled)
            # After the grouping and the buttons before it, ahead of the status key.
            self._row.insertWidget(len(self._buttons) + 1, button)
            self._buttons[code] = button

    def _filter_toggled(self) -> None:
        self._on_filter([b for b, btn in self._buttons.items() if btn.isChecked()])

    def show_grouping(self, grouping: Grouping) -> None:
        index = self._grouping.findData(grouping)
        if index != self._grouping.currentIndex():
            self._grouping.setCurrentIndex(index)

    def show_filter(self, shown: frozenset[str]) -> None:
        for behaviour, button in self._buttons.items():
            button.blockSignals(True)
            button.setChecked(behaviour in shown)
            button.blockSignals(False)

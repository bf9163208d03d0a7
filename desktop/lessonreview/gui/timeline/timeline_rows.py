"""The timeline's rows in view: as many as fit at a readable height, the rest scrolled.

A lesson can have 60 people; squeezed into a 200-pixel timeline their rows would be
3 pixels tall and their names would print over each other. So a row never gets less
than ``MIN_ROW_PX``, and when they do not all fit the rows scroll (a scroll bar,
Shift+wheel anywhere, or the wheel over the row names) while time keeps the wheel's
zoom everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QScrollBar, QWidget

MIN_ROW_PX = 18  # a name's height with a little air: rows read apart
ROWS_PER_WHEEL_STEP = 3


class RowScroller(QObject):
    """Keeps a ViewBox's y range on a window of rows and a scroll bar in step with it.

    ``row_count()`` says how many rows there are now; the scroller asks it on each fit.
    """

    def __init__(
        self,
        view_box: pg.ViewBox,
        *,
        row_count: Callable[[], int],
        names: pg.AxisItem,
        plot: pg.PlotWidget,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._vb = view_box
        self._row_count = row_count
        self._names = names
        self._plot = plot
        self._top = 0  # the first row in view
        # Never takes the keyboard focus: the review keys belong to the review.
        self.bar = QScrollBar(Qt.Orientation.Vertical, parent)
        self.bar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.bar.setToolTip("More people: scroll (Shift+wheel, or the wheel over the names)")
        self.bar.valueChanged.connect(self._on_bar)
        self.bar.hide()
        view_box.sigResized.connect(lambda _vb: self.fit())
        plot.viewport().installEventFilter(self)

    def shown(self) -> int:
        """How many whole rows fit at MIN_ROW_PX or more (all of them when they do).

        Whole rows, each a little taller than the minimum, rather than a row cut in half
        at the edge: a half row reads as a different person's.
        """
        rows = max(1, self._row_count())
        height = self._vb.height()
        if height <= 0:  # not laid out yet: show everything, fit again on the resize
            return rows
        return min(rows, max(1, math.floor(height / MIN_ROW_PX)))

    def range(self) -> tuple[int, int]:
        """The rows in view as (top, bottom), in row units."""
        return (self._top, self._top + self.shown())

    def scroll(self, rows: float) -> None:
        self._top += round(rows)
        self.fit()

    def reveal(self, row: int) -> None:
        """Scroll the least needed for ``row`` to be wholly in view."""
        top, bottom = self.range()
        if row < top:
            self._top = row
        elif row + 1 > bottom:
            self._top = row + 1 - (bottom - top)
        self.fit()

    def fit(self) -> None:
        """Show the rows from the top one down, as many as fit; size the scroll bar."""
        shown = self.shown()
        hidden = max(1, self._row_count()) - shown
        self._top = min(max(self._top, 0), hidden)
        self._vb.setYRange(self._top, self._top + shown, padding=0)
        bar = self.bar
        bar.blockSignals(True)
        bar.setRange(0, hidden)
        bar.setPageStep(shown)
        bar.setValue(self._top)
        bar.blockSignals(False)
        bar.setVisible(hidden > 0)

    def _on_bar(self, value: int) -> None:
        self._top = value
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self._plot.viewport() and event.type() == QEvent.Type.Wheel:
            scene = self._plot.mapToScene(event.position().toPoint())
            on_names = self._names.sceneBoundingRect().contains(scene)
            if on_names or event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                delta = event.angleDelta()
                self.scroll(-(delta.y() or delta.x()) / 120 * ROWS_PER_WHEEL_STEP)
                return True
        return super().eventFilter(watched, event)

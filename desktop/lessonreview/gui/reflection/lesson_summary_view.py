"""The lesson summary panel: raised hands, standing and heads down over the lesson, the
behaviours of the project's own coding schemes over the whole lesson, the room map of
where raised hands came from, and how much of the lesson is reviewed.

It owns no domain state: each redraw asks the core for a fresh summary of the project
file's reviewed labels (:func:`summarise_recording`), with the session's pending
proposals for the review's progress and the analysis' tracks for the room map. The
session's changes are gathered for a moment and redrawn once, so a run of quick
decisions costs one summary. Clicking a plot seeks the player to that time; clicking a
tick of a raised hand, or a dot on the room map, to the moment that hand went up.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lessonreview.core.domain import Behaviour, PersonTrack, format_time
from lessonreview.core.reflection.lesson_summary import (
    BIN_CHOICES_S,
    LessonSummary,
    Zone,
    auto_bin,
    places_in_file,
    summarise_recording,
)
from lessonreview.core.store.label_store import StoreError
from lessonreview.core.store.store_rows import Phase, now_utc
from lessonreview.gui.colours import BEHAVIOUR_HEX, OKABE_ITO
from lessonreview.gui.timeline.timeline_items import TimeAxisItem

# How long the panel waits after a change for more before it redraws.
REDRAW_DELAY_MS = 250

# Each plot: its title, short enough for the dock at its narrowest, and what its bars
# count, said in full in the line above the plots and in the plot's tooltip.
PLOTS = (
    (Behaviour.HAND_RAISED, "Raised hands", "hands that went up in the bar; a tick for each"),
    (Behaviour.STANDING, "Standing", "people standing, mean over the bar"),
    (Behaviour.HEAD_DOWN, "Head down on desk", "people with the head down, mean over the bar"),
)

PLOTS_NOTE = (
    "Bars over the lesson. Raised hands: hands that went up in the bar (a tick for each). "
    "Standing, head down: people, mean over the bar. Click a plot to go to that moment."
)

ROOM_TITLE = "Where raised hands came from"
ROOM_TIP = (
    "Each dot is a raised hand, where that person was in the picture (people are unnamed). "
    "Click a dot to go to the moment the hand went up."
)

# Wide enough for the tick labels of a count in the hundreds, or of "0.8", at the axis' font.
LEFT_AXIS_TEXT = "000"

NOT_A_SCORE = (
    "Counts of reviewed labels for the whole room: no ranking, no score, nobody named. "
    "People are unnamed dots on the room map; higher in the picture is farther from the "
    "camera."
)


class LessonSummaryView(QWidget):
    """The summary of one open recording. ``tracks`` gives the analysis' people (for the
    room map) and ``still`` the blurred still of the room once one is made."""

    seek_requested = Signal(int)
    report_requested = Signal()

    def __init__(
        self,
        store,
        session,
        timebase,
        *,
        tracks: Callable[[], Sequence[PersonTrack]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._session = session
        self._timebase = timebase
        self._tracks = tracks
        self._summary: LessonSummary | None = None
        self._still_size: tuple[int, int] | None = None
        self._places_key: tuple | None = None
        self._playhead_frame = 0
        self._phase_marks: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        self._places_cache = None

        self.bin_choice = QComboBox(self)
        duration = timebase.duration_s
        for bin_s in BIN_CHOICES_S:
            self.bin_choice.addItem(_bin_words(bin_s), bin_s)
        self.bin_choice.setCurrentIndex(BIN_CHOICES_S.index(auto_bin(duration)))
        self.bin_choice.currentIndexChanged.connect(lambda _i: self.redraw())
        self.bin_choice.setToolTip("How long each bar of the plots is")
        self.report_button = QPushButton("Save report…", self)
        self.report_button.setToolTip("Save this summary as a one-page HTML report")
        self.report_button.clicked.connect(self.report_requested)
        self.phase_button = QPushButton("Mark phase at playhead…", self)
        self.phase_button.setToolTip(
            "Name the part of the lesson that starts at the playhead (e.g. group work)"
        )
        self.phase_button.clicked.connect(self.ask_phase)
        self.unphase_button = QPushButton("Remove phase…", self)
        self.unphase_button.clicked.connect(self.ask_remove_phase)
        top = QHBoxLayout()
        top.addWidget(QLabel("Bars of", self))
        top.addWidget(self.bin_choice)
        top.addStretch(1)
        top.addWidget(self.report_button)
        phase_row = QHBoxLayout()
        phase_row.addWidget(self.phase_button)
        phase_row.addWidget(self.unphase_button)
        phase_row.addStretch(1)

        # The words beside the bar, the figures in it: a sentence inside the bar runs past
        # its chunk of colour and out of a narrow dock.
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress_label = QLabel("Lesson reviewed:", self)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        self.progress_text = QLabel(self)
        self.progress_text.setWordWrap(True)
        self.phases_text = QLabel(self)
        self.phases_text.setWordWrap(True)
        self.own_text = QLabel(self)
        self.own_text.setWordWrap(True)
        self.own_text.setTextFormat(Qt.TextFormat.RichText)

        self.plots_note = QLabel(PLOTS_NOTE, self)
        self.plots_note.setWordWrap(True)
        self.plots_note.setStyleSheet("color: #444; font-size: 11px;")
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.setBackground("w")
        self.plots.setMinimumHeight(420)
        self._plot_items: dict[Behaviour, pg.PlotItem] = {}
        self._bars: dict[Behaviour, pg.BarGraphItem] = {}
        self._playheads: list[pg.InfiniteLine] = []
        # Each plot is given the whole lesson's range when drawn, and none is panned: no
        # x-link, which maps ranges by the plots' places on screen and, before the dock is
        # laid out, shifts them (the first phase's line then falls off the left edge).
        left_width = self.fontMetrics().horizontalAdvance(LEFT_AXIS_TEXT) + 16
        for row, (behaviour, title, counts) in enumerate(PLOTS):
            plot = self.plots.addPlot(
                row=row,
                col=0,
                # Closer labels than the timeline's: a dock a few hundred pixels wide
                # would otherwise show a single time under a whole lesson.
                axisItems={"bottom": TimeAxisItem(orientation="bottom", label_px=75)},
            )
            plot.setTitle(title, size="9pt", color="#222222")
            plot.setToolTip(f"{title}: {counts}. Click to go to that moment.")
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.getAxis("left").setWidth(left_width)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(pg.mkPen("#666666"))
                plot.getAxis(axis).setTextPen(pg.mkPen("#222222"))
            bars = pg.BarGraphItem(
                x0=[], height=[], width=1, brush=BEHAVIOUR_HEX[behaviour], pen=None
            )
            plot.addItem(bars)
            playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#56B4E9", width=2))
            plot.addItem(playhead, ignoreBounds=True)
            self._playheads.append(playhead)
            self._plot_items[behaviour] = plot
            self._bars[behaviour] = bars
        self._ticks = pg.ScatterPlotItem(
            symbol="t1", size=9, pen=None, brush=pg.mkBrush("#222222"), hoverable=True
        )
        self._plot_items[Behaviour.HAND_RAISED].addItem(self._ticks)
        self.plots.scene().sigMouseClicked.connect(self._on_plot_clicked)

        self.room = pg.GraphicsLayoutWidget(self)
        self.room.setBackground("w")
        self.room.setMinimumHeight(220)
        self._room_plot = self.room.addPlot()
        self._room_plot.setTitle(ROOM_TITLE, size="9pt", color="#222222")
        self._room_plot.setToolTip(ROOM_TIP)
        self._room_plot.hideAxis("left")
        self._room_plot.hideAxis("bottom")
        self._room_plot.hideButtons()
        self._room_plot.setMenuEnabled(False)
        self._room_plot.setMouseEnabled(x=False, y=False)
        self._room_plot.setAspectLocked(True)
        self._room_vb = self._room_plot.getViewBox()
        self._room_vb.invertY(True)
        self._room_vb.sigResized.connect(lambda _vb: self._fit_room())
        self._still = pg.ImageItem(axisOrder="row-major")
        self._room_plot.addItem(self._still)
        self._frame_rect = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self._frame_rect.setPen(pg.mkPen("#888888"))
        self._frame_rect.setBrush(pg.mkBrush("#dddddd"))
        self._frame_rect.setZValue(-1)
        self._room_plot.addItem(self._frame_rect)
        self._zone_lines = [
            pg.InfiniteLine(angle=90, pen=pg.mkPen("w", width=1, style=Qt.PenStyle.DashLine)),
            pg.InfiniteLine(angle=0, pen=pg.mkPen("w", width=1, style=Qt.PenStyle.DashLine)),
        ]
        for line in self._zone_lines:
            self._room_plot.addItem(line, ignoreBounds=True)
        self._zone_texts = {
            zone: pg.TextItem(color="w", fill=pg.mkBrush(0, 0, 0, 150), anchor=anchor)
            for zone, anchor in (
                (Zone.FAR_LEFT, (0, 0)),
                (Zone.FAR_RIGHT, (1, 0)),
                (Zone.NEAR_LEFT, (0, 1)),
                (Zone.NEAR_RIGHT, (1, 1)),
            )
        }
        for text in self._zone_texts.values():
            self._room_plot.addItem(text, ignoreBounds=True)
        self._dots = pg.ScatterPlotItem(
            size=11,
            pen=pg.mkPen("#000000"),
            brush=pg.mkBrush(OKABE_ITO["yellow"]),
            hoverable=True,
        )
        self._dots.sigClicked.connect(self._on_dot_clicked)
        self._room_plot.addItem(self._dots)
        self._room_note = QLabel(self)
        self._room_note.setWordWrap(True)

        self.note = QLabel(NOT_A_SCORE, self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #444; font-size: 11px;")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(phase_row)
        layout.addLayout(progress_row)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.own_text)
        layout.addWidget(self.plots_note)
        layout.addWidget(self.plots, 3)
        layout.addWidget(self.phases_text)
        layout.addWidget(self.room, 2)
        layout.addWidget(self._room_note)
        layout.addWidget(self.note)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_DELAY_MS)
        self._timer.timeout.connect(self.redraw)
        self._unsubscribe = session.subscribe(lambda _change: self.schedule_redraw())
        self._set_room_frame(None)
        self.redraw()

    # --- what is shown ---------------------------------------------------------------------

    @property
    def summary(self) -> LessonSummary | None:
        return self._summary

    @property
    def bin_s(self) -> float:
        return float(self.bin_choice.currentData())

    def schedule_redraw(self) -> None:
        self._timer.start()

    def redraw(self) -> None:
        """Summarise the project file's reviewed labels again and draw them."""
        self._timer.stop()
        summary = summarise_recording(
            self._store,
            self._session.recording_id,
            bin_s=self.bin_s,
            place_of=self._places(),
            pending=self._session.pending(),
            seconds=self._timebase.frame_to_seconds,
            # Blind coding: the reviewer's own labels only.
            coder=self._session.reviewer,
        )
        self._summary = summary
        self._draw(summary)

    def _places(self):
        """Where each person was, rebuilt only when the tracks or the saved merges and
        splits changed: a lesson's tracks hold many observations, the labels few."""
        tracks = self._tracks()
        if not tracks:
            return None
        rid = self._session.recording_id
        key = (
            tuple((t.id, len(t.observations)) for t in tracks),
            tuple(self._store.people(rid)),
        )
        if key != self._places_key:
            self._places_key = key
            self._places_cache = places_in_file(self._store, rid, tracks)
        return self._places_cache

    def set_still(self, image_bgr: np.ndarray | None) -> None:
        """The blurred still of the room behind the map (None: an empty frame)."""
        if image_bgr is None:
            self._still.clear()
            self._set_room_frame(None)
        else:
            rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
            height, width = rgb.shape[:2]
            self._still.setImage(rgb, levels=(0, 255))
            self._set_room_frame((width, height))
        if self._summary is not None:
            self._draw_room(self._summary)

    def set_playhead(self, frame: int) -> None:
        self._playhead_frame = max(0, frame)
        t = self._timebase.frame_to_seconds(max(0, frame))
        for line in self._playheads:
            line.setValue(t)

    # --- lesson phases -------------------------------------------------------------------

    def mark_phase(self, name: str, *, at_frame: int) -> None:
        """Save a phase named ``name`` starting at ``at_frame`` and redraw."""
        self._store.mark_phase(
            Phase(
                id=None,
                recording_id=self._session.recording_id,
                name=name,
                start_frame=at_frame,
                marked_by=self._session.reviewer or "",
                marked_at=now_utc(),
            )
        )
        self.redraw()

    def remove_phase(self, phase_id: int) -> None:
        self._store.delete_phase(phase_id)
        self.redraw()

    def ask_phase(self) -> None:
        at = self._timebase.frame_to_seconds(self._playhead_frame)
        name, ok = QInputDialog.getText(
            self,
            "Mark lesson phase",
            f"Name of the part of the lesson that starts at {format_time(at, hundredths=False)} "
            "(e.g. introduction, group work); it runs until the next phase:",
        )
        if ok and name.strip():
            try:
                self.mark_phase(name.strip(), at_frame=self._playhead_frame)
            except (StoreError, ValueError) as exc:
                QMessageBox.warning(self, "Lesson phase not saved", str(exc))

    def ask_remove_phase(self) -> None:
        phases = self._store.phases(self._session.recording_id)
        if not phases:
            QMessageBox.information(self, "Remove phase", "No phases are marked yet.")
            return
        names = [
            f"{format_time(self._timebase.frame_to_seconds(p.start_frame), hundredths=False)} "
            f"{p.name}"
            for p in phases
        ]
        chosen, ok = QInputDialog.getItem(self, "Remove phase", "Phase:", names, 0, False)
        if ok:
            try:
                self.remove_phase(phases[names.index(chosen)].id)
            except StoreError as exc:
                QMessageBox.warning(self, "Lesson phase not removed", str(exc))

    def _draw_phases(self, summary: LessonSummary) -> None:
        for plot, line in self._phase_marks:
            plot.removeItem(line)
        self._phase_marks = []
        for i, phase in enumerate(summary.phases):
            for behaviour, plot in self._plot_items.items():
                line = pg.InfiniteLine(
                    pos=phase.start_s,
                    angle=90,
                    movable=False,
                    pen=pg.mkPen("#444444", width=1, style=Qt.PenStyle.DashLine),
                    # Numbers on the plot, names below it: names side by side do not fit
                    # between two phase lines a few minutes apart.
                    label=str(i + 1) if behaviour is Behaviour.HAND_RAISED else None,
                    labelOpts={
                        "position": 0.95,
                        "color": "#222222",
                        "anchors": [(-0.2, 0), (-0.2, 0)],
                    },
                )
                if i == 0 and phase.start_s == 0 and behaviour is not Behaviour.HAND_RAISED:
                    continue
                plot.addItem(line, ignoreBounds=True)
                self._phase_marks.append((plot, line))
        self.phases_text.setText(
            "Phases: "
            + " · ".join(
                f"{i + 1} {phase.name} ({format_time(phase.start_s, hundredths=False)}, "
                f"{_hands(phase.counts[Behaviour.HAND_RAISED])}"
                + (
                    ""
                    if phase.review_state(summary.progress) == "reviewed"
                    else ", " + phase.review_state(summary.progress)
                )
                + ")"
                for i, phase in enumerate(summary.phases)
            )
            if summary.phases
            else "No lesson phases marked: put the playhead where one starts, then "
            "Mark phase at playhead."
        )

    def close_view(self) -> None:
        self._timer.stop()
        self._unsubscribe()

    # --- drawing ---------------------------------------------------------------------------

    def _draw(self, summary: LessonSummary) -> None:
        starts = np.asarray(summary.bin_starts, dtype=float)
        for behaviour, _title, _counts in PLOTS:
            series = summary.over_time[behaviour]
            values = series.starts if behaviour is Behaviour.HAND_RAISED else series.people
            self._bars[behaviour].setOpts(
                x0=starts + summary.bin_s * 0.05,
                height=np.asarray(values, dtype=float),
                width=summary.bin_s * 0.9,
            )
            plot = self._plot_items[behaviour]
            top = max(max(values, default=0), 1 if behaviour is Behaviour.HAND_RAISED else 0.5)
            plot.setYRange(0, top * 1.1, padding=0)
            plot.getAxis("left").setTicks(
                [_count_ticks(top, whole=behaviour is Behaviour.HAND_RAISED)]
            )
            plot.setXRange(0, max(summary.duration_s, 1e-3), padding=0.01)
        hands = summary.over_time[Behaviour.HAND_RAISED]
        self._ticks.setData(
            x=list(hands.moments), y=[0.0] * hands.total, data=list(hands.moment_frames)
        )
        self._draw_phases(summary)
        self._draw_progress(summary)
        self._draw_own(summary)
        self._draw_room(summary)

    def _draw_progress(self, summary: LessonSummary) -> None:
        p = summary.progress
        share = p.share_of_lesson
        if share is None:
            self.progress.setValue(0)
            self.progress.setFormat("not known")
            self.progress.setToolTip("How much of the lesson is reviewed is not known yet")
        else:
            until = format_time(p.reviewed_until_s or 0, hundredths=False)
            self.progress.setValue(round(share * 1000))
            self.progress.setFormat(f"{share:.0%} (up to {until})")
            self.progress.setToolTip(
                f"{share:.0%} of the lesson is reviewed: from its start up to {until}"
                + (", where the first pending proposal is" if p.pending else "")
            )
        pending = "" if p.pending is None else f", {p.pending} pending"
        self.progress_text.setText(
            f"{summary.reviewed_labels} reviewed labels counted. Proposals: {p.decided} decided "
            f"(accepted {p.accepted}, corrected {p.corrected}, rejected {p.rejected}){pending}; "
            f"{p.added} labels added by hand."
        )

    def _draw_own(self, summary: LessonSummary) -> None:
        """The own schemes' behaviours, each in its scheme colour: a line each, since a
        project's own behaviours are few and their names are the coder's words."""
        schemes = self._session.schemes
        lines = [
            f'<span style="color:{schemes.colour(o.code)}">■</span> '
            f"{html.escape(o.name)} <span style='color:#555'>({html.escape(o.scheme)})</span>: "
            f"{html.escape(o.in_words())}"
            for o in summary.own
        ]
        self.own_text.setText(
            "<b>Your coding schemes</b> (reviewed labels, whole room):<br>" + "<br>".join(lines)
        )
        self.own_text.setVisible(bool(lines))

    def _set_room_frame(self, size: tuple[int, int] | None) -> None:
        self._still_size = size
        width, height = size or (16.0, 9.0)
        self._frame_rect.setRect(0, 0, width, height)
        self._fit_room()
        self._zone_lines[0].setValue(width / 2)
        self._zone_lines[1].setValue(height / 2)
        for zone, (x, y) in {
            Zone.FAR_LEFT: (0, 0),
            Zone.FAR_RIGHT: (width, 0),
            Zone.NEAR_LEFT: (0, height),
            Zone.NEAR_RIGHT: (width, height),
        }.items():
            self._zone_texts[zone].setPos(x, y)

    def _fit_room(self) -> None:
        # Both sides at once: with the aspect locked, setting one range after the other
        # lets the second crop the first.
        width, height = self._still_size or (16.0, 9.0)
        self._room_vb.setRange(QRectF(0, 0, width, height), padding=0.02)

    def _draw_room(self, summary: LessonSummary) -> None:
        width, height = self._still_size or (16.0, 9.0)
        places = summary.hand_places
        self._dots.setData(
            x=[p.x * width for p in places],
            y=[p.y * height for p in places],
            data=[p.frame for p in places],
        )
        for zone, count in summary.zone_counts().items():
            self._zone_texts[zone].setText(f"{zone}: {count}")
        notes = []
        if summary.hands_without_place:
            notes.append(
                f"{summary.hands_without_place} raised hand(s) not on the map: the analysis "
                "did not locate that person then (run or load the analysis)."
            )
        if self._still_size is None:
            notes.append("No blurred still of the room yet.")
        self._room_note.setText(" ".join(notes))
        self._room_note.setVisible(bool(notes))

    # --- clicks ------------------------------------------------------------------------------

    def _on_dot_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.seek_requested.emit(int(points[0].data()))

    def _on_plot_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        for behaviour, plot in self._plot_items.items():
            vb = plot.getViewBox()
            if not vb.sceneBoundingRect().contains(event.scenePos()):
                continue
            if behaviour is Behaviour.HAND_RAISED:
                ticks = self._ticks.pointsAt(vb.mapSceneToView(event.scenePos()))
                if len(ticks):
                    self.seek_requested.emit(int(ticks[0].data()))
                    return
            t = vb.mapSceneToView(event.scenePos()).x()
            self.seek_to_time(min(max(0.0, t), self._timebase.duration_s))
            return

    def seek_to_time(self, t: float) -> None:
        """What a click at time ``t`` of a plot does (for keyboard users and tests)."""
        self.seek_requested.emit(self._timebase.seconds_to_frame(max(0.0, t)))


def _count_ticks(top: float, *, whole: bool) -> list[tuple[float, str]]:
    """At most four labelled ticks from 0 to ``top``, on a round step: a plot in a dock
    on a laptop is a few lines of text high, and pyqtgraph's own ticks then overlap."""
    step = next(
        s
        for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, float("inf"))
        if (s >= 1 or not whole) and top / s <= 3
    )
    if step == float("inf"):
        step = top
    count = int(top // step + 1e-9)
    return [(i * step, f"{i * step:g}") for i in range(count + 1)]


def _hands(count: int) -> str:
    return "1 hand" if count == 1 else f"{count} hands"


def _bin_words(bin_s: float) -> str:
    if bin_s >= 60:
        minutes = int(bin_s // 60)
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{bin_s:g} seconds"

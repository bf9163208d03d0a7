"""View > Lesson summary, and File > Save lesson report: the dock that holds the lesson
summary of the open recording, wired to its player, and the blurred still of the room,
made off the GUI thread (it reads the video and may run the person and face detectors)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea

from lessonreview.core.reflection.room_still import room_still
from lessonreview.gui.background import Tasks
from lessonreview.gui.reflection.lesson_summary_view import LessonSummaryView
from lessonreview.gui.reflection.report_file import save_report

# The dock's width when shown: a share of the window, at most DOCK_WIDTH, and never
# narrower than its content's minimum (the buttons' row; the rest wraps or scales).
DOCK_WIDTH = 520
DOCK_SHARE = 0.3


class ReflectionDock:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.dock = QDockWidget("Lesson summary", window)
        self.dock.setObjectName("lesson-summary")
        self.dock.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        # Scrolls up and down only: on a laptop's screen the plots and the room map do not
        # fit the dock's height, while every text wraps or shortens to its width.
        self.scroll = QScrollArea(self.dock)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.dock.setWidget(self.scroll)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.visibilityChanged.connect(self._on_visibility)
        self.view: LessonSummaryView | None = None
        self.still = None
        self._still_people = -1  # how many tracks the last try at a still knew
        self._stills = Tasks(window, name="room-still")
        self._unsubscribe = None

    def set_shown(self, on: bool) -> None:
        self.dock.setVisible(on)
        if on:
            # Wide enough for the plots' time axis and the room map beside the video on a
            # wide screen, a smaller share on a laptop's; the reviewer can drag it
            # narrower or wider, or float it.
            self.attach()
            width = max(
                self.scroll.minimumWidth(),
                min(DOCK_WIDTH, round(self.window.width() * DOCK_SHARE)),
            )
            self.window.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)

    def attach(self) -> None:
        """Show the open recording's summary (when the dock is shown)."""
        w = self.window
        if self.view is not None or w.session is None or not self.dock.isVisible():
            return
        workspace = w.workspace
        view = LessonSummaryView(
            w.store,
            w.session,
            w.recording.timebase,
            tracks=lambda: workspace.tracks,
            parent=self.dock,
        )
        view.seek_requested.connect(workspace.player.seek)
        workspace.player.position_changed.connect(view.set_playhead)
        view.report_requested.connect(self.save_report)
        self.view = view
        self.scroll.setWidget(view)
        self.scroll.setMinimumWidth(
            view.minimumSizeHint().width() + self.scroll.verticalScrollBar().sizeHint().width()
        )
        self._unsubscribe = w.session.subscribe(lambda _change: self._refresh_still())
        self._refresh_still()

    def detach(self) -> None:
        """The recording closes: drop its summary and any still being made."""
        self._stills.drop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.view is not None:
            self.view.close_view()
            self.scroll.takeWidget()
            self.view.deleteLater()
            self.view = None
        self.still = None
        self._still_people = -1

    def save_report(self) -> None:
        w = self.window
        if w.session is None:
            return
        if self.view is None:
            self.set_shown(True)
        self.view.redraw()
        saved = save_report(w, w.store, w.recording_id, self.view.summary, still=self.still)
        if saved is not None:
            w.show_status(f"Lesson report saved to {saved}")

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self.attach()
        if hasattr(self.window, "menus"):
            self.window.menus.summary.setChecked(visible)

    def _refresh_still(self) -> None:
        # One still per recording: the person detector blurs everyone it finds whatever
        # the analysis knows. Tried again only while there is none and the analysis has
        # located more people since (they may make a frame worth trying).
        w = self.window
        if w.workspace is None or self.view is None or self.still is not None:
            return
        tracks = tuple(w.workspace.tracks)
        if self._stills.busy or len(tracks) <= self._still_people:
            return
        self._still_people = len(tracks)
        path, models = w.recording.path, w.models_dir
        view = self.view

        def done(image) -> None:
            self.still = image
            view.set_still(image)

        self._stills.start(
            lambda _report: room_still(path, tracks=tracks, models_dir=models),
            done=done,
            failed=lambda _exc: view.set_still(None),
        )

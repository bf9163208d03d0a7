"""The video player: one worker thread decodes, the GUI thread only shows.

The GUI thread posts small immutable requests (seek, step, play, pause, speed, privacy)
into a mailbox and never waits for the worker. The worker owns the recording's
``FrameReader``, drains the mailbox (so only the latest seek of a burst is decoded),
decodes, shrinks the frame to the view's size, blurs faces if the privacy view is on,
converts to a ``QImage`` and hands it back through one queued signal. Every delivery
carries the id of the request it answers; the GUI drops a frame played on from before
the latest seek (napari's layer slicer works the same way). A frame decoded for a seek
that a newer one superseded is still shown, as it is newer than what is on screen: a
dragged slider moves the picture, never queues up lag, and always ends on exactly the
last frame asked for.

Playback follows the recording's own timestamps (VFR-safe) against a monotonic clock:
when decoding falls behind, frames are skipped and counted as dropped rather than the
video slowing down.

This module is the GUI thread's side; the worker, its mailbox and the requests it
consumes are in ``playback_worker.py``, which says why it is a dedicated thread rather
than a ``gui.background`` task.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage

from lessonreview.gui.player.playback_worker import (
    Bridge,
    Delivery,
    FaceModel,
    FaceRegionLookup,
    FaceRegions,
    Mailbox,
    Pause,
    Play,
    PlaybackStats,
    Privacy,
    Seek,
    Speed,
    Step,
    ViewSize,
    Worker,
    stop_worker,
)

MIN_SPEED, MAX_SPEED = 0.25, 4.0


class Player(QObject):
    """Plays one recording. Create one per open recording; ``close()`` when done.

    ``recording`` needs ``timebase`` (with ``timestamps``), ``frame_count`` and
    ``reader()``; the reader is created and used on the worker thread only.
    """

    frame_ready = Signal(int, QImage)
    position_changed = Signal(int)
    playing_changed = Signal(bool)
    error = Signal(str)
    # The face detector cannot run (damaged model file, or it failed): why. The privacy
    # view then blurs only the people the analysis located.
    face_detector_failed = Signal(str)

    def __init__(self, recording, *, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._frame_count = int(recording.frame_count)
        self._position = -1
        self._playing = False
        self._speed = 1.0
        self._privacy = True
        self._stats = PlaybackStats()
        self._closed = False
        self._latest_play_id = 0

        self._mailbox = Mailbox()
        self._bridge = Bridge()
        self._bridge.delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)
        self._bridge.ended.connect(self._on_ended, Qt.ConnectionType.QueuedConnection)
        self._bridge.failed.connect(self.error, Qt.ConnectionType.QueuedConnection)
        self._bridge.faces_failed.connect(
            self.face_detector_failed, Qt.ConnectionType.QueuedConnection
        )

        worker = Worker(recording, self._mailbox, self._bridge)
        self._thread = threading.Thread(target=worker.run, name="lessonreview-player")
        # A forgotten close() must not leave the thread decoding after the widget that
        # owned the player is gone, nor keep the process alive after the window shuts.
        # Plain functions, not methods: they run when this object may be half deleted.
        stop = partial(stop_worker, self._mailbox, self._thread)
        self.destroyed.connect(stop)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(stop)
        self._thread.start()
        self.seek(0)

    # --- what the GUI reads -------------------------------------------------------
    @property
    def frame_count(self) -> int:
        return self._frame_count

    @property
    def position(self) -> int:
        """The frame on screen (the last one delivered), -1 before the first arrives."""
        return self._position

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def privacy(self) -> bool:
        return self._privacy

    @property
    def stats(self) -> PlaybackStats:
        return self._stats

    @property
    def dropped_frames(self) -> int:
        return self._stats.frames_dropped

    # --- requests: cheap, never wait on the worker ----------------------------------
    def seek(self, frame: int) -> None:
        """Show ``frame`` (clamped to the recording); playing goes on from there."""
        self._mailbox.post(Seek(int(frame)))

    def step(self, delta: int = 1) -> None:
        """Pause and move exactly ``delta`` frames from the frame last asked for."""
        self._set_playing(False)
        self._mailbox.post(Step(int(delta)))

    def step_forward(self) -> None:
        self.step(1)

    def step_back(self) -> None:
        self.step(-1)

    def play(self) -> None:
        self._set_playing(True)
        self._latest_play_id = self._mailbox.post(Play())

    def play_range(self, first: int, last: int) -> None:
        """Show ``first``, play on and stop on ``last`` (both included), which is shown
        however far behind the screen is."""
        self._mailbox.post(Seek(int(first)))
        self._set_playing(True)
        last = min(max(int(last), 0), self.frame_count - 1)
        self._latest_play_id = self._mailbox.post(Play(until=last))

    def pause(self) -> None:
        self._set_playing(False)
        self._latest_play_id = self._mailbox.post(Pause())

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float) -> None:
        """Playback rate, clamped to ``MIN_SPEED``..``MAX_SPEED``."""
        self._speed = min(MAX_SPEED, max(MIN_SPEED, float(speed)))
        self._mailbox.post(Speed(self._speed))

    def set_privacy(self, on: bool) -> None:
        """Blur faces in every frame shown (on by default)."""
        self._privacy = bool(on)
        self._mailbox.post(Privacy(self._privacy))

    def set_face_regions(self, lookup: FaceRegionLookup | None) -> None:
        """Where the faces are: ``lookup(frame)`` gives the people to blur in a frame.

        It is called on the worker thread, so it must only read immutable data: a
        ``lessonreview.core.privacy.face_blur.FaceRegionIndex`` built from the analysis' tracks
        is made for this. A lookup that answers None for a frame, or no lookup at all,
        means nobody is located there yet: the privacy view then hides the whole picture.
        """
        self._mailbox.post(FaceRegions(lookup))

    def set_view_size(self, width: int, height: int) -> None:
        """Deliver frames shrunk to fit ``width`` x ``height`` device pixels (the view
        they are shown in): the worker then blurs and converts fewer pixels, and the
        GUI thread paints without scaling. Each image's device pixel ratio says how
        much smaller than the frame it is. Until this is called, frames come whole."""
        self._mailbox.post(ViewSize(max(1, int(width)), max(1, int(height))))

    def set_face_detector(self, model_path: Path | None) -> None:
        """Also blur the faces that a face detector finds in each frame shown, with this
        model file (None: only the people located by ``set_face_regions``).

        The model is loaded and run off the GUI thread; a frame that stays on screen
        is shown only once its own faces are found. A damaged file is reported through
        ``face_detector_failed``.
        """
        self._mailbox.post(FaceModel(None if model_path is None else Path(model_path)))

    def close(self) -> None:
        """Stop the worker and wait for it (at most one frame's decoding)."""
        if self._closed:
            return
        self._closed = True
        self._set_playing(False)
        if not stop_worker(self._mailbox, self._thread):
            raise RuntimeError("the video decoding thread did not stop")

    # --- internals ----------------------------------------------------------------
    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)

    @Slot(object)
    def _on_delivered(self, delivery: Delivery) -> None:
        self._mailbox.release()
        self._stats = delivery.stats
        if self._closed or (self._mailbox.superseded(delivery.request_id) and not delivery.interim):
            return  # from before a seek that was asked for while it was on its way
        moved = delivery.frame != self._position
        self._position = delivery.frame
        self.frame_ready.emit(delivery.frame, delivery.image)
        if moved:
            self.position_changed.emit(delivery.frame)

    @Slot(int)
    def _on_ended(self, play_id: int) -> None:
        if play_id == self._latest_play_id:
            self._set_playing(False)

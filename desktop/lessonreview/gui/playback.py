"""The video player: one worker thread decodes, the GUI thread only shows.

The GUI thread posts small immutable requests (seek, step, play, pause, speed, privacy)
into a mailbox and never waits for the worker. The worker owns the recording's
``FrameReader``, drains the mailbox (so only the latest seek of a burst is decoded),
decodes, blurs faces if the privacy view is on, converts to a ``QImage`` and hands it
back through one queued signal. Every delivery carries the id of the request it
answers; the GUI drops a frame played on from before the latest seek (napari's layer
slicer works the same way). A frame decoded for a seek that a newer one superseded is
still shown, as it is newer than what is on screen: a dragged slider moves the picture,
never queues up lag, and always ends on exactly the last frame asked for.

Playback follows the recording's own timestamps (VFR-safe) against a monotonic clock:
when decoding falls behind, frames are skipped and counted as dropped rather than the
video slowing down.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import cv2
import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage

from lessonreview.core.privacy import FaceRegionSource, blur_faces, hide_frame

MIN_SPEED, MAX_SPEED = 0.25, 4.0
# Deliveries the GUI has not taken yet. Past this the GUI thread is the bottleneck
# (painting, or busy elsewhere), and rendering more frames would only queue up lag.
_MAX_IN_FLIGHT = 2
# Above normal speed more frames are due than a screen or an eye needs: show at most this
# many a second and skip the rest (decoding still goes through them; painting does not).
_MAX_FAST_FPS = 30.0
# close() waits this long for a decode in progress before calling the thread stuck.
_JOIN_TIMEOUT_S = 10.0

FaceRegionLookup = Callable[[int], Iterable[FaceRegionSource] | None]


def bgr_to_qimage(bgr: np.ndarray) -> QImage:
    """A QImage that owns its pixels, converted from a BGR uint8 frame in one pass.

    Format_RGB32 (0xffRRGGBB, i.e. B,G,R,255 in memory) is what the raster paint engine
    draws without converting; OpenCV writes it straight into the QImage's own buffer, so
    no Python-owned buffer has to outlive the image.
    """
    height, width = bgr.shape[:2]
    image = QImage(width, height, QImage.Format.Format_RGB32)
    view = np.frombuffer(image.bits(), dtype=np.uint8).reshape(height, image.bytesPerLine())
    view = view[:, : 4 * width].reshape(height, width, 4)
    cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2BGRA, dst=view)
    return image


# Requests: what the GUI asks for. Frozen, so nothing shared is mutated across threads.
@dataclass(frozen=True)
class _Seek:
    frame: int


@dataclass(frozen=True)
class _Step:
    delta: int


@dataclass(frozen=True)
class _Play:
    # Stop on this frame (a segment played with Enter); None: play to the end.
    until: int | None = None


@dataclass(frozen=True)
class _Pause:
    pass


@dataclass(frozen=True)
class _Speed:
    speed: float


@dataclass(frozen=True)
class _Privacy:
    on: bool


@dataclass(frozen=True)
class _FaceRegions:
    lookup: FaceRegionLookup | None


_Request = _Seek | _Step | _Play | _Pause | _Speed | _Privacy | _FaceRegions


@dataclass(frozen=True)
class PlaybackStats:
    """Counters since the player opened: for a status bar and the benchmark."""

    frames_shown: int = 0
    # Not shown while playing: skipped to keep time when decoding or painting fell
    # behind, or above 30 frames a second at fast speeds.
    frames_dropped: int = 0
    decode_s: float = 0.0  # worker time in the reader
    render_s: float = 0.0  # worker time blurring faces and converting to QImage


@dataclass(frozen=True, eq=False)
class _Delivery:
    request_id: int
    frame: int
    image: QImage
    stats: PlaybackStats
    # Answers a seek that a newer one has superseded: shown all the same, so a dragged
    # slider moves the picture, since it is newer than anything on screen.
    interim: bool = False


class _Bridge(QObject):
    """Lives on the GUI thread; the worker emits these and Qt queues them across."""

    delivered = Signal(object)
    ended = Signal(int)
    failed = Signal(str)


# Requests after which the next frame delivered must reflect them: older deliveries are
# stale. Play, pause and speed change nothing about the picture.
_SHOWING = (_Seek, _Step, _Privacy, _FaceRegions)


class _Mailbox:
    """Everything the GUI thread and the worker share, each access under one lock held
    for microseconds: the request queue, the latest request that changes the picture,
    and how many deliveries are on their way to the GUI."""

    def __init__(self) -> None:
        self._requests: deque[tuple[int, _Request]] = deque()
        self._wake = threading.Condition()
        self._next_id = 0
        self._latest_show_id = 0
        self._in_flight = 0
        self._stopping = False

    def post(self, request: _Request) -> int:
        with self._wake:
            self._next_id += 1
            if isinstance(request, _SHOWING):
                self._latest_show_id = self._next_id
            self._requests.append((self._next_id, request))
            self._wake.notify()
            return self._next_id

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()

    def take(self, timeout: Callable[[], float | None]) -> list[tuple[int, _Request]] | None:
        """All requests posted so far, waiting up to ``timeout()`` seconds for one
        (forever if None); None once the player is closing."""
        with self._wake:
            if not self._requests and not self._stopping:
                wait = timeout()
                if wait is None or wait > 0:
                    self._wake.wait(wait)
            if self._stopping:
                return None
            requests = list(self._requests)
            self._requests.clear()
            return requests

    def superseded(self, show_id: int) -> bool:
        with self._wake:
            return show_id < self._latest_show_id

    def reserve(self, *, force: bool) -> bool:
        """Worker side: may one more delivery go to the GUI? ``force`` for a frame the
        user asked for, which is never skipped."""
        with self._wake:
            if not force and self._in_flight >= _MAX_IN_FLIGHT:
                return False
            self._in_flight += 1
            return True

    def release(self) -> None:
        with self._wake:
            self._in_flight -= 1


class Player(QObject):
    """Plays one recording. Create one per open recording; ``close()`` when done.

    ``recording`` needs ``timebase`` (with ``timestamps``), ``frame_count`` and
    ``reader()``; the reader is created and used on the worker thread only.
    """

    frame_ready = Signal(int, QImage)
    position_changed = Signal(int)
    playing_changed = Signal(bool)
    error = Signal(str)

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

        self._mailbox = _Mailbox()
        self._bridge = _Bridge()
        self._bridge.delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)
        self._bridge.ended.connect(self._on_ended, Qt.ConnectionType.QueuedConnection)
        self._bridge.failed.connect(self.error, Qt.ConnectionType.QueuedConnection)

        worker = _Worker(recording, self._mailbox, self._bridge)
        self._thread = threading.Thread(target=worker.run, name="lessonreview-player")
        # A forgotten close() must not leave the thread decoding after the widget that
        # owned the player is gone, nor keep the process alive after the window shuts.
        # Plain functions, not methods: they run when this object may be half deleted.
        stop = partial(_stop_worker, self._mailbox, self._thread)
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
        self._mailbox.post(_Seek(int(frame)))

    def step(self, delta: int = 1) -> None:
        """Pause and move exactly ``delta`` frames from the frame last asked for."""
        self._set_playing(False)
        self._mailbox.post(_Step(int(delta)))

    def step_forward(self) -> None:
        self.step(1)

    def step_back(self) -> None:
        self.step(-1)

    def play(self) -> None:
        self._set_playing(True)
        self._latest_play_id = self._mailbox.post(_Play())

    def play_range(self, first: int, last: int) -> None:
        """Show ``first``, play on and stop on ``last`` (both included), which is shown
        however far behind the screen is."""
        self._mailbox.post(_Seek(int(first)))
        self._set_playing(True)
        last = min(max(int(last), 0), self.frame_count - 1)
        self._latest_play_id = self._mailbox.post(_Play(until=last))

    def pause(self) -> None:
        self._set_playing(False)
        self._latest_play_id = self._mailbox.post(_Pause())

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float) -> None:
        """Playback rate, clamped to 0.25x..4x."""
        self._speed = min(MAX_SPEED, max(MIN_SPEED, float(speed)))
        self._mailbox.post(_Speed(self._speed))

    def set_privacy(self, on: bool) -> None:
        """Blur faces in every frame shown (on by default)."""
        self._privacy = bool(on)
        self._mailbox.post(_Privacy(self._privacy))

    def set_face_regions(self, lookup: FaceRegionLookup | None) -> None:
        """Where the faces are: ``lookup(frame)`` gives the people to blur in a frame.

        It is called on the worker thread, so it must only read immutable data: a
        ``lessonreview.core.privacy.FaceRegionIndex`` built from the analysis' tracks
        is made for this. A lookup that answers None for a frame, or no lookup at all,
        means nobody is located there yet: the privacy view then hides the whole picture.
        """
        self._mailbox.post(_FaceRegions(lookup))

    def close(self) -> None:
        """Stop the worker and wait for it (at most one frame's decoding)."""
        if self._closed:
            return
        self._closed = True
        self._set_playing(False)
        if not _stop_worker(self._mailbox, self._thread):
            raise RuntimeError("the video decoding thread did not stop")

    # --- internals ----------------------------------------------------------------
    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)

    @Slot(object)
    def _on_delivered(self, delivery: _Delivery) -> None:
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


def _stop_worker(mailbox: _Mailbox, thread: threading.Thread) -> bool:
    """Ask the worker to stop and wait for it; whether it has stopped."""
    mailbox.stop()
    if thread.is_alive() and thread is not threading.current_thread():
        thread.join(timeout=_JOIN_TIMEOUT_S)
    return not thread.is_alive()


@dataclass
class _WorkerState:
    """Owned by the worker thread alone."""

    current: int = -1  # frame last decoded
    show_id: int = 0  # id of the request the next delivery answers
    play_id: int = 0
    playing: bool = False
    stop_at: int | None = None  # the last frame to play to, when not the recording's
    speed: float = 1.0
    privacy: bool = True
    lookup: FaceRegionLookup | None = None
    anchor_media_s: float = 0.0
    anchor_wall_s: float = 0.0
    shown_wall_s: float = 0.0  # when playing last went on to a new frame
    cached: tuple[int, np.ndarray] | None = None
    stats: PlaybackStats = field(default_factory=PlaybackStats)


class _Worker:
    def __init__(self, recording, mailbox: _Mailbox, bridge: _Bridge) -> None:
        self._recording = recording
        self._mailbox = mailbox
        self._bridge = bridge
        self._timestamps = np.asarray(recording.timebase.timestamps, dtype=np.float64)
        self._last = int(recording.frame_count) - 1

    def run(self) -> None:
        try:
            reader = self._recording.reader()
        except Exception as exc:  # any failure to open is reported, not raised
            self._bridge.failed.emit(f"Cannot open the recording for playback: {exc}")
            return
        state = _WorkerState()
        try:
            while (requests := self._mailbox.take(lambda: self._timeout(state))) is not None:
                try:
                    self._serve(reader, state, requests)
                except Exception as exc:  # one bad frame must not end the player
                    if state.playing:
                        state.playing = False
                        self._bridge.ended.emit(state.play_id)
                    self._bridge.failed.emit(f"Cannot show the frame: {exc}")
        finally:
            close = getattr(reader, "close", None)
            if close is not None:
                close()

    def _timeout(self, state: _WorkerState) -> float | None:
        """While playing, how long until the next frame is due; else wait for a request."""
        if not state.playing:
            return None
        nxt = min(state.current + 1, self._last)
        due_wall = (
            state.anchor_wall_s + (self._timestamps[nxt] - state.anchor_media_s) / state.speed
        )
        if state.speed > 1.0:
            due_wall = max(due_wall, state.shown_wall_s + 1.0 / _MAX_FAST_FPS)
        return max(0.0, due_wall - time.monotonic())

    def _serve(self, reader, state: _WorkerState, requests: list[tuple[int, _Request]]) -> None:
        show: int | None = None
        for request_id, request in requests:
            if isinstance(request, _SHOWING):
                state.show_id = request_id
            match request:
                case _Seek(frame=frame):
                    show = self._clamp(frame)
                    state.stop_at = None
                case _Step(delta=delta):
                    state.playing, state.stop_at = False, None
                    base = show if show is not None else max(state.current, 0)
                    show = self._clamp(base + delta)
                case _Play(until=until):
                    state.play_id, state.playing, state.stop_at = request_id, True, until
                    if show is None and state.current >= self._last:
                        show = 0  # play at the end starts again from the beginning
                    self._anchor(state, show if show is not None else state.current)
                case _Pause():
                    state.play_id, state.playing, state.stop_at = request_id, False, None
                case _Speed(speed=speed):
                    state.speed = speed
                    self._anchor(state, state.current)
                case _Privacy(on=on):
                    state.privacy = on
                case _FaceRegions(lookup=lookup):
                    state.lookup = lookup
            if isinstance(request, _Privacy | _FaceRegions) and show is None:
                if not state.playing and state.current >= 0:
                    show = state.current  # show the same frame again, (un)blurred

        if show is not None:
            self._render(reader, state, show, asked=True)
            if state.playing:
                self._anchor(state, show)
        elif state.playing:
            self._play_on(reader, state)

    def _play_on(self, reader, state: _WorkerState) -> None:
        now = time.monotonic()
        media_s = state.anchor_media_s + (now - state.anchor_wall_s) * state.speed
        due = int(np.searchsorted(self._timestamps, media_s, side="right")) - 1
        last = self._last if state.stop_at is None else state.stop_at
        due = min(max(due, state.current), last)
        if due > state.current:
            if due > state.current + 1:
                state.stats = _add(state.stats, frames_dropped=due - state.current - 1)
            # Counted from the decision, not the delivery: decoding time is part of a
            # display period, not added to it.
            state.shown_wall_s = now
            # The last frame is never skipped: playback stops on it, and a picture left
            # short of the end would never catch up.
            self._render(reader, state, due, asked=due >= last)
        if state.current >= last:
            state.playing, state.stop_at = False, None
            self._bridge.ended.emit(state.play_id)

    def _anchor(self, state: _WorkerState, frame: int) -> None:
        state.anchor_media_s = float(self._timestamps[max(frame, 0)])
        state.anchor_wall_s = time.monotonic()

    def _clamp(self, frame: int) -> int:
        return min(max(frame, 0), self._last)

    def _render(self, reader, state: _WorkerState, frame: int, *, asked: bool) -> None:
        """Decode, blur and deliver ``frame``. A frame reached by playing (not ``asked``
        for) is skipped, and counted as dropped, while the GUI has not taken the last."""
        if state.cached is not None and state.cached[0] == frame:
            bgr = state.cached[1]
        else:
            started = time.perf_counter()
            bgr = reader.frame(frame)
            state.stats = _add(state.stats, decode_s=time.perf_counter() - started)
            state.cached = (frame, bgr)
        state.current = frame
        interim = self._mailbox.superseded(state.show_id)
        if interim and not asked:
            return  # played on past a seek that is waiting: this frame is from before it
        # While scrubbing, every decoded frame goes to the screen as long as the GUI
        # keeps up; the one finally asked for always does.
        if not self._mailbox.reserve(force=asked and not interim):
            if not asked:
                state.stats = _add(state.stats, frames_dropped=1)
            return
        try:
            started = time.perf_counter()
            if state.privacy:
                # Nobody located at this frame yet (no analysis): hide the whole picture
                # rather than show faces the blur could not find.
                regions = state.lookup(frame) if state.lookup is not None else None
                bgr = hide_frame(bgr) if regions is None else blur_faces(bgr, regions)
            image = bgr_to_qimage(bgr)
        except Exception:
            self._mailbox.release()
            raise
        state.stats = _add(state.stats, render_s=time.perf_counter() - started, frames_shown=1)
        self._bridge.delivered.emit(_Delivery(state.show_id, frame, image, state.stats, interim))


def _add(stats: PlaybackStats, **more: float) -> PlaybackStats:
    values = {name: getattr(stats, name) + value for name, value in more.items()}
    return PlaybackStats(**{**stats.__dict__, **values})

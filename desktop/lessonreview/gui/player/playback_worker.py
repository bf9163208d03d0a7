"""The player's worker side: one thread owns the recording's ``FrameReader``.

The GUI thread posts frozen requests into the ``Mailbox``; the ``Worker`` drains it (so
only the latest seek of a burst is decoded), decodes, shrinks the frame to the view's size
(the blur and the paint then handle a fraction of the pixels), blurs faces if the privacy
view is on, converts to a ``QImage`` and hands it back through the ``Bridge``'s queued
signals.
The faces blurred are those of the people the analysis located and those the face
detector finds, which runs on a thread of its own (``playback_faces.py``).
The GUI thread's side, ``Player``, is in ``playback.py``; the two share only the
mailbox and the bridge.

Why not a ``gui.background.Tasks`` job: those are one call per request on a fresh thread,
the latest request winning. The player is one long-lived thread for the whole recording,
because the decoder's position is its state (the next frame is cheap only to the thread
that just decoded the one before, and only one thread may own the reader); it keeps time
while playing with no request at all; and a superseded seek's frame is still worth
showing while a slider is dragged. Its requests carry ids all the same, and stale frames
are dropped by id as in ``Tasks``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from lessonreview.core.privacy.face_blur import (
    FaceEllipse,
    FaceRegionSource,
    blur_faces,
    hide_frame,
)
from lessonreview.core.vision.face_detection import FaceDetector
from lessonreview.core.vision.model_check import check_works
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.core.vision.model_files import ModelName
from lessonreview.gui.player.playback_faces import FaceFinder, faces_to_blur

# Deliveries the GUI has not taken yet. Past this the GUI thread is the bottleneck
# (painting, or busy elsewhere), and rendering more frames would only queue up lag.
_MAX_IN_FLIGHT = 2
# Above normal speed more frames are due than a screen or an eye needs: show at most this
# many a second and skip the rest (decoding still goes through them; painting does not).
_MAX_FAST_FPS = 30.0
# Paused on a frame asked for, the next frame's faces are looked for only this long after
# it went to the GUI: sooner, the search would share the cores with painting it.
_LOOK_AHEAD_AFTER_S = 0.1
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
class Seek:
    frame: int


@dataclass(frozen=True)
class Step:
    delta: int


@dataclass(frozen=True)
class Play:
    # Stop on this frame (a segment played with Enter); None: play to the end.
    until: int | None = None


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Speed:
    speed: float


@dataclass(frozen=True)
class Privacy:
    on: bool


@dataclass(frozen=True)
class FaceRegions:
    lookup: FaceRegionLookup | None


@dataclass(frozen=True)
class ViewSize:
    """The device pixels the picture is shown in: frames are shrunk to fit it here,
    before the blur, rather than by the GUI thread's paint."""

    width: int
    height: int


@dataclass(frozen=True)
class FaceModel:
    # The face detector's model file; None: blur only the people the analysis located.
    path: Path | None


Request = Seek | Step | Play | Pause | Speed | Privacy | FaceRegions | FaceModel | ViewSize


@dataclass(frozen=True)
class PlaybackStats:
    """Counters since the player opened: for a status bar and the benchmark."""

    frames_shown: int = 0
    # Not shown while playing: skipped to keep time when decoding or painting fell
    # behind, or past ``_MAX_FAST_FPS`` at fast speeds.
    frames_dropped: int = 0
    decode_s: float = 0.0  # worker time in the reader
    render_s: float = 0.0  # worker time blurring faces and converting to QImage
    faces_s: float = 0.0  # part of render_s: waiting for the face detector
    blur_s: float = 0.0  # part of render_s: blurring or hiding faces
    # Shown hidden whole while playing, because the face detector had found nothing
    # close enough in time to them.
    frames_hidden: int = 0


@dataclass(frozen=True, eq=False)
class Delivery:
    request_id: int
    frame: int
    image: QImage
    stats: PlaybackStats
    # Answers a seek that a newer one has superseded: shown all the same, so a dragged
    # slider moves the picture, since it is newer than anything on screen.
    interim: bool = False


class Bridge(QObject):
    """Lives on the GUI thread; the worker emits these and Qt queues them across."""

    delivered = Signal(object)
    ended = Signal(int)
    failed = Signal(str)
    # The face detector cannot run (its model file is damaged, or it failed): why.
    faces_failed = Signal(str)


# Requests after which the next frame delivered must reflect them: older deliveries are
# stale. Play, pause and speed change nothing about the picture.
_SHOWING = (Seek, Step, Privacy, FaceRegions, FaceModel)


class Mailbox:
    """Everything the GUI thread and the worker share, each access under one lock held
    for microseconds: the request queue, the latest request that changes the picture,
    and how many deliveries are on their way to the GUI."""

    def __init__(self) -> None:
        self._requests: deque[tuple[int, Request]] = deque()
        self._wake = threading.Condition()
        self._next_id = 0
        self._latest_show_id = 0
        self._in_flight = 0
        self._stopping = False

    def post(self, request: Request) -> int:
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

    def take(self, timeout: Callable[[], float | None]) -> list[tuple[int, Request]] | None:
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

    def pending(self) -> bool:
        """Whether requests wait that the worker has not taken yet."""
        with self._wake:
            return bool(self._requests)

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


def stop_worker(mailbox: Mailbox, thread: threading.Thread) -> bool:
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
    view: ViewSize | None = None  # None: frames are delivered at their own size
    lookup: FaceRegionLookup | None = None
    faces: FaceFinder | None = None
    anchor_media_s: float = 0.0
    anchor_wall_s: float = 0.0
    shown_wall_s: float = 0.0  # when playing last went on to a new frame
    cached: tuple[int, np.ndarray] | None = None
    # The frame after the one shown while paused, decoded ahead so that its faces are
    # found before a step forward asks for it.
    ahead: tuple[int, np.ndarray] | None = None
    look_ahead_at: float | None = None  # monotonic time to look ahead at, if due
    stats: PlaybackStats = field(default_factory=PlaybackStats)


class Worker:
    def __init__(self, recording, mailbox: Mailbox, bridge: Bridge) -> None:
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
            if state.faces is not None:
                state.faces.close()
            close = getattr(reader, "close", None)
            if close is not None:
                close()

    def _timeout(self, state: _WorkerState) -> float | None:
        """While playing, how long until the next frame is due; else wait for a request."""
        if not state.playing:
            if state.look_ahead_at is None:
                return None
            return max(0.0, state.look_ahead_at - time.monotonic())
        nxt = min(state.current + 1, self._last)
        due_wall = (
            state.anchor_wall_s + (self._timestamps[nxt] - state.anchor_media_s) / state.speed
        )
        if state.speed > 1.0:
            due_wall = max(due_wall, state.shown_wall_s + 1.0 / _MAX_FAST_FPS)
        return max(0.0, due_wall - time.monotonic())

    def _serve(self, reader, state: _WorkerState, requests: list[tuple[int, Request]]) -> None:
        show: int | None = None
        for request_id, request in requests:
            if isinstance(request, _SHOWING):
                state.show_id = request_id
            match request:
                case Seek(frame=frame):
                    show = self._clamp(frame)
                    state.stop_at = None
                case Step(delta=delta):
                    state.playing, state.stop_at = False, None
                    base = show if show is not None else max(state.current, 0)
                    show = self._clamp(base + delta)
                case Play(until=until):
                    state.play_id, state.playing, state.stop_at = request_id, True, until
                    if show is None and state.current >= self._last:
                        show = 0  # play at the end starts again from the beginning
                    self._anchor(state, show if show is not None else state.current)
                case Pause():
                    state.play_id, state.playing, state.stop_at = request_id, False, None
                case Speed(speed=speed):
                    state.speed = speed
                    self._anchor(state, state.current)
                case Privacy(on=on):
                    state.privacy = on
                case FaceRegions(lookup=lookup):
                    state.lookup = lookup
                case FaceModel(path=path):
                    self._use_face_model(state, path)
                case ViewSize():
                    state.view = request
            if isinstance(request, Privacy | FaceRegions | FaceModel | ViewSize) and show is None:
                if not state.playing and state.current >= 0:
                    show = state.current  # show the same frame again, (un)blurred

        if show is not None:
            if state.faces is not None:
                state.faces.drop(keep=show)
            self._render(reader, state, show, asked=True)
            if state.playing:
                self._anchor(state, show)
            else:
                state.look_ahead_at = time.monotonic() + _LOOK_AHEAD_AFTER_S
        elif state.playing:
            self._play_on(reader, state)
        elif state.look_ahead_at is not None and time.monotonic() >= state.look_ahead_at:
            state.look_ahead_at = None
            self._look_ahead(reader, state)

    def _look_ahead(self, reader, state: _WorkerState) -> None:
        """While paused on a frame whose faces are blurred, decode the next one and find
        its faces meanwhile: a reviewer stepping forward frame by frame then waits only
        for the decode, not for the face detector (the seek lag its users complain of)."""
        nxt = state.current + 1
        if (
            state.faces is None
            or not state.privacy
            or state.lookup is None
            or nxt > self._last
            or state.lookup(nxt) is None
            or state.faces.found(nxt) is not None
            or self._mailbox.pending()
        ):
            return
        started = time.perf_counter()
        bgr = reader.frame(nxt)
        state.stats = _add(state.stats, decode_s=time.perf_counter() - started)
        state.ahead = (nxt, bgr)
        state.faces.submit(nxt, bgr)

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

    def _use_face_model(self, state: _WorkerState, path: Path | None) -> None:
        if state.faces is not None:
            state.faces.close()
            state.faces = None
        if path is None:
            return
        try:
            # Checked and loaded here, on the worker thread; from now on only the finder's
            # thread uses it. A copy that loads but finds no faces must not look like a
            # room where nobody's face shows.
            check_works(ModelName.FACE_DETECTOR, path)
            # Two threads: a seek or a step waits for the faces of its frame, which two
            # threads find sooner than one (bench/bench_playback.py times steps and seeks).
            threads = min(2, os.cpu_count() or 1)
            state.faces = FaceFinder(FaceDetector(path, threads=threads))
        except ModelFileError as exc:
            self._bridge.faces_failed.emit(str(exc))

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
        elif state.ahead is not None and state.ahead[0] == frame:
            bgr = state.ahead[1]
            state.cached = state.ahead
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
            scale, shown = _fit(bgr, state.view)
            faces_before = state.stats.faces_s
            if state.privacy:
                # Nobody located at this frame yet (no analysis): hide the whole picture
                # rather than show faces the blur could not find.
                regions = state.lookup(frame) if state.lookup is not None else None
                if regions is None:
                    shown = hide_frame(shown, scale=scale)
                else:
                    # The face detector looks at the whole frame: small faces need it.
                    faces = self._faces(state, frame, bgr, exact=asked and not interim)
                    # None: playing ahead of the face detector, nothing found close enough
                    # in time to go by: hidden whole until it catches up.
                    if faces is None:
                        shown = hide_frame(shown, scale=scale)
                        state.stats = _add(state.stats, frames_hidden=1)
                    else:
                        shown = blur_faces(shown, regions, faces=faces, scale=scale)
                waited = state.stats.faces_s - faces_before
                state.stats = _add(state.stats, blur_s=time.perf_counter() - started - waited)
            image = bgr_to_qimage(shown)
            # The image is smaller than the frame: its device pixel ratio says by how
            # much, so the view still places people in frame pixels.
            image.setDevicePixelRatio(shown.shape[1] / bgr.shape[1])
        except Exception:
            self._mailbox.release()
            raise
        state.stats = _add(state.stats, render_s=time.perf_counter() - started, frames_shown=1)
        self._bridge.delivered.emit(Delivery(state.show_id, frame, image, state.stats, interim))

    def _faces(
        self, state: _WorkerState, frame: int, bgr: np.ndarray, *, exact: bool
    ) -> tuple[FaceEllipse, ...] | None:
        """The face detector's regions for this frame: none without a face detector,
        None when it has found nothing close enough in time to go by."""
        if state.faces is None:
            return ()
        started = time.perf_counter()
        faces = faces_to_blur(state.faces, frame, bgr, timestamps=self._timestamps, exact=exact)
        state.stats = _add(state.stats, faces_s=time.perf_counter() - started)
        if state.faces.error is not None:
            self._bridge.faces_failed.emit(state.faces.error)
            state.faces.close()
            state.faces = None
            return ()
        return faces


def _fit(bgr: np.ndarray, view: ViewSize | None) -> tuple[float, np.ndarray]:
    """The frame shrunk to fit the view (aspect kept, never enlarged), and the scale."""
    height, width = bgr.shape[:2]
    if view is None:
        return 1.0, bgr
    scale = min(1.0, view.width / width, view.height / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return 1.0, bgr
    # Bilinear, as the view's smooth drawing would be; area averaging costs several
    # times as much at a ratio that is not a whole number.
    return scale, cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)


def _add(stats: PlaybackStats, **more: float) -> PlaybackStats:
    values = {name: getattr(stats, name) + value for name, value in more.items()}
    return PlaybackStats(**{**stats.__dict__, **values})

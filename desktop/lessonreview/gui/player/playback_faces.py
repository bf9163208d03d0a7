"""The player's face detector, on a thread of its own, and which faces to blur when.

Finding faces over a whole frame takes several times as long as a frame is on screen,
so while playing the player's worker does not wait for it: every quarter second or so
it hands the frame it shows to the :class:`FaceFinder`, and blurs the faces found on
the frames nearest in time, each region widened for how far a face can move meanwhile
(:func:`faces_to_blur`). When no detection is close enough (the detector fell behind),
the picture is hidden whole rather than shown with faces that nobody looked for. A
frame that stays on screen (a seek, a step, the end of playing) is never shown before
the faces of that very frame are found.

No Qt here: the worker thread calls it, and the GUI thread never does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from lessonreview.core.domain import Box
from lessonreview.core.privacy.face_blur import FaceEllipse, face_box_ellipse
from lessonreview.core.vision.face_detection import DetectionCancelled, FaceDetector

# Faces found on a frame further than this (in media time) from the one shown are not
# used for it. Long enough for playing to go on while the detector catches up.
MAX_AGE_S = 1.0
# While playing, a new detection starts at most this often (in media time): the
# detector would otherwise keep a core busy that decoding and an analysis also need.
DETECT_EVERY_S = 0.25
# How fast a face may move, in face sizes per second: a detection ``age`` seconds away
# is blurred ``1 + FACE_MOVES_PER_S * age`` times as wide. A seated student turning or
# leaning moves less; standing up moves the face about this much.
FACE_MOVES_PER_S = 2.0
# Frames' faces kept, so that stepping back and forth does not detect again.
_KEEP = 256


class FaceFinder:
    """Runs one :class:`FaceDetector` on its own thread, on the newest frame handed to it.

    The detector is handed over and used by this thread alone. ``close()`` stops the
    thread (within one tile of the detection in progress) and waits for it.
    """

    def __init__(self, detector: FaceDetector) -> None:
        self._detector = detector
        self._wake = threading.Condition()
        self._job: tuple[int, np.ndarray] | None = None
        self._urgent = False  # someone waits for the job: give up the detection under way
        self._dropped = False  # the detection under way is no longer wanted
        self._working: int | None = None
        self._found: OrderedDict[int, tuple[Box, ...]] = OrderedDict()
        self._error: str | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="lessonreview-faces")
        self._thread.start()

    @property
    def error(self) -> str | None:
        """Why detection failed, once it has; the finder then finds nothing more."""
        with self._wake:
            return self._error

    def found(self, frame: int) -> tuple[Box, ...] | None:
        with self._wake:
            return self._found.get(frame)

    def neighbours(self, frame: int) -> list[tuple[int, tuple[Box, ...]]]:
        """The faces of the nearest frames done before and after ``frame``."""
        with self._wake:
            before = max((f for f in self._found if f < frame), default=None)
            after = min((f for f in self._found if f > frame), default=None)
            return [(f, self._found[f]) for f in (before, after) if f is not None]

    @property
    def idle(self) -> bool:
        with self._wake:
            return self._job is None and self._working is None

    def submit(self, frame: int, image_bgr: np.ndarray, *, urgent: bool = False) -> None:
        """Find the faces of ``frame`` next, replacing any frame still waiting; ``urgent``
        also gives up the detection under way. The image is copied: the reader may
        hand the same array out again."""
        copy = np.array(image_bgr, copy=True)
        with self._wake:
            if frame in self._found:
                return
            if frame == self._working and self._job is None:
                self._dropped = False  # wanted again after all
                return
            self._job = (frame, copy)
            self._urgent = urgent
            self._wake.notify_all()

    def drop(self, *, keep: int) -> None:
        """Give up the frames waiting and the detection under way, unless they are of
        frame ``keep``: a new seek must not share the cores with a look-ahead."""
        with self._wake:
            if self._job is not None and self._job[0] != keep:
                self._job = None
            if self._working is not None and self._working != keep:
                self._dropped = True

    def wait(self, frame: int, image_bgr: np.ndarray) -> tuple[Box, ...] | None:
        """The faces of ``frame``, detecting them now if need be; None if detection
        failed or the finder is closing."""
        self.submit(frame, image_bgr, urgent=True)
        with self._wake:
            # Only the player's worker submits, and it is waiting here: nothing can take
            # this frame's place, so the finder works on it until it is found.
            while frame not in self._found and self._error is None and not self._stopping:
                self._wake.wait()
            return self._found.get(frame)

    def close(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self._detector.close()

    def _give_up(self) -> bool:
        with self._wake:
            return self._stopping or self._dropped or (self._urgent and self._job is not None)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                frame, image = self._job
                self._job, self._urgent, self._working = None, False, frame
                self._dropped = False
            try:
                boxes = tuple(f.box for f in self._detector.detect(image, cancelled=self._give_up))
            except DetectionCancelled:
                with self._wake:
                    self._working = None
                continue
            except Exception as exc:  # LiteRT raises plain RuntimeErrors and more; reported
                with self._wake:
                    self._error = f"The face detector failed: {exc}"
                    self._working = None
                    self._wake.notify_all()
                return
            with self._wake:
                self._found[frame] = boxes
                while len(self._found) > _KEEP:
                    self._found.popitem(last=False)
                self._working = None
                self._wake.notify_all()


def faces_to_blur(
    finder: FaceFinder,
    frame: int,
    image_bgr: np.ndarray,
    *,
    timestamps: np.ndarray,
    exact: bool,
) -> tuple[FaceEllipse, ...] | None:
    """The face regions to blur on ``frame``; None when there are none to go by, so
    the caller hides the whole picture (or the detector failed: see ``finder.error``).

    ``exact``: the frame stays on screen, so its own faces are found first. Otherwise
    the faces found within :data:`MAX_AGE_S` of it are used, widened for their age, and
    the frame is handed to the finder when the newest detection is
    :data:`DETECT_EVERY_S` old.
    """
    own = finder.found(frame)
    if own is None and exact:
        own = finder.wait(frame, image_bgr)
    if own is not None:
        return tuple(face_box_ellipse(box) for box in own)
    if exact:
        return None
    t = float(timestamps[frame])
    # The nearest detections before and after the frame: a face moving between them is
    # inside one of the two widened regions.
    near = [
        (abs(float(timestamps[f]) - t), boxes)
        for f, boxes in finder.neighbours(frame)
        if abs(float(timestamps[f]) - t) <= MAX_AGE_S
    ]
    if not near or min(age for age, _ in near) >= DETECT_EVERY_S:
        if finder.idle:
            finder.submit(frame, image_bgr)
    if not near:
        return None
    return tuple(
        face_box_ellipse(box, grow=1.0 + FACE_MOVES_PER_S * age)
        for age, boxes in near
        for box in boxes
    )

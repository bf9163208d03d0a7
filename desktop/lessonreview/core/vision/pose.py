"""Body pose of one person: MediaPipe's BlazePose landmark model run on that person.

MediaPipe's Pose Landmarker (its Tasks API) runs two networks per call: a pose
detector that decides where in the image the person is, then the landmark model on
the window the detector chose. Here the person detector has already found the
person, so only the landmark model runs, through LiteRT (Google's TFLite runtime),
on a window that this module frames from the person box. On the classroom frames this
finds a pose for more of the boxes, with the nose on the right head more often, in less
time per person than the Tasks pipeline on the same masked boxes: its own pose detector
second-guesses a person the detector already found. ``bench/eval_recall.py`` compares the
two (``--runtime litert|tasks``); the Tasks pipeline is bench/pose_tasks.py, the reference
for that comparison.

The window: everything outside the person box widened by ``CropMargins`` is painted
grey, because students at the back sit shoulder to shoulder and the model latches
onto a neighbour otherwise. The square window starts at the top of that region (room
above the head for a raised hand) and is ``WINDOW_HEIGHTS`` box heights tall, so the
person fills about half of it, as in the windows the landmark model was trained on
(MediaPipe frames a body in a square 2.5 times the hip-to-head distance).
"""

from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from lessonreview.core.domain import N_KEYPOINTS, Box
from lessonreview.core.vision.model_errors import ModelFileError

MASK_GREY = 114
LANDMARK_MODEL = "pose_landmarks_detector.tflite"
# A TFLite model is a FlatBuffer whose file identifier, at bytes 4-8, is this.
_TFLITE_MARK = b"TFL3"
# The landmark model's outputs: 39 points (33 body keypoints and MediaPipe's auxiliary
# ones) of x, y (window pixels), z, visibility and presence logits; and a pose flag, the
# probability that a person is in the window.
_POINTS = 39
_VALUES = 5
# With the top of the window at the mask top, a window this tall put the nose on the
# labelled head at least as often as MediaPipe's own, larger framing, in both lecture
# rooms of the classroom frames (bench/eval_recall.py).
WINDOW_HEIGHTS = 2.0


@dataclass(frozen=True)
class CropMargins:
    """How far the visible region reaches beyond the person box, as fractions of its size."""

    up: float = 0.4  # a raised hand reaches well above the head
    side: float = 0.15
    down: float = 0.05

    def around(self, box: Box) -> tuple[float, float, float, float]:
        """The visible region (x0, y0, x1, y1) in frame pixels, not clipped to the frame."""
        return (
            box.x0 - self.side * box.width,
            box.y0 - self.up * box.height,
            box.x1 + self.side * box.width,
            box.y1 + self.down * box.height,
        )


DEFAULT_MARGINS = CropMargins()


@dataclass(frozen=True)
class Window:
    """The model's input and how to map it back: input pixel (u, v) is frame pixel
    (x0 + (u - u0) * scale_x, y0 + (v - v0) * scale_y)."""

    pixels: np.ndarray  # (size, size, 3) uint8 BGR
    x0: float
    y0: float
    u0: float
    v0: float
    scale_x: float
    scale_y: float


class PoseEstimator:
    """33 body keypoints for one person box. Not thread-safe: one instance per thread."""

    def __init__(
        self,
        model_path: Path,
        *,
        margins: CropMargins = DEFAULT_MARGINS,
        min_presence: float = 0.3,
        denoise: bool = True,
    ) -> None:
        """``min_presence``: below MediaPipe's 0.5 default, because people at the back are
        small and blurred even after upscaling, and the mask keeps the window on one person.
        """
        model_path = Path(model_path)
        if not model_path.is_file():
            raise ModelFileError.missing(model_path)
        model = landmark_model_bytes(model_path)
        # Imported here: the desktop app shows its window before anyone asks for a pose.
        from ai_edge_litert.interpreter import Interpreter

        try:
            net = Interpreter(model_content=model, num_threads=1)
            net.allocate_tensors()
        except (RuntimeError, ValueError) as exc:
            raise ModelFileError.damaged(model_path, str(exc).splitlines()[0][:200]) from exc
        (inp,) = net.get_input_details()
        _, size, size_x, channels = inp["shape"]
        by_size = {int(np.prod(d["shape"])): d["index"] for d in net.get_output_details()}
        if size != size_x or channels != 3 or _POINTS * _VALUES not in by_size or 1 not in by_size:
            raise ModelFileError.damaged(model_path, "not a BlazePose landmark model")
        self._net = net
        self._input = inp["index"]
        self._landmarks = by_size[_POINTS * _VALUES]
        self._flag = by_size[1]
        self.size = int(size)
        self.margins = margins
        self.min_presence = min_presence
        self.denoise = denoise

    def estimate(
        self, image_bgr: np.ndarray, box: Box, *, margins: CropMargins | None = None
    ) -> np.ndarray | None:
        """Keypoints (33, 3) float32: x, y in frame pixels and visibility 0..1, or None
        when the model sees no person in the window. ``margins``: other than this
        estimator's, for a box that already holds the room around the person."""
        win = self.window(image_bgr, box, margins=margins)
        if win is None:
            return None
        rgb = win.pixels[:, :, ::-1].astype(np.float32) * np.float32(1 / 255)
        self._net.set_tensor(self._input, rgb[None])
        self._net.invoke()
        if float(self._net.get_tensor(self._flag).ravel()[0]) < self.min_presence:
            return None
        points = self._net.get_tensor(self._landmarks).reshape(_POINTS, _VALUES)[:N_KEYPOINTS]
        out = np.empty((N_KEYPOINTS, 3), dtype=np.float32)
        out[:, 0] = win.x0 + (points[:, 0] - win.u0) * win.scale_x
        out[:, 1] = win.y0 + (points[:, 1] - win.v0) * win.scale_y
        out[:, 2] = 1 / (1 + np.exp(-points[:, 3]))
        return out

    def window(
        self, image_bgr: np.ndarray, box: Box, *, margins: CropMargins | None = None
    ) -> Window | None:
        """The masked person in the model's square input, or None if the box is off-frame."""
        x0, y0, x1, y1 = (margins or self.margins).around(box)
        h, w = image_bgr.shape[:2]
        fx0, fy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        fx1, fy1 = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
        if fx1 - fx0 < 2 or fy1 - fy0 < 2:
            return None
        region = image_bgr[fy0:fy1, fx0:fx1]
        if self.denoise:
            # Speckle noise, upscaled with a small person, looks like texture to the
            # model, which then finds no pose in many more windows.
            region = cv2.medianBlur(np.ascontiguousarray(region), 3)
        side = max(WINDOW_HEIGHTS * box.height, x1 - x0, y1 - y0, 1.0)
        scale = side / self.size  # frame pixels per input pixel
        rw = max(1, min(self.size, round((fx1 - fx0) / scale)))
        rh = max(1, min(self.size, round((fy1 - fy0) / scale)))
        # Small people at the back are upscaled to the model's input size.
        interp = cv2.INTER_LINEAR if scale < 1 else cv2.INTER_AREA
        resized = cv2.resize(region, (rw, rh), interpolation=interp)
        # The region sits at the window's top, centred across it.
        u0 = int(round((fx0 - ((x0 + x1) - side) / 2) / scale))
        v0 = int(round((fy0 - y0) / scale))
        u0, v0 = min(max(u0, 0), self.size - rw), min(max(v0, 0), self.size - rh)
        pixels = np.full((self.size, self.size, 3), MASK_GREY, dtype=np.uint8)
        pixels[v0 : v0 + rh, u0 : u0 + rw] = resized
        return Window(
            pixels,
            x0=float(fx0),
            y0=float(fy0),
            u0=float(u0),
            v0=float(v0),
            scale_x=(fx1 - fx0) / rw,
            scale_y=(fy1 - fy0) / rh,
        )

    def close(self) -> None:
        self._net = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EstimatesPose(Protocol):
    """What asks for a person's pose needs of a pose model: ``PoseEstimator`` or
    ``SharedPoseEstimator``."""

    def estimate(
        self, image_bgr: np.ndarray, box: Box, *, margins: CropMargins | None = None
    ) -> np.ndarray | None: ...


class SharedPoseEstimator:
    """One pose estimator for all the analysis' threads, loaded when first asked, for a
    pose model used now and then (the arm checks of the hand step): one copy of it in
    memory instead of one per thread, and none at all in a recording where nobody seems
    to raise a hand. The threads take turns with it."""

    def __init__(self, model_path: Path, **options) -> None:
        """``options``: as for ``PoseEstimator``."""
        self.path = Path(model_path)
        self._options = options
        self._lock = threading.Lock()
        self._estimator: PoseEstimator | None = None
        self._closed = False

    @property
    def loaded(self) -> bool:
        return self._estimator is not None

    def estimate(
        self, image_bgr: np.ndarray, box: Box, *, margins: CropMargins | None = None
    ) -> np.ndarray | None:
        """As ``PoseEstimator.estimate``; the first call loads the model (a damaged file
        raises ``ModelFileError`` then)."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"the shared pose estimator of {self.path.name} is closed")
            if self._estimator is None:
                self._estimator = PoseEstimator(self.path, **self._options)
            return self._estimator.estimate(image_bgr, box, margins=margins)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._estimator is not None:
                self._estimator.close()
                self._estimator = None


def landmark_model_bytes(path: Path) -> bytes:
    """The landmark model of a pose model file, refusing a damaged one: a MediaPipe .task
    bundle (a zip archive holding it) or the landmark model alone (a TFLite file, as
    MediaPipe's model storage serves the heavy one).

    Checking the archive here catches truncated or corrupted downloads with a clear
    message before any native loader sees the file.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError.damaged(path, f"not readable: {exc}") from exc
    if data[4:8] == _TFLITE_MARK:
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            broken = bundle.testzip()
            names = bundle.namelist()
            model = bundle.read(LANDMARK_MODEL) if LANDMARK_MODEL in names else None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError.damaged(
            path, f"neither a .task bundle nor a TFLite model: {exc}"
        ) from exc
    if broken is not None:
        raise ModelFileError.damaged(path, f"{broken} inside it is corrupt")
    if model is None:
        raise ModelFileError.damaged(path, f"no {LANDMARK_MODEL} inside")
    return model

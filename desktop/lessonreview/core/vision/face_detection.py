"""Where faces are in a frame, so that the privacy view can blur them: boxes only.

This finds faces; it never tells one face from another. No landmarks, no embeddings, no
identity: a box and a score, used for nothing but the blur. It catches the faces that
the person detector missed (a student hidden behind a neighbour, a face at the edge of
the picture, a poster), which the blur around each person's box cannot know about.

The model is MediaPipe's BlazeFace full-range detector, run with LiteRT. It is an SSD
with one anchor per cell of a 48x48 grid on a 192x192 input; decoding follows MediaPipe's
face detection graph (``face_detection_full_range.pbtxt`` and ``face_detection.pbtxt``):
fixed-size anchors at the cell centres, box offsets in input pixels (scale 192), a
sigmoid score clipped at +-100, weighted non-maximum suppression at IoU 0.3.

A classroom camera sees the faces at the back of the room a few dozen pixels wide at
most; shrunk to the model's 192 pixels they vanish, so the frame is also cut into overlapping square tiles, each run
at a larger scale (:class:`FaceTiling`), and the boxes of all passes are merged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box
from lessonreview.core.vision import litert
from lessonreview.core.vision.model_errors import ModelFileError

# From MediaPipe's face_detection_full_range graph.
_GRID = 48
_COORDS = 16  # box (x, y, w, h) and six keypoints, which are not used here
_SCORE_CLIP = 100.0
_NMS_IOU = 0.3
# Frames with a shorter side above this are shrunk before ``detect`` looks at them. The
# tiles are a share of the shorter side and every pass is shrunk to the model's 192
# pixels anyway, so a 4K frame shrunk to 1080 rows first gives the model nearly the same
# pictures, without denoising and cutting up four times the pixels. The denoise and the
# tiles were chosen on frames 900 rows high.
MAX_SHORT_SIDE = 1080


class DetectionCancelled(Exception):
    """A detection given up half way, because its result is no longer wanted."""


@dataclass(frozen=True)
class Face:
    """A face found in a frame: its box in frame pixels and the detector's score."""

    box: Box
    score: float


@dataclass(frozen=True)
class FaceTiling:
    """Square tiles over the whole frame, in addition to the whole-frame pass.

    ``tile`` is the side of a tile as a fraction of the frame's shorter side: the
    detector sees faces down to a fixed size in its input, so a smaller tile finds
    smaller faces, at the cost of more tiles.
    """

    tile: float = 0.4
    # Fraction of a tile shared with its neighbour. More than a face needs to lie whole
    # in some tile: a face seen in two or three tiles, at different offsets to the
    # anchor grid, is found more often than one seen once.
    overlap: float = 0.4

    def windows(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """Tile rectangles (x0, y0, x1, y1) in pixels, covering the whole frame."""
        side = max(1, round(self.tile * min(width, height)))
        return [
            (x0, y0, min(width, x0 + side), min(height, y0 + side))
            for y0 in _starts(height, side, self.overlap)
            for x0 in _starts(width, side, self.overlap)
        ]


def _starts(extent: int, side: int, overlap: float) -> list[int]:
    """Start offsets of tiles of ``side`` over ``extent``, sharing at least ``overlap``
    of a tile with the neighbour and spread evenly so the last one ends at the edge."""
    if side >= extent:
        return [0]
    count = math.ceil((extent - side) / (side * (1 - overlap))) + 1
    step = (extent - side) / (count - 1)
    return [round(i * step) for i in range(count)]


def _anchors() -> np.ndarray:
    """(2304, 2) anchor centres as fractions of the input, row by row, as the model emits."""
    centres = (np.arange(_GRID, dtype=np.float32) + 0.5) / _GRID
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


_ANCHORS = _anchors()


class FaceDetector:
    """Face boxes in a BGR frame. Not thread-safe: one instance per thread.

    ``score_threshold`` (for the tiles, or the whole frame without tiles) is far below
    MediaPipe's 0.6 for this model: small CCTV faces score low, and a face missed is
    shown sharp, where a false box blurs a patch of wall or, sometimes, a raised hand
    (``bench/eval_face_detection.py`` prints both). The whole-frame pass, there for
    faces too large for a tile, keeps ``whole_frame_threshold``: shrunk that much, any
    blob scores a little, and its false boxes are large.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        score_threshold: float = 0.2,
        whole_frame_threshold: float = 0.5,
        tiling: FaceTiling | None = FaceTiling(),
        threads: int = 1,
        denoise: bool = True,
    ) -> None:
        model_path = Path(model_path)
        net = litert.load(model_path, threads=threads)
        inputs, outputs = net.get_input_details(), net.get_output_details()
        shapes = {tuple(int(v) for v in d["shape"]): d["index"] for d in outputs}
        n = _GRID * _GRID
        if (
            len(inputs) != 1
            or tuple(int(v) for v in inputs[0]["shape"]) != (1, 4 * _GRID, 4 * _GRID, 3)
            or (1, n, _COORDS) not in shapes
            or (1, n, 1) not in shapes
        ):
            raise ModelFileError.damaged(model_path, "not a BlazeFace full-range face detector")
        self._net = net
        self._input = inputs[0]["index"]
        self._boxes = shapes[(1, n, _COORDS)]
        self._scores = shapes[(1, n, 1)]
        self.size = 4 * _GRID
        self.score_threshold = score_threshold
        self.whole_frame_threshold = whole_frame_threshold
        self.tiling = tiling
        self.denoise = denoise

    def detect(
        self, image_bgr: np.ndarray, *, cancelled: Callable[[], bool] | None = None
    ) -> list[Face]:
        """Faces in the frame, boxes in frame pixels, highest score first (a frame with a
        shorter side above ``MAX_SHORT_SIDE`` is looked at shrunk to it).

        ``cancelled`` is asked between passes; when it says yes, DetectionCancelled is
        raised (a frame that a newer one made pointless stops within one tile).
        """
        full_h, full_w = image_bgr.shape[:2]
        shrink = MAX_SHORT_SIDE / min(full_h, full_w)
        if shrink < 1:
            size = (max(1, round(full_w * shrink)), max(1, round(full_h * shrink)))
            image_bgr = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
        if self.denoise:
            # CCTV speckle (impulse) noise breaks up small faces, as for the person
            # detector; a 3x3 median removes it (bench/eval_face_detection.py --no-denoise).
            image_bgr = cv2.medianBlur(np.ascontiguousarray(image_bgr), 3)
        h, w = image_bgr.shape[:2]
        if self.tiling is None:
            passes = [((0, 0, w, h), self.score_threshold)]
        else:
            passes = [((0, 0, w, h), max(self.score_threshold, self.whole_frame_threshold))]
            passes += [
                (win, self.score_threshold)
                for win in self.tiling.windows(w, h)
                if win != (0, 0, w, h)
            ]
        found = []
        for win, threshold in passes:
            if cancelled is not None and cancelled():
                raise DetectionCancelled
            found.append(self._detect_window(image_bgr, win, threshold=threshold))
        boxes = np.concatenate([b for b, _ in found])
        scores = np.concatenate([s for _, s in found])
        # Back to the pixels of the frame as given.
        boxes = boxes * np.array([full_w / w, full_h / h] * 2, dtype=np.float32)
        return [Face(Box(*map(float, b)), float(s)) for b, s in weighted_nms(boxes, scores)]

    def face_at(
        self, image_bgr: np.ndarray, point: tuple[float, float], sides: Sequence[float]
    ) -> Face | None:
        """The surest face whose box holds ``point``, looking at square windows of these
        sides (pixels) centred on it; None when no box holds it. For telling a small blob
        (a palm) from a face, where the whole-frame passes of ``detect`` would see it far
        too small."""
        h, w = image_bgr.shape[:2]
        x, y = point
        best: Face | None = None
        for side in sides:
            x0, y0 = max(0, round(x - side / 2)), max(0, round(y - side / 2))
            x1, y1 = min(w, round(x + side / 2)), min(h, round(y + side / 2))
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            boxes, scores = self._detect_window(image_bgr, (x0, y0, x1, y1), threshold=0.0)
            holds = np.flatnonzero(
                (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
            )
            if holds.size:
                i = holds[np.argmax(scores[holds])]
                if best is None or scores[i] > best.score:
                    best = Face(Box(*map(float, boxes[i])), float(scores[i]))
        return best

    def _detect_window(
        self, image_bgr: np.ndarray, window: tuple[int, int, int, int], *, threshold: float
    ) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = window
        crop = image_bgr[y0:y1, x0:x1]
        ch, cw = crop.shape[:2]
        # Letterboxed into the middle of the square input, as MediaPipe does
        # (keep_aspect_ratio), with the border at zero in the model's -1..1 range.
        scale = self.size / max(cw, ch)
        rw, rh = max(1, round(cw * scale)), max(1, round(ch * scale))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(crop, (rw, rh), interpolation=interp)
        u0, v0 = (self.size - rw) // 2, (self.size - rh) // 2
        tensor = np.zeros((self.size, self.size, 3), dtype=np.float32)
        tensor[v0 : v0 + rh, u0 : u0 + rw] = resized[:, :, ::-1] * np.float32(2 / 255) - 1
        self._net.set_tensor(self._input, tensor[None])
        self._net.invoke()
        logits = self._net.get_tensor(self._scores).reshape(-1)
        logits = np.clip(logits, -_SCORE_CLIP, _SCORE_CLIP)
        scores = 1 / (1 + np.exp(-logits))
        keep = scores >= threshold
        raw = self._net.get_tensor(self._boxes).reshape(-1, _COORDS)[keep, :4]
        anchors = _ANCHORS[keep]
        # Offsets and sizes are in input pixels; anchors are unit-sized (fixed_anchor_size).
        centre = raw[:, :2] / self.size + anchors
        size = raw[:, 2:4] / self.size
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) * self.size
        boxes -= np.array([u0, v0, u0, v0], dtype=np.float32)
        boxes = boxes / scale + np.array([x0, y0, x0, y0], dtype=np.float32)
        return boxes.astype(np.float32), scores[keep].astype(np.float32)

    def close(self) -> None:
        self._net = None

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, *, iou_threshold: float = _NMS_IOU
) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted non-maximum suppression: each cluster of boxes overlapping
    the best remaining one becomes their score-weighted mean, with the best score.

    Averaging steadies the box of a face seen by several anchors and tiles, where plain
    NMS would keep whichever box happened to score highest.
    """
    order = np.argsort(-scores, kind="stable")
    boxes = boxes[order]
    scores = scores[order]
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0, None
    )
    alive = np.ones(len(boxes), dtype=bool)
    out: list[tuple[np.ndarray, float]] = []
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        iw = np.clip(
            np.minimum(boxes[i, 2], boxes[:, 2]) - np.maximum(boxes[i, 0], boxes[:, 0]), 0, None
        )
        ih = np.clip(
            np.minimum(boxes[i, 3], boxes[:, 3]) - np.maximum(boxes[i, 1], boxes[:, 1]), 0, None
        )
        inter = iw * ih
        iou = inter / (areas[i] + areas - inter + 1e-9)
        cluster = alive & (iou > iou_threshold)
        cluster[i] = True
        weights = scores[cluster]
        merged = (boxes[cluster] * weights[:, None]).sum(axis=0) / weights.sum()
        out.append((merged, float(scores[i])))
        alive &= ~cluster
    return out

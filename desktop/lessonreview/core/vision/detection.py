"""Person detection with YOLOX-Nano (onnxruntime), on the whole frame and on tiles.

A classroom camera sees dozens of students, those at the back only a small fraction of
the frame's height. Shrunk to the detector's square input they are a few pixels and
mostly missed, so the back of the room is also cut into overlapping tiles, each run
at a larger scale, and all boxes are merged with non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from lessonreview.core.domain import Box, Detection
from lessonreview.core.vision.model_errors import ModelFileError

INPUT_SIZE = 416
PAD_VALUE = 114
STRIDES = (8, 16, 32)
PERSON_CLASS = 0
# Candidates scoring at least this, below the detection threshold, are blurred but not
# analysed: on the first 40 real frames they hold 41 of the 58 labelled heads that the
# detection misses, for 6.6 extra boxes per frame.
FAINT_THRESHOLD = 0.05
N_OUTPUTS = 85  # cx, cy, w, h, objectness, 80 COCO class scores


@dataclass(frozen=True)
class TileLayout:
    """Overlapping tiles over a region of the frame, in addition to the whole-frame pass.

    ``region`` is (x0, y0, x1, y1) as fractions of the frame. It covers the back rows,
    where people are small; near the camera the whole-frame pass already finds people
    and tiles would only cut them in pieces.
    """

    cols: int = 3
    rows: int = 2
    overlap: float = 0.3  # fraction of a tile shared with its neighbour
    region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 0.7)

    def windows(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """Tile rectangles (x0, y0, x1, y1) in pixels for a frame of this size."""
        rx0, ry0 = self.region[0] * width, self.region[1] * height
        rw, rh = (
            (self.region[2] - self.region[0]) * width,
            (self.region[3] - self.region[1]) * height,
        )
        # n tiles of size s with overlap o*s cover: s * (n - (n - 1) * o) = extent
        tw = rw / (self.cols - (self.cols - 1) * self.overlap)
        th = rh / (self.rows - (self.rows - 1) * self.overlap)
        out = []
        for r in range(self.rows):
            for c in range(self.cols):
                x0 = rx0 + c * tw * (1 - self.overlap)
                y0 = ry0 + r * th * (1 - self.overlap)
                out.append((round(x0), round(y0), round(x0 + tw), round(y0 + th)))
        return out


# For a ceiling camera at the front of the room, where the back rows fill the upper
# part of the picture. More tiles find more of the small people at the back and cost
# time in proportion; this layout is where a finer grid stops paying for itself (each
# extra box also costs a pose crop). bench/eval_recall.py prints recall and time for a
# layout on the real classroom frames.
CLASSROOM_TILES = TileLayout()


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Cell offsets and strides of the 3549 predictions, in the order the model emits them."""
    cells, strides = [], []
    for s in STRIDES:
        n = INPUT_SIZE // s
        ys, xs = np.mgrid[0:n, 0:n]
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full(n * n, s))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


_CELLS, _STRIDES = _grid()


def nms(
    boxes: np.ndarray, scores: np.ndarray, *, iou_threshold: float, nested: float = 0.8
) -> list[int]:
    """Indices kept by greedy non-maximum suppression, highest score first.

    Besides the usual IoU test, a box is also suppressed when it lies mostly inside
    a better box and starts at about the same height: the same person seen whole in
    one window and only head-and-shoulders in another. A person sitting behind
    someone starts higher up, and one box holding two neighbours is much wider than
    either, so those are kept.
    """
    order = np.argsort(-scores, kind="stable")
    x0, y0, x1, y1 = boxes.T
    areas = (x1 - x0) * (y1 - y0)
    heights = y1 - y0
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]), 0, None)
        ih = np.clip(np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]), 0, None)
        inter = iw * ih
        iou = inter / (areas[i] + areas[rest] - inter + 1e-9)
        inside = inter / (np.minimum(areas[i], areas[rest]) + 1e-9)
        same_top = np.abs(y0[rest] - y0[i]) < 0.25 * np.minimum(heights[i], heights[rest])
        w_i, w_rest = x1[i] - x0[i], x1[rest] - x0[rest]
        same_width = np.minimum(w_i, w_rest) > 0.6 * np.maximum(w_i, w_rest)
        order = rest[(iou <= iou_threshold) & ~((inside >= nested) & same_top & same_width)]
    return keep


class PersonDetector:
    """Finds people in a BGR frame. One instance per thread (an onnxruntime session each).

    The score threshold is low for a COCO detector, because small students at the back
    score low: raising it loses them faster than it removes boxes holding nobody (some of
    which are real people the labels skip); ``bench/eval_recall.py --threshold`` shows
    the trade. A reviewer can reject a false alarm; a student never found cannot be
    reviewed.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        score_threshold: float = 0.2,
        tiling: TileLayout | None = CLASSROOM_TILES,
        threads: int = 1,
        nms_iou: float = 0.5,
        denoise: bool = True,
    ) -> None:
        model_path = Path(model_path)
        if not model_path.is_file():
            raise ModelFileError.missing(model_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        # onnxruntime raises its own pybind exception classes (InvalidProtobuf, Fail, ...)
        # that share no public base class below Exception.
        except Exception as exc:
            raise ModelFileError.damaged(model_path, str(exc).splitlines()[0][:200]) from exc
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if (
            len(inputs) != 1
            or list(inputs[0].shape) != [1, 3, INPUT_SIZE, INPUT_SIZE]
            or list(outputs[0].shape)[1:] != [len(_CELLS), N_OUTPUTS]
        ):
            raise ModelFileError.damaged(model_path, "not a YOLOX-Nano 416x416 COCO model")
        self._input_name = inputs[0].name
        self.score_threshold = score_threshold
        self.tiling = tiling
        self.nms_iou = nms_iou
        self.denoise = denoise

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """People in the frame, boxes in frame pixels, highest score first."""
        return self.detect_with_faint(image_bgr, faint_threshold=None)[0]

    def detect_with_faint(
        self, image_bgr: np.ndarray, *, faint_threshold: float | None = FAINT_THRESHOLD
    ) -> tuple[list[Detection], list[Box]]:
        """People (as ``detect``), and the faint candidates scoring between
        ``faint_threshold`` and the detector's threshold that overlap none of them.

        The faint ones are too unsure to analyse but sure enough to blur: the privacy
        view hides their heads too. The people found are the same as without them.
        """
        low = (
            self.score_threshold
            if faint_threshold is None
            else min(faint_threshold, self.score_threshold)
        )
        if self.denoise:
            # CCTV frames carry speckle (impulse) noise that breaks up small, dark
            # people at the back; a small median filter removes it cheaply, and finds
            # more of them, most on the noisiest frames (bench/eval_recall.py).
            image_bgr = cv2.medianBlur(image_bgr, 3)
        h, w = image_bgr.shape[:2]
        windows = [(0, 0, w, h)]
        if self.tiling is not None:
            windows += self.tiling.windows(w, h)
        boxes, scores, cut = [], [], []
        for win in windows:
            b, s = self._detect_window(image_bgr, win, threshold=low)
            boxes.append(b)
            scores.append(s)
            cut.append(_touches_inner_edge(b, win, w, h))
        all_boxes = np.concatenate(boxes)
        all_scores = np.concatenate(scores)
        all_cut = np.concatenate(cut)
        strong = all_scores >= self.score_threshold
        people = self._merge(all_boxes[strong], all_scores[strong], all_cut[strong])
        if faint_threshold is None:
            return people, []
        faint = [
            d.box
            for d in self._merge(all_boxes[~strong], all_scores[~strong], all_cut[~strong])
            if not any(_overlaps(d.box, p.box) for p in people)
        ]
        return people, faint

    def _merge(self, boxes: np.ndarray, scores: np.ndarray, cut: np.ndarray) -> list[Detection]:
        keep = _drop_cut_boxes(boxes, cut)
        boxes, scores = boxes[keep], scores[keep]
        kept = nms(boxes, scores, iou_threshold=self.nms_iou)
        return [
            Detection(Box(*map(float, boxes[i])), float(scores[i]))
            for i in kept  # already in descending score order
        ]

    def _detect_window(
        self, image_bgr: np.ndarray, window: tuple[int, int, int, int], *, threshold: float
    ) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = window
        crop = image_bgr[y0:y1, x0:x1]
        scale = min(INPUT_SIZE / crop.shape[1], INPUT_SIZE / crop.shape[0])
        rw, rh = round(crop.shape[1] * scale), round(crop.shape[0] * scale)
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        # YOLOX letterboxes into the top-left corner; the rest is the training pad grey.
        canvas = np.full((INPUT_SIZE, INPUT_SIZE, 3), PAD_VALUE, dtype=np.uint8)
        canvas[:rh, :rw] = cv2.resize(crop, (rw, rh), interpolation=interp)
        blob = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        pred = self._session.run(None, {self._input_name: blob})[0][0]
        # The exported model already applies the sigmoid to objectness and classes.
        score = pred[:, 4] * pred[:, 5 + PERSON_CLASS]
        # Class-aware NMS below only ever sees one class: a box is a person only when
        # person is its best class, so a chair or a bag does not turn into one.
        best = np.argmax(pred[:, 5:], axis=1) == PERSON_CLASS
        sel = (score >= threshold) & best
        p, s = pred[sel], score[sel]
        centre = (p[:, :2] + _CELLS[sel]) * _STRIDES[sel, None]
        size = np.exp(p[:, 2:4]) * _STRIDES[sel, None]
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) / scale
        boxes += np.array([x0, y0, x0, y0], dtype=np.float32)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], y0, y1)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], x0, x1)
        # A damaged model can give NaN or infinite numbers: never a person (checked before
        # the clipping above turns an infinite box into the whole window).
        finite = np.isfinite(centre).all(axis=1) & np.isfinite(size).all(axis=1) & np.isfinite(s)
        ok = finite & (boxes[:, 2] - boxes[:, 0] > 2) & (boxes[:, 3] - boxes[:, 1] > 2)
        return boxes[ok], s[ok]


def _overlaps(a: Box, b: Box) -> bool:
    """Two boxes of the same person: they overlap, or one lies mostly inside the other."""
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = ix * iy
    return a.iou(b) > 0.3 or inter > 0.6 * min(a.area, b.area)


def _touches_inner_edge(
    boxes: np.ndarray, window: tuple[int, int, int, int], width: int, height: int
) -> np.ndarray:
    """Whether each box touches a tile edge that is not also the frame edge."""
    x0, y0, x1, y1 = window
    margin = 2.0
    cut = np.zeros(len(boxes), dtype=bool)
    if x0 > 0:
        cut |= boxes[:, 0] <= x0 + margin
    if y0 > 0:
        cut |= boxes[:, 1] <= y0 + margin
    if x1 < width:
        cut |= boxes[:, 2] >= x1 - margin
    if y1 < height:
        cut |= boxes[:, 3] >= y1 - margin
    return cut


def _drop_cut_boxes(boxes: np.ndarray, cut: np.ndarray, *, covered: float = 0.7) -> np.ndarray:
    """Indices to keep: a box cut by a tile edge goes when a bigger box covers most of it.

    The piece of a person cut by a tile edge overlaps the whole person's box too little
    for IoU-based NMS to remove it, but it lies almost entirely inside that box.
    """
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    for i in range(len(boxes)):
        if cut[i]:
            iw = np.clip(
                np.minimum(boxes[i, 2], boxes[:, 2]) - np.maximum(boxes[i, 0], boxes[:, 0]), 0, None
            )
            ih = np.clip(
                np.minimum(boxes[i, 3], boxes[:, 3]) - np.maximum(boxes[i, 1], boxes[:, 1]), 0, None
            )
            inside = iw * ih / max(areas[i], 1e-9)
            bigger = areas > areas[i] * 1.2
            if np.any(bigger & (inside >= covered)):
                continue
        keep.append(i)
    return np.array(keep, dtype=np.int64)

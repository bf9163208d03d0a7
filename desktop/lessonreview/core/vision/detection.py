"""Person detection with YOLOX-Nano (onnxruntime), on the whole frame and on tiles.

A classroom camera sees dozens of students, those at the back only a small fraction of
the frame's height. Shrunk to the detector's square input they are a few pixels and
mostly missed, so the back of the room is also cut into overlapping tiles, each run
at a larger scale, and all boxes are merged with non-maximum suppression. A person
taller than the tiles' overlap can be cut by a tile edge; the pieces are put back
together into one box before anyone looks at the pose (``join_cut_boxes``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from lessonreview.core.domain import Box, Detection
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.core.vision.onnx_graph import free_image_size

INPUT_SIZE = 416
PAD_VALUE = 114
STRIDES = (8, 16, 32)
PERSON_CLASS = 0
# Candidates scoring at least this, below the detection threshold, are blurred but not
# analysed: they hold most of the labelled heads that the detection misses, for a few
# extra boxes per frame (bench/eval_face_blur.py measures what they add to the blur).
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


@cache
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell offsets and strides of the predictions for an input of this size, in the
    order the model emits them (3549 for the square input)."""
    cells, strides = [], []
    for s in STRIDES:
        ys, xs = np.mgrid[0 : height // s, 0 : width // s]
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full(xs.size, s))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def _padded(n: int) -> int:
    """``n`` rounded up to a multiple of the largest stride, which the model's input must be."""
    return -(-n // STRIDES[-1]) * STRIDES[-1]


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
        free_size: bool = False,
    ) -> None:
        model_path = Path(model_path)
        if not model_path.is_file():
            raise ModelFileError.missing(model_path)
        model: str | bytes = str(model_path)
        # Square: every window is letterboxed into the 416x416 input the model was
        # exported for. Free: the window keeps its own shape (the scale is the same), padded
        # only up to a multiple of the largest stride; a wide tile then costs the model
        # well under the square (bench/eval_recall.py --free compares the two). Off: the
        # hand step then finds fewer raised hands (its windows move with the boxes;
        # docs/measurements.md, Speed).
        file_dims: tuple[int, ...] | None = None
        if free_size:
            try:
                model, file_dims = free_image_size(model_path.read_bytes())
            except ValueError:
                pass  # not a model this can edit: onnxruntime below says what is wrong
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                model, sess_options=options, providers=["CPUExecutionProvider"]
            )
        # onnxruntime raises its own pybind exception classes (InvalidProtobuf, Fail, ...)
        # that share no public base class below Exception.
        except Exception as exc:
            raise ModelFileError.damaged(model_path, str(exc).splitlines()[0][:200]) from exc
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        square = [1, 3, INPUT_SIZE, INPUT_SIZE]
        if (
            len(inputs) != 1
            or list(file_dims or inputs[0].shape) != square
            or list(outputs[0].shape)[2:] != [N_OUTPUTS]
            or (file_dims is None and list(outputs[0].shape)[1] != len(_grid(*square[2:])[0]))
        ):
            raise ModelFileError.damaged(model_path, "not a YOLOX-Nano 416x416 COCO model")
        self._input_name = inputs[0].name
        self.free_size = file_dims is not None
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
        boxes, scores, at, near = [], [], [], []
        for win in windows:
            b, s = self._detect_window(image_bgr, win, threshold=low)
            boxes.append(b)
            scores.append(s)
            at.append(_cut_sides(b, win, w, h, margin=2.0))
            margin = _EDGE_MARGIN * max(win[2] - win[0], win[3] - win[1])
            near.append(_cut_sides(b, win, w, h, margin=max(2.0, margin)))
        tile = windows[-1]
        tile_size = (float(tile[2] - tile[0]), float(tile[3] - tile[1]))
        all_boxes = np.concatenate(boxes)
        all_scores = np.concatenate(scores)
        all_at, all_near = np.concatenate(at), np.concatenate(near)
        strong = all_scores >= self.score_threshold
        people = self._merge(all_boxes, all_scores, all_at, all_near, strong, tile_size=tile_size)
        if faint_threshold is None:
            return people, []
        candidates = self._merge(
            all_boxes, all_scores, all_at, all_near, ~strong, tile_size=tile_size
        )
        doubles = _overlaps(_corners(d.box for d in candidates), _corners(p.box for p in people))
        return people, [d.box for d, double in zip(candidates, doubles, strict=True) if not double]

    def _merge(
        self,
        boxes: np.ndarray,
        scores: np.ndarray,
        at: np.ndarray,
        near: np.ndarray,
        chosen: np.ndarray,
        *,
        tile_size: tuple[float, float],
    ) -> list[Detection]:
        boxes, scores = join_cut_boxes(
            boxes[chosen], scores[chosen], at[chosen], near[chosen], tile_size=tile_size
        )
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
        ih, iw = (_padded(rh), _padded(rw)) if self.free_size else (INPUT_SIZE, INPUT_SIZE)
        # YOLOX letterboxes into the top-left corner; the rest is the training pad grey.
        canvas = np.full((ih, iw, 3), PAD_VALUE, dtype=np.uint8)
        canvas[:rh, :rw] = cv2.resize(crop, (rw, rh), interpolation=interp)
        blob = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        pred = self._session.run(None, {self._input_name: blob})[0][0]
        cells, strides = _grid(ih, iw)
        # The exported model already applies the sigmoid to objectness and classes.
        score = pred[:, 4] * pred[:, 5 + PERSON_CLASS]
        # Class-aware NMS below only ever sees one class: a box is a person only when
        # person is its best class, so a chair or a bag does not turn into one. (Asked
        # only of the few predictions scoring enough.)
        sel = np.flatnonzero(score >= threshold)
        sel = sel[np.argmax(pred[sel, 5:], axis=1) == PERSON_CLASS]
        p, s = pred[sel], score[sel]
        centre = (p[:, :2] + cells[sel]) * strides[sel, None]
        size = np.exp(p[:, 2:4]) * strides[sel, None]
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) / scale
        boxes += np.array([x0, y0, x0, y0], dtype=np.float32)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], y0, y1)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], x0, x1)
        # A damaged model can give NaN or infinite numbers: never a person (checked before
        # the clipping above turns an infinite box into the whole window).
        finite = np.isfinite(centre).all(axis=1) & np.isfinite(size).all(axis=1) & np.isfinite(s)
        ok = finite & (boxes[:, 2] - boxes[:, 0] > 2) & (boxes[:, 3] - boxes[:, 1] > 2)
        return boxes[ok], s[ok]


def _corners(boxes: Iterable[Box]) -> np.ndarray:
    return np.array([(b.x0, b.y0, b.x1, b.y1) for b in boxes], dtype=np.float64).reshape(-1, 4)


def _overlaps(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Per box (rows of x0, y0, x1, y1): whether it and one of ``others`` may be boxes of
    the same person: they overlap (IoU as ``Box.iou``), or one lies mostly inside the other."""
    a, b = boxes[:, None, :], others[None, :, :]
    ix = np.maximum(0.0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    iy = np.maximum(0.0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    inter = ix * iy
    area_a = np.maximum(0.0, a[..., 2] - a[..., 0]) * np.maximum(0.0, a[..., 3] - a[..., 1])
    area_b = np.maximum(0.0, b[..., 2] - b[..., 0]) * np.maximum(0.0, b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    double = (iou > 0.3) | (inter > 0.6 * np.minimum(area_a, area_b))
    return double.any(axis=1)


# Sides of a box, as columns of the cut flags.
_LEFT, _TOP, _RIGHT, _BOTTOM = range(4)
# A box ending this close to a tile edge (share of the tile's longer side: a few of the
# detector's input pixels) may have been cut by it: the detector's box for a person
# running out of the tile stops at the edge, give or take its own jitter.
_EDGE_MARGIN = 0.02
# A piece is extended or joined only into a person at least this tall (or wide, across
# a vertical seam) for a tile. Tiles overlap, so anyone smaller than the overlap lies
# whole in some tile; a seated student at the back is far smaller than this and is best
# boxed by the tile alone, while a standing body near the camera is this big.
_TALL_FOR_TILE = 0.6
# Boxes of one body cut by a seam differ in width (across the seam) by at most this.
_SAME_WIDTH = 1.4


def _cut_sides(
    boxes: np.ndarray, window: tuple[int, int, int, int], width: int, height: int, *, margin: float
) -> np.ndarray:
    """Per box and side (left, top, right, bottom): whether that side lies within
    ``margin`` pixels of a tile edge that is not also the frame edge."""
    x0, y0, x1, y1 = window
    cut = np.zeros((len(boxes), 4), dtype=bool)
    if x0 > 0:
        cut[:, _LEFT] = boxes[:, 0] <= x0 + margin
    if y0 > 0:
        cut[:, _TOP] = boxes[:, 1] <= y0 + margin
    if x1 < width:
        cut[:, _RIGHT] = boxes[:, 2] >= x1 - margin
    if y1 < height:
        cut[:, _BOTTOM] = boxes[:, 3] >= y1 - margin
    return cut


def join_cut_boxes(
    boxes: np.ndarray,
    scores: np.ndarray,
    at_edge: np.ndarray,
    near_edge: np.ndarray,
    *,
    tile_size: tuple[float, float],
    covered: float = 0.7,
) -> tuple[np.ndarray, np.ndarray]:
    """The boxes with the pieces of people cut by tile edges removed, extended or joined.

    ``at_edge`` and ``near_edge`` flag, per box and side, a side on a tile edge and one
    within ``_EDGE_MARGIN`` of it. A tall person crossing a tile seam comes out of the
    tiles as pieces, neither the whole body:

    - A piece on a tile edge that a bigger box covers almost entirely (``covered``)
      goes: another window saw that person whole.
    - A piece near a tile edge that a bigger box, about as wide and tall for a tile
      (``_TALL_FOR_TILE``), covers by half and carries on past that edge, is extended
      to where that box ends on that side. Another side of the piece may lie near an
      edge without being cut (a standing person's flank along the next tile's edge):
      the bigger box then ends level with it there. The piece keeps the tile's sharper
      top and sides (where the head is), the other window adds the rest of the body;
      NMS then drops the copy.
    - Two pieces left near the same seam from either side, overlapping across it,
      about as wide, and together tall for a tile, become one box.
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
    scores = np.asarray(scores, dtype=np.float32).reshape(-1).copy()
    near = np.asarray(near_edge, dtype=bool).reshape(-1, 4)
    at = np.asarray(at_edge, dtype=bool).reshape(-1, 4)
    tall = (_TALL_FOR_TILE * tile_size[0], _TALL_FOR_TILE * tile_size[1])
    boxes, scores, near = _drop_or_extend(boxes, scores, at, near, tall=tall, covered=covered)
    return _join_pieces(boxes, scores, near, tall=tall)


def _drop_or_extend(
    boxes: np.ndarray,
    scores: np.ndarray,
    at: np.ndarray,
    near: np.ndarray,
    *,
    tall: tuple[float, float],
    covered: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first two steps of ``join_cut_boxes``: the pieces another window saw whole
    dropped, those a taller box carries on past extended (their cut flags cleared)."""
    near = near.copy()
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    areas = widths * heights
    out = boxes.copy()
    keep = np.ones(len(boxes), dtype=bool)
    # Each piece near an edge (a row below) against every box (a column): the pieces do
    # not depend on each other, so all of them are judged at once.
    cut = np.flatnonzero(near.any(axis=1))
    if cut.size:
        b = boxes[cut, None, :]
        iw = np.minimum(b[..., 2], boxes[:, 2]) - np.maximum(b[..., 0], boxes[:, 0])
        ih = np.minimum(b[..., 3], boxes[:, 3]) - np.maximum(b[..., 1], boxes[:, 1])
        inside = np.clip(iw, 0, None) * np.clip(ih, 0, None) / np.maximum(areas[cut], 1e-9)[:, None]
        bigger = areas > areas[cut, None] * 1.2
        gone = at[cut].any(axis=1) & np.any(bigger & (inside >= covered), axis=1)
        keep[cut[gone]] = False
        cut, b, inside, bigger = cut[~gone], b[~gone], inside[~gone], bigger[~gone]
        side = near[cut].T[:, :, None]  # (side, piece, 1)
        w, h = widths[cut, None], heights[cut, None]
        # Boxes that go on past a side of this piece near an edge, by a tenth of it, and
        # past or level with (within a tenth) each other side near an edge: a person's
        # side can lie near a tile edge without being cut by it.
        goes = (
            side[_LEFT] & (boxes[:, 0] <= b[..., 0] - 0.1 * w) & (widths >= tall[0]),
            side[_TOP] & (boxes[:, 1] <= b[..., 1] - 0.1 * h) & (heights >= tall[1]),
            side[_RIGHT] & (boxes[:, 2] >= b[..., 2] + 0.1 * w) & (widths >= tall[0]),
            side[_BOTTOM] & (boxes[:, 3] >= b[..., 3] + 0.1 * h) & (heights >= tall[1]),
        )
        level = (
            np.abs(boxes[:, 0] - b[..., 0]) <= 0.1 * w,
            np.abs(boxes[:, 1] - b[..., 1]) <= 0.1 * h,
            np.abs(boxes[:, 2] - b[..., 2]) <= 0.1 * w,
            np.abs(boxes[:, 3] - b[..., 3]) <= 0.1 * h,
        )
        past = bigger & (inside >= 0.5) & np.logical_or.reduce(goes)
        for k in (_LEFT, _TOP, _RIGHT, _BOTTOM):
            past &= ~side[k] | goes[k] | level[k]
        # ...and about as wide across the seam: a much wider box holds someone else too
        # (two students side by side near the camera), and the tile's piece is the
        # better box for this one.
        past &= ~(goes[_TOP] | goes[_BOTTOM]) | (widths <= _SAME_WIDTH * w)
        past &= ~(goes[_LEFT] | goes[_RIGHT]) | (heights <= _SAME_WIDTH * h)
        extended = past.any(axis=1)
        j = np.argmax(np.where(past, inside * scores, -1.0), axis=1)[extended]
        i = cut[extended]
        sides = near[i]
        out[i] = np.where(sides, boxes[j], out[i])
        near[i] = False
    return out[keep], scores[keep], near[keep]


def _join_pieces(
    boxes: np.ndarray, scores: np.ndarray, near: np.ndarray, *, tall: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The last step of ``join_cut_boxes``: pieces either side of a seam joined, the
    surest piece first (it takes the others in, so the order matters)."""
    alive = np.ones(len(boxes), dtype=bool)
    order = np.argsort(-scores, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    for i in order:
        if not alive[i] or not near[i].any():
            continue
        # Only pieces cut on the side facing this one and overlapping it can join it.
        facing = (
            (near[i, _BOTTOM] & near[:, _TOP])
            | (near[i, _TOP] & near[:, _BOTTOM])
            | (near[i, _RIGHT] & near[:, _LEFT])
            | (near[i, _LEFT] & near[:, _RIGHT])
        )
        overlap = (np.minimum(boxes[i, 2], boxes[:, 2]) > np.maximum(boxes[i, 0], boxes[:, 0])) & (
            np.minimum(boxes[i, 3], boxes[:, 3]) > np.maximum(boxes[i, 1], boxes[:, 1])
        )
        candidates = np.flatnonzero(alive & facing & overlap)
        for j in candidates[np.argsort(rank[candidates])]:
            if j == i or not alive[j]:
                continue
            across = _seam_between(boxes[i], near[i], boxes[j], near[j])
            if across is None:
                continue
            union = np.concatenate(
                [np.minimum(boxes[i, :2], boxes[j, :2]), np.maximum(boxes[i, 2:], boxes[j, 2:])]
            )
            # Across a horizontal seam the body must be tall, across a vertical one wide.
            along = 1 - across
            if union[along + 2] - union[along] < tall[along]:
                continue
            boxes[i] = union
            scores[i] = max(scores[i], scores[j])
            near[i] = (near[i] | near[j]) & ~_facing(near[i], near[j])
            alive[j] = False
    return boxes[alive], scores[alive]


def _facing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cut sides of two joined pieces that faced each other across the seam."""
    out = np.zeros(4, dtype=bool)
    for side, opposite in ((_BOTTOM, _TOP), (_TOP, _BOTTOM), (_RIGHT, _LEFT), (_LEFT, _RIGHT)):
        if a[side] and b[opposite]:
            out[side] = out[opposite] = True
    return out


def _seam_between(
    a: np.ndarray, cut_a: np.ndarray, b: np.ndarray, cut_b: np.ndarray, *, share: float = 0.6
) -> int | None:
    """Whether two pieces are one body cut by a seam between them: 0 when across a
    horizontal seam (one above the other), 1 across a vertical one, None when not.

    Each is cut on the side facing the other, they overlap in the tiles' shared band,
    and they share at least ``share`` of the narrower one's extent along the seam while
    being about as wide (``share``) as each other.
    """
    if (cut_a[_BOTTOM] and cut_b[_TOP] and a[1] < b[1] < a[3]) or (
        cut_a[_TOP] and cut_b[_BOTTOM] and b[1] < a[1] < b[3]
    ):
        axis = 0  # the seam runs along x: compare extents in x
    elif (cut_a[_RIGHT] and cut_b[_LEFT] and a[0] < b[0] < a[2]) or (
        cut_a[_LEFT] and cut_b[_RIGHT] and b[0] < a[0] < b[2]
    ):
        axis = 1
    else:
        return None
    shared = min(a[axis + 2], b[axis + 2]) - max(a[axis], b[axis])
    narrow, wide = sorted((float(a[axis + 2] - a[axis]), float(b[axis + 2] - b[axis])))
    if shared >= share * narrow and narrow >= share * wide:
        return 1 - axis
    return None

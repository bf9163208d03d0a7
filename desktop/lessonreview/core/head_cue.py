"""Head-crop cue: does the top of the head face the camera?

From a ceiling camera a student looking down over the desk shows the camera the top
of their head (hair), and one looking up shows their face. On 40-60 px heads the pose
keypoints show that tilt only weakly, so this looks at the pixels instead: a small
logistic regression on HOG and brightness features of the head region, which is taken
from the person's box alone (so it works when the pose failed too).

The weights (a few KB) are in ``lessonreview/resources/head_cue.npz``, made by
``bench/train_head_cue.py`` from the "cctv-accurate" frames (Roboflow Universe,
workspace pranavs-workspace-8k4n7, CC BY 4.0). The score is a probability-like number
in 0..1; ``posture`` turns it into a named cue with thresholds of its own. It costs
under 0.1 ms per person (0.3 ms for a person filling a third of the frame).

Measured (``bench/eval_head_down.py``, agreement of "reading, writing or head down" with
the `down` / `up` head labels, balanced accuracy): with the keypoint cues alone 0.62;
with this cue trained on one of the two lecture rooms and tested on the other, 0.70 over
both rooms (0.70 and 0.73 per room; 0.67 when the thresholds too are chosen on the
training room only). On all frames, which it was trained on, 0.76: not a fair figure.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import HEAD_IN_BOX, Box

WEIGHTS = Path(__file__).resolve().parents[1] / "resources" / "head_cue.npz"

# Centred where heads sit in a person's box (domain.HEAD_IN_BOX), in box widths; the
# region is a little larger than the head, so a misplaced box still holds it.
_CENTRE = HEAD_IN_BOX[:2]
_SIZE = (0.75, 0.95)
# The region is resampled to this size (width, height) before the features.
_PATCH = (24, 32)
# One descriptor per thread: analysis workers score people in parallel.
_local = threading.local()


def _hog() -> cv2.HOGDescriptor:
    if not hasattr(_local, "hog"):
        _local.hog = cv2.HOGDescriptor(_PATCH, (8, 8), (8, 8), (8, 8), 9)
    return _local.hog


def head_region(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The head region of a person's box as pixel bounds (x0, y0, x1, y1) inside an
    image of ``width`` x ``height``; None when too little of it is in the image."""
    cx = box.x0 + _CENTRE[0] * box.width
    cy = box.y0 + _CENTRE[1] * box.width
    w, h = _SIZE[0] * box.width, _SIZE[1] * box.width
    x0, y0 = max(0, round(cx - w / 2)), max(0, round(cy - h / 2))
    x1, y1 = min(width, round(cx + w / 2)), min(height, round(cy + h / 2))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return x0, y0, x1, y1


def head_features(image: np.ndarray, box: Box) -> np.ndarray | None:
    """The feature vector of one person's head region (BGR image, 3 channels), or None
    when the region is off the image. Brightness is normalised per region: rooms differ."""
    region = head_region(box, image.shape[1], image.shape[0])
    if region is None:
        return None
    x0, y0, x1, y1 = region
    crop = image[y0:y1, x0:x1]
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    patch = cv2.resize(gray, _PATCH, interpolation=cv2.INTER_AREA).astype(np.float32)
    patch = (patch - patch.mean()) / (patch.std() + 8.0)
    norm = np.clip(patch * 40.0 + 128.0, 0, 255).astype(np.uint8)
    hog = _hog().compute(norm).ravel()
    # Brightness on a 3x4 grid: hair is darker than a face, on any skin...
    grid = cv2.resize(patch, (3, 4), interpolation=cv2.INTER_AREA).ravel()
    # ...and colour on the same grid: red-difference relative to the region's own mean
    # (skin against hair), blue-difference as it is.
    small = cv2.resize(crop, _PATCH, interpolation=cv2.INTER_AREA)
    ycc = cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    cr = ycc[:, :, 1] - ycc[:, :, 1].mean()
    cr_grid = cv2.resize(cr, (3, 4), interpolation=cv2.INTER_AREA).ravel() / 10.0
    cb_grid = cv2.resize(ycc[:, :, 2], (3, 4), interpolation=cv2.INTER_AREA).ravel() / 10.0
    return np.concatenate([hog, grid, cr_grid, cb_grid]).astype(np.float32)


@dataclass(frozen=True)
class HeadCueModel:
    """A logistic regression on standardised head features."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> HeadCueModel:
        with np.load(path) as data:
            return cls(
                mean=data["mean"].astype(np.float32),
                scale=data["scale"].astype(np.float32),
                weights=data["weights"].astype(np.float32),
                bias=float(data["bias"]),
            )

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            mean=self.mean,
            scale=self.scale,
            weights=self.weights,
            bias=np.float32(self.bias),
        )

    def score_features(self, feats: np.ndarray) -> np.ndarray:
        """Head-down scores (0..1) of feature rows."""
        z = ((feats - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))

    def score(self, image: np.ndarray, box: Box) -> float | None:
        """How much the person's head region looks like the top of a head (0..1),
        None when the region is off the image."""
        feats = head_features(image, box)
        if feats is None:
            return None
        return round(float(self.score_features(feats[None, :])[0]), 3)


@lru_cache(maxsize=1)
def default_model() -> HeadCueModel | None:
    """The shipped model, or None when its file is missing (the cue is then unused)."""
    if not WEIGHTS.is_file():
        return None
    return HeadCueModel.load(WEIGHTS)

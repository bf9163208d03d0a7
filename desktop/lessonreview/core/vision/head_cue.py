"""Head-crop cue: does the top of the head face the camera?

From a ceiling camera a student looking down over the desk shows the camera the top
of their head (hair), and one looking up shows their face. On the small heads at the
back the pose keypoints show that tilt only weakly, so this looks at the pixels instead, from the
person's box alone (so it works when the pose failed too), in two steps:

1. **Find the head.** Where a head sits in a person's box varies (a raised arm, a
   neighbour's shoulder in the box, a box cut at the desk), and a window a quarter of a
   head off the head loses much of what tells up from down: the cue agrees with the
   labels clearly more often centred on the labelled head than at the head's usual spot
   in the box. So a grid of windows around the usual spot
   (``domain.HEAD_IN_BOX``) is scored by a small "is this a head, centred?" model, with a
   prior that pulls towards the usual spot.
2. **Up or down.** A second model scores each window for "top of the head", and the
   person's score is the average over the windows weighted by how head-like each is.

Both are logistic regressions on the same features per window (histograms of gradient
orientation on a grid of cells, brightness and skin-against-hair colour on the same
grid), computed for all windows of a person at once from one resampled region
(integral images), so the cue costs little next to the pose.

The weights are in ``lessonreview/resources/head_cue.npz``, made by
``bench/train_head_cue.py`` from the "cctv-accurate" frames (Roboflow Universe,
workspace pranavs-workspace-8k4n7, CC BY 4.0). The score is a probability-like number
in 0..1; ``posture`` turns it into a named cue with thresholds of its own.
``bench/train_head_cue.py`` reports how often it agrees with the `down` / `up` labels
(trained on one lecture room, tested on the other), alone and together with the
keypoint cues; together they agree more often than either alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import HEAD_IN_BOX, Box

WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "head_cue.npz"

# A window, in box widths (a little larger than the head, so that it holds the whole
# head even when slightly off), and in the resampled pixels the features are taken on.
WINDOW = (0.75, 1.0)
WINDOW_PX = (24, 32)
CELL_PX = 8
N_BINS = 9
N_FEATURES = (WINDOW_PX[0] // CELL_PX) * (WINDOW_PX[1] // CELL_PX) * (N_BINS + 3)
_PX_PER_BOX_WIDTH = WINDOW_PX[0] / WINDOW[0]

# The search grid around the usual head spot: steps of 1/16 box width, 5 to either side,
# 3 up and 5 down (a box more often starts above the head than below its top).
GRID_STEP = 1 / 16
GRID = np.array(
    [
        (HEAD_IN_BOX[0] + dx * GRID_STEP, HEAD_IN_BOX[1] + dy * GRID_STEP)
        for dx in range(-5, 6)
        for dy in range(-3, 6)
    ]
)
# The pull towards the usual spot (a Gaussian of this width in box widths, on the
# locator's log-odds) and how sharply the most head-like windows win (a temperature on
# the log-odds: 1 would be Bayes; 2 spreads the weight over neighbours, which were
# better on the held-out room).
PRIOR_WIDTH = 0.1
TEMPERATURE = 2.0


def window_features(image: np.ndarray, box: Box, centres: np.ndarray) -> np.ndarray:
    """The features of windows centred at ``centres`` ((n, 2), in box widths from the
    box's top-left corner) of a BGR image: an (n, N_FEATURES) array, a row of NaN for a
    window whose centre is off the image. Parts of a window off the image repeat its
    edge. Brightness is normalised per window: rooms and faces differ."""
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    n = len(centres)
    scale = box.width / _PX_PER_BOX_WIDTH  # image pixels per resampled pixel
    half_w, half_h = WINDOW_PX[0] // 2, WINDOW_PX[1] // 2
    # Window corners in resampled pixels, and the region holding them all (one pixel of
    # margin for the gradients).
    corner = np.round(centres * _PX_PER_BOX_WIDTH).astype(int) - (half_w, half_h)
    x_lo, y_lo = corner.min(axis=0) - 1
    x_hi, y_hi = corner.max(axis=0) + (WINDOW_PX[0] + 1, WINDOW_PX[1] + 1)
    region = _resample(
        image, box.x0 + x_lo * scale, box.y0 + y_lo * scale, scale, (x_hi - x_lo, y_hi - y_lo)
    )
    out = np.full((n, N_FEATURES), np.nan, dtype=np.float32)
    if region is None:
        return out
    sums = _integral(_channels(region))
    # Per window and cell: the mean of each channel over the cell's pixels.
    cx = corner[:, 0, None, None] - x_lo + np.arange(0, WINDOW_PX[0], CELL_PX)[None, None, :]
    cy = corner[:, 1, None, None] - y_lo + np.arange(0, WINDOW_PX[1], CELL_PX)[None, :, None]
    cx, cy = np.broadcast_arrays(cx, cy)
    cells = (
        sums[cy + CELL_PX, cx + CELL_PX]
        - sums[cy, cx + CELL_PX]
        - sums[cy + CELL_PX, cx]
        + sums[cy, cx]
    ).reshape(n, -1, sums.shape[-1]) / (CELL_PX * CELL_PX)
    hog = _normalised(cells[:, :, :N_BINS])
    gray, gray_sq, cr, cb = (cells[:, :, N_BINS + k] for k in range(4))
    mean = gray.mean(axis=1, keepdims=True)
    std = np.sqrt(np.maximum(gray_sq.mean(axis=1, keepdims=True) - mean**2, 0.0))
    # Brightness (hair is darker than a face, on any skin), red-difference relative to
    # the window's own (skin against hair), blue-difference as it is.
    feats = np.concatenate(
        [
            hog.reshape(n, -1),
            (gray - mean) / (std + 8.0),
            (cr - cr.mean(axis=1, keepdims=True)) / 10.0,
            cb / 10.0,
        ],
        axis=1,
    )
    px = box.x0 + centres[:, 0] * box.width
    py = box.y0 + centres[:, 1] * box.width
    inside = (px >= 0) & (py >= 0) & (px < image.shape[1]) & (py < image.shape[0])
    out[inside] = feats[inside]
    return out


def _resample(
    image: np.ndarray, x0: float, y0: float, scale: float, size: tuple[int, int]
) -> np.ndarray | None:
    """The image from (x0, y0) on, shrunk by ``scale`` to ``size`` (width, height), edges
    repeated where it leaves the image; None when it does not touch the image."""
    width, height = int(size[0]), int(size[1])
    k = int(round(scale)) if scale > 1.5 else 1
    ix0, iy0 = max(0, int(x0) - k), max(0, int(y0) - k)
    ix1 = min(image.shape[1], int(x0 + width * scale) + k + 1)
    iy1 = min(image.shape[0], int(y0 + height * scale) + k + 1)
    if ix1 - ix0 < 2 or iy1 - iy0 < 2:
        return None
    src = image[iy0:iy1, ix0:ix1]
    if k > 1:  # average away what the shrinking would alias
        src = cv2.blur(src, (k, k))
    m = np.float32([[1 / scale, 0, (ix0 - x0) / scale], [0, 1 / scale, (iy0 - y0) / scale]])
    return cv2.warpAffine(
        src, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _channels(region: np.ndarray) -> np.ndarray:
    """Per pixel: gradient magnitude split over N_BINS unsigned orientations (linear
    between neighbouring bins), then grey, grey squared, Cr and Cb."""
    ycc = cv2.cvtColor(region, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    gray = ycc[:, :, 0]
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=1)
    magnitude = np.hypot(gx, gy)
    position = (np.degrees(np.arctan2(gy, gx)) % 180.0) / (180.0 / N_BINS) - 0.5
    low = np.floor(position).astype(int)
    frac = position - low
    h, w = gray.shape
    out = np.zeros((h, w, N_BINS + 4), dtype=np.float32)
    rows, cols = np.indices((h, w))
    out[rows, cols, low % N_BINS] = magnitude * (1 - frac)
    out[rows, cols, (low + 1) % N_BINS] += magnitude * frac
    out[:, :, N_BINS] = gray
    out[:, :, N_BINS + 1] = gray * gray
    out[:, :, N_BINS + 2] = ycc[:, :, 1]
    out[:, :, N_BINS + 3] = ycc[:, :, 2]
    return out


def _integral(channels: np.ndarray) -> np.ndarray:
    h, w, c = channels.shape
    sums = np.zeros((h + 1, w + 1, c), dtype=np.float64)
    sums[1:, 1:] = channels.cumsum(axis=0, dtype=np.float64).cumsum(axis=1)
    return sums


def _normalised(hist: np.ndarray) -> np.ndarray:
    """Each cell's orientation histogram to unit length, clipped at 0.2 and renormalised
    (as in Dalal and Triggs' HOG), so contrast matters little."""
    hist = hist / np.sqrt((hist**2).sum(axis=-1, keepdims=True) + 1e-2)
    hist = np.minimum(hist, 0.2)
    return hist / np.sqrt((hist**2).sum(axis=-1, keepdims=True) + 1e-2)


@dataclass(frozen=True)
class Linear:
    """A logistic regression on standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def log_odds(self, feats: np.ndarray) -> np.ndarray:
        return ((feats - self.mean) / self.scale) @ self.weights + self.bias

    def probability(self, feats: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.log_odds(feats), -30.0, 30.0)))


@dataclass(frozen=True)
class HeadCueModel:
    """``locator``: is this window centred on a head? ``lowered``: does the window show
    the top of a head rather than a face?"""

    locator: Linear
    lowered: Linear

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> HeadCueModel:
        with np.load(path) as data:
            parts = {
                name: Linear(
                    mean=data[f"{name}_mean"].astype(np.float32),
                    scale=data[f"{name}_scale"].astype(np.float32),
                    weights=data[f"{name}_weights"].astype(np.float32),
                    bias=float(data[f"{name}_bias"]),
                )
                for name in ("locator", "lowered")
            }
        return cls(**parts)

    def save(self, path: Path) -> None:
        arrays = {}
        for name in ("locator", "lowered"):
            part: Linear = getattr(self, name)
            arrays |= {
                f"{name}_mean": part.mean.astype(np.float32),
                f"{name}_scale": part.scale.astype(np.float32),
                f"{name}_weights": part.weights.astype(np.float32),
                f"{name}_bias": np.float32(part.bias),
            }
        np.savez_compressed(path, **arrays)

    def _weights(self, flat: np.ndarray, valid: np.ndarray, people: int) -> np.ndarray:
        """Per person, the share of each grid window in the judgement: the locator's
        log-odds that it is centred on a head, pulled towards the usual spot."""
        prior = ((GRID - np.array(HEAD_IN_BOX[:2])) ** 2).sum(axis=1) / (2 * PRIOR_WIDTH**2)
        odds = self.locator.log_odds(flat).reshape(people, -1) - prior
        odds = np.where(valid.reshape(people, -1), odds, -np.inf)
        top = odds.max(axis=1, keepdims=True)
        weight = np.exp((odds - np.where(np.isfinite(top), top, 0.0)) / TEMPERATURE)
        with np.errstate(invalid="ignore", divide="ignore"):
            return weight / weight.sum(axis=1, keepdims=True)

    def pooled(self, grid_feats: np.ndarray) -> np.ndarray:
        """Head-down scores (0..1) of people from their grid windows' features
        ((people, len(GRID), N_FEATURES)); NaN where no window was on the image."""
        people = grid_feats.shape[0]
        flat = grid_feats.reshape(-1, N_FEATURES)
        valid = ~np.isnan(flat).any(axis=1)
        flat = np.where(valid[:, None], flat, 0.0)
        weight = self._weights(flat, valid, people)
        lowered = self.lowered.probability(flat).reshape(people, -1)
        return (weight * lowered).sum(axis=1)

    def score(self, image: np.ndarray, box: Box) -> float | None:
        """How much the person's head looks like the top of a head (0..1), None when no
        part of the search around the usual head spot is on the image."""
        value = self.pooled(window_features(image, box, GRID)[None])[0]
        return None if np.isnan(value) else round(float(value), 3)

    def head_centre(self, image: np.ndarray, box: Box) -> tuple[float, float] | None:
        """Where the locator puts the person's head (image pixels): the windows' centres
        weighted as in ``score``; None when no window is on the image."""
        flat = window_features(image, box, GRID)
        valid = ~np.isnan(flat).any(axis=1)
        if not valid.any():
            return None
        weight = self._weights(np.where(valid[:, None], flat, 0.0), valid, 1)[0]
        cx, cy = weight @ GRID
        return box.x0 + cx * box.width, box.y0 + cy * box.width


@lru_cache(maxsize=1)
def default_model() -> HeadCueModel | None:
    """The shipped model, or None when its file is missing (the cue is then unused)."""
    if not WEIGHTS.is_file():
        return None
    return HeadCueModel.load(WEIGHTS)

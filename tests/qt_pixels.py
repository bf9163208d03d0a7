"""A Qt picture as a NumPy array, for tests that look at what is on screen."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage


def bgr_of(image: QImage) -> np.ndarray:
    """The picture as a BGR array (height, width, 3), as OpenCV holds images."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(image.constBits(), dtype=np.uint8)
    raw = raw.reshape(image.height(), image.bytesPerLine())[:, : 4 * image.width()]
    return raw.reshape(image.height(), image.width(), 4)[..., :3].copy()


def rgb_of(image: QImage) -> np.ndarray:
    """The picture as an RGB array (height, width, 3)."""
    return bgr_of(image)[..., ::-1].copy()


def near(pixels: np.ndarray, colour: QColor, *, tol: int = 40) -> np.ndarray:
    """Where an RGB array is within ``tol`` of ``colour`` in every channel."""
    target = np.array([colour.red(), colour.green(), colour.blue()], dtype=np.int32)
    return np.abs(pixels.astype(np.int32) - target).max(axis=-1) <= tol

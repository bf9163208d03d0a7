"""The real classroom frames and their head labels, for tests (importable like video_samples).

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box

REPO = Path(__file__).resolve().parents[1]
MODELS = Path(os.environ.get("LESSONREVIEW_MODELS", REPO.parent / "shared" / "models"))
DATA = REPO.parent / "shared" / "data" / "classroom-cctv"


def labelled_heads(name: str, width: int, height: int) -> list[tuple[int, Box]]:
    """(class, head box in pixels) of each label: 0 down, 1 lookaround, 2 phone, 3 up."""
    heads = []
    for line in (DATA / "labels" / f"{name}.txt").read_text().splitlines():
        if line.strip():
            cls, cx, cy, bw, bh = (float(v) for v in line.split())
            box = Box(
                (cx - bw / 2) * width,
                (cy - bh / 2) * height,
                (cx + bw / 2) * width,
                (cy + bh / 2) * height,
            )
            heads.append((int(cls), box))
    return heads


def frame_and_heads(name: str) -> tuple[np.ndarray, list[Box]]:
    """A real frame (BGR) and the boxes of its labelled heads, in pixels."""
    frame = cv2.imread(str(DATA / "images" / f"{name}.jpg"))
    h, w = frame.shape[:2]
    return frame, [box for _, box in labelled_heads(name, w, h)]

"""The real classroom frames and their head labels, and recordings made from them, for tests.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import cv2
import numpy as np

from lessonreview.core.domain import Box

REPO = Path(__file__).resolve().parents[1]
MODELS = Path(os.environ.get("LESSONREVIEW_MODELS", REPO.parent / "shared" / "models"))
DATA = REPO.parent / "shared" / "data" / "classroom-cctv"


def yolo_labels(path: Path, width: int, height: int) -> list[tuple[int, Box]]:
    """(class, box in pixels) of each line of a YOLO label file (``class cx cy w h``,
    normalised to the image size), as every data set in shared/data writes them."""
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            cls, cx, cy, bw, bh = (float(v) for v in line.split())
            box = Box(
                (cx - bw / 2) * width,
                (cy - bh / 2) * height,
                (cx + bw / 2) * width,
                (cy + bh / 2) * height,
            )
            out.append((int(cls), box))
    return out


def labelled_heads(name: str, width: int, height: int) -> list[tuple[int, Box]]:
    """(class, head box in pixels) of each label: 0 down, 1 lookaround, 2 phone, 3 up."""
    return yolo_labels(DATA / "labels" / f"{name}.txt", width, height)


def frame_and_heads(name: str) -> tuple[np.ndarray, list[Box]]:
    """A real frame (BGR) and the boxes of its labelled heads, in pixels."""
    frame = cv2.imread(str(DATA / "images" / f"{name}.jpg"))
    h, w = frame.shape[:2]
    return frame, [box for _, box in labelled_heads(name, w, h)]


def match_heads(heads: list[Box], people: list[Box]) -> dict[int, int]:
    """Labelled head -> person box holding it in its upper half, one to one (max matching)."""
    options = [
        [
            j
            for j, p in enumerate(people)
            if p.x0 <= h.centre[0] <= p.x1
            and p.y0 - 0.1 * p.height <= h.centre[1] <= p.y0 + 0.5 * p.height
        ]
        for h in heads
    ]
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in options[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    for i in range(len(heads)):
        augment(i, set())
    return {i: j for j, i in owner.items()}


def drifting_video(
    frame: np.ndarray, path: Path, *, seconds: float, fps: int = 10, drift: float = 0.04
) -> list[tuple[float, float, float]]:
    """Write ``frame`` as an H.264 recording filmed by a camera that drifts slowly
    across it: the view pans right and down and zooms in by ``drift`` of the frame over
    the recording, as a hand-adjusted or slowly settling camera does. Nobody moves.

    Returns per video frame the view (x0, y0, scale): frame pixel (x, y) is video pixel
    ((x - x0) * scale, (y - y0) * scale).
    """
    h, w = frame.shape[:2]
    out_w, out_h = w - w % 2, h - h % 2
    n = round(seconds * fps)
    views = []
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = out_w, out_h
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20", "threads": "1"}
        for i in range(n):
            t = i / max(1, n - 1)
            zoom = 1.0 + drift * t
            x0, y0 = drift * t * w / 2, drift * t * h / 2
            scale = zoom * out_w / w
            matrix = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
            image = cv2.warpAffine(frame, matrix, (out_w, out_h), flags=cv2.INTER_AREA)
            views.append((x0, y0, scale))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return views

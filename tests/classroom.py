"""The real classroom frames and their head labels, and recordings made from them, for tests.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import av
import cv2
import numpy as np

from lessonreview.core.assignment import assign
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
    """Labelled head -> person box holding it in its upper half, one to one.

    As many heads as can be are matched (a maximum matching); among the matchings that
    many, the one that puts heads nearest their box's usual head spot (``Box.head``, in
    box widths). Where two neighbours' boxes each hold both heads, any maximum matching
    would do, and one chosen by the order of the boxes could give a head its neighbour's
    box in one sample and its own in the next: an identity switch that never happened.
    """
    if not heads or not people:
        return {}
    # A pair that may not be matched costs more than any matching of allowed pairs can
    # add up to, so the least-cost assignment first matches as many as possible.
    barred = 10.0 * (len(heads) + len(people))
    cost = [[_head_cost(h, p, barred) for p in people] for h in heads]
    return {i: j for i, j in assign(cost) if cost[i][j] < barred}


def _head_cost(head: Box, person: Box, barred: float) -> float:
    x, y = head.centre
    if not (
        person.x0 <= x <= person.x1
        and person.y0 - 0.1 * person.height <= y <= person.y0 + 0.5 * person.height
    ):
        return barred
    hx, hy = person.head().centre
    return min(2.0, math.hypot(x - hx, y - hy) / max(person.width, 1.0))


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

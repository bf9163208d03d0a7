"""Small pictures of one person at one frame, for the bulk review: every face blurred.

A thumbnail is cut from the whole frame only after every located person's face in it
is blurred (as in the privacy view), so a neighbour's face inside the crop is hidden
too; when a face detector's model file is at hand, the faces it finds around the crop
are blurred as well. A frame where nobody was located is hidden whole, as the privacy
view hides it. Nothing here is written to disk.

No Qt: the GUI runs :func:`person_thumbnails` on a worker thread that owns its reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box
from lessonreview.core.media.video import FrameReader
from lessonreview.core.privacy.face_blur import (
    FaceRegionSource,
    blur_faces,
    face_box_ellipse,
    hide_frame,
)
from lessonreview.core.vision.face_detection import FaceDetector

# The crop reaches this far past the person's box (in box widths / heights), so that
# what they do with their hands and the desk in front of them shows.
MARGIN_X = 0.25
MARGIN_Y = 0.12
# The person's box is outlined in the picture, so the reviewer sees whom it is about.
OUTLINE_RGB = (255, 200, 0)


@dataclass(frozen=True, eq=False)
class ThumbnailRequest:
    """What to picture: ``box`` (the person, None if not located there) at ``frame``;
    ``people``: everyone located there, whose faces are blurred (None: nobody was
    located at that frame, so the picture is hidden whole)."""

    key: str
    frame: int
    box: Box | None
    people: tuple[FaceRegionSource, ...] | None


def crop_window(box: Box, *, width: int, height: int, aspect: float) -> tuple[int, int, int, int]:
    """The part of a ``width`` x ``height`` frame to show for ``box``: the box with a
    margin, widened or heightened to ``aspect`` (width / height), kept in the frame."""
    w = box.width * (1 + 2 * MARGIN_X)
    h = box.height * (1 + 2 * MARGIN_Y)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    w, h = min(w, width), min(h, height)
    cx, cy = box.centre
    x0 = int(round(min(max(cx - w / 2, 0), width - w)))
    y0 = int(round(min(max(cy - h / 2, 0), height - h)))
    return x0, y0, max(x0 + 1, x0 + int(round(w))), max(y0 + 1, y0 + int(round(h)))


def person_thumbnail(
    image_bgr: np.ndarray,
    request: ThumbnailRequest,
    *,
    size: tuple[int, int],
    faces: Iterable[Box] = (),
    outline: bool = True,
) -> np.ndarray:
    """The RGB picture (``size`` = width, height) of the request's person, every face
    blurred: those of ``request.people`` and the face boxes in ``faces``; ``outline``
    draws the person's box."""
    width, height = size
    frame_h, frame_w = image_bgr.shape[:2]
    if request.people is None or request.box is None:
        picture = hide_frame(image_bgr)
        window = (0, 0, frame_w, frame_h)
    else:
        ellipses = [face_box_ellipse(b) for b in faces]
        picture = blur_faces(image_bgr, request.people, faces=ellipses)
        window = crop_window(request.box, width=frame_w, height=frame_h, aspect=width / height)
    x0, y0, x1, y1 = window
    crop = picture[y0:y1, x0:x1]
    scale = min(width / crop.shape[1], height / crop.shape[0])
    shown_w = max(1, int(round(crop.shape[1] * scale)))
    shown_h = max(1, int(round(crop.shape[0] * scale)))
    small = cv2.resize(crop, (shown_w, shown_h), interpolation=cv2.INTER_AREA)
    out = np.zeros((height, width, 3), dtype=np.uint8)
    ox, oy = (width - shown_w) // 2, (height - shown_h) // 2
    out[oy : oy + shown_h, ox : ox + shown_w] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    if outline and request.box is not None and request.people is not None:
        b = request.box
        p0 = (ox + int((b.x0 - x0) * scale), oy + int((b.y0 - y0) * scale))
        p1 = (ox + int((b.x1 - x0) * scale), oy + int((b.y1 - y0) * scale))
        cv2.rectangle(out, p0, p1, OUTLINE_RGB, 1, lineType=cv2.LINE_AA)
    return out


def person_thumbnails(
    reader: FrameReader,
    requests: Iterable[ThumbnailRequest],
    *,
    size: tuple[int, int],
    face_model: Path | None = None,
) -> Iterator[tuple[str, np.ndarray]]:
    """``(key, picture)`` for each request, decoded in frame order (one pass forward).
    With ``face_model``, the face detector also looks around each crop, and what it
    finds is blurred too. ``reader`` and the detector belong to the calling thread."""
    detector = FaceDetector(face_model, threads=1) if face_model is not None else None
    try:
        for request in sorted(requests, key=lambda r: (r.frame, r.key)):
            image = reader.frame(request.frame)
            faces: list[Box] = []
            if detector is not None and request.box is not None and request.people is not None:
                faces = _faces_around(detector, image, request.box, aspect=size[0] / size[1])
            yield request.key, person_thumbnail(image, request, size=size, faces=faces)
    finally:
        if detector is not None:
            detector.close()


def _faces_around(detector: FaceDetector, image: np.ndarray, box: Box, *, aspect: float):
    h, w = image.shape[:2]
    x0, y0, x1, y1 = crop_window(box, width=w, height=h, aspect=aspect)
    # A face cut by the crop's edge is still a face: look a little beyond it.
    pad_x, pad_y = (x1 - x0) // 4, (y1 - y0) // 4
    x0, y0 = max(0, x0 - pad_x), max(0, y0 - pad_y)
    x1, y1 = min(w, x1 + pad_x), min(h, y1 + pad_y)
    found = detector.detect(image[y0:y1, x0:x1])
    return [Box(f.box.x0 + x0, f.box.y0 + y0, f.box.x1 + x0, f.box.y1 + y0) for f in found]

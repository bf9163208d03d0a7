"""Face blur for the privacy view: hide every person's face before a frame is shown.

Pure numpy/OpenCV, no Qt: the player's worker thread calls :func:`blur_faces` on each
frame it delivers, so the GUI thread never pays for it. The face is located from the
pose's face keypoints when they are visible, else estimated from the top of the
person's box; and, for faces whose person was never found, from the face detector's
boxes (``core/vision/face_detection.py``). All estimates are padded generously: a blurred
collar costs nothing, a visible face is the failure this module exists to prevent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from lessonreview.core.domain import FACE_KEYPOINTS, Box, Keypoint, Observation, PersonTrack

# Keypoints with less visibility than this are guesses made by the pose model; a
# guessed eye can be far from the real one, so the box estimate is safer.
MIN_VISIBILITY = 0.3
# How much larger than the estimated head the blurred ellipse is; more for the head
# guessed from the box alone, which varies more with posture than face keypoints do.
PADDING = 1.35
BOX_PADDING = 1.5
# Head width from the face keypoints: both ears visible span nearly the whole head;
# without them, eyes, nose and mouth span less than half of it.
_EAR_SPAN_TO_HEAD = 1.15
_FACE_SPAN_TO_HEAD = 1.8
# A face detector's box spans brows to chin and cheek to cheek; hair, ears and a
# misplaced box need the rest.
FACE_BOX_PADDING = 1.6


class FaceRegionSource(Protocol):
    """Anything that says where a person is: a box, and pose keypoints if known.

    :class:`~lessonreview.core.domain.Observation` satisfies it, as does
    :class:`PersonRegion`. ``keypoints`` is (33, 3) in frame pixels: x, y, visibility.
    """

    @property
    def box(self) -> Box: ...

    @property
    def keypoints(self) -> np.ndarray | None: ...


@dataclass(frozen=True, eq=False)
class PersonRegion:
    """A person's box and optional keypoints, for callers that have no Observation."""

    box: Box
    keypoints: np.ndarray | None = None


@dataclass(frozen=True)
class FaceEllipse:
    """The region to blur, in frame pixels: centre and semi-axes."""

    cx: float
    cy: float
    ax: float
    ay: float


def face_ellipses(person: FaceRegionSource) -> tuple[FaceEllipse, ...]:
    """Where to blur for one person: where heads sit in a person box, and also around
    the visible face keypoints when they point elsewhere. Both, because either alone
    misses: the keypoints alone leave many detected students' faces recognisable (a pose
    on a neighbour, a turned head), and the box alone misses a student leaning out of it;
    together they leave few (bench/eval_face_blur.py measures it on real frames)."""
    from_box = _ellipse_from_box(person.box)
    from_face = face_ellipse(person)
    return (from_box,) if from_face == from_box else (from_box, from_face)


def face_ellipse(person: FaceRegionSource) -> FaceEllipse:
    """The face from visible face keypoints, else from the box."""
    box = person.box
    from_box = _ellipse_from_box(box)
    kp = person.keypoints
    if kp is None:
        return from_box
    face = np.asarray(kp, dtype=np.float32)[list(FACE_KEYPOINTS)]
    visible = face[face[:, 2] > MIN_VISIBILITY, :2]
    if len(visible) == 0:
        return from_box
    cx, cy = (float(v) for v in visible.mean(axis=0))
    # A face far outside the person's box is a pose that latched onto a neighbour or
    # went astray; the box is then the better guess for this person's own face.
    margin_x, margin_y = 0.25 * box.width, 0.25 * box.height
    if not (box.x0 - margin_x <= cx <= box.x1 + margin_x and box.y0 - margin_y <= cy <= box.y1):
        return from_box
    span = float(np.ptp(visible, axis=0).max()) if len(visible) > 1 else 0.0
    ears = face[[Keypoint.LEFT_EAR, Keypoint.RIGHT_EAR]]
    if bool((ears[:, 2] > MIN_VISIBILITY).all()):
        head = max(_EAR_SPAN_TO_HEAD * float(np.hypot(*(ears[0, :2] - ears[1, :2]))), span)
    else:
        head = _FACE_SPAN_TO_HEAD * span
    # A turned head shows few points close together: never trust a head smaller than
    # half the box estimate.
    head = max(head, min(from_box.ax, from_box.ay) / PADDING, 4.0)
    # Eyes, nose and mouth sit below the middle of the head; the hair is above them.
    return FaceEllipse(
        cx=cx, cy=cy - 0.12 * head, ax=0.5 * head * PADDING, ay=0.62 * head * PADDING
    )


def _ellipse_from_box(box: Box) -> FaceEllipse:
    head = box.head()
    cx, cy = head.centre
    return FaceEllipse(
        cx=cx,
        cy=cy,
        ax=max(2.0, head.width / 2 * BOX_PADDING),
        ay=max(2.0, head.height / 2 * BOX_PADDING),
    )


def face_box_ellipse(face: Box, *, grow: float = 1.0) -> FaceEllipse:
    """Where to blur for a face detector's box; ``grow`` widens it further, for a box
    found on an earlier frame that the face may have moved out of since."""
    cx, cy = face.centre
    scale = FACE_BOX_PADDING * grow / 2
    # Hair and forehead sit above the detector's box, which starts at the brows.
    return FaceEllipse(
        cx=cx,
        cy=cy - 0.1 * face.height,
        ax=max(2.0, face.width * scale),
        ay=max(2.0, face.height * scale * 1.15),
    )


def blur_faces(
    image_bgr: np.ndarray,
    people: Iterable[FaceRegionSource],
    *,
    faces: Iterable[FaceEllipse] = (),
    strength: float = 1.0,
    scale: float = 1.0,
) -> np.ndarray:
    """A copy of ``image_bgr`` with every person's face blurred beyond recognition, and
    every region in ``faces`` (see :func:`face_box_ellipse`) too.

    ``scale``: the image is the frame scaled by this much (the player shrinks frames to
    the size they are shown at first, which makes the blur cheaper); people and
    regions stay in frame pixels, and a face looks the same blurred at any scale.

    The input is never modified (readers may cache the frames they hand out). Each face
    is pixelated to a handful of cells across and smoothed, inside an ellipse feathered
    outwards, so the ellipse itself is fully hidden and no hard edge is drawn. A higher
    ``strength`` means fewer cells (stronger); 1.0 leaves about six across a face.
    """
    if strength <= 0:
        raise ValueError("strength must be positive")
    if scale <= 0:
        raise ValueError("scale must be positive")
    out = np.array(image_bgr, dtype=np.uint8, copy=True)
    for person in people:
        for ellipse in face_ellipses(person):
            _blur_ellipse(out, _scaled(ellipse, scale), strength=strength)
    for ellipse in faces:
        _blur_ellipse(out, _scaled(ellipse, scale), strength=strength)
    return out


def _scaled(ellipse: FaceEllipse, scale: float) -> FaceEllipse:
    if scale == 1.0:
        return ellipse
    return FaceEllipse(
        cx=ellipse.cx * scale, cy=ellipse.cy * scale, ax=ellipse.ax * scale, ay=ellipse.ay * scale
    )


def hide_frame(image_bgr: np.ndarray, *, scale: float = 1.0) -> np.ndarray:
    """A copy with the whole picture pixelated: for frames where nobody has been located
    yet, so the privacy view never shows a face it could not find. The room's layout
    (desks, where people sit) stays readable; faces do not. ``scale`` as for
    :func:`blur_faces`: the cells are as many across at any scale."""
    h, w = image_bgr.shape[:2]
    cells = max(1, min(w, max(8, round(w / scale) // 48)))
    small = cv2.resize(image_bgr, (cells, max(1, cells * h // w)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _blur_ellipse(out: np.ndarray, ell: FaceEllipse, *, strength: float) -> None:
    height, width = out.shape[:2]
    feather = max(1.0, 0.08 * min(ell.ax, ell.ay))
    reach_x, reach_y = ell.ax + 3 * feather, ell.ay + 3 * feather
    x0, x1 = max(0, math.floor(ell.cx - reach_x)), min(width, math.ceil(ell.cx + reach_x) + 1)
    y0, y1 = max(0, math.floor(ell.cy - reach_y)), min(height, math.ceil(ell.cy + reach_y) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    roi = out[y0:y1, x0:x1]
    h, w = roi.shape[:2]
    cells = max(2.0, 6.0 / strength)
    cells_x = max(1, round(cells * w / (2 * ell.ax)))
    cells_y = max(1, round(cells * h / (2 * ell.ay)))
    # Averaged down to a few cells, smoothed there (cheap at that size), and scaled
    # back up bilinearly: no detail survives, and no block edges for the eye to read.
    small = cv2.resize(roi, (cells_x, cells_y), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=0.6, borderType=cv2.BORDER_REPLICATE)
    hidden = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)

    mask = np.zeros((h, w), dtype=np.uint8)
    centre = (round((ell.cx - x0) * 16), round((ell.cy - y0) * 16))
    axes = (round(ell.ax * 16), round(ell.ay * 16))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, thickness=-1, lineType=cv2.LINE_AA, shift=4)
    # Feather outwards only: after the blur the ellipse's edge is at half, doubled (with
    # saturation) to full, so everything inside the ellipse is fully hidden.
    mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=feather)
    weight = np.minimum(mask.astype(np.float32) * (2.0 / 255.0), 1.0)
    roi[:] = cv2.blendLinear(hidden, roi, weight, 1.0 - weight)


class FaceRegionIndex:
    """Which people to blur at any frame, from the sampled observations of an analysis.

    Immutable once built, so the player's worker thread may query it while the GUI
    thread goes on: the main window builds one from the tracks and hands it to
    ``Player.set_face_regions``. Observations are sampled every few frames; a frame
    between two samples of a person blurs both samples' regions, so a moving head is
    covered all the way between them.
    """

    def __init__(
        self,
        tracks: Iterable[PersonTrack],
        *,
        max_gap_frames: int,
        covered_until: int | None = None,
        faint: Iterable[Observation] = (),
    ) -> None:
        # ``faint``: unsure detections, not people of any track; their heads are
        # blurred around their own sample like the people's.
        by_frame: dict[int, list[Observation]] = {}
        for obs in faint:
            by_frame.setdefault(obs.frame, []).append(obs)
        self._faint_frames = np.array(sorted(by_frame), dtype=np.int64)
        self._faint = {f: tuple(o) for f, o in by_frame.items()}
        # Frames after ``covered_until`` have not been analysed yet: nobody is located
        # there, which is not the same as nobody being there (regions_at gives None).
        self._covered_until = covered_until
        self._max_gap = int(max_gap_frames)
        self._tracks: list[tuple[np.ndarray, tuple[Observation, ...]]] = []
        for track in tracks:
            obs = tuple(sorted(track.observations, key=lambda o: o.frame))
            if obs:
                frames = np.fromiter((o.frame for o in obs), dtype=np.int64, count=len(obs))
                self._tracks.append((frames, obs))
        # A lesson has thousands of tracks, few of them under way at any frame: each
        # track's first and last sample, widened by the gap, pick those to look into.
        ends = np.array([(f[0], f[-1]) for f, _ in self._tracks], dtype=np.int64)
        self._reach = ends.reshape(-1, 2) + np.array([-self._max_gap, self._max_gap])

    def __call__(self, frame: int) -> Sequence[Observation] | None:
        return self.regions_at(frame)

    def covers(self, frame: int) -> bool:
        return self._covered_until is None or frame <= self._covered_until

    def regions_at(self, frame: int) -> tuple[Observation, ...] | None:
        """Observations to blur at ``frame``: each person's samples on either side of it;
        None where the analysis has not located anyone yet."""
        if not self.covers(frame):
            return None
        found: list[Observation] = []
        near = np.flatnonzero((self._reach[:, 0] <= frame) & (frame <= self._reach[:, 1]))
        for frames, obs in (self._tracks[int(t)] for t in near):
            i = int(np.searchsorted(frames, frame, side="right"))
            before = obs[i - 1] if i > 0 and frame - frames[i - 1] <= self._max_gap else None
            after = obs[i] if i < len(obs) and frames[i] - frame <= self._max_gap else None
            if before is not None:
                found.append(before)
            if after is not None and (before is None or before.frame != frame):
                found.append(after)
        if len(self._faint_frames):
            i = int(np.searchsorted(self._faint_frames, frame, side="right"))
            for j in (i - 1, i):
                if (
                    0 <= j < len(self._faint_frames)
                    and abs(int(self._faint_frames[j]) - frame) <= self._max_gap
                ):
                    found.extend(self._faint[int(self._faint_frames[j])])
        return tuple(found)

"""Handheld-camera recordings made from real classroom frames, with known ground truth.

A phone or camera held by hand pans slowly, zooms a little, rolls a degree or two and
shakes. Here that camera is a virtual one rotating about its own centre in front of a
real classroom frame: a rotation of a camera about its centre maps the picture by a
homography ``K_out R K_src^-1``, so pan (yaw), tilt (pitch), roll and zoom are one
3x3 matrix per video frame, and every labelled head can be mapped through it. Shake is
a sum of a few sinusoids of 0.7-4 Hz on top of the slow path, so that between two
samples half a second apart the picture jumps by several to tens of pixels; the frame
is blurred along the shake as a real exposure is.

People: one real frame is a class where nobody moves, which is what a seated class
looks like over a second or two. To give the people real motion of their own, a clip
can step through several real frames of the same room and session (the fixed CCTV
camera saw the same students in the same seats minutes apart: heads turned, arms and
books moved); people then change posture at each step, and a few appear or disappear,
as in a lesson. Which labelled head is which person across the steps is found by
matching head positions, so the ground truth names each person over the whole clip.

Posters: a picture of a person (a real photograph, see below) can be pasted on the
room's wall in the real frames before the camera moves over them: it moves exactly as
the wall does, as a poster does.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept,
renamed; frames are warped by a moving virtual camera, and a poster is pasted on the
wall.

Poster photograph: "Fall Action Dataset" (image ``not-fallen016``), by Ilhem Laifi
(ENIT), from "Fall Detect2" v11 by a Roboflow Universe user (workspace goldfish),
CC BY 4.0, https://universe.roboflow.com/goldfish/fall-detect2/dataset/11.
Changes: cropped to head and shoulders, scaled, framed and pasted into a classroom
frame. Every video written here carries both attributions in its metadata.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from classroom import DATA, labelled_heads, match_heads
from lessonreview.core.assignment import assign
from lessonreview.core.domain import Box, PersonTrack

POSTER_DIR = DATA.parent / "standing-sitting" / "images"

ATTRIBUTION = (
    'Frames: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace '
    "pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0, "
    "https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate; "
    "warped by a moving virtual camera. Poster photograph: Fall Action Dataset "
    "(not-fallen016) by Ilhem Laifi, from Fall Detect2 v11 (Roboflow Universe, goldfish), "
    "CC BY 4.0; cropped and pasted on the wall."
)

# Steps through real frames of one session, each the nearest in head positions to the
# one before (the same students in the same seats, minutes apart), one per camera view
# of the room. Chosen by label geometry alone, before any analysis ran on them.
SESSION_A = ("46", "49", "51", "57", "52_jpg", "75")
SESSION_B = ("108", "110", "112", "113", "114", "115_jpg")

SOURCE_FOCAL = 1000.0  # pixels: a wide lens on a 1400 px wide frame (about 70 degrees)


@dataclass(frozen=True)
class Poster:
    """A printed picture on the wall: where it hangs in the real frame, in source pixels."""

    x0: int
    y0: int
    width: int
    photo: str = "not-fallen016"
    crop: tuple[int, int, int, int] = (100, 40, 330, 310)  # head and shoulders (x0, y0, x1, y1)

    def pixels(self) -> np.ndarray:
        (path,) = POSTER_DIR.glob(f"{self.photo}_*.jpg")
        x0, y0, x1, y1 = self.crop
        photo = cv2.imread(str(path))[y0:y1, x0:x1]
        height = round(self.width * (y1 - y0) / (x1 - x0))
        border = max(2, self.width // 14)
        inner = cv2.resize(
            photo, (self.width - 2 * border, height - 2 * border), interpolation=cv2.INTER_AREA
        )
        framed = np.full((height, self.width, 3), 235, dtype=np.uint8)  # white paper margin
        framed[border:-border, border:-border] = inner
        return framed

    def box(self) -> Box:
        x0, y0, x1, y1 = self.crop
        return Box(
            self.x0, self.y0, self.x0 + self.width, self.y0 + self.width * (y1 - y0) / (x1 - x0)
        )


@dataclass(frozen=True)
class CameraPath:
    """A handheld camera's motion, seeded: slow pan and tilt, zoom, roll, and shake."""

    seed: int = 0
    pan_deg: float = 8.0  # slow yaw over the whole clip
    tilt_deg: float = 1.5
    roll_deg: float = 1.5
    zoom: tuple[float, float] = (1.25, 1.38)
    shake_deg: float = 0.6  # amplitude of each of the shake sinusoids, degrees
    # Where the camera points on average, in source pixels: the students, not the floor.
    aim: tuple[float, float] = (700.0, 345.0)

    def angles(
        self, t: float, duration: float, *, src: tuple[int, int]
    ) -> tuple[float, float, float, float]:
        """(yaw, pitch, roll in degrees, zoom) at time t, for a source frame of size src."""
        rng = random.Random(self.seed)
        phases = [rng.uniform(0, 2 * math.pi) for _ in range(12)]
        freqs = [rng.uniform(0.7, 4.0) for _ in range(12)]
        u = t / max(duration, 1e-9)
        ease = u * u * (3 - 2 * u)
        yaw0 = math.degrees(math.atan((self.aim[0] - src[0] / 2) / SOURCE_FOCAL))
        pitch0 = math.degrees(math.atan((src[1] / 2 - self.aim[1]) / SOURCE_FOCAL))
        yaw = yaw0 + self.pan_deg * (ease - 0.5)
        pitch = pitch0 + self.tilt_deg * math.sin(2 * math.pi * (0.5 * u + phases[0] / 7))
        roll = self.roll_deg * math.sin(2 * math.pi * (0.7 * u) + phases[1])
        for i in range(3):
            yaw += self.shake_deg * math.sin(2 * math.pi * freqs[i] * t + phases[i]) / (1 + i)
            pitch += (
                self.shake_deg * math.sin(2 * math.pi * freqs[3 + i] * t + phases[3 + i]) / (1 + i)
            )
            roll += 0.3 * self.shake_deg * math.sin(2 * math.pi * freqs[6 + i] * t + phases[6 + i])
        z0, z1 = self.zoom
        zoom = z0 + (z1 - z0) * (0.5 - 0.5 * math.cos(2 * math.pi * (0.6 * u + phases[9] / 9)))
        return yaw, pitch, roll, zoom


def homography(
    yaw: float,
    pitch: float,
    roll: float,
    zoom: float,
    *,
    src: tuple[int, int],
    out: tuple[int, int],
) -> np.ndarray:
    """Source pixel -> output pixel for a camera rotated by these angles (degrees), zoomed."""
    sw, sh = src
    ow, oh = out
    k_src = np.array([[SOURCE_FOCAL, 0, sw / 2], [0, SOURCE_FOCAL, sh / 2], [0, 0, 1]])
    f_out = SOURCE_FOCAL * zoom * ow / sw
    k_out = np.array([[f_out, 0, ow / 2], [0, f_out, oh / 2], [0, 0, 1]])
    a, b, c = (math.radians(v) for v in (yaw, pitch, roll))
    r_yaw = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
    r_pitch = np.array([[1, 0, 0], [0, math.cos(b), math.sin(b)], [0, -math.sin(b), math.cos(b)]])
    r_roll = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return k_out @ r_roll @ r_pitch @ r_yaw @ np.linalg.inv(k_src)


def map_box(h: np.ndarray, box: Box) -> Box:
    """The axis-aligned box around a box's corners mapped by h."""
    pts = np.array(
        [[box.x0, box.y0], [box.x1, box.y0], [box.x0, box.y1], [box.x1, box.y1]], np.float64
    )
    mapped = cv2.perspectiveTransform(pts[None], h)[0]
    return Box(*mapped.min(axis=0), *mapped.max(axis=0))


# On the white wall at the back right of the room, above the last desks, where a
# poster could hang in this room.
WALL_POSTER = Poster(x0=1110, y0=60, width=95)

# The clips bench/eval_tracks.py measures and the tests check.
CLIPS = {
    # Session A with the poster: the main figure.
    "A": dict(steps=SESSION_A, path=CameraPath(seed=1), posters=(WALL_POSTER,)),
    # Another session and camera path, no poster.
    "B": dict(steps=SESSION_B, path=CameraPath(seed=2)),
    # One still frame: nobody moves; a poster on the wall.
    "A-still": dict(steps=SESSION_A[:1], path=CameraPath(seed=3), posters=(WALL_POSTER,)),
}


@dataclass(frozen=True)
class HandheldClip:
    """A written clip and what is really in it.

    ``homographies[n]`` maps source pixels of ``steps[step_of[n]]`` to frame n's pixels;
    ``heads[s]`` lists (person number, head box in source pixels) for step s: the same
    number is the same person throughout the clip. ``posters`` are in source pixels.
    """

    path: Path
    fps: float
    size: tuple[int, int]
    steps: tuple[str, ...]
    step_of: tuple[int, ...]
    homographies: tuple[np.ndarray, ...]
    heads: tuple[tuple[tuple[int, Box], ...], ...]
    posters: tuple[Box, ...]
    poster_images: tuple[Poster, ...] = ()

    def heads_at(self, frame: int) -> list[tuple[int, Box]]:
        """(person number, head box in frame pixels) of every labelled head inside the frame."""
        h = self.homographies[frame]
        w, ht = self.size
        out = []
        for person, box in self.heads[self.step_of[frame]]:
            b = map_box(h, box)
            cx, cy = b.centre
            if 0 <= cx < w and 0 <= cy < ht:
                out.append((person, b))
        return out

    def posters_at(self, frame: int) -> list[Box]:
        return [map_box(self.homographies[frame], p) for p in self.posters]


def link_heads(steps: tuple[str, ...], size: tuple[int, int]) -> list[list[tuple[int, Box]]]:
    """Number each labelled head so that one person keeps one number across the steps.

    A head continues the nearest head of the last step(s) it could be (centre within
    0.6 head widths), by optimal assignment; a person missed in one step's labels is
    looked for in the step before that too.
    """
    w, h = size
    people: list[list[tuple[int, Box]]] = []
    last_seen: dict[int, Box] = {}
    next_id = 0
    for name in steps:
        heads = [box for _, box in labelled_heads(name, w, h)]
        known = list(last_seen.items())
        cost = [
            [math.dist(hb.centre, kb.centre) / (0.6 * max(hb.width, kb.width)) for _, kb in known]
            for hb in heads
        ]
        owner: dict[int, int] = {}
        if heads and known:
            for i, j in assign(cost):
                if cost[i][j] <= 1.0:
                    owner[i] = known[j][0]
        step = []
        for i, hb in enumerate(heads):
            if i not in owner:
                owner[i] = next_id
                next_id += 1
            step.append((owner[i], hb))
            last_seen[owner[i]] = hb
        people.append(step)
    return people


def plan_handheld_clip(
    out: Path,
    *,
    steps: tuple[str, ...] = SESSION_A,
    seconds: float = 12.0,
    fps: int = 10,
    size: tuple[int, int] = (1280, 720),
    path: CameraPath = CameraPath(),
    posters: tuple[Poster, ...] = (),
) -> HandheldClip:
    """The ground truth of a clip, without writing it (see ``write_handheld_clip``)."""
    n_frames = round(seconds * fps)
    src_h, src_w = cv2.imread(str(DATA / "images" / f"{steps[0]}.jpg")).shape[:2]
    src_size = (src_w, src_h)
    step_of = tuple(min(len(steps) - 1, n * len(steps) // n_frames) for n in range(n_frames))
    homs = tuple(
        homography(*path.angles(n / fps, seconds, src=src_size), src=src_size, out=size)
        for n in range(n_frames)
    )
    return HandheldClip(
        path=out,
        fps=float(fps),
        size=size,
        steps=tuple(steps),
        step_of=step_of,
        homographies=homs,
        heads=tuple(tuple(s) for s in link_heads(steps, src_size)),
        posters=tuple(p.box() for p in posters),
        poster_images=posters,
    )


def write_handheld_clip(out: Path, **plan) -> HandheldClip:
    """Write an H.264 MP4 of a handheld camera over real frames; return its ground truth.

    Takes the arguments of ``plan_handheld_clip``. The clip spends equal time on each
    step (one step: one still frame throughout).
    """
    clip = plan_handheld_clip(out, **plan)
    sources = []
    for name in clip.steps:
        image = cv2.imread(str(DATA / "images" / f"{name}.jpg"))
        for poster in clip.poster_images:
            pix = poster.pixels()
            image[poster.y0 : poster.y0 + pix.shape[0], poster.x0 : poster.x0 + pix.shape[1]] = pix
        sources.append(image)
    fps = round(clip.fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    with av.open(str(part), "w", format="mp4") as container:
        container.metadata["comment"] = ATTRIBUTION
        stream = container.add_stream("libx264", rate=fps, options={"crf": "23"})
        stream.width, stream.height = clip.size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 2 * fps
        homs = clip.homographies
        for n in range(len(homs)):
            frame = cv2.warpPerspective(
                sources[clip.step_of[n]],
                homs[n],
                clip.size,
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            frame = _shake_blur(frame, homs[max(0, n - 1)], homs[n], size=clip.size, fps=fps)
            video_frame = av.VideoFrame.from_ndarray(frame[:, :, ::-1].copy(), format="rgb24")
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))
    part.replace(out)
    return clip


def _shake_blur(
    frame: np.ndarray, h_prev: np.ndarray, h_now: np.ndarray, *, size: tuple[int, int], fps: int
) -> np.ndarray:
    """Blur along the image motion at the frame centre during a 1/50 s exposure."""
    w, h = size
    centre = np.array([[[w / 2, h / 2]]], np.float64)
    back = cv2.perspectiveTransform(centre, np.linalg.inv(h_now))
    moved = cv2.perspectiveTransform(back, h_prev)[0, 0] - centre[0, 0]
    dx, dy = -moved * fps / 50.0  # pixels travelled during the exposure
    length = math.hypot(dx, dy)
    if length < 1.5:
        return frame
    k = int(math.ceil(length)) | 1
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    cv2.line(
        kernel, (round(c - dx / 2), round(c - dy / 2)), (round(c + dx / 2), round(c + dy / 2)), 1.0
    )
    kernel /= kernel.sum()
    return cv2.filter2D(frame, -1, kernel)


@dataclass(frozen=True)
class TrackScore:
    """How the people found in a clip line up with the people really in it."""

    tracks: int
    people_in_view: int
    people_found: int
    ids_per_found_person: float
    # Of all sightings of labelled people, the share under each one's most frequent id.
    main_id_share: float
    switches: int
    sightings: int
    tracks_on_nobody: int
    poster_tracks: int

    @property
    def tracks_per_person(self) -> float:
        return self.tracks / max(1, self.people_in_view)


def score(clip: HandheldClip, people: list[PersonTrack]) -> TrackScore:
    """Match each labelled head to the found person box holding it in its upper part, in
    every sample the people were seen in (``classroom.match_heads``), and count."""
    by_frame: dict[int, list[tuple[str, Box]]] = {}
    for person in people:
        for o in person.observations:
            by_frame.setdefault(o.frame, []).append((person.id, o.box))
    sampled = sorted({o.frame for p in people for o in p.observations})
    in_view: set[int] = set()
    ids_of: dict[int, list[str]] = {}
    on_someone: set[str] = set()
    on_poster: set[str] = set()
    for n in sampled:
        found = by_frame.get(n, [])
        heads = clip.heads_at(n)
        in_view |= {p for p, _ in heads}
        matched = match_heads([b for _, b in heads], [b for _, b in found])
        for hi, pi in matched.items():
            ids_of.setdefault(heads[hi][0], []).append(found[pi][0])
            on_someone.add(found[pi][0])
        for poster in clip.posters_at(n):
            for pid, box in found:
                if covers(box, poster):
                    on_poster.add(pid)
    switches = sum(a != b for seq in ids_of.values() for a, b in zip(seq, seq[1:], strict=False))
    return TrackScore(
        tracks=len(people),
        people_in_view=len(in_view),
        people_found=len(ids_of),
        ids_per_found_person=float(np.mean([len(set(s)) for s in ids_of.values()]))
        if ids_of
        else 0.0,
        main_id_share=sum(Counter(s).most_common(1)[0][1] for s in ids_of.values())
        / max(1, sum(len(s) for s in ids_of.values())),
        switches=switches,
        sightings=sum(len(s) for s in ids_of.values()),
        tracks_on_nobody=len({p.id for p in people} - on_someone - on_poster),
        poster_tracks=len(on_poster),
    )


def covers(box: Box, poster: Box) -> bool:
    """A person box that is mostly the poster: it overlaps the poster by half its own area."""
    ix = max(0.0, min(box.x1, poster.x1) - max(box.x0, poster.x0))
    iy = max(0.0, min(box.y1, poster.y1) - max(box.y0, poster.y0))
    return ix * iy >= 0.5 * box.area

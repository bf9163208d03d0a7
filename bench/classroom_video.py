"""Build a classroom-like video from the real classroom CCTV frames.

Each shot holds one real frame and moves a virtual camera slowly across it (pan and zoom),
then cuts to the next frame. People stay still within a shot and move only a few pixels
per frame, so a detector and a tracker see what they would see in a lesson recording.

    python bench/classroom_video.py OUT.mp4 --seconds 600 --size 1280x720 --fps 25
    python bench/classroom_video.py --demo      # resources/demo/classroom_demo.mp4

Frames: "cctv-accurate" dataset v1 (CC BY 4.0), see ATTRIBUTION below; every video this
writes carries that attribution in its metadata.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
FRAMES_DIR = REPO.parent / "shared" / "data" / "classroom-cctv" / "images"
DEMO_OUT = REPO / "resources" / "demo" / "classroom_demo.mp4"

ATTRIBUTION = (
    '"cctv-accurate" dataset v1, by a Roboflow Universe user (workspace '
    "pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0. "
    "https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate"
)
CHANGES = (
    "Changes: only one of the three augmented copies of each training frame is kept, renamed; "
    "frames were panned and zoomed into a video clip with cuts between them."
)

# Hand-picked for the demo: students clearly visible, several standing (100, 101, 114), and
# a class with heads down over books (36). About 7 s each keeps the clip under 30 s.
DEMO_SHOTS = ("100_jpg.jpg", "101.jpg", "114.jpg", "36.jpg")


@dataclass(frozen=True)
class View:
    """A virtual camera on a source frame: centre in source pixels, zoom >= 1."""

    cx: float
    cy: float
    zoom: float


@dataclass(frozen=True)
class Shot:
    frame: Path
    n_frames: int
    start: View
    end: View


def cleanest_frames(folder: Path, *, keep: float = 0.67) -> list[Path]:
    """The frames with the least salt-and-pepper noise (the dataset's augmentation adds some)."""
    scored = []
    for path in sorted(folder.glob("*.jpg")):
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        speckle = float((cv2.absdiff(grey, cv2.medianBlur(grey, 3)) > 60).mean())
        scored.append((speckle, path.name, path))
    scored.sort()
    return [path for _, _, path in scored[: max(1, int(len(scored) * keep))]]


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)  # smoothstep: the camera starts and stops gently


def _random_view(rng: random.Random, src_w: int, src_h: int) -> View:
    # Students sit in the upper two thirds of these frames; the bottom is the teacher's desk.
    return View(
        cx=src_w * rng.uniform(0.42, 0.58),
        cy=src_h * rng.uniform(0.35, 0.5),
        zoom=rng.uniform(1.0, 1.3),
    )


def plan_shots(
    frames: list[Path],
    *,
    total_frames: int,
    fps: float,
    shot_seconds: tuple[float, float],
    seed: int,
) -> list[Shot]:
    """Shots that cycle through ``frames`` in order, each with a gentle random camera move."""
    rng = random.Random(seed)
    src_h, src_w = cv2.imread(str(frames[0])).shape[:2]
    shots: list[Shot] = []
    done = 0
    while done < total_frames:
        n = min(total_frames - done, max(1, round(rng.uniform(*shot_seconds) * fps)))
        shots.append(
            Shot(
                frame=frames[len(shots) % len(frames)],
                n_frames=n,
                start=_random_view(rng, src_w, src_h),
                end=_random_view(rng, src_w, src_h),
            )
        )
        done += n
    return shots


def _affine(view: View, *, src_w: int, src_h: int, out_w: int, out_h: int) -> np.ndarray:
    """Source-to-output transform for a crop of the output's aspect, kept inside the source."""
    aspect = out_w / out_h
    crop_w = min(src_w, src_h * aspect) / view.zoom
    crop_h = crop_w / aspect
    cx = min(max(view.cx, crop_w / 2), src_w - crop_w / 2)
    cy = min(max(view.cy, crop_h / 2), src_h - crop_h / 2)
    s = out_w / crop_w
    return np.array([[s, 0, -(cx - crop_w / 2) * s], [0, s, -(cy - crop_h / 2) * s]], np.float64)


def render_frames(shots: list[Shot], *, size: tuple[int, int]):
    """Yield RGB frames (out_h, out_w, 3) for the shots, one source image in memory at a time."""
    out_w, out_h = size
    for shot in shots:
        src = cv2.cvtColor(cv2.imread(str(shot.frame)), cv2.COLOR_BGR2RGB)
        src_h, src_w = src.shape[:2]
        for i in range(shot.n_frames):
            t = _ease(i / max(1, shot.n_frames - 1))
            view = View(
                cx=shot.start.cx + (shot.end.cx - shot.start.cx) * t,
                cy=shot.start.cy + (shot.end.cy - shot.start.cy) * t,
                zoom=shot.start.zoom + (shot.end.zoom - shot.start.zoom) * t,
            )
            matrix = _affine(view, src_w=src_w, src_h=src_h, out_w=out_w, out_h=out_h)
            yield cv2.warpAffine(src, matrix, (out_w, out_h), flags=cv2.INTER_AREA)


def write_mp4(
    shots: list[Shot],
    out: Path,
    *,
    size: tuple[int, int],
    fps: int,
    crf: int = 23,
    preset: str = "veryfast",
    max_kbps: int | None = None,
) -> None:
    """H.264 in MP4, a keyframe every 2 s so that the app's seeks stay cheap."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    options = {"crf": str(crf), "preset": preset}
    if max_kbps:
        options |= {"maxrate": f"{max_kbps}k", "bufsize": f"{2 * max_kbps}k"}
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        container.metadata["comment"] = f"Frames: {ATTRIBUTION} {CHANGES}"
        stream = container.add_stream("libx264", rate=fps, options=options)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 2 * fps
        for rgb in render_frames(shots, size=size):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    tmp.replace(out)


def write_demo(frames_dir: Path = FRAMES_DIR, out: Path = DEMO_OUT) -> Path:
    fps, size, seconds_each = 20, (1280, 720), 7
    frames = [frames_dir / name for name in DEMO_SHOTS]
    moves = [  # (start, end) views chosen by eye: drift towards the students, never away
        (View(700, 400, 1.05), View(640, 380, 1.25)),
        (View(620, 380, 1.2), View(760, 400, 1.1)),
        (View(760, 420, 1.0), View(700, 380, 1.2)),
        (View(650, 360, 1.2), View(720, 400, 1.3)),
    ]
    shots = [
        Shot(frame=frame, n_frames=seconds_each * fps, start=a, end=b)
        for frame, (a, b) in zip(frames, moves, strict=True)
    ]
    # "medium" costs seconds here and keeps the bundled clip small.
    write_mp4(shots, out, size=size, fps=fps, crf=26, preset="medium", max_kbps=1200)
    (out.parent / "ATTRIBUTION.md").write_text(_attribution_md(), encoding="utf-8")
    return out


def _attribution_md() -> str:
    names = ", ".join(DEMO_SHOTS)
    return (
        "# Demo clip: attribution\n\n"
        "`classroom_demo.mp4` is made from real classroom CCTV frames of this data set:\n\n"
        f"{ATTRIBUTION}\n\n"
        f"{CHANGES}\n\n"
        f"Frames used: {names}. Made by `python bench/classroom_video.py --demo`.\n"
    )


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, help="output .mp4")
    parser.add_argument("--demo", action="store_true", help=f"write {DEMO_OUT.relative_to(REPO)}")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--size", type=_size, default=(1280, 720), help="WxH, e.g. 1280x720")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--shot-seconds", type=float, nargs=2, default=(6.0, 12.0))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crf", type=int, default=23, help="x264 quality: lower is better")
    parser.add_argument("--frames", type=Path, default=FRAMES_DIR, help="folder of real frames")
    args = parser.parse_args(argv)
    if args.demo:
        print(write_demo(args.frames))
        return 0
    if args.out is None:
        parser.error("give OUT.mp4, or --demo")
    shots = plan_shots(
        cleanest_frames(args.frames),
        total_frames=round(args.seconds * args.fps),
        fps=args.fps,
        shot_seconds=tuple(args.shot_seconds),
        seed=args.seed,
    )
    write_mp4(shots, args.out, size=args.size, fps=args.fps, crf=args.crf)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How the player keeps up: decode rate, display rate and dropped frames while playing,
seek, scrub and step latency, with the privacy blur off, on, and on with the face
detector (which runs on a thread of its own; "waiting for faces" is the worker's time
spent waiting for it, on frames that stay on screen or have no detection close by).

    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/bench_playback.py \
        [--video /tmp/bench_playback_720p.mp4] [--screenshot /tmp/video_view.png]

The video (1280x720 H.264, 25 fps, 60 s, a keyframe every 2 s) is made once from a real
classroom frame panned slowly, and kept. The privacy blur covers the 26 labelled
students of that frame, moving with the pan, as an analysis would report them.
Latencies are from the request to the frame arriving on the GUI thread (frame_ready);
painting it adds the paint time printed separately.

Frames: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication

from lessonreview.core.domain import Behaviour, Box, Status
from lessonreview.core.media.video import Recording
from lessonreview.core.privacy.face_blur import PersonRegion
from lessonreview.gui.player.playback import Player
from lessonreview.gui.player.video_view import OverlayPerson, VideoView

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "classroom-cctv"
SOURCE = "1"
SIZE = (1280, 720)
FPS = 25
SECONDS = 60


def pan_offset(frame: int) -> tuple[float, float]:
    """Top-left of the 1280x720 window on the 1400x900 frame: a slow back-and-forth."""
    phase = 2 * math.pi * frame / (FPS * 20)
    return 60 + 60 * math.sin(phase), 90 + 90 * math.sin(0.7 * phase)


def make_video(path: Path) -> None:
    source = cv2.imread(str(DATA / "images" / f"{SOURCE}.jpg"))
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.options = {"preset": "veryfast", "crf": "23", "g": str(2 * FPS)}
        for n in range(SECONDS * FPS):
            dx, dy = pan_offset(n)
            warp = np.float32([[1, 0, -dx], [0, 1, -dy]])
            image = cv2.warpAffine(source, warp, SIZE, flags=cv2.INTER_LINEAR)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = n
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def head_boxes() -> list[Box]:
    width, height = 1400, 900
    boxes = []
    for line in (DATA / "labels" / f"{SOURCE}.txt").read_text().splitlines():
        _, cx, cy, w, h = (float(v) for v in line.split())
        boxes.append(
            Box(
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                (cx + w / 2) * width,
                (cy + h / 2) * height,
            )
        )
    return boxes


def person_boxes() -> list[Box]:
    """A seated student's box as a detector gives it: head at the top, desk below."""
    return [
        Box(
            h.x0 - 0.35 * h.width,
            h.y0 - 0.1 * h.height,
            h.x1 + 0.35 * h.width,
            h.y1 + 2.6 * h.height,
        )
        for h in head_boxes()
    ]


PEOPLE = person_boxes()


def boxes_at(frame: int) -> list[Box]:
    dx, dy = pan_offset(frame)
    return [Box(b.x0 - dx, b.y0 - dy, b.x1 - dx, b.y1 - dy) for b in PEOPLE]


def regions_at(frame: int) -> list[PersonRegion]:
    return [PersonRegion(b) for b in boxes_at(frame)]


class Bench(QObject):
    def __init__(self, app: QApplication, recording: Recording) -> None:
        super().__init__()
        self.app = app
        self.recording = recording
        self.view = VideoView()
        self.view.resize(1100, 640)
        self.view.show()
        self.paints = 0
        self.view.installEventFilter(self)
        self.player = Player(recording)
        self.arrivals: list[tuple[int, float]] = []
        self.player.frame_ready.connect(self._on_frame)
        self.player.position_changed.connect(self._on_position)
        self._loop: QEventLoop | None = None
        self._until = None
        self.wait_for(lambda: self.player.position == 0)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False

    def _on_frame(self, frame: int, image) -> None:
        self.arrivals.append((frame, time.perf_counter()))
        self.view.set_frame(frame, image)
        if self._loop is not None and self._until is not None and self._until():
            self._loop.quit()

    def _on_position(self, frame: int) -> None:
        self.view.set_overlay(
            frame,
            [
                OverlayPerson(
                    f"P{i + 1}",
                    f"P{i + 1}",
                    b,
                    tags=[(Behaviour.READING, Status.PENDING)] if i % 3 == 0 else [],
                )
                for i, b in enumerate(boxes_at(frame))
            ],
        )

    def wait_for(self, until, timeout_s: float = 10.0) -> None:
        if until():
            return
        self._loop, self._until = QEventLoop(), until
        QTimer.singleShot(int(timeout_s * 1000), self._loop.quit)
        self._loop.exec()
        self._loop = self._until = None

    def run_for(self, seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def set_privacy(self, on: bool, *, face_model: Path | None = None) -> None:
        self.player.set_face_regions(regions_at if on else None)
        self.player.set_privacy(on)
        self.player.set_face_detector(face_model)

    def play(self, seconds: float, speed: float) -> dict:
        self.player.seek(0)
        self.wait_for(lambda: self.player.position == 0)
        self.player.set_speed(speed)
        before, paints0 = self.player.stats, self.paints
        self.arrivals.clear()
        t0 = time.perf_counter()
        self.player.play()
        self.run_for(seconds)
        self.player.pause()
        elapsed = time.perf_counter() - t0
        self.run_for(0.2)
        after = self.player.stats
        shown = len([a for a in self.arrivals if a[1] - t0 <= elapsed])
        advanced = self.player.position
        return {
            "display_fps": shown / elapsed,
            "paint_fps": (self.paints - paints0) / elapsed,
            "expected_fps": FPS * speed,
            "dropped": after.frames_dropped - before.frames_dropped,
            "advanced_frames": advanced,
            "expected_frames": round(elapsed * FPS * speed),
            "render_ms": 1000
            * (after.render_s - before.render_s)
            / max(1, after.frames_shown - before.frames_shown),
            "decode_ms": 1000 * (after.decode_s - before.decode_s) / max(1, advanced),
            "hidden": after.frames_hidden - before.frames_hidden,
            "faces_ms": 1000
            * (after.faces_s - before.faces_s)
            / max(1, after.frames_shown - before.frames_shown),
        }

    def latency(self, targets: list[int], ask) -> list[float]:
        """ms from asking for each frame to it arriving, one request at a time."""
        out = []
        for target in targets:
            t0 = time.perf_counter()
            ask(target)
            self.wait_for(lambda t=target: self.arrivals and self.arrivals[-1][0] == t)
            out.append(1000 * (self.arrivals[-1][1] - t0))
        return out

    def seeks(self, rng: np.random.Generator, n: int) -> list[float]:
        frames = [int(f) for f in rng.integers(0, self.recording.frame_count, size=n)]
        return self.latency(frames, self.player.seek)

    def step_backs(self, rng: np.random.Generator, n: int) -> list[float]:
        out = []
        for start in rng.integers(1, self.recording.frame_count, size=n):
            start = int(start)
            self.player.seek(start)
            self.wait_for(lambda s=start: self.player.position == s)
            out += self.latency([start - 1], lambda _: self.player.step_back())
        return out

    def step_forwards(self, *, start: int, n: int, pause_s: float = 0.0) -> list[float]:
        """Steps one frame forward, each as soon as the last arrived, or ``pause_s``
        after it (a reviewer looking at each frame before the next key press)."""
        self.player.seek(start)
        self.wait_for(lambda: self.player.position == start)
        out = []
        for target in range(start + 1, start + n + 1):
            if pause_s:
                self.run_for(pause_s)
            out += self.latency([target], lambda _: self.player.step_forward())
        return out

    def scrub(self, *, ticks: int = 120, stride: int = 6) -> dict:
        """A slider dragged at 60 updates/s, ``stride`` frames per update."""
        start = 100
        self.player.seek(start)
        self.wait_for(lambda: self.player.position == start)
        self.arrivals.clear()
        asked: dict[int, float] = {}
        timer = QTimer()
        timer.setInterval(16)
        state = {"i": 0}

        def tick() -> None:
            state["i"] += 1
            target = start + state["i"] * stride
            asked[target] = time.perf_counter()
            self.player.seek(target)
            if state["i"] >= ticks:
                timer.stop()

        timer.timeout.connect(tick)
        timer.start()
        last = start + ticks * stride
        self.wait_for(lambda: self.arrivals and self.arrivals[-1][0] == last, timeout_s=30)
        lat = [1000 * (t - asked[f]) for f, t in self.arrivals if f in asked]
        return {
            "requests": ticks,
            "shown": len(self.arrivals),
            "latency_ms": lat,
            "settle_ms": 1000 * (self.arrivals[-1][1] - asked[last]),
        }

    def paint_ms(self, repeats: int = 30) -> float:
        t0 = time.perf_counter()
        for _ in range(repeats):
            self.view.repaint()
        return 1000 * (time.perf_counter() - t0) / repeats

    def close(self) -> None:
        self.player.close()


def raw_decode_fps(recording: Recording, n: int = 300) -> float:
    with recording.reader() as reader:
        reader.frame(0)
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            reader.frame(i)
        return n / (time.perf_counter() - t0)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):6.1f} ms  p95 {pct(values, 95):6.1f} ms  (n={len(values)})"


def screenshot(app: QApplication, out: Path) -> None:
    """The view on a real classroom frame, privacy view on, with real detections and
    poses when the models are there (else boxes built from the head labels)."""
    from lessonreview.core.privacy.face_blur import blur_faces
    from lessonreview.gui.player.playback_worker import bgr_to_qimage

    image = cv2.imread(str(DATA / "images" / f"{SOURCE}.jpg"))
    os.environ.setdefault("LESSONREVIEW_MODELS", str(REPO.parent / "shared" / "models"))
    people: list[tuple[Box, np.ndarray | None]]
    try:
        from lessonreview.core.vision.detection import PersonDetector
        from lessonreview.core.vision.model_files import ModelName, resolve
        from lessonreview.core.vision.pose import PoseEstimator

        detector = PersonDetector(resolve(ModelName.PERSON_DETECTOR))
        with PoseEstimator(resolve(ModelName.POSE_FULL)) as pose:
            people = [(d.box, pose.estimate(image, d.box)) for d in detector.detect(image)]
        source = "detector + pose"
    except Exception as exc:  # a screenshot without models still shows the view
        people = [(b, None) for b in PEOPLE]
        source = f"head labels ({exc})"
    blurred = blur_faces(image, [PersonRegion(b, kp) for b, kp in people])
    view = VideoView()
    view.resize(1400, 900)
    view.set_frame(0, bgr_to_qimage(blurred))
    view.set_privacy_note(True)
    tag_cycle = [
        [(Behaviour.READING, Status.PENDING)],
        [(Behaviour.WRITING, Status.ACCEPTED)],
        [],
        [(Behaviour.HEAD_DOWN, Status.CORRECTED)],
        [(Behaviour.HAND_RAISED, Status.REJECTED)],
    ]
    view.set_overlay(
        0,
        [
            OverlayPerson(
                f"P{i + 1}",
                f"P{i + 1}",
                box,
                kp,
                tags=tag_cycle[i % len(tag_cycle)],
                selected=i == 3,
            )
            for i, (box, kp) in enumerate(people)
        ],
    )
    view.show()
    app.processEvents()
    view.grab().save(str(out))
    print(f"screenshot: {out} ({len(people)} people from {source})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=Path("/tmp/bench_playback_720p.mp4"))
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--play-seconds", type=float, default=8.0)
    parser.add_argument("--screenshot-only", action="store_true")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    if args.screenshot_only:
        screenshot(app, args.screenshot or Path("/tmp/video_view.png"))
        return

    if not args.video.exists():
        t0 = time.perf_counter()
        make_video(args.video)
        print(f"made {args.video} in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    recording = Recording.open(args.video)
    print(
        f"video: {recording.width}x{recording.height}, {recording.frame_count} frames, "
        f"{recording.fps:.2f} fps, indexed in {1000 * (time.perf_counter() - t0):.0f} ms"
    )
    print(f"reader alone, sequential decode: {raw_decode_fps(recording):.0f} fps")

    os.environ.setdefault("LESSONREVIEW_MODELS", str(REPO.parent / "shared" / "models"))
    from lessonreview.core.vision.model_files import ModelName, resolve

    modes = {
        "off": (False, None),
        "ON (26 faces)": (True, None),
        "ON (26 faces) + face detector": (True, resolve(ModelName.FACE_DETECTOR)),
    }
    bench = Bench(app, recording)
    try:
        for mode, (privacy, face_model) in modes.items():
            bench.set_privacy(privacy, face_model=face_model)
            bench.run_for(0.5)
            print(f"\n--- privacy blur {mode} ---")
            print(f"paint of the view (1100x640, 26 boxes): {bench.paint_ms():.1f} ms")
            for speed in (1.0, 4.0):
                r = bench.play(args.play_seconds if speed == 1 else args.play_seconds / 2, speed)
                print(
                    f"play {speed:g}x: {r['display_fps']:.1f} frames/s delivered (target {r['expected_fps']:.0f}), "
                    f"{r['paint_fps']:.1f} paints/s, dropped {r['dropped']}, advanced "
                    f"{r['advanced_frames']} of {r['expected_frames']} frames due; worker per frame: "
                    f"decode {r['decode_ms']:.1f} ms, blur+convert {r['render_ms']:.1f} ms "
                    f"(of which waiting for faces {r['faces_ms']:.1f} ms); hidden whole while "
                    f"the face detector caught up: {r['hidden']}"
                )
            rng = np.random.default_rng(1)
            print(f"random seek:  {summary(bench.seeks(rng, 40))}")
            print(f"step back:    {summary(bench.step_backs(rng, 25))}")
            print(f"step forward: {summary(bench.step_forwards(start=200, n=25))}")
            paced = summary(bench.step_forwards(start=400, n=25, pause_s=0.3))
            print(f"step forward, one key press per 0.3 s after each frame arrives: {paced}")
            s = bench.scrub()
            print(
                f"scrub (60 seeks/s, 120 seeks): {s['shown']} frames shown, latency of shown "
                f"{summary(s['latency_ms'])}; last frame {s['settle_ms']:.0f} ms after its request"
            )
    finally:
        bench.close()
    if args.screenshot is not None:
        screenshot(app, args.screenshot)


if __name__ == "__main__":
    main()

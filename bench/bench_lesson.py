"""A whole lesson in the real window: analysis, reopening with kept proposals, seeks,
timeline zoom and memory, on a long 1080p recording made from real frames.

    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/bench_lesson.py \
        [--minutes 45] [--size 1920x1080] [--video /tmp/lesson45.mp4] [--proposals P.json]
        [--reopen-only] [--pack columns|json] [--seeks 40] [--only-seeks] [--no-face-detector]
        [--screenshot PNG]

The video is made once by ``bench/classroom_video.py`` (real classroom-cctv frames, CC BY
4.0, panned and zoomed, cut between shots) and kept. The analysis runs once too: its
proposals file is kept beside the video (or given with ``--proposals``), because a
45-minute analysis takes a long time on 2 cores; its time and ratio to the duration are
printed when it runs. Then, in the real MainWindow (Xvfb):

- the project gets a consent record that asks to keep undecided proposals, and the
  analysis is kept: time to pack it (off the GUI thread in the app) and its size;
- the recording is opened: time until the first kept proposal is reviewable, until
  every one is in the queue, and until the people are in (privacy view and overlays),
  reopening without analysing again; the longest the window did not answer meanwhile;
  resident memory before and after;
- random seeks, from the request to the frame painted: p50/p95, with the privacy view
  on (people's heads from the analysis) and then also with the face detector, and
  where the time went (decoding, faces, blur, QImage, queueing, the GUI thread);
- the timeline: repaint time at the whole lesson, 10 minutes and 1 minute visible.

Frames: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_until(app: QApplication, condition, timeout_s: float, stalls: list | None = None) -> float:
    """Seconds until ``condition()`` held (the event loop running meanwhile). ``stalls``
    gets how long each turn of the loop took: a 5 ms timer that fires late is a window
    that did not answer."""
    t0 = time.perf_counter()
    while not condition():
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError(f"not within {timeout_s} s")
        loop = QEventLoop()
        QTimer.singleShot(5, loop.quit)
        turn = time.perf_counter()
        loop.exec()
        if stalls is not None:
            stalls.append(time.perf_counter() - turn)
    return time.perf_counter() - t0


class SeekTimes:
    """Random seeks in the real window, one at a time, each from ``player.seek`` until
    the video view has painted that frame with its overlay, split into where the time
    went: the worker's decoding, blur, face detector and QImage (from its counters, as
    of the delivery), the GUI thread's slots (overlay, timeline, labels) and the view's
    paint, and the rest (queueing). The decoding counted may include the look-ahead
    after the seek before (one frame)."""

    def __init__(self, app: QApplication, player, view) -> None:
        self.app, self.player, self.view = app, player, view
        self.rows: list[dict[str, float]] = []
        self._ready: dict[int, tuple[float, object]] = {}
        self._painted: dict[int, float] = {}
        self._handled: dict[int, float] = {}
        # Connected after the workspace's own slots, so these run after them.
        player.frame_ready.connect(self._on_ready)
        player.position_changed.connect(self._on_position)

    def _on_ready(self, frame: int, _image) -> None:
        self._ready.setdefault(frame, (time.perf_counter(), self.player.stats))

    def _on_position(self, frame: int) -> None:
        # The overlay for this frame is set by now; paint it as the next event would.
        handled = time.perf_counter()
        self.view.repaint()
        self._painted.setdefault(frame, time.perf_counter())
        self._handled.setdefault(frame, handled)

    def run(self, frames: list[int]) -> None:
        for f in frames:
            self._ready.pop(f, None)
            self._painted.pop(f, None)
            self._handled.pop(f, None)
            before = self.player.stats
            t0 = time.perf_counter()
            self.player.seek(f)
            wait_until(self.app, lambda f=f: f in self._painted, timeout_s=30)
            ready, after = self._ready[f]
            decode = after.decode_s - before.decode_s
            faces = after.faces_s - before.faces_s
            # getattr: the same bench measures the code from before the blur was counted.
            blur = getattr(after, "blur_s", 0.0) - getattr(before, "blur_s", 0.0)
            qimage = after.render_s - before.render_s - faces - blur
            total = self._painted[f] - t0
            self.rows.append({
                "total": total, "decode": decode, "faces": faces, "blur": blur,
                "qimage": qimage, "slots": self._handled[f] - ready,
                "paint": self._painted[f] - self._handled[f],
                "queue": ready - t0 - decode - faces - blur - qimage,
            })  # fmt: skip

    def report(self, label: str) -> None:
        rows = self.rows
        ms = [1000 * r["total"] for r in rows]
        print(
            f"random seek ({label}), {len(ms)} seeks, request to frame painted: p50 "
            f"{statistics.median(ms):.0f} ms, p95 {pct(ms, 0.95):.0f} ms, max {max(ms):.0f} ms"
        )
        parts = ("decode", "faces", "blur", "qimage", "queue", "slots", "paint")
        print(
            "  median ms: "
            + ", ".join(f"{p} {1000 * statistics.median(r[p] for r in rows):.1f}" for p in parts)
        )
        slow = sorted(rows, key=lambda r: r["total"])[int(0.9 * len(rows)) :]
        print(
            "  slowest tenth, mean ms: "
            + ", ".join(f"{p} {1000 * statistics.mean(r[p] for r in slow):.1f}" for p in parts)
        )


def reader_seeks(video: Path, count: int) -> None:
    """The same random seeks with a FrameReader alone: decoding from the keyframe to
    the frame, and its conversion to BGR."""
    from lessonreview.core.media.video import Recording

    recording = Recording.open(video)
    rng = random.Random(1)
    frames = [rng.randrange(0, recording.frame_count) for _ in range(count)]
    totals, converts = [], []
    with recording.reader() as reader:
        reader.frame(recording.frame_count // 2)
        for f in frames:
            t0 = time.perf_counter()
            reader.frame(f)
            totals.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            reader.frame(f)  # kept decoded: only the conversion again
            converts.append(1000 * (time.perf_counter() - t0))
    print(
        f"FrameReader alone, {count} random seeks: p50 {statistics.median(totals):.0f} ms, "
        f"p95 {pct(totals, 0.95):.0f} ms (of which BGR conversion, median "
        f"{statistics.median(converts):.1f} ms)"
    )


def make_video(path: Path, minutes: float, size: str) -> None:
    print(f"making {path} ({minutes:g} min, {size}) from the classroom frames…", flush=True)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "classroom_video.py"), str(path),
         "--seconds", str(minutes * 60), "--size", size, "--fps", "25"],
        check=True,
    )  # fmt: skip
    print(f"  made in {time.perf_counter() - t0:.0f} s")


def analysed(video: Path, proposals: Path):
    from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
    from lessonreview.core.store import proposals_file

    if proposals.is_file():
        print(f"analysis: kept from an earlier run ({proposals})")
        return proposals_file.read(proposals)
    t0 = time.perf_counter()
    doc = analyze(AnalysisRequest(path=video))
    wall = time.perf_counter() - t0
    print(
        f"analysis: {wall:.0f} s for {doc.recording.duration_s:.0f} s of video "
        f"(ratio {wall / doc.recording.duration_s:.3f}); {len(doc.people)} people, "
        f"{len(doc.proposals)} proposals"
    )
    proposals_file.write(doc, proposals)
    return doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=45.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--video", type=Path, default=None)
    parser.add_argument("--proposals", type=Path, default=None)
    parser.add_argument("--seeks", type=int, default=40)
    parser.add_argument(
        "--pack",
        choices=("columns", "json"),
        default="columns",
        help="keep the analysis as columns (today) or as gzip JSON (projects of schema 5)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        help="save the window (PNG): after reopening with --reopen-only, else after the seeks",
    )
    parser.add_argument(
        "--reopen-only", action="store_true", help="stop after reopening (no seeks, no timeline)"
    )
    parser.add_argument(
        "--only-seeks", action="store_true", help="skip the timeline repaints after the seeks"
    )
    parser.add_argument(
        "--no-face-detector", action="store_true", help="seek with the privacy view only"
    )
    args = parser.parse_args()
    video = args.video or Path(f"/tmp/lesson{args.minutes:g}min_{args.size}.mp4")
    proposals = args.proposals or video.with_suffix(".proposals.json")
    os.environ.setdefault("LESSONREVIEW_MODELS", str(REPO.parent / "shared" / "models"))
    if not video.is_file():
        make_video(video, args.minutes, args.size)
    doc = analysed(video, proposals)

    from lessonreview.core.media.video import Recording, file_sha256
    from lessonreview.core.store import kept_pack, proposals_file
    from lessonreview.core.store import settings as settings_io
    from lessonreview.core.store.label_store import LabelStore
    from lessonreview.core.store.store_rows import Consent
    from lessonreview.core.vision.model_files import ModelName, resolve
    from lessonreview.gui.shell.app import create_application
    from lessonreview.gui.shell.main_window import MainWindow

    home = Path(tempfile.mkdtemp(prefix="bench-lesson-"))
    for variable, folder in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data")):
        os.environ[variable] = str(home / folder)
    settings_path = home / "config" / "lessonreview" / "settings.json"
    settings_io.save(settings_io.Settings(reviewer="Bench"), settings_path)
    project = home / "lesson.lessonreview"

    t0 = time.perf_counter()
    if args.pack == "columns":
        blob = kept_pack.pack(doc)
    else:
        text = json.dumps(proposals_file.to_json_dict(doc), separators=(",", ":"))
        blob = gzip.compress(text.encode())
    pack = time.perf_counter() - t0
    store = LabelStore.open(project)
    rid = store.add_recording(Recording.open(video).info(sha256=file_sha256(video)))
    store.set_consent(
        rid,
        Consent("Public CC BY 4.0 frames (benchmark)", "benchmark",
                date.today() + timedelta(days=1), "Bench", datetime.now(UTC),
                keep_proposals=True),
    )  # fmt: skip
    store.keep_analysis(rid, blob)
    store.close()
    observations = sum(len(p.observations) for p in doc.people)
    print(
        f"kept analysis: {len(doc.people)} people, {observations} observations, "
        f"{len(doc.proposals)} proposals; packed ({args.pack}) in {pack:.1f} s to {len(blob) / 1e6:.1f} MB"
    )

    n_people, n_proposals = len(doc.people), len(doc.proposals)
    del doc, blob  # the window's memory is measured, not the benchmark's copy
    if not args.reopen_only:
        reader_seeks(video, args.seeks)
    print(
        f"load average (1 min) before the window: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    app = create_application()
    rss_before = rss_mb()
    w = MainWindow(project_path=project, settings_path=settings_path, models_dir=None)
    w.resize(1500, 950)
    w.show()
    stalls: list[float] = []
    t0 = time.perf_counter()
    w.open_recording(video)
    first = wait_until(
        app, lambda: w.session is not None and w.session.pending_count() > 0, 600, stalls
    )
    wait_until(app, lambda: w.session.pending_count() >= n_proposals * 0.99, 600, stalls)
    queued = time.perf_counter() - t0
    wait_until(app, lambda: len(w.workspace.tracks) >= n_people, 600, stalls)
    people = time.perf_counter() - t0
    print(
        f"reopen with kept proposals: first reviewable after {first:.1f} s, "
        f"{w.session.pending_count()} proposals in the queue after {queued:.1f} s, "
        f"{len(w.workspace.tracks)} people in after {people:.1f} s; longest the window did "
        f"not answer: {1000 * max(stalls):.0f} ms; analysis running: {w.analysis.runner.running}"
    )
    print(f"resident memory: {rss_before:.0f} MB before the window, {rss_mb():.0f} MB after")
    if args.screenshot is not None and args.reopen_only:
        shown = []
        w.workspace.player.frame_ready.connect(lambda f, _img: shown.append(f))
        w.workspace.player.seek(w.recording.timebase.frame_count // 3)
        wait_until(app, lambda: shown, timeout_s=30)
        settle = QEventLoop()  # the frame painted, and the queue's first row selected
        QTimer.singleShot(500, settle.quit)
        settle.exec()
        w.grab().save(str(args.screenshot))
        print(f"screenshot: {args.screenshot}")
    if args.reopen_only:
        w.close()
        return 0

    player = w.workspace.player
    frame_count = w.recording.timebase.frame_count
    rng = random.Random(1)
    frames = [rng.randrange(0, frame_count) for _ in range(args.seeks)]
    modes = [
        ("privacy view, heads from the analysis", None),
        ("privacy view + face detector", resolve(ModelName.FACE_DETECTOR)),
    ]
    if args.no_face_detector:
        modes = modes[:1]
    for label, face_model in modes:
        w.workspace.set_face_detector(face_model)
        seeks = SeekTimes(app, player, w.workspace.video)
        # The face detector loads on the first frame it sees: not counted.
        seeks.run([(frames[0] + frame_count // 2) % frame_count])
        seeks.rows.clear()
        seeks.run(frames)
        seeks.report(label)
    if args.screenshot is not None and not args.reopen_only:
        w.grab().save(str(args.screenshot))
        print(f"window saved to {args.screenshot}")
    if args.only_seeks:
        w.close()
        return 0

    view = w.workspace.timeline
    viewport = view.viewport()
    duration = w.recording.timebase.duration_s
    for label, span in (("whole lesson", None), ("10 min", 600.0), ("1 min", 60.0)):
        paints = []
        for i in range(10):
            start = 0.0 if span is None else min(duration - span, 300.0 + i * 0.5)
            view.zoom_to(start, duration if span is None else start + span)
            t0 = time.perf_counter()
            viewport.repaint()
            paints.append(1000 * (time.perf_counter() - t0))
        print(f"timeline repaint ({label} visible, {len(view.segment_keys())} segments): "
              f"median {statistics.median(paints):.1f} ms")  # fmt: skip
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

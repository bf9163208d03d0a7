"""How fast the timeline loads, takes a decision, moves its playhead and repaints.

Run under a display, e.g.:
    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/bench_timeline.py

Synthetic data: 10,000 segments over a 45-minute lesson at 25 fps, 30 people, all five
behaviours and all four statuses. Paints are forced with ``viewport().repaint()`` so a
figure includes Qt's rasterisation, not only the Python that schedules it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace

from PySide6.QtWidgets import QApplication

from lessonreview.core.domain import Behaviour, Source, Status
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.pending_proposals import ReviewItem
from lessonreview.core.review.review_session import Change
from lessonreview.gui.timeline.timeline_view import TimelineView

FPS = 25.0


def make_segments(n: int, *, people: int, frame_count: int, seed: int) -> list[ReviewItem]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        start = rng.randrange(0, frame_count - 2000)
        length = rng.randrange(12, 1500)
        out.append(
            ReviewItem(
                key=f"p:{i}",
                person=f"P{rng.randint(1, people)}",
                behaviour=rng.choice(list(Behaviour)),
                start_frame=start,
                end_frame=start + length,
                start_s=start / FPS,
                end_s=(start + length) / FPS,
                status=rng.choice(list(Status)),
                source=Source.MACHINE,
                confidence=rng.random(),
                evidence="wrist above shoulder in 80% of frames",
                proposal_key=str(i),
                label_id=None,
            )
        )
    return out


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--screenshot", help="also save a PNG of the widget here")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    timebase = Timebase.constant(FPS, int(45 * 60 * FPS))
    segments = make_segments(
        args.segments, people=args.people, frame_count=timebase.frame_count, seed=7
    )
    view = TimelineView(timebase)
    view.resize(1500, 900)
    view.show()
    app.processEvents()
    viewport = view.viewport()

    load = timed(lambda: view.set_segments(segments))
    first_paint = timed(viewport.repaint)
    print(f"segments: {args.segments}, people: {args.people}, widget 1500x900")
    print(
        f"load {args.segments} segments (set_segments): {ms(load)}; first full paint: {ms(first_paint)}"
    )

    rng = random.Random(3)
    apply_times, with_paint = [], []
    for i in range(100):
        old = segments[rng.randrange(len(segments))]
        if old.key not in view.segment_keys():
            continue
        new = replace(old, key=f"l:{i}", status=Status.ACCEPTED, proposal_key=None, label_id=i)
        change = Change(removed=(old.key,), added=(new,), people_changed=False, label="Accept")
        t = timed(lambda change=change: view.apply_change(change))
        apply_times.append(t)
        with_paint.append(t + timed(viewport.repaint))
        view.set_selected(new.key, reveal=False)
    print(
        f"apply_change, median of {len(apply_times)} decisions: {ms(statistics.median(apply_times))}"
        f" (with the repaint that follows: {ms(statistics.median(with_paint))})"
    )

    for label, span in (("whole lesson", None), ("2 min", 120.0)):
        if span is None:
            view.zoom_all()
        else:
            view.zoom_to(600.0, 600.0 + span)
        app.processEvents()
        frame0 = int(view.visible_range()[0] * FPS) + 10
        calls, frames = [], []
        for f in range(frame0, frame0 + 300):
            calls.append(timed(lambda f=f: view.set_playhead_frame(f)))
            # processEvents paints only what the move dirtied, as at playback.
            frames.append(calls[-1] + timed(app.processEvents))
        print(
            f"playhead update ({label} visible), median of 300: call {ms(statistics.median(calls))},"
            f" call + repaint of what it dirtied {ms(statistics.median(frames))}"
        )

    for label, span in (
        ("whole lesson (45 min)", None),
        ("10 min", 600.0),
        ("1 min", 60.0),
        ("10 s", 10.0),
    ):
        paints = []
        for i in range(15):
            # A new range each time, as a wheel step or a pan does: the cached picture
            # of the segments cannot be reused and everything visible is drawn again.
            start = 0.0 if span is None else 900.0 + i * 0.5
            view.zoom_to(start, timebase.duration_s if span is None else start + span)
            if span is None:
                view.set_selected(segments[i].key, reveal=False)
            paints.append(timed(viewport.repaint))
        print(f"full repaint at {label}: median {ms(statistics.median(paints))}")

    if args.screenshot:
        view.zoom_all()
        app.processEvents()
        view.grab().save(args.screenshot)
        print(f"saved {args.screenshot}")


if __name__ == "__main__":
    main()

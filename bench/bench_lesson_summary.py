"""How fast the lesson summary follows the review on a 45-minute lesson.

Synthetic data: a 45-minute lesson at 25 fps, a number of reviewed labels (2,000 by
default) and some rejected ones in a real project file, 30 people tracked at 2 samples
per second (what the analysis gives), pending proposals. Measures, each the median of
several runs: the summary from the project file alone; the room map's places from the
tracks; one full redraw of the panel (summary, places, pyqtgraph items) with its paint
forced; and a change of the bins. Run under a display:

    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/bench_lesson_summary.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication

from lessonreview.core.domain import (
    Behaviour,
    Box,
    Observation,
    PersonTrack,
    RecordingInfo,
    Source,
    Status,
)
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.reflection.lesson_summary import places_in_file, summarise_recording
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Label
from lessonreview.gui.reflection.lesson_summary_view import LessonSummaryView

FPS = 25.0
MINUTES = 45


def make_project(folder: Path, *, labels: int, rejected: int, people: int, seed: int):
    rng = random.Random(seed)
    frames = int(MINUTES * 60 * FPS)
    timebase = Timebase.constant(FPS, frames)
    store = LabelStore.open(folder / "bench.lessonreview")
    rid = store.add_recording(
        RecordingInfo(
            path=str(folder / "lesson.mp4"),
            sha256="b" * 64,
            width=1280,
            height=720,
            fps=FPS,
            frame_count=frames,
            duration_s=frames / FPS,
        )
    )
    with store.transaction():
        for i in range(labels + rejected):
            start = rng.randrange(0, frames - 3000)
            end = start + rng.randrange(25, 3000)
            behaviour = rng.choice(list(Behaviour))
            person = f"P{rng.randint(1, people)}"
            store.insert_label(
                Label(
                    id=None,
                    recording_id=rid,
                    person=person,
                    behaviour=behaviour,
                    start_frame=start,
                    end_frame=end,
                    source=Source.MACHINE,
                    status=Status.REJECTED if i >= labels else Status.ACCEPTED,
                    proposal_key=f"{person}:{behaviour.value}:{start}:{end}:{i}",
                    confidence=0.7,
                    evidence="bench",
                    reviewer="Bench",
                    decided_at=datetime.now(UTC),
                ),
                seconds=timebase.frame_to_seconds,
            )
    step = int(FPS / 2)
    tracks = [
        PersonTrack(
            id=f"P{p}",
            observations=tuple(
                Observation(
                    frame=f,
                    t=f / FPS,
                    box=Box(40 * p, 200, 40 * p + 60, 400),
                    score=0.9,
                )
                for f in range(0, frames, step)
            ),
        )
        for p in range(1, people + 1)
    ]
    return store, rid, timebase, tracks


def median_ms(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=2000)
    parser.add_argument("--rejected", type=int, default=200)
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        store, rid, timebase, tracks = make_project(
            Path(tmp), labels=args.labels, rejected=args.rejected, people=args.people, seed=0
        )
        observations = sum(len(t.observations) for t in tracks)
        session = ReviewSession(store, rid, timebase=timebase, reviewer="Bench")
        summary_ms = median_ms(
            lambda: summarise_recording(store, rid, seconds=timebase.frame_to_seconds), args.runs
        )
        places_ms = median_ms(lambda: places_in_file(store, rid, tracks), args.runs)
        view = LessonSummaryView(store, session, timebase, tracks=lambda: tracks)
        view.resize(520, 900)
        view.show()
        app.processEvents()

        def redraw() -> None:
            view.redraw()
            view.plots.viewport().repaint()
            view.room.viewport().repaint()

        redraw_ms = median_ms(redraw, args.runs)

        def rebin() -> None:
            view.bin_choice.setCurrentIndex((view.bin_choice.currentIndex() + 1) % 6)
            view.plots.viewport().repaint()

        rebin_ms = median_ms(rebin, args.runs)
        hands = view.summary.over_time[Behaviour.HAND_RAISED].total
        print(
            f"{MINUTES}-minute lesson, {view.summary.reviewed_labels} reviewed labels "
            f"(+{args.rejected} rejected), {hands} raised hands, {args.people} people, "
            f"{observations} observations; median of {args.runs} runs:"
        )
        print(f"  summary from the project file: {summary_ms:7.1f} ms")
        print(f"  room map places from tracks:  {places_ms:7.1f} ms")
        print(f"  full panel redraw + paint:    {redraw_ms:7.1f} ms")
        print(f"  change of bins + paint:       {rebin_ms:7.1f} ms")
        view.close_view()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

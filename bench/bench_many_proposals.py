"""How long one decision takes in the real window with many proposals loaded.

Run under a display, e.g.:
    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/bench_many_proposals.py --n 100000

The demo recording (real classroom frames, CC BY 4.0, see resources/demo/ATTRIBUTION.md)
is opened with a proposals file of ``--n`` synthetic proposals (the schema's cap is
200,000): 300 people, all five behaviours, random spans. The reviewer presses A and R
alternately; each figure is from the key press to the event loop being idle again, so it
includes the review session, the queue, the timeline, the overlay and the project write.
``--profile`` prints where the time of the decisions went.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from lessonreview.core.domain import Behaviour, PersonTrack, Proposal
from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.store import proposals_file
from lessonreview.core.store import settings as settings_io
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument, times_of
from lessonreview.core.store.store_rows import Consent
from lessonreview.gui.shell.main_window import MainWindow
from lessonreview.gui.shell.resources import demo_recording


def proposals_for(recording: Recording, n: int, *, seed: int = 0) -> ProposalsDocument:
    rng = random.Random(seed)
    count = recording.frame_count
    people = [f"P{i}" for i in range(1, 301)]
    proposals = {}
    while len(proposals) < n:
        start = rng.randrange(0, count - 2)
        p = Proposal(
            person=rng.choice(people),
            behaviour=rng.choice(list(Behaviour)),
            start_frame=start,
            end_frame=rng.randrange(start + 1, min(count, start + 200) + 1),
            confidence=round(rng.random(), 3),
            evidence="synthetic",
        )
        proposals[p.key] = p
    chosen = tuple(proposals.values())
    return ProposalsDocument(
        recording=recording.info(),
        analysis=AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=0.0),
        people=tuple(PersonTrack(id=p) for p in people),
        proposals=chosen,
        seconds=times_of(chosen, recording.timebase.frame_to_seconds),
    )


def idle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="proposals loaded")
    parser.add_argument("--decisions", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    for kind in ("critical", "warning", "information"):
        setattr(QMessageBox, kind, lambda *a, **k: QMessageBox.StandardButton.Ok)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[variable] = str(folder / variable.lower())
        settings_path = folder / "settings.json"
        settings_io.save(settings_io.Settings(reviewer="Bench"), settings_path)
        clip = demo_recording()
        recording = Recording.open(clip)
        t0 = time.perf_counter()
        doc = proposals_for(recording, args.n)
        path = folder / "many.proposals.json"
        proposals_file.write(doc, path)
        print(f"proposals file: {args.n} proposals written in {time.perf_counter() - t0:.1f} s")

        w = MainWindow(project_path=folder / "bench.lessonreview", settings_path=settings_path)
        w.resize(1500, 950)
        w.show()
        rid = w.store.add_recording(recording.info(sha256=file_sha256(clip)))
        w.store.set_consent(
            rid,
            Consent(
                consented_by="Public CC BY 4.0 frames",
                purpose="benchmark",
                retention_until=date.today() + timedelta(days=30),
                recorded_by="Bench",
                recorded_at=datetime.now(UTC),
            ),
        )
        t0 = time.perf_counter()
        w.open_recording(clip, proposals=path)
        deadline = time.perf_counter() + 300
        while (
            w.session is None or w.session.pending_count() == 0
        ) and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.01)
        if w.session is None or w.session.pending_count() == 0:
            print(f"not loaded: {w.status_text.text()}", file=sys.stderr)
            return 1
        idle(app)
        print(
            f"open with proposals: {time.perf_counter() - t0:.1f} s, "
            f"{w.session.pending_count()} pending"
        )
        w.activateWindow()
        idle(app)

        profile = cProfile.Profile() if args.profile else None
        times = []
        for i in range(args.decisions):
            key = Qt.Key.Key_A if i % 2 == 0 else Qt.Key.Key_R
            target = QApplication.focusWidget() or w.workspace
            t0 = time.perf_counter()
            if profile is not None:
                profile.enable()
            QTest.keyClick(target, key)
            idle(app)
            if profile is not None:
                profile.disable()
            times.append(time.perf_counter() - t0)
        left = w.session.pending_count()
        print(
            f"one decision with {args.n} proposals: median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms over {len(times)} ({args.n - left} decided)"
        )
        if profile is not None:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

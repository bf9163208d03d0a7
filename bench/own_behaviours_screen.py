"""A screenshot of the lesson summary counting a project's own coding-scheme behaviours.

Opens the demo recording (real CC BY 4.0 classroom frames, resources/demo/ATTRIBUTION.md)
in the real MainWindow with a few hand-written proposals, saves a coding scheme of two
own behaviours (a state and a point event), codes some labels with them, accepts two
proposals, shows View > Lesson summary and saves the window. Needs a display:

    xvfb-run -a -s "-screen 0 1800x1000x24" python bench/own_behaviours_screen.py docs/screenshots
    xvfb-run -a -s "-screen 0 1800x1000x24" python bench/own_behaviours_screen.py \\
        docs/screenshots --size 1366x768 --phases

``--size`` is the window's size (a teacher's laptop is often 1366x768); ``--phases`` marks
two lesson phases first, so the phase lines and their list show too. The file is named
after what it shows, e.g. ``summary_own_behaviours_1366x768_phases.png``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from app_window import record_consent  # noqa: E402
from lessonreview.core.domain import (  # noqa: E402
    Behaviour,
    BehaviourKind,
    Box,
    CodingScheme,
    Observation,
    PersonTrack,
    Proposal,
    SchemeBehaviour,
)
from lessonreview.core.media.video import Recording, file_sha256  # noqa: E402
from lessonreview.core.store import proposals_file  # noqa: E402
from lessonreview.core.store import settings as settings_io  # noqa: E402
from lessonreview.core.store.label_store import LabelStore  # noqa: E402
from lessonreview.core.store.proposals_file import (  # noqa: E402
    AnalysisMeta,
    ProposalsDocument,
    times_of,
)
from lessonreview.gui.shell.main_window import MainWindow  # noqa: E402
from lessonreview.gui.shell.resources import demo_recording  # noqa: E402

TALK = CodingScheme(
    name="Classroom talk",
    behaviours=(
        SchemeBehaviour(
            code="teacher_at_board", name="Teacher at the board", key="B", colour="#1F77B4"
        ),
        SchemeBehaviour(
            code="question",
            name="Question asked",
            key="Q",
            colour="#9467BD",
            kind=BehaviourKind.POINT,
        ),
    ),
)


def wait_for(app: QApplication, done, *, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--size", default="1800x1000", help="the window's size, WIDTHxHEIGHT")
    parser.add_argument("--phases", action="store_true", help="mark two lesson phases first")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    work = Path(tempfile.mkdtemp(prefix="own-behaviours-"))
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[variable] = str(work / variable.lower())
    settings_path = work / "settings.json"
    settings_io.save(settings_io.Settings(reviewer="Ms Tester"), settings_path)
    models = (
        Path(os.environ["LESSONREVIEW_MODELS"]) if "LESSONREVIEW_MODELS" in os.environ else None
    )
    video = work / "lesson.mp4"
    shutil.copyfile(demo_recording(), video)
    recording = Recording.open(video)
    tb = recording.timebase
    project = work / "lesson.lessonreview"
    with LabelStore.open(project) as store:
        record_consent(store, video)
        store.save_scheme(TALK)
    tracks = tuple(
        PersonTrack(
            id=pid,
            observations=tuple(
                Observation(frame=f, t=tb.frame_to_seconds(f), box=box, score=0.9)
                for f in range(0, recording.frame_count, 10)
            ),
        )
        for pid, box in (("P1", Box(100, 100, 200, 350)), ("P2", Box(900, 400, 1000, 650)))
    )
    proposals = tuple(
        Proposal(person=p, behaviour=b, start_frame=s, end_frame=e, confidence=0.8, evidence="seen")
        for p, b, s, e in (
            ("P1", Behaviour.HAND_RAISED, 100, 140),
            ("P2", Behaviour.HAND_RAISED, 300, 330),
            ("P1", Behaviour.STANDING, 400, 480),
        )
    )
    doc = ProposalsDocument(
        recording=recording.info(sha256=file_sha256(video)),
        analysis=AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=1.0),
        people=tracks,
        proposals=proposals,
        seconds=times_of(proposals, tb.frame_to_seconds),
    )
    path = work / "lesson.proposals.json"
    proposals_file.write(doc, path)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(project_path=project, models_dir=models, settings_path=settings_path)
    window.resize(width, height)
    window.show()
    opened = []
    window.recording_opened.connect(opened.append)
    window.open_recording(video, proposals=path)
    wait_for(app, lambda: bool(opened) and window.session.pending_count() == 3)
    session = window.session
    for p in proposals[:2]:
        session.accept(p.key)
    session.add_label(
        person="P1", behaviour="teacher_at_board", start_frame=0, end_frame=tb.seconds_to_frame(6)
    )
    session.add_label(
        person="P2",
        behaviour="teacher_at_board",
        start_frame=tb.seconds_to_frame(10),
        end_frame=tb.seconds_to_frame(14),
    )
    for s in (3.0, 8.5, 12.0):
        f = tb.seconds_to_frame(s)
        session.add_label(person="P2", behaviour="question", start_frame=f, end_frame=f + 1)
    window.reflection.set_shown(True)
    wait_for(app, lambda: window.reflection.view is not None)
    view = window.reflection.view
    if args.phases:
        view.mark_phase("introduction", at_frame=0)
        view.mark_phase("group work", at_frame=tb.seconds_to_frame(12.0))
    wait_for(app, lambda: len(view.summary.own) == 2)
    wait_for(app, lambda: window.reflection.still is not None, timeout_s=120)
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    name = "summary_own_behaviours"
    if args.size != "1800x1000":
        name += f"_{args.size}"
    if args.phases:
        name += "_phases"
    shot = args.out_dir / f"{name}.png"
    window.grab().save(str(shot))
    print(f"{shot}: " + "; ".join(f"{o.name}: {o.in_words()}" for o in view.summary.own))
    window.close_recording()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

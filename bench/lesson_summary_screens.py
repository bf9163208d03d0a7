"""Screenshots of the lesson summary in the real window, and of the one-page report.

Builds a synthetic reviewed lesson on a recording (``bench/synthetic_lesson.py``), opens it
in the real MainWindow with its proposals file, shows View > Lesson summary, seeks, and
saves the window; then runs ``lessonreview report`` on the same project and renders the
HTML with ``bench/render_report.py``. Needs a display:

    python bench/classroom_video.py /tmp/lesson45.mp4 --seconds 2700 --fps 2 --shot-seconds 60 120
    xvfb-run -a -s "-screen 0 1800x1000x24" python bench/lesson_summary_screens.py \\
        /tmp/lesson45.mp4 docs/screenshots
    xvfb-run -a -s "-screen 0 1800x1000x24" python bench/lesson_summary_screens.py \\
        /tmp/lesson45.mp4 docs/screenshots --size 1366x768 --no-report

``--size`` is the window's size (a teacher's laptop is often 1366x768); a size other than
the default is named in the file, e.g. ``reflection_1366x768.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))

from render_report import render  # noqa: E402
from synthetic_lesson import make_lesson  # noqa: E402

from lessonreview.cli import main as cli_main  # noqa: E402
from lessonreview.core.store import settings as settings_io  # noqa: E402
from lessonreview.gui.shell.main_window import MainWindow  # noqa: E402


def wait_for(app: QApplication, done, *, timeout_s: float = 120.0) -> None:
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("video", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seek-s", type=float, default=1230.0)
    # Fewer than the benchmark's 2,000: thirty people cannot stand 2,000 times in a lesson,
    # and a picture of impossible numbers would mislead whoever looks at it.
    parser.add_argument("--reviewed", type=int, default=500)
    parser.add_argument("--size", default="1800x1000", help="the window's size, WIDTHxHEIGHT")
    parser.add_argument("--no-report", action="store_true", help="the window's picture only")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    work = Path(tempfile.mkdtemp(prefix="lesson-summary-"))
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[variable] = str(work / variable.lower())
    settings_path = work / "settings.json"
    settings_io.save(settings_io.Settings(reviewer="Ms Tester"), settings_path)
    models = (
        Path(os.environ["LESSONREVIEW_MODELS"]) if "LESSONREVIEW_MODELS" in os.environ else None
    )
    project, proposals = make_lesson(
        work,
        args.video,
        reviewed=args.reviewed,
        rejected=args.reviewed // 10,
        pending=args.reviewed // 10,
        models_dir=models,
    )

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(project_path=project, models_dir=models, settings_path=settings_path)
    window.resize(width, height)
    window.show()
    opened = []
    window.recording_opened.connect(opened.append)
    window.open_recording(args.video, proposals=proposals)
    wait_for(app, lambda: bool(opened))
    window.reflection.set_shown(True)
    view = window.reflection.view
    wait_for(app, lambda: window.reflection.still is not None, timeout_s=180)
    window.workspace.player.seek(window.recording.timebase.seconds_to_frame(args.seek_s))
    wait_for(app, lambda: window.workspace.player.position > 0)
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    shot = args.out_dir / (
        "reflection.png" if args.size == "1800x1000" else f"reflection_{args.size}.png"
    )
    window.grab().save(str(shot))
    summary = view.summary
    print(
        f"{shot}: {summary.reviewed_labels} reviewed labels, "
        f"{summary.over_time[next(iter(summary.over_time))].total} raised hands, "
        f"{len(summary.hand_places)} on the map, pending {summary.progress.pending}"
    )
    window.close_recording()
    window.close()
    if args.no_report:
        return 0

    report = work / "report.html"
    code = cli_main(
        [
            "report",
            str(project),
            "--recording",
            args.video.name,
            "--out",
            str(report),
            "--proposals",
            str(proposals),
        ]
        + (["--models", str(models)] if models else [])
    )
    if code != 0:
        return code
    (args.out_dir / "report.html").write_bytes(report.read_bytes())
    render(report.read_text(encoding="utf-8"), args.out_dir / "report.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

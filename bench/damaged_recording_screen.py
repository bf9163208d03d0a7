"""A screenshot of the window reviewing a recording damaged in the middle: the banner
names the stretch that could not be decoded. Needs a display and the model files:

    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/damaged_recording_screen.py docs/screenshots

The recording is 7 s of the demo (real classroom frames, CC BY 4.0, see
resources/demo/ATTRIBUTION.md), scratched from 3.0 to 3.5 s as tests/test_damaged_frames.py
does; faces are blurred (the privacy view is on by default).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze  # noqa: E402
from lessonreview.core.media.video import Recording, file_sha256  # noqa: E402
from lessonreview.core.store import proposals_file  # noqa: E402
from lessonreview.core.store import settings as settings_io  # noqa: E402
from lessonreview.core.store.store_rows import Consent  # noqa: E402
from lessonreview.gui.shell.main_window import MainWindow  # noqa: E402
from lessonreview.gui.shell.resources import demo_recording  # noqa: E402
from video_samples import cut_clip, scratched  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    for kind in ("critical", "warning", "information"):
        setattr(QMessageBox, kind, lambda *a, **k: QMessageBox.StandardButton.Ok)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[variable] = str(folder / variable.lower())
        good = cut_clip(demo_recording(), folder / "good.mp4", seconds=7.0, keyframe_every=20)
        clip = scratched(good, folder / "lesson.mp4", start_s=3.0, end_s=3.5)
        doc = analyze(AnalysisRequest(path=clip, rate_hz=4))
        proposals = folder / "lesson.proposals.json"
        proposals_file.write(doc, proposals)
        settings_path = folder / "settings.json"
        settings_io.save(settings_io.Settings(reviewer="Ms Tester"), settings_path)
        w = MainWindow(project_path=folder / "lesson.lessonreview", settings_path=settings_path)
        w.resize(1500, 950)
        w.show()
        rid = w.store.add_recording(Recording.open(clip).info(sha256=file_sha256(clip)))
        w.store.set_consent(
            rid,
            Consent(
                consented_by="Public CC BY 4.0 frames",
                purpose="screenshot",
                retention_until=date.today() + timedelta(days=30),
                recorded_by="Ms Tester",
                recorded_at=datetime.now(UTC),
            ),
        )
        w.open_recording(clip, proposals=proposals)
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.02)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        w.grab().save(str(args.out_dir / "damaged_recording.png"))
        w.close()


if __name__ == "__main__":
    main()

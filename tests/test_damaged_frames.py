"""A recording damaged in the middle (packets overwritten, the container intact): the
analysis steps over the stretch it cannot decode, says which stretch in the command's
output, in the proposals file and in the window, and proposes nothing across it.

The recording is a clip of the demo (real classroom frames: "cctv-accurate" dataset v1,
CC BY 4.0; see resources/demo/ATTRIBUTION.md) re-encoded with a keyframe every second,
then scratched from 3.0 to 3.5 s at test time. Frames up to the next keyframe (4.0 s)
are predicted from the scratched ones, so the stretch that cannot be used is 3.0-4.0 s.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QMessageBox

from app_window import consent_args, isolated_user, record_consent
from lessonreview.cli import main
from lessonreview.core.analysis.pipeline import outside
from lessonreview.core.domain import Proposal
from lessonreview.core.media.video import Recording
from lessonreview.gui.shell.main_window import MainWindow
from lessonreview.gui.shell.resources import demo_recording
from video_samples import cut_clip, scratched

FPS = 20  # the demo's
SCRATCH = (3.0, 3.5)
UNUSABLE = (3.0, 4.0)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("damaged")
    good = cut_clip(demo_recording(), folder / "good.mp4", seconds=7.0, keyframe_every=FPS)
    bad = scratched(good, folder / "scratched.mp4", start_s=SCRATCH[0], end_s=SCRATCH[1])
    return good, bad


@pytest.fixture(scope="module")
def analysed(clips, models_dir, tmp_path_factory):
    """``lessonreview analyze`` run once on the scratched clip: exit code, its messages,
    the proposals file written."""
    _, bad = clips
    folder = tmp_path_factory.mktemp("analysed")
    out = folder / "scratched.proposals.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(folder / "cache"))
        import io
        import sys

        err = io.StringIO()
        mp.setattr(sys, "stderr", err)
        code = main(
            [
                "analyze",
                str(bad),
                "--rate",
                "4",
                "--models",
                str(models_dir),
                "--out",
                str(out),
                *consent_args(folder),
            ]
        )
    return code, err.getvalue(), out


def test_the_reader_gives_every_frame_but_the_unusable_stretch_and_names_it(clips) -> None:
    good, bad = clips
    recording = Recording.open(bad)
    assert recording.damaged_at_s is None  # nothing to see at open: the damage is inside
    with recording.reader() as reader:
        numbers = [n for n, _ in reader.frames(range(recording.frame_count))]
        assert reader.undecodable == [(round(UNUSABLE[0] * FPS), round(UNUSABLE[1] * FPS))]
        assert reader.stopped_at_frame is None
    first, stop = reader.undecodable[0]
    assert numbers == [n for n in range(recording.frame_count) if not first <= n < stop]
    with Recording.open(good).reader() as reader:
        assert len(list(reader.frames(range(recording.frame_count)))) == recording.frame_count
        assert reader.undecodable == []


def test_analyze_names_the_stretch_in_its_output_and_in_the_proposals_file(analysed) -> None:
    code, err, out = analysed
    assert code == 0, err
    assert "Traceback" not in err
    assert "scratched.mp4 is damaged" in err
    assert "3.00-4.00 s" in err and "could not be decoded" in err
    doc = json.loads(out.read_text())
    assert doc["analysis"]["undecodable_s"] == [pytest.approx(list(UNUSABLE))]
    assert "stopped_at_s" not in doc["analysis"]  # it went on past the stretch
    assert doc["proposals"], "the rest of the clip was analysed"
    for p in doc["proposals"]:
        assert p["end_s"] <= UNUSABLE[0] + 1e-6 or p["start_s"] >= UNUSABLE[1] - 1e-6, p
    # People were seen after the stretch too: the analysis did not stop there.
    seen_after = [
        o for person in doc["people"] for o in person["observations"] if o["t"] >= UNUSABLE[1]
    ]
    assert seen_after


def test_a_proposal_across_a_stretch_is_cut_in_two_and_others_stay() -> None:
    across = Proposal(
        person="P1", behaviour="reading", start_frame=10, end_frame=100, confidence=0.8, evidence=""
    )
    before = Proposal(
        person="P2", behaviour="writing", start_frame=0, end_frame=60, confidence=0.7, evidence=""
    )
    inside = Proposal(
        person="P3", behaviour="standing", start_frame=65, end_frame=75, confidence=0.7, evidence=""
    )
    kept = outside([across, before, inside], [(60, 80)])
    spans = sorted((p.person, p.start_frame, p.end_frame) for p in kept)
    assert spans == [("P1", 10, 60), ("P1", 80, 100), ("P2", 0, 60)]


@pytest.mark.gui
def test_the_window_shows_the_stretch_while_its_proposals_are_reviewed(
    qtbot, clips, analysed, tmp_path, monkeypatch, models_dir
) -> None:
    _, bad = clips
    _, _, proposals = analysed
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, **k: QMessageBox.StandardButton.Ok)
    settings_path = isolated_user(monkeypatch, tmp_path)
    w = MainWindow(
        project_path=tmp_path / "lesson.lessonreview",
        settings_path=settings_path,
        models_dir=models_dir,
    )
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    record_consent(w.store, bad)
    w.open_recording(bad, proposals=proposals)
    qtbot.waitUntil(lambda: w.workspace is not None and w.workspace.player.position >= 0)
    banner = w.workspace.damage_banner
    assert banner.isVisible()
    assert "could not be decoded" in banner.text() and "0:03.00–0:04.00" in banner.text()
    assert w.session.pending_count() > 0
    w.close()

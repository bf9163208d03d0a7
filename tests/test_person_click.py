"""Clicking a person on the video makes them the focus of review: the queue goes to
their segment, the timeline highlights it, and a person with nothing to review says
so. A real workspace (player, video, panel, timeline) on a small numbered clip with
hand-made people and proposals, so no analysis runs.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from lessonreview.core.domain import Behaviour, Box, Observation, PersonTrack, Proposal, Status
from lessonreview.core.media.video import Recording
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.gui.shell.workspace import Workspace
from video_samples import write_numbered_video

pytestmark = pytest.mark.gui

FPS = 20
N_FRAMES = 120  # 6 s
SIZE = (640, 360)
BOXES = {
    "P1": Box(40, 140, 160, 340),
    "P2": Box(200, 140, 320, 340),
    "P3": Box(360, 140, 480, 340),
    "P4": Box(500, 140, 620, 340),  # nobody proposed anything for P4
}


def _track(pid: str, box: Box) -> PersonTrack:
    observations = tuple(
        Observation(frame=f, t=f / FPS, box=box, score=0.9) for f in range(0, N_FRAMES, 10)
    )
    return PersonTrack(id=pid, observations=observations)


class Lesson:
    """A workspace on a clip with four people side by side."""

    def __init__(self, qtbot, tmp_path) -> None:
        self.keys: dict[str, str] = {}  # a proposal's short name in this test: its key
        clip = tmp_path / "lesson.mp4"
        write_numbered_video(clip, n_frames=N_FRAMES, fps=FPS, codec="libx264", size=SIZE)
        recording = Recording.open(clip)
        self.timebase = recording.timebase
        self.store = LabelStore.open(tmp_path / "lesson.lessonreview")
        rid = self.store.add_recording(recording.info())
        self.session = ReviewSession(self.store, rid, timebase=self.timebase, reviewer="Tester")
        self.session.add_proposals(
            [
                self.proposal("a", "P1", Behaviour.HAND_RAISED, 0, 30),
                self.proposal("b", "P2", Behaviour.STANDING, 60, 90),
                self.proposal("c", "P3", Behaviour.WRITING, 0, 100),
                self.proposal("d", "P2", Behaviour.READING, 100, 110),
            ]
        )
        self.ws = Workspace(recording, self.session, privacy=False, skeleton=False)
        qtbot.addWidget(self.ws)
        self.ws.resize(1200, 800)
        self.ws.show()
        qtbot.waitExposed(self.ws)
        self.ws.set_people([_track(pid, box) for pid, box in BOXES.items()])
        qtbot.waitUntil(lambda: self.ws.video.has_image and self.ws.player.position == 0)
        self.qtbot = qtbot

    def proposal(self, name, person, behaviour, start, end) -> Proposal:
        p = Proposal(
            person=person,
            behaviour=behaviour,
            start_frame=start,
            end_frame=end,
            confidence=0.6,
            evidence="made by hand",
        )
        self.keys[name] = p.key
        return p

    def seek(self, frame: int) -> None:
        self.ws.player.seek(frame)
        self.qtbot.waitUntil(lambda: self.ws.player.position == frame)

    def click(self, person: str) -> None:
        video = self.ws.video
        point = video.frame_to_widget(*BOXES[person].centre)
        assert video.person_at(point) == person
        with self.qtbot.waitSignal(video.person_clicked):
            self.qtbot.mouseClick(video, Qt.MouseButton.LeftButton, pos=point.toPoint())

    def key_of(self, name: str) -> str:
        return next(s.key for s in self.session.segments() if s.proposal_key == self.keys[name])

    def selected_on_video(self) -> list[str]:
        return [p.person_id for p in self.ws.video.overlay if p.selected]

    def close(self) -> None:
        self.ws.close_workspace()
        self.store.close()


@pytest.fixture
def lesson(qtbot, tmp_path):
    lesson = Lesson(qtbot, tmp_path)
    yield lesson
    lesson.close()


def test_clicking_a_person_goes_to_their_next_proposal(qtbot, lesson):
    lesson.seek(20)
    lesson.click("P2")  # nothing of P2's under the playhead: their next one, at frame 60
    current = lesson.ws.panel.current
    assert current is not None and current.person == "P2"
    assert current.key == lesson.key_of("b")
    qtbot.waitUntil(lambda: lesson.ws.player.position == 60)
    assert lesson.ws.timeline.selected_key == current.key
    assert lesson.selected_on_video() == ["P2"]


def test_clicking_a_person_shows_their_segment_under_the_playhead_without_moving(qtbot, lesson):
    lesson.session.accept(lesson.keys["c"])  # decided: still theirs to look at
    lesson.seek(40)
    lesson.click("P3")
    current = lesson.ws.panel.current
    assert current.person == "P3" and current.status is Status.ACCEPTED
    assert lesson.ws.timeline.selected_key == current.key
    assert lesson.ws.player.position == 40, "the reviewer keeps the moment they clicked"


def test_a_person_with_nothing_to_review_says_how_to_add_a_label(qtbot, lesson):
    lesson.seek(40)
    panel = lesson.ws.panel
    before = panel.current
    lesson.click("P4")
    assert "Person 4: no proposals here — press I/O/M to add a label" in panel.title.text()
    assert lesson.selected_on_video() == ["P4"]
    # The keys go on acting on the segment the panel shows, and say so.
    assert panel.current == before
    assert "still act on this segment" in panel.title.text()
    assert lesson.ws.timeline.selected_key == before.key
    # The next proposal arriving elsewhere does not pull the reviewer away.
    lesson.session.add_proposals([lesson.proposal("e", "P1", Behaviour.READING, 110, 115)])
    assert panel.focused_person == "P4"
    # Moving on in the queue ends the focus.
    panel.next()
    assert panel.focused_person == panel.current.person
    assert "no proposals here" not in panel.title.text()


def test_a_merged_persons_box_reviews_the_person_they_were_merged_into(qtbot, lesson):
    # The tracker lost P2 at frame 30 and found the same person again as P4 at frame 40.
    seen = {pid: _track(pid, box) for pid, box in BOXES.items()}
    seen["P2"] = PersonTrack("P2", tuple(o for o in seen["P2"].observations if o.frame < 30))
    seen["P4"] = PersonTrack("P4", tuple(o for o in seen["P4"].observations if o.frame >= 40))
    lesson.ws.set_people(list(seen.values()))
    lesson.seek(40)
    lesson.session.merge_people("P2", "P4")  # P4's track is P2 after all
    lesson.seek(41)
    shown = {p.person_id for p in lesson.ws.video.overlay}
    assert "P4" not in shown and "P2" in shown
    video = lesson.ws.video
    point = video.frame_to_widget(*BOXES["P4"].centre)
    with qtbot.waitSignal(video.person_clicked) as clicked:
        qtbot.mouseClick(video, Qt.MouseButton.LeftButton, pos=point.toPoint())
    assert clicked.args == ["P2"]
    assert lesson.ws.panel.current.person == "P2"

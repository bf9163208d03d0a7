"""The raised hand a "hand raised" proposal rests on is drawn on the video: the hand's box
and, where it lies outside the person's box, a line to that box, so a reviewer sees
which hand it is and whether it is really this person's. Shown only while a hand-raised
segment of the person's is under the playhead and not rejected.

A real workspace (player, video, panel, timeline) on a small numbered clip with
hand-made people and proposals, so no analysis runs.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor

from lessonreview.core.domain import (
    Behaviour,
    Box,
    Observation,
    PersonTrack,
    Proposal,
    RaisedHand,
)
from lessonreview.core.media.video import Recording
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.gui.colours import BEHAVIOUR_HEX
from lessonreview.gui.shell.workspace import Workspace
from qt_pixels import near, rgb_of
from video_samples import write_numbered_video

pytestmark = pytest.mark.gui

FPS = 20
N_FRAMES = 120
SIZE = (640, 360)
PERSON = Box(200, 160, 320, 340)
# Raised above the head, outside the person's box: the line runs from the wrist down to it.
HAND = RaisedHand(box=Box(230, 60, 270, 110), wrist=(250, 110), score=2.0, above_head=1.5)


@pytest.fixture
def lesson(qtbot, tmp_path):
    clip = tmp_path / "lesson.mp4"
    write_numbered_video(clip, n_frames=N_FRAMES, fps=FPS, codec="libx264", size=SIZE)
    recording = Recording.open(clip)
    store = LabelStore.open(tmp_path / "lesson.lessonreview")
    rid = store.add_recording(recording.info())
    session = ReviewSession(store, rid, timebase=recording.timebase, reviewer="Tester")
    raised = Proposal(
        person="P1",
        behaviour=Behaviour.HAND_RAISED,
        start_frame=0,
        end_frame=40,
        confidence=0.8,
        evidence="made by hand",
    )
    session.add_proposals([raised])
    ws = Workspace(recording, session, privacy=False, skeleton=False)
    qtbot.addWidget(ws)
    ws.resize(1200, 800)
    ws.show()
    qtbot.waitExposed(ws)
    # The finder saw the hand in every sample, before and after the proposal's time too.
    observations = tuple(
        Observation(frame=f, t=f / FPS, box=PERSON, score=0.9, raised_hand=HAND)
        for f in range(0, N_FRAMES, 10)
    )
    ws.set_people([PersonTrack(id="P1", observations=observations)])
    qtbot.waitUntil(lambda: ws.video.has_image and ws.player.position == 0)
    yield ws, session, raised.key
    ws.close_workspace()
    store.close()


def _shown_hand(ws) -> RaisedHand | None:
    (person,) = ws.video.overlay
    return person.raised_hand


def _seek(qtbot, ws, frame: int) -> None:
    ws.player.seek(frame)
    qtbot.waitUntil(lambda: ws.player.position == frame and ws.video.frame == frame)


def _vermillion(ws) -> np.ndarray:
    """Where the view shows the hand-raised colour, per widget pixel."""
    colour = QColor(BEHAVIOUR_HEX[Behaviour.HAND_RAISED])
    return near(rgb_of(ws.video.grab().toImage()), colour, tol=25)


def test_the_hand_is_drawn_while_its_proposal_is_under_the_playhead(qtbot, lesson):
    ws, session, key = lesson
    _seek(qtbot, ws, 20)
    assert _shown_hand(ws) == HAND
    drawn = _vermillion(ws)
    # The hand's box and the line down to the person's box, on screen where they are.
    top = ws.video.frame_to_widget(HAND.box.x0, HAND.box.y0)
    bottom = ws.video.frame_to_widget(HAND.box.x1, PERSON.y0)
    region = drawn[
        round(top.y()) - 3 : round(bottom.y()) + 3, round(top.x()) - 3 : round(bottom.x()) + 3
    ]
    assert region.sum() > 40, "the hand's box and its line"

    # After the proposal's time the finder's hand is not shown: no segment rests on it.
    _seek(qtbot, ws, 80)
    assert _shown_hand(ws) is None
    assert not _vermillion(ws).any()

    # A rejected proposal is not a raised hand any more.
    _seek(qtbot, ws, 20)
    session.reject(key)
    qtbot.waitUntil(lambda: _shown_hand(ws) is None)

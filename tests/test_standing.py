"""Standing, from the room and from the body, on real frames.

Classroom frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed;
frames are played as short recordings with a drifting camera.

Standing and sitting images: "Fall Action Dataset", merged, cleaned and re-annotated by
Ilhem Laifi (ENIT), from "Fall Detect2" v11 by a Roboflow Universe user (workspace goldfish),
CC BY 4.0, https://universe.roboflow.com/goldfish/fall-detect2/dataset/11, and "Fall
Detection Dataset" by uttejkumarkandagatla on Kaggle, ODbL 1.0. Published in the GitHub
repository laifiilhem/fall-detection-yolov5-tensorrt-jetson (folder `datasets/Fall Action
Dataset/valid`). Changes: none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from classroom import REPO, drifting_video, frame_and_heads, yolo_labels
from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
from lessonreview.core.domain import Behaviour, Box, PersonTrack, Proposal
from lessonreview.core.store.proposals_file import ProposalsDocument

STANDING_SITTING = REPO.parent / "shared" / "data" / "standing-sitting"
DESK = {Behaviour.READING, Behaviour.WRITING, Behaviour.HEAD_DOWN}
SECONDS = 8.0

# Frame 114: six people stand, marked by eye (head centres in frame pixels; also in
# bench/data/classroom_standing.json); two of them at the back of the room, in plain view.
STANDING_114 = ((910, 94), (978, 90), (1117, 131), (1084, 436), (710, 202), (676, 106))
STANDING_AT_THE_BACK = STANDING_114[:2]


def person_at(
    doc: ProposalsDocument, views: list[tuple[float, float, float]], x: float, y: float
) -> PersonTrack | None:
    """The person whose box holds the frame point (x, y) in its upper half when first seen
    (the smallest such box); ``views`` maps frame pixels to each video frame's pixels."""
    best = None
    for person in doc.people:
        o = person.observations[0]
        x0, y0, scale = views[o.frame]
        vx, vy = (x - x0) * scale, (y - y0) * scale
        b = o.box
        if b.x0 <= vx <= b.x1 and b.y0 - 0.1 * b.height <= vy <= b.y0 + 0.5 * b.height:
            if best is None or b.area < best.observations[0].box.area:
                best = person
    return best


def proposed(doc: ProposalsDocument, person: str, behaviours: set[Behaviour]) -> list[Proposal]:
    return [p for p in doc.proposals if p.person == person and p.behaviour in behaviours]


@pytest.fixture(scope="module")
def standing_class(tmp_path_factory, models_dir):
    frame, _ = frame_and_heads("114")
    path = tmp_path_factory.mktemp("standing") / "class114.mp4"
    views = drifting_video(frame, path, seconds=SECONDS)
    return analyze(AnalysisRequest(path=path, rate_hz=2.0, models_dir=models_dir)), views


def test_people_standing_for_the_whole_recording_are_proposed_standing(standing_class):
    """Nobody stands up during the recording, so their own history shows no rise: the
    room's seated people do."""
    doc, views = standing_class
    for x, y in STANDING_AT_THE_BACK:
        person = person_at(doc, views, x, y)
        assert person is not None, f"the person standing at {(x, y)} is found"
        stood = proposed(doc, person.id, {Behaviour.STANDING})
        assert stood, f"{person.id} at {(x, y)} is proposed standing"
        covered = sum(p.end_frame - p.start_frame for p in stood)
        assert covered >= 0.75 * doc.recording.frame_count, "for most of the recording"
        assert any("above seated people" in p.evidence for p in stood)
        assert all(0.0 < p.confidence <= 1.0 for p in stood)


def test_a_person_proposed_standing_is_not_also_reading_at_the_same_time(standing_class):
    doc, _ = standing_class
    stood = [p for p in doc.proposals if p.behaviour == Behaviour.STANDING]
    assert stood
    for s in stood:
        for d in proposed(doc, s.person, DESK):
            assert d.end_frame <= s.start_frame or s.end_frame <= d.start_frame, (s, d)


def test_in_a_still_of_a_class_the_people_standing_at_the_back_are_standing(models_dir):
    """One frame: no history at all, only the room."""
    path = REPO.parent / "shared" / "data" / "classroom-cctv" / "images" / "114.jpg"
    doc = analyze(AnalysisRequest(path=path, models_dir=models_dir))
    still = [(0.0, 0.0, 1.0)]
    standing = {p.person for p in doc.proposals if p.behaviour == Behaviour.STANDING}
    for x, y in STANDING_AT_THE_BACK:
        person = person_at(doc, still, x, y)
        assert person is not None and person.id in standing, (x, y)
    _, heads = frame_and_heads("114")
    seated = [
        h
        for h in heads
        if all(abs(h.centre[0] - x) + abs(h.centre[1] - y) > h.width for x, y in STANDING_114)
    ]
    wrong = [h for h in seated if (p := person_at(doc, still, *h.centre)) and p.id in standing]
    assert len(seated) >= 15 and len(wrong) <= 1, f"{len(wrong)} of {len(seated)} seated"


def test_a_seated_class_gets_no_standing_proposal(tmp_path, models_dir):
    """Frame 1: every student sits (many with their legs in view under the desks, which
    from a camera above run straight down the picture like a standing person's)."""
    frame, heads = frame_and_heads("1")
    path = tmp_path / "class1.mp4"
    drifting_video(frame, path, seconds=SECONDS)
    doc = analyze(AnalysisRequest(path=path, rate_hz=2.0, models_dir=models_dir))
    assert len(doc.people) >= 0.6 * len(heads), "the class is seen"
    assert any(p.behaviour in DESK for p in doc.proposals), "and judged"
    assert not [p for p in doc.proposals if p.behaviour == Behaviour.STANDING]


def labelled(name: str, width: int, height: int) -> list[tuple[int, Box]]:
    return yolo_labels(STANDING_SITTING / "labels" / f"{name}.txt", width, height)


# One photo each from three of the data set's sources, of one whole person.
STANDING_PHOTOS = (
    "frame_1039_jpg.rf.7c8bbef72f475297f60e1adfc4969b57",
    "not-fallen004_jpg.rf.cb9b51e9d3706c21c3eed75382d490fd",
    "rgb_0083_png.rf.8e2f18c04957b7641c061994aa8ad4a3",
)
SEATED_PHOTOS = (
    "not-fallen054_jpg.rf.00b4a5a8d25da97bc77",
    "rgb_1435_png.rf.0ca67b2ea8a1025a36f7aa1a",
    "rgb_1438_png.rf.c680a0f8a0796cf5873a560d",
)


def still_verdicts(name: str, models_dir: Path) -> list[tuple[int, bool]]:
    """(labelled class, proposed standing) for each labelled person found in the photo."""
    path = next((STANDING_SITTING / "images").glob(f"{name}*.jpg"))
    doc = analyze(AnalysisRequest(path=path, models_dir=models_dir))
    standing = {p.person for p in doc.proposals if p.behaviour == Behaviour.STANDING}
    out = []
    for cls, box in labelled(path.stem, doc.recording.width, doc.recording.height):
        best = max(doc.people, key=lambda p: p.observations[0].box.iou(box), default=None)
        if best is not None and best.observations[0].box.iou(box) >= 0.5:
            out.append((cls, best.id in standing))
    return out


@pytest.mark.parametrize("name", STANDING_PHOTOS)
def test_a_whole_standing_body_in_a_photo_is_standing(name, models_dir):
    verdicts = still_verdicts(name, models_dir)
    assert (2, True) in verdicts, verdicts


@pytest.mark.parametrize("name", SEATED_PHOTOS)
def test_a_seated_person_with_legs_in_view_in_a_photo_is_not_standing(name, models_dir):
    verdicts = still_verdicts(name, models_dir)
    assert verdicts and all(cls == 1 and not stood for cls, stood in verdicts), verdicts

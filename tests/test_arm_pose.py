"""The arm pose model (MoveNet) finds raised arms where the palm detector finds no hand.

Screenshots and raised-hand labels: "Hand Raise" dataset v1, by a Roboflow Universe user
(workspace test-qu52t), exported 2025-07-06, licensed CC BY 4.0.
https://universe.roboflow.com/test-qu52t/hand-raise-ww4ow
Changes: one of the augmented copies of each screenshot kept, renamed.

Lecture frame: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate (changes: one of the
three augmented copies of each frame kept, renamed).

The model is the development copy of tests/data/models (see its README).
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze, resolve_models
from lessonreview.core.domain import Behaviour, Box, RaisedHand
from lessonreview.core.store import kept_pack, proposals_file
from lessonreview.core.vision.arm_pose import (
    DEFAULT_FRAMING,
    ArmPoseModel,
    one_per_arm,
    raised_arm,
)
from lessonreview.core.vision.detection import PersonDetector
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.core.vision.model_files import ModelName, resolve
from test_hands import CCTV, DATA, grown, labelled_hand, whose_head

# A student in the middle of the room with a hand up, which the palm detector does not
# find (the hand against the window behind): the centre of their head, in pixels
# (bench/hand_owners.json).
ARM_ONLY = "shot_2024-12-15-002416.jpg"
ARM_ONLY_OWNER = (499, 324)


@pytest.fixture(scope="module")
def arm_model(models_dir):
    model = ArmPoseModel(resolve(ModelName.ARM_POSE, explicit_dir=models_dir))
    yield model
    model.close()


@pytest.fixture(scope="module")
def detector(models_dir):
    return PersonDetector(resolve(ModelName.PERSON_DETECTOR, explicit_dir=models_dir))


def _raised(arm_model, detector, image):
    boxes = [d.box for d in detector.detect(image)]
    hands = [raised_arm(b, arm_model.keypoints(image, DEFAULT_FRAMING.window(b))) for b in boxes]
    return boxes, one_per_arm(hands, boxes)


def test_the_raised_arm_of_a_student_is_found_and_given_to_them(arm_model, detector):
    image = cv2.imread(str(DATA / "images" / ARM_ONLY))
    boxes, hands = _raised(arm_model, detector, image)
    label = grown(labelled_hand(ARM_ONLY), 0.25)
    given = [(b, h) for b, h in zip(boxes, hands, strict=True) if h is not None]
    # One raised arm in the room, given once, to the student whose arm it is.
    assert len(given) == 1, given
    box, hand = given[0]
    assert box.head().holds(ARM_ONLY_OWNER)
    assert label.holds(hand.wrist)
    assert hand.by_pose and hand.arm and hand.above_head > 0
    assert hand.score > np.log(0.3 / 0.7)


def test_seated_students_with_their_hands_down_show_no_raised_arm(arm_model, detector):
    image = cv2.imread(str(CCTV / "images" / "1.jpg"))
    boxes, hands = _raised(arm_model, detector, image)
    assert len(boxes) >= 20
    assert sum(h is not None for h in hands) <= 1


def test_an_arm_seen_from_two_windows_is_given_to_the_surer_pose_only():
    box = Box(100, 100, 140, 160)
    neighbour = Box(150, 100, 190, 160)
    sure = RaisedHand(Box(118, 40, 128, 50), (123.0, 45.0), 1.2, 2.5, arm=True, by_pose=True)
    echo = replace(sure, wrist=(126.0, 47.0), score=0.1)
    away = replace(sure, wrist=(300.0, 45.0), score=0.1)
    assert one_per_arm([sure, echo], [box, neighbour]) == [sure, None]
    assert one_per_arm([echo, sure], [box, neighbour]) == [None, sure]
    assert one_per_arm([sure, away], [box, neighbour]) == [sure, away]


def test_a_pose_of_someone_else_in_the_window_gives_no_raised_arm():
    # The face lies far from the box's head spot: the window showed a neighbour.
    box = Box(100, 100, 160, 200)
    points = np.zeros((17, 3))  # nothing seen but what is set below
    points[0:5] = (300, 110, 0.9)  # face
    points[5], points[6] = (110, 150, 0.9), (150, 150, 0.9)  # shoulders
    points[7], points[9] = (110, 110, 0.9), (110, 60, 0.9)  # left elbow, wrist up
    assert raised_arm(box, points) is None
    points[0:5, :2] = (130, 120)  # now the face is on this person's head
    hand = raised_arm(box, points)
    assert hand is not None and hand.wrist == (110.0, 60.0)
    points[7, 2] = 0.05  # no elbow seen: nothing connects the wrist to the body
    assert raised_arm(box, points) is None


def test_a_wrist_above_the_face_but_not_above_the_head_is_no_raised_arm():
    # The face keypoints sit low in the box's head spot (a head bowed, or a box whose top
    # holds hair or the room): a hand at the ear is above the eyes but not the head.
    box = Box(100, 100, 160, 200)
    points = np.zeros((17, 3))
    points[0:5] = (130, 135, 0.9)  # face, low in the head spot
    points[5], points[6] = (110, 160, 0.9), (150, 160, 0.9)  # shoulders
    points[7] = (108, 150, 0.9)  # left elbow
    points[9] = (110, 125, 0.9)  # left wrist at the ear: above the face, not the head
    assert raised_arm(box, points) is None
    points[9, 1] = 100  # well above the head
    assert raised_arm(box, points) is not None


def test_the_analysis_proposes_the_hand_the_arm_pose_model_found(models_dir, tmp_path):
    doc = analyze(AnalysisRequest(path=DATA / "images" / ARM_ONLY, models_dir=models_dir))
    people = {p.id: p for p in doc.people}
    raised = [p for p in doc.proposals if p.behaviour == Behaviour.HAND_RAISED]
    owners = [p for p in raised if whose_head(people[p.person], ARM_ONLY_OWNER)]
    assert len(owners) == 1, [(p.person, p.evidence) for p in raised]
    assert "the arm pose model" in owners[0].evidence
    hand = people[owners[0].person].observations[0].raised_hand
    assert hand is not None and hand.by_pose
    assert ModelName.ARM_POSE.value in doc.analysis.models
    # Kept in the proposals file and in the kept form, and read back as the same hand.
    path = tmp_path / "p.json"
    proposals_file.write(doc, path)
    for back in (proposals_file.read(path), kept_pack.unpack(kept_pack.pack(doc))):
        again = {p.id: p for p in back.people}[owners[0].person].observations[0].raised_hand
        assert again is not None and again.by_pose and again.wrist == hand.wrist


def test_a_damaged_or_wrong_arm_pose_model_is_a_clear_error(tmp_path, models_dir):
    cut = tmp_path / "movenet_singlepose_lightning.tflite"
    good = resolve(ModelName.ARM_POSE, explicit_dir=models_dir)
    cut.write_bytes(good.read_bytes()[:100_000])
    with pytest.raises(ModelFileError) as caught:
        ArmPoseModel(cut)
    assert str(cut) in str(caught.value)
    wrong = tmp_path / "other" / "movenet_singlepose_lightning.tflite"
    wrong.parent.mkdir()
    wrong.write_bytes(resolve(ModelName.PALM_DETECTOR, explicit_dir=models_dir).read_bytes())
    with pytest.raises(ModelFileError, match="not a MoveNet SinglePose model"):
        ArmPoseModel(wrong)


def test_the_analysis_needs_the_arm_pose_model_to_look_for_hands(models_dir):
    request = AnalysisRequest(path=DATA / "images" / ARM_ONLY, models_dir=models_dir)
    assert ModelName.ARM_POSE in request.model_names
    assert ModelName.ARM_POSE not in replace(request, find_hands=False).model_names
    models = resolve_models(request)
    assert models.hands is not None
    assert models.hands.arm_pose.name == ModelName.ARM_POSE.value

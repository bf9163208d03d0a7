"""People keep their pseudonymous ids over time.

The real-frame sequences are built from single classroom frames: a slow camera pan
and zoom, a person walking across another, and a person hidden for two seconds.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.
"""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from classroom import MODELS, frame_and_heads, match_heads
from lessonreview.core.analysis.tracking import Tracker, TrackerConfig, assign
from lessonreview.core.domain import Box, Observation
from lessonreview.core.vision.detection import PersonDetector

DT = 0.5  # the analysis samples about two frames a second


@pytest.fixture(scope="module")
def detector() -> PersonDetector:
    return PersonDetector(MODELS / "yolox_nano.onnx")


def observe(detector: PersonDetector, image: np.ndarray, k: int) -> list[Observation]:
    return [Observation(k, k * DT, d.box, d.score) for d in detector.detect(image)]


# --- real frames -------------------------------------------------------------------


def test_students_keep_their_ids_while_the_camera_pans_and_zooms(detector: PersonDetector) -> None:
    frame, heads = frame_and_heads("1")
    tracker = Tracker()
    ids_of_head: dict[int, list[str]] = {i: [] for i in range(len(heads))}
    for k in range(16):
        # The window drifts right and down by a few pixels and narrows 0.5% per sample.
        x0, y0, w, h = (
            60 + 4 * k,
            30 + 2 * k,
            int(1200 * (1 - 0.005 * k)),
            int(780 * (1 - 0.005 * k)),
        )
        view = cv2.resize(frame[y0 : y0 + h, x0 : x0 + w], (1200, 780))
        zoom = 1200 / w
        ids = tracker.update(k, k * DT, observe(detector, view, k))
        boxes = [
            Box(
                x0 + o.box.x0 / zoom,
                y0 + o.box.y0 / zoom,
                x0 + o.box.x1 / zoom,
                y0 + o.box.y1 / zoom,
            )
            for _, o in ids
        ]
        for head, person in match_heads(heads, boxes).items():
            if not ids[person][0].startswith("?"):  # provisional until confirmed
                ids_of_head[head].append(ids[person][0])
    steps = sum(len(seq) - 1 for seq in ids_of_head.values() if seq)
    switches = sum(
        a != b for seq in ids_of_head.values() for a, b in zip(seq, seq[1:], strict=False)
    )
    # The share of each student's sightings that carry their most frequent id.
    consistent = sum(max(seq.count(pid) for pid in seq) for seq in ids_of_head.values() if seq)
    sightings = sum(len(seq) for seq in ids_of_head.values())
    # Most students are found in most of the 14 samples after their id is confirmed.
    assert steps > 10 * len(heads)
    # Measured: 29 switches in 381 steps, 92% consistent. Nearly all switches are at
    # the back right, where two neighbours are boxed together in some samples and
    # apart in others: the detector, not the tracker, decides those.
    assert switches / steps <= 0.10
    assert consistent / sightings >= 0.85
    people = tracker.finish()
    assert [p.id for p in people] == [f"P{i}" for i in range(1, len(people) + 1)]


def test_two_people_crossing_keep_their_ids(detector: PersonDetector) -> None:
    room, _ = frame_and_heads("1")
    other, _ = frame_and_heads("100")
    walker = other[205:550, 518:720]  # a student standing with his bag
    behind = cv2.resize(other[174:349, 1207:1312], None, fx=1.6, fy=1.6)  # a student further back
    tracker = Tracker()
    n = 11
    first = last = None
    for k in range(n):
        image = room.copy()
        ax = round(700 + 450 * k / (n - 1))  # left to right, ~45 px per sample
        bx = round(1150 - 450 * k / (n - 1))  # right to left, passing behind him
        image[360 : 360 + behind.shape[0], bx : bx + behind.shape[1]] = behind
        image[430 : 430 + walker.shape[0], ax : ax + walker.shape[1]] = walker
        ids = tracker.update(k, k * DT, observe(detector, image, k))
        a = Box(ax, 430, ax + walker.shape[1], 430 + walker.shape[0])
        b = Box(bx, 360, bx + behind.shape[1], 360 + behind.shape[0])
        best_a = max(ids, key=lambda p: p[1].box.iou(a))[0]
        best_b = max(ids, key=lambda p: p[1].box.iou(b))[0]
        if k == 2:  # ids are confirmed at the third sighting
            first = (best_a, best_b)
        last = (best_a, best_b)
    assert first[0] != first[1]
    assert last == first


def test_a_hidden_student_comes_back_with_the_same_id(detector: PersonDetector) -> None:
    frame, heads = frame_and_heads("13")
    base = observe(detector, frame, 0)
    # A front-row student, big enough to be found in every sample.
    target = next(o.box for o in base if o.box.height > 150 and o.box.y0 > 200)
    tracker = Tracker()
    before = after = None
    for k in range(14):
        image = frame.copy()
        hidden = 5 <= k < 9  # two seconds, e.g. someone standing in front
        if hidden:
            x0, y0 = int(target.x0) - 10, int(target.y0) - 20
            image[y0 : int(target.y1) + 10, x0 : int(target.x1) + 10] = (90, 110, 130)
        ids = tracker.update(k, k * DT, observe(detector, image, k))
        match = [pid for pid, o in ids if o.box.iou(target) > 0.5]
        if hidden:
            assert match == []
        elif k < 5:
            before = match[0]
        else:
            after = match[0]
    assert before is not None and after == before
    assert len({p.id for p in tracker.finish()}) == len(tracker.finish())


# --- plain observations ------------------------------------------------------------


def obs(k: int, x: float, y: float, w: float = 60, h: float = 120) -> Observation:
    return Observation(k, k * DT, Box(x, y, x + w, y + h), 0.9)


def test_ids_are_numbered_in_order_of_first_appearance_and_noise_is_dropped() -> None:
    tracker = Tracker(TrackerConfig(min_observations=3))
    for k in range(6):
        people = [obs(k, 500, 100)]
        if k >= 1:
            people.append(obs(k, 100, 100))
        if k == 2:
            people.append(obs(k, 900, 400))  # a one-sample false alarm
        if k >= 3:
            people.append(obs(k, 300, 300))
        tracker.update(k, k * DT, people)
    tracks = tracker.finish()
    assert [t.id for t in tracks] == ["P1", "P2", "P3"]
    assert [t.observations[0].box.x0 for t in tracks] == [500, 100, 300]
    assert [len(t.observations) for t in tracks] == [6, 5, 3]


def test_same_input_in_any_order_gives_the_same_ids() -> None:
    rng = random.Random(4)
    seats = [(60 + 70 * i, 100 + 50 * (i % 3)) for i in range(12)]
    frames = [
        [
            obs(k, x + rng.uniform(-3, 3), y + rng.uniform(-3, 3))
            for x, y in seats
            if rng.random() > 0.1
        ]
        for k in range(10)
    ]

    def run(shuffle: bool) -> list[list[tuple[float, str]]]:
        tracker, out = Tracker(), []
        for k, people in enumerate(frames):
            people = list(people)
            if shuffle:
                rng.shuffle(people)
            out.append(sorted((o.box.x0, pid) for pid, o in tracker.update(k, k * DT, people)))
        return out

    assert run(False) == run(True) == run(False)


def test_a_person_gone_longer_than_the_gap_comes_back_as_someone_new() -> None:
    tracker = Tracker(TrackerConfig(max_gap_s=3.0, min_observations=1))
    for k in range(4):
        tracker.update(k, k * DT, [obs(k, 100, 100)])
    for k in range(4, 14):  # five seconds away
        tracker.update(k, k * DT, [])
    ((pid, _),) = tracker.update(14, 14 * DT, [obs(14, 100, 100)])
    assert pid == "P2"
    assert [len(t.observations) for t in tracker.finish()] == [4, 1]


def test_neighbours_sitting_close_are_not_swapped_by_jitter() -> None:
    rng = random.Random(7)
    tracker = Tracker()
    for k in range(20):
        row = [
            obs(k, 100 + 45 * i + rng.uniform(-6, 6), 200 + rng.uniform(-6, 6), w=50)
            for i in range(8)
        ]
        ids = tracker.update(k, k * DT, row)
        if k >= 2:  # ids are confirmed at the third sighting
            assert [pid for pid, _ in ids] == [f"P{i}" for i in range(1, 9)]


def test_assignment_is_optimal_where_greedy_is_not() -> None:
    # Greedy would take the 1.0 first and then be forced into 9.0.
    cost = [[1.0, 2.0], [1.5, 9.0]]
    assert assign(cost) == [(0, 1), (1, 0)]
    assert assign([[5.0, 1.0, 3.0]]) == [(0, 1)]
    assert assign([[5.0], [1.0], [3.0]]) == [(1, 0)]
    assert assign([]) == []

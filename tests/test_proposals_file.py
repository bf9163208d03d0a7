"""The proposals file (schema lessonreview.proposals/1): round trip, clear refusals,
atomic writes. Keypoints are real (tests/data/real_keypoints.json, CC BY 4.0 source
frames, see tests/data/README.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from lessonreview.core.analysis.behaviours import propose
from lessonreview.core.domain import Behaviour, Box, Observation, PersonTrack, RecordingInfo
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.store import atomic_file, proposals_file
from lessonreview.core.store.proposals_file import (
    SCHEMA,
    AnalysisMeta,
    ProposalsDocument,
    ProposalsFileError,
    from_json_dict,
    times_of,
    to_json_dict,
    validate,
)

FIXTURE = Path(__file__).parent / "data" / "real_keypoints.json"
SHA = "ab" * 32


@pytest.fixture(scope="module")
def doc() -> ProposalsDocument:
    """Two real students over a variable-frame-rate recording; one lifts an arm."""
    students = json.loads(FIXTURE.read_text())["students"]
    rng = np.random.default_rng(3)
    gaps = rng.uniform(0.03, 0.06, size=399)
    tb = Timebase(np.concatenate([[0.0], np.cumsum(gaps)]), float(gaps.sum()) + 0.04)
    frames = tb.sample_frames(2.0)
    people = []
    for n, s in enumerate(students[:2], start=1):
        kp = np.array(s["keypoints"])
        box = Box(*s["person_box"])
        sw = max(float(np.hypot(*(kp[11, :2] - kp[12, :2]))), 0.2 * box.width)
        obs = []
        for k, frame in enumerate(frames):
            shown, shown_box = kp.copy(), box
            if n == 1 and 4 <= k < 10:  # right arm straight up; the box takes the hand in
                sh = kp[12, :2]
                shown[14, :2] = sh + (0, -0.9 * sw)
                shown[16, :2] = sh + (0, -1.8 * sw)
                shown[[14, 16], 2] = 0.9
                shown_box = Box(box.x0, min(box.y0, shown[16, 1] - 5), box.x1, box.y1)
            keypoints = None if k == 2 else shown  # the landmarker missed one sample
            obs.append(Observation(frame, tb.frame_to_seconds(frame), shown_box, 0.8731, keypoints))
        people.append(PersonTrack(f"P{n}", tuple(obs)))
    proposals = tuple(propose(people, tb))
    assert any(p.behaviour == Behaviour.HAND_RAISED for p in proposals)
    return ProposalsDocument(
        recording=RecordingInfo(
            "/data/lesson.mp4", SHA, 1400, 900, 25.0, tb.frame_count, tb.duration_s
        ),
        analysis=AnalysisMeta(
            rate_hz=2.0, models={"pose_landmarker_full.task": "cd" * 32}, elapsed_s=3.14159
        ),
        people=tuple(people),
        proposals=proposals,
        seconds=times_of(proposals, tb.frame_to_seconds),
    )


def test_round_trip_keeps_everything_a_reviewer_sees(doc, tmp_path):
    path = tmp_path / "lesson.proposals.json"
    proposals_file.write(doc, path)
    back = proposals_file.read(path)

    assert back.recording == doc.recording
    assert back.analysis.models == doc.analysis.models
    assert back.analysis.stopped_at_s is None
    assert back.proposals == doc.proposals  # frames and seconds exact
    assert [p.id for p in back.people] == ["P1", "P2"]
    for mine, theirs in zip(doc.people, back.people, strict=True):
        assert len(mine.observations) == len(theirs.observations)
        for a, b in zip(mine.observations, theirs.observations, strict=True):
            assert a.frame == b.frame
            assert b.t == pytest.approx(a.t, abs=5e-4)
            assert b.box.as_list() == a.box.as_list()
            if a.keypoints is None:
                assert b.keypoints is None
            else:
                assert np.allclose(b.keypoints[:, :2], a.keypoints[:, :2], atol=0.051)
                assert np.allclose(b.keypoints[:, 2], a.keypoints[:, 2], atol=5e-4)


def test_file_says_it_is_unreviewed_and_is_rounded_small(doc, tmp_path):
    path = tmp_path / "out.json"
    proposals_file.write(doc, path)
    data = json.loads(path.read_text())
    assert data["schema"] == SCHEMA and data["reviewed"] is False
    assert "stopped_at_s" not in data["analysis"]
    assert data["analysis"]["elapsed_s"] == 3.142
    obs = data["people"][0]["observations"][0]
    assert obs["score"] == 0.873
    assert all(len(repr(v).split(".")[-1]) <= 1 for kp in obs["keypoints"] for v in kp[:2])
    assert data["people"][0]["observations"][2]["keypoints"] is None
    assert data["proposals"][0]["behaviour"] in {b.value for b in Behaviour}


def test_a_stopped_analysis_records_where_it_stopped(doc):
    stopped = ProposalsDocument(
        doc.recording,
        AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=1.0, stopped_at_s=4.25),
        doc.people,
        doc.proposals,
        doc.seconds,
    )
    data = to_json_dict(stopped)
    assert data["analysis"]["stopped_at_s"] == 4.25
    assert from_json_dict(data).analysis.stopped_at_s == 4.25


def broken(data: dict, path: str, value=None, *, delete: bool = False) -> dict:
    """A copy of ``data`` with the field at ``path`` (dotted, [i] for lists) changed."""
    out = copy.deepcopy(data)
    parts = [
        int(p) if p.isdigit() else p for p in path.replace("[", ".").replace("]", "").split(".")
    ]
    target = out
    for p in parts[:-1]:
        target = target[p]
    if delete:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("schema", "lessonreview.proposals/2", "schema: expected 'lessonreview.proposals/1'"),
        ("reviewed", True, "reviewed: must be false"),
        ("recording.sha256", "XYZ", "recording.sha256: must be 64 lowercase hex"),
        ("recording.width", 0, "recording.width: must be at least 1, got 0"),
        ("recording.frame_count", True, "recording.frame_count: must be a whole number"),
        ("analysis.rate_hz", -2, "analysis.rate_hz: must be above 0"),
        ("people[0].observations[1].frame", 0, "frames must increase, 0 after"),
        ("people[0].observations[0].box", [10, 10, 5, 20], "box: needs x0 < x1 and y0 < y1"),
        ("people[0].observations[0].score", 1.5, "observations[0].score: must be between 0 and 1"),
        (
            "people[0].observations[0].keypoints[5]",
            [1.0, 2.0, 1.7],
            "keypoints[5][2]: must be between 0 and 1, got 1.7",
        ),
        (
            "people[0].observations[0].keypoints[5]",
            [1.0, 2.0],
            "keypoints[5]: must be [x, y, visibility]",
        ),
        (
            "people[0].observations[0].keypoints[3][0]",
            float("nan"),
            "keypoints[3][0]: must be a finite number",
        ),
        ("people[1].id", "P1", "people[1].id: 'P1' appears twice"),
        ("proposals[0].behaviour", "sleepy", "'sleepy' is not one of hand_raised, standing"),
        ("proposals[0].person", "P9", "proposals[0].person: 'P9' is not one of the people"),
        ("proposals[0].end_frame", 10**9, "proposals[0].end_frame: must be between 1 and"),
        ("proposals[0].confidence", 2, "proposals[0].confidence: must be between 0 and 1"),
        ("proposals[0].evidence", None, "proposals[0].evidence: must be text, got null"),
        ("proposals[0].colour", "red", "proposals[0]: unknown field colour"),
    ],
)
def test_validator_names_the_field_and_what_is_wrong(doc, path, value, message):
    bad = broken(to_json_dict(doc), path, value)
    with pytest.raises(ProposalsFileError) as err:
        validate(bad)
    assert message in str(err.value)


def test_validator_refuses_an_empty_segment_and_missing_or_short_keypoints(doc):
    data = to_json_dict(doc)
    empty = broken(broken(data, "proposals[0].start_frame", 5), "proposals[0].end_frame", 5)
    with pytest.raises(
        ProposalsFileError, match=r"start_frame \(5\) must be before end_frame \(5\)"
    ):
        validate(empty)
    with pytest.raises(ProposalsFileError, match="recording: missing fps"):
        validate(broken(data, "recording.fps", delete=True))
    kps = data["people"][0]["observations"][0]["keypoints"]
    with pytest.raises(ProposalsFileError, match="must hold 33 keypoints or be null, got 32"):
        validate(broken(data, "people[0].observations[0].keypoints", kps[:32]))


def test_reading_a_bad_file_says_which_file_and_why(tmp_path, doc):
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(ProposalsFileError, match="garbage.json: not a JSON file"):
        proposals_file.read(garbage)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(broken(to_json_dict(doc), "reviewed", True)))
    with pytest.raises(ProposalsFileError, match=r"wrong.json: reviewed: must be false"):
        proposals_file.read(wrong)


def test_a_failed_write_leaves_the_old_file_whole(doc, tmp_path, monkeypatch):
    path = tmp_path / "lesson.json"
    proposals_file.write(doc, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    # The disk fills up while the new file is being flushed, after the temp file exists.
    monkeypatch.setattr(atomic_file.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        proposals_file.write(doc, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.json"]  # no temp file left


def test_an_invalid_document_is_never_written(doc, tmp_path):
    path = tmp_path / "lesson.json"
    bad = ProposalsDocument(
        doc.recording, doc.analysis, doc.people, (doc.proposals[0],) * 2, doc.seconds
    )
    with pytest.raises(ProposalsFileError, match="appears twice"):
        proposals_file.write(bad, path)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []

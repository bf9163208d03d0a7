"""``lessonreview report``: the one-page lesson report from the command line. It counts
reviewed labels only, names nobody, blurs the room still or leaves it out, and never
writes over the project, the recording or the proposals file it reads."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from lessonreview.cli import main
from lessonreview.core.domain import (
    Behaviour,
    Box,
    Observation,
    PersonTrack,
    Proposal,
    Source,
    Status,
)
from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.reflection import room_still
from lessonreview.core.store import kept_pack, proposals_file
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument, times_of
from lessonreview.core.store.store_rows import Consent, Label, PersonRow, now_utc

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "classroom_demo.mp4"


def a_label(
    rid: int, person: str, behaviour: Behaviour, start: int, end: int, status: Status
) -> Label:
    return Label(
        id=None,
        recording_id=rid,
        person=person,
        behaviour=behaviour,
        start_frame=start,
        end_frame=end,
        source=Source.MACHINE,
        status=status,
        proposal_key=f"{person}:{behaviour.value}:{start}:{end}",
        confidence=0.8,
        evidence="seen",
        reviewer="Ann Reviewer",
        decided_at=now_utc(),
    )


@pytest.fixture
def lesson(tmp_path):
    """A copy of the demo recording in a project with two reviewed raised hands, one
    rejected, and a person renamed; (project path, recording path)."""
    video = tmp_path / "4B-maths.mp4"
    video.write_bytes(DEMO.read_bytes())
    recording = Recording.open(video)
    project = tmp_path / "lesson.lessonreview"
    seconds = recording.timebase.frame_to_seconds
    with LabelStore.open(project) as store:
        rid = store.add_recording(recording.info(sha256=file_sha256(video)))
        for person, start, status in (
            ("P1", 10, Status.ACCEPTED),
            ("P2", 40, Status.CORRECTED),
            ("P3", 70, Status.REJECTED),
        ):
            store.insert_label(
                a_label(rid, person, Behaviour.HAND_RAISED, start, start + 20, status),
                seconds=seconds,
            )
        store.save_person(PersonRow(recording_id=rid, person_id="P2", name="Bertie Named"))
    return project, video


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def without_pictures(page: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)


def test_report_counts_reviewed_hands_and_names_nobody(capsys, lesson, tmp_path):
    project, video = lesson
    out = tmp_path / "report.html"
    code, err = run(capsys, "report", project, "--recording", video.name, "--out", out)
    assert code == 0, err
    assert "2 reviewed labels" in err
    page = out.read_text(encoding="utf-8")
    text = html.unescape(without_pictures(page))
    assert re.search(r"<th>Hand raised</th><td>2</td>", page)
    assert "rejected 1" in text
    for who in ("P1", "P2", "P3", "Person 2", "Bertie", "Ann Reviewer"):
        assert who not in text
    assert "no ranking and no score" in text.lower()
    # Without the analysis at hand the report says what it cannot know.
    assert "not kept in the project file" in text
    assert "no --proposals" in err


def an_analysis(video: Path) -> ProposalsDocument:
    """Two people tracked over the clip; one raised hand (reviewed in ``lesson``) and one
    standing (pending) proposed."""
    recording = Recording.open(video)
    box = Box(100, 60, 180, 260)
    people = tuple(
        PersonTrack(
            id=pid,
            observations=tuple(
                Observation(frame=f, t=recording.timebase.frame_to_seconds(f), box=b, score=0.9)
                for f in range(0, recording.frame_count, 5)
            ),
        )
        for pid, b in (("P1", box), ("P2", Box(500, 200, 580, 400)))
    )
    proposals = (
        Proposal(
            person="P1",
            behaviour=Behaviour.HAND_RAISED,
            start_frame=10,
            end_frame=30,
            confidence=0.8,
            evidence="seen",
        ),
        Proposal(
            person="P1",
            behaviour=Behaviour.STANDING,
            start_frame=90,
            end_frame=120,
            confidence=0.6,
            evidence="seen",
        ),
    )
    return ProposalsDocument(
        recording=recording.info(sha256=file_sha256(video)),
        analysis=AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=1.0),
        people=people,
        proposals=proposals,
        seconds=times_of(proposals, recording.timebase.frame_to_seconds),
    )


def test_report_with_the_proposals_file_places_hands_and_counts_pending(capsys, lesson, tmp_path):
    project, video = lesson
    doc = an_analysis(video)
    analysis = tmp_path / "4B-maths.proposals.json"
    proposals_file.write(doc, analysis)
    out = tmp_path / "report.html"
    code, err = run(
        capsys, "report", project, "--recording", video.name, "--out", out, "--proposals", analysis
    )
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    text = html.unescape(without_pictures(page))
    assert re.search(r"<th>Proposals still pending</th><td>1</td>", page)
    assert page.count("<circle") == 2  # the two reviewed hands, not the rejected one
    assert "Lesson reviewed" in text
    # The still is there, and it is the blurred frame, not the frame as recorded.
    data = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1)
    still = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
    assert still is not None and still.shape[1] <= room_still.STILL_WIDTH


def test_no_still_without_the_person_detector_even_with_tracks(lesson, monkeypatch):
    # The tracks alone may miss people; a still for a shared page needs the detector.
    project, video = lesson
    monkeypatch.setattr(room_still, "_model", lambda name, folder: None)
    recording = Recording.open(video)
    track = PersonTrack(
        id="P1",
        observations=(Observation(frame=10, t=0.5, box=Box(100, 60, 180, 260), score=0.9),),
    )
    assert recording.frame_count > 10
    assert room_still.room_still(video, tracks=[track]) is None


def test_no_still_when_nobody_can_be_located_to_blur(capsys, lesson, tmp_path, monkeypatch):
    project, video = lesson
    monkeypatch.setattr(room_still, "_model", lambda name, folder: None)
    out = tmp_path / "report.html"
    code, err = run(capsys, "report", project, "--recording", video.name, "--out", out)
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert "data:image/png" not in page
    assert "No still of the room" in page
    assert "no blurred still" in err


@pytest.mark.parametrize("target", ["project", "video"])
def test_report_refuses_to_write_over_what_it_reads(capsys, lesson, target):
    project, video = lesson
    victim = project if target == "project" else video
    before = victim.read_bytes()
    code, err = run(capsys, "report", project, "--recording", video.name, "--out", victim)
    assert code == 2
    assert "cannot write" in err
    assert victim.read_bytes() == before


def test_report_refuses_to_replace_a_file_that_is_not_text(capsys, lesson, tmp_path):
    project, video = lesson
    picture = tmp_path / "holiday.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    code, err = run(capsys, "report", project, "--recording", video.name, "--out", picture)
    assert code == 2
    assert "not text" in err
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_unknown_recording_or_project_says_what_there_is(capsys, lesson, tmp_path):
    project, video = lesson
    code, err = run(
        capsys, "report", project, "--recording", "other.mp4", "--out", tmp_path / "r.html"
    )
    assert code == 1
    assert "no recording named 'other.mp4'" in err and video.name in err
    assert not (tmp_path / "r.html").exists()
    code, err = run(
        capsys,
        "report",
        tmp_path / "missing.lessonreview",
        "--recording",
        "x",
        "--out",
        tmp_path / "r.html",
    )
    assert code == 1 and "there is no project file" in err
    assert not (tmp_path / "missing.lessonreview").exists()


def test_a_proposals_file_of_another_recording_is_refused(capsys, lesson, tmp_path):
    project, video = lesson
    recording = Recording.open(video)
    doc = ProposalsDocument(
        recording=recording.info(sha256="0" * 64),
        analysis=AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=1.0),
        people=(),
        proposals=(),
        seconds={},
    )
    other = tmp_path / "other.json"
    proposals_file.write(doc, other)
    out = tmp_path / "r.html"
    code, err = run(
        capsys, "report", project, "--recording", video.name, "--out", out, "--proposals", other
    )
    assert code == 1 and "another recording" in err
    assert not out.exists()


def test_report_uses_the_analysis_the_project_keeps(capsys, lesson, tmp_path):
    """With the consent record's "keep undecided proposals", the report needs no
    --proposals: the kept analysis places the hands and counts what is pending."""
    project, video = lesson
    with LabelStore.open(project) as store:
        (row,) = store.recordings()
        consent = Consent("Parents of 4B", "lesson study", date(2099, 1, 1), "Ann", now_utc())
        store.set_consent(row.id, replace(consent, keep_proposals=True))
        store.keep_analysis(row.id, kept_pack.pack(an_analysis(video)))
    out = tmp_path / "report.html"
    code, err = run(capsys, "report", project, "--recording", video.name, "--out", out)
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert re.search(r"<th>Proposals still pending</th><td>1</td>", page)
    assert page.count("<circle") == 2
    assert "no --proposals" not in err

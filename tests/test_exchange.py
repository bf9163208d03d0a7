"""Exchange formats: every export opened with the library that reads it holds exactly the
reviewed labels; ELAN and BORIS files come back as another coder's labels, frame-exact;
a bad file imports nothing and says why."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pympi
import pytest

from lessonreview.core.agreement.agreement import agreement_for
from lessonreview.core.domain import (
    Behaviour,
    BehaviourKind,
    Box,
    CodingScheme,
    DecisionAction,
    Observation,
    PersonTrack,
    Proposal,
    SchemeBehaviour,
)
from lessonreview.core.exchange import ava, boris
from lessonreview.core.exchange.formats import FORMATS, export_recording, read_coded
from lessonreview.core.exchange.importing import import_coded
from lessonreview.core.exchange.label_rows import ExchangeError
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.media.video import Recording
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store import kept_pack
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument, times_of
from lessonreview.core.store.store_rows import Consent
from video_samples import write_numbered_video

REPO = Path(__file__).resolve().parent.parent
N_FRAMES, FPS = 150, 25.0
MODELS = {"pose_landmarker_lite.task": "a" * 64, "yolo11n.onnx": "b" * 64}
# Reviewed, as the fixture leaves them: (person, behaviour, start, end). Not among them:
# the rejected P3 reading 0..50 and the pending P2 head_down 100..140.
REVIEWED = {
    ("P1", "hand_raised", 10, 40),  # accepted
    ("P2", "hand_raised", 30, 60),  # corrected from standing 30..80
    ("P1", "standing", 20, 90),  # manual, overlaps P1's raised hand
    ("P3", "writing", 75, 76),  # manual, one frame: a point event
}
# The analysis saw everyone up to this frame only (then they left the picture).
SEEN_UNTIL = 60


def _proposal(person, behaviour, start, end):
    return Proposal(
        person=person,
        behaviour=Behaviour(behaviour),
        start_frame=start,
        end_frame=end,
        confidence=0.8,
        evidence="test",
    )


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    # Variable frame rate, so a time is never frame / fps.
    path = tmp_path_factory.mktemp("video") / "4B maths.mp4"
    write_numbered_video(path, n_frames=N_FRAMES, fps=FPS, codec="libx264", vfr=True)
    return path


@pytest.fixture
def project(tmp_path, video):
    """Ann's review of one recording: accepted, corrected, rejected, manual (one of them a
    point event) and pending; the analysis kept, with every person's boxes."""
    recording = Recording.open(video)
    store = LabelStore.open(tmp_path / "lesson.lessonreview")
    rid = store.add_recording(recording.info())
    store.set_consent(
        rid,
        Consent(
            "Parents of 4B",
            "Research",
            date(2030, 1, 1),
            "Ann",
            datetime.now(UTC),
            keep_proposals=True,
        ),
    )
    proposals = [
        _proposal("P1", "hand_raised", 10, 40),
        _proposal("P2", "standing", 30, 80),
        _proposal("P3", "reading", 0, 50),
        _proposal("P2", "head_down", 100, 140),
    ]
    ts = recording.timebase.timestamps
    people = tuple(
        PersonTrack(
            id=pid,
            observations=tuple(
                Observation(
                    frame=f, t=float(ts[f]), box=Box(10 + n * 100, 20, 90 + n * 100, 200), score=0.9
                )
                for f in range(0, SEEN_UNTIL, 5)
            ),
        )
        for n, pid in enumerate(("P1", "P2", "P3"))
    )
    doc = ProposalsDocument(
        recording=recording.info(),
        analysis=AnalysisMeta(rate_hz=5.0, models=MODELS, elapsed_s=1.0),
        people=people,
        proposals=tuple(proposals),
        seconds=times_of(proposals, recording.timebase.frame_to_seconds),
    )
    store.keep_analysis(rid, kept_pack.pack(doc))
    store.note_analysis_models(rid, MODELS, rate_hz=5.0)
    session = ReviewSession(store, rid, timebase=recording.timebase, reviewer="Ann")
    session.add_proposals(proposals)
    session.accept(proposals[0].key)
    session.correct(proposals[1].key, behaviour=Behaviour.HAND_RAISED, end_frame=60)
    session.reject(proposals[2].key)
    session.add_label(person="P1", behaviour=Behaviour.STANDING, start_frame=20, end_frame=90)
    session.add_label(person="P3", behaviour=Behaviour.WRITING, start_frame=75, end_frame=76)
    yield store, rid, recording
    store.close()


def _segments(store, rid, coder):
    return {
        (lab.person, str(lab.behaviour), lab.start_frame, lab.end_frame)
        for lab in store.labels(rid)
        if lab.reviewer == coder and str(lab.status) != "rejected"
    }


def test_csv_opened_with_pandas_has_the_reviewed_labels_and_where_they_come_from(project, tmp_path):
    store, rid, recording = project
    summary = export_recording(store, rid, tmp_path / "labels.csv", fmt="csv", pending_count=1)
    table = pd.read_csv(summary.path)
    assert (
        set(zip(table.person, table.behaviour, table.start_frame, table.end_frame, strict=True))
        == REVIEWED
    )
    assert len(table) == len(REVIEWED)
    assert set(table.recording) == {"4B maths.mp4"}
    assert set(table.recording_sha256) == {recording.info().sha256}
    assert set(table.coder) == {"Ann"}
    machine = table[table.source == "machine"]
    manual = table[table.source == "manual"]
    assert list(machine.confidence) == [0.8, 0.8]
    assert manual.confidence.isna().all()  # nobody's confidence for what a person drew
    expected = "; ".join(f"{k}={v}" for k, v in sorted(MODELS.items()))
    assert set(machine.model_versions) == {expected}
    assert manual.model_versions.isna().all()
    # Seconds from the recording's own timestamps, not frame / fps.
    row = table[table.end_frame == 60].iloc[0]
    assert row.start_s == pytest.approx(recording.timebase.frame_to_seconds(30), abs=1e-6)
    assert row.start_s != pytest.approx(30 / FPS, abs=1e-4)


def test_json_keeps_the_model_files_per_label(project, tmp_path):
    store, rid, _ = project
    summary = export_recording(store, rid, tmp_path / "labels.json", fmt="json", pending_count=1)
    doc = json.loads(summary.path.read_text(encoding="utf-8"))
    assert doc["schema"] == "lessonreview.labels/2"
    assert doc["coders"] == ["Ann"] and doc["pending_not_exported"] == 1
    got = {(x["person"], x["behaviour"], x["start_frame"], x["end_frame"]) for x in doc["labels"]}
    assert got == REVIEWED
    by_source = {x["source"]: x for x in doc["labels"]}
    assert by_source["machine"]["model_versions"] == MODELS
    assert by_source["manual"]["model_versions"] == {}
    assert by_source["manual"]["confidence"] is None


def test_eaf_opened_with_pympi_has_one_tier_per_person_and_coder(project, tmp_path):
    store, rid, recording = project
    summary = export_recording(store, rid, tmp_path / "lesson.eaf", fmt="eaf")
    eaf = pympi.Eaf(str(summary.path))
    # P1 stands while their hand is up: ELAN tiers cannot overlap, so a second tier.
    assert sorted(eaf.get_tier_names()) == ["P1 (Ann)", "P1 (Ann) #2", "P2 (Ann)", "P3 (Ann)"]
    assert eaf.get_parameters_for_tier("P2 (Ann)")["PARTICIPANT"] == "P2"
    assert eaf.get_parameters_for_tier("P2 (Ann)")["ANNOTATOR"] == "Ann"
    seconds = recording.timebase.frame_to_seconds
    got = set()
    for tier in eaf.get_tier_names():
        person = eaf.get_parameters_for_tier(tier)["PARTICIPANT"]
        for start, end, value in eaf.get_annotation_data_for_tier(tier):
            got.add((person, value, start, end))
    assert got == {
        (p, b, round(seconds(s) * 1000), round(seconds(e) * 1000)) for p, b, s, e in REVIEWED
    }
    (media,) = eaf.media_descriptors
    assert media["MEDIA_URL"] == recording.path.absolute().as_uri()
    assert media["MIME_TYPE"] == "video/mp4"


def test_boris_tabular_events_have_borises_columns_and_start_stop_point(project, tmp_path):
    store, rid, recording = project
    summary = export_recording(store, rid, tmp_path / "boris.csv", fmt="boris")
    table = pd.read_csv(summary.path, keep_default_na=False)
    # The columns BORIS writes in its own tabular events export, in its order.
    assert tuple(table.columns) == boris.COLUMNS
    assert set(table["Observation id"]) == {"4B maths.mp4 - Ann"}
    assert sorted(table["Behavior type"]) == ["POINT"] + ["START"] * 3 + ["STOP"] * 3
    seconds = recording.timebase.frame_to_seconds
    events = set(
        zip(table["Subject"], table["Behavior"], table["Behavior type"], table["Time"], strict=True)
    )
    expected = set()
    for person, behaviour, start, end in REVIEWED:
        if end - start == 1:
            expected.add((person, behaviour, "POINT", round(seconds(start), 6)))
        else:
            expected.add((person, behaviour, "START", round(seconds(start), 6)))
            expected.add((person, behaviour, "STOP", round(seconds(end), 6)))
    assert {(p, b, k, round(t, 6)) for p, b, k, t in events} == expected
    assert list(table["Time"]) == sorted(table["Time"])


def test_ava_csv_has_a_box_per_labelled_second_and_a_label_map(project, tmp_path):
    store, rid, recording = project
    summary = export_recording(store, rid, tmp_path / "ava.csv", fmt="ava")
    table = pd.read_csv(summary.path, header=None, names=ava.COLUMNS)
    assert set(table.video_id) == {"4B maths"}
    assert table.timestamp.dtype.kind == "i"
    label_map = (tmp_path / "ava_label_map.pbtxt").read_text()
    assert 'name: "hand_raised"\n  id: 1' in label_map and 'name: "writing"\n  id: 4' in label_map
    persons = pd.read_csv(tmp_path / "ava_persons.csv")
    assert dict(zip(persons.person, persons.person_id, strict=True)) == {"P1": 1, "P2": 2, "P3": 3}
    seconds = recording.timebase.frame_to_seconds
    expected = set()
    for person, behaviour, start, end in REVIEWED:
        if end - start == 1:
            expected.add((round(seconds(start)), person, behaviour))
            continue
        t = int(seconds(start)) + (seconds(start) > int(seconds(start)))
        while t < seconds(end):
            expected.add((t, person, behaviour))
            t += 1
    ids = {1: "hand_raised", 2: "standing", 3: "reading", 4: "writing", 5: "head_down"}
    got = {(r.timestamp, f"P{r.person_id}", ids[r.action_id]) for r in table.itertuples()}
    # A labelled second after the people were last seen has no box, is left out, and the
    # export says how many were.
    last_seen = seconds(SEEN_UNTIL - 5)
    assert got == {e for e in expected if e[0] <= last_seen + ava.MAX_GAP_S}
    n_skipped = len(expected) - len(got)
    assert n_skipped > 0
    assert any(f"{n_skipped} labelled seconds had no box" in note for note in summary.notes)
    p2 = table[table.person_id == 2].iloc[0]
    w, h = recording.width, recording.height
    assert (p2.x1, p2.y1, p2.x2, p2.y2) == pytest.approx(
        (110 / w, 20 / h, 190 / w, 200 / h), abs=1e-4
    )
    assert table[["x1", "y1", "x2", "y2"]].to_numpy().min() >= 0
    assert table[["x1", "y1", "x2", "y2"]].to_numpy().max() <= 1


def test_ava_without_any_boxes_says_where_to_find_them(project, tmp_path):
    store, rid, _ = project
    store.drop_kept_analysis(rid)
    with pytest.raises(ExchangeError, match="proposals file"):
        export_recording(store, rid, tmp_path / "ava.csv", fmt="ava")
    assert not (tmp_path / "ava.csv").exists()


@pytest.mark.parametrize(("fmt", "name"), [("eaf", "lesson.eaf"), ("boris", "boris.tsv")])
def test_a_file_coded_elsewhere_comes_back_as_another_coders_labels_frame_exact(
    project, tmp_path, fmt, name
):
    store, rid, recording = project
    path = tmp_path / name
    export_recording(store, rid, path, fmt=fmt, coder="Ann")
    if fmt == "boris":  # BORIS also writes TSV: the reader takes both
        rows = list(csv.reader(path.open(encoding="utf-8")))
        path.write_text("\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    n_decisions = len(store.decisions(rid))

    summary = import_coded(store, rid, read_coded(path), coder="Bo", timebase=recording.timebase)

    assert summary.n_imported == len(REVIEWED)
    assert _segments(store, rid, "Bo") == _segments(store, rid, "Ann") == REVIEWED
    bo = [lab for lab in store.labels(rid) if lab.reviewer == "Bo"]
    assert {str(lab.source) for lab in bo} == {"manual"}
    assert all(name in lab.evidence for lab in bo)
    log = store.decisions(rid)[n_decisions:]
    assert [d.action for d in log] == [DecisionAction.IMPORT] * len(REVIEWED)
    assert {d.reviewer for d in log} == {"Bo"}
    assert {d.label_id for d in log} == {lab.id for lab in bo}

    # Coded elsewhere and read back, Bo's coding agrees with Ann's exactly.
    report = agreement_for(store, rid, ["Ann", "Bo"])
    assert report.overall.kappa == pytest.approx(1.0)
    assert report.overall.alpha == pytest.approx(1.0)
    assert report.overall.segment_share == pytest.approx(1.0)
    assert report.disagreements == ()

    again = import_coded(store, rid, read_coded(path), coder="Bo", timebase=recording.timebase)
    assert (again.n_imported, again.n_already) == (0, len(REVIEWED))
    assert len([lab for lab in store.labels(rid) if lab.reviewer == "Bo"]) == len(REVIEWED)


def _eaf(tmp_path, annotations, *, name="coded.eaf", annotator="Cy"):
    eaf = pympi.Eaf(author="test")
    eaf.remove_tier("default")
    for tier, person, start, end, value in annotations:
        if tier not in eaf.tiers:
            eaf.add_tier(tier, part=person, ann=annotator)
        eaf.add_annotation(tier, start, end, value=value)
    path = tmp_path / name
    eaf.to_file(str(path))
    return path


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"this is no XML <", "broken.eaf", "not an ELAN file that can be read"),
        ("Time,Who,What\n1.0,P1,standing\n", "boris.csv", "no 'Subject', 'Behavior'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image.csv", "not a text file"),
        (
            "Subject,Behavior,Behavior type,Time\nP1,standing,START,1.0\n",
            "open.csv",
            "START of 'standing' for 'P1' without its STOP",
        ),
        ("x", "notes.docx", "only ELAN files"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ExchangeError, match=message):
        read_coded(path)


@pytest.mark.parametrize(
    ("annotations", "message"),
    [
        ([("Alice", "Alice", 100, 900, "standing")], "'Alice' is not a person of this recording"),
        ([("P1", "P1", 100, 900, "dancing")], "'dancing' is not in this project's coding scheme"),
        ([("P1", "P1", 1000, 99_000, "standing")], "past the end of the recording"),
    ],
)
def test_a_file_with_one_bad_segment_imports_nothing(project, tmp_path, annotations, message):
    store, rid, recording = project
    good = [("P2", "P2", 200, 800, "Hand raised"), ("P3", "P3", 0, 400, "reading")]
    path = _eaf(tmp_path, good + annotations)
    before = store.labels(rid), store.decisions(rid)
    with pytest.raises(ExchangeError, match=message) as caught:
        import_coded(store, rid, read_coded(path), coder="Cy", timebase=recording.timebase)
    assert "Nothing was imported" in str(caught.value)
    assert (store.labels(rid), store.decisions(rid)) == before


def test_a_file_of_several_coders_imports_the_one_asked_for(project, tmp_path):
    store, rid, recording = project
    eaf = pympi.Eaf(author="test")
    eaf.remove_tier("default")
    eaf.add_tier("P1 (Cy)", part="P1", ann="Cy")
    eaf.add_tier("P1 (Di)", part="P1", ann="Di")
    eaf.add_annotation("P1 (Cy)", 0, 1000, value="standing")
    eaf.add_annotation("P1 (Di)", 2000, 3000, value="Teacher")
    path = tmp_path / "two.eaf"
    eaf.to_file(str(path))
    with pytest.raises(ExchangeError, match="'Cy', 'Di'"):
        import_coded(store, rid, read_coded(path), coder="Cy", timebase=recording.timebase)
    summary = import_coded(
        store, rid, read_coded(path), coder="Cy", timebase=recording.timebase, only="Cy"
    )
    assert summary.n_imported == 1
    tb = recording.timebase
    assert _segments(store, rid, "Cy") == {
        ("P1", "standing", 0, tb.nearest_frame_start(1.0)),
    }


def test_given_names_map_back_to_people(project, tmp_path):
    store, rid, recording = project
    session = ReviewSession(store, rid, timebase=recording.timebase, reviewer="Ann")
    session.rename_person("P2", "Teacher")
    path = _eaf(tmp_path, [("Teacher", "Teacher", 1000, 2000, "standing")])
    import_coded(store, rid, read_coded(path), coder="Cy", timebase=recording.timebase)
    ((person, *_),) = _segments(store, rid, "Cy")
    assert person == "P2"


def test_a_behaviour_of_the_projects_own_scheme_comes_back_by_its_name(project, tmp_path):
    store, rid, recording = project
    group = SchemeBehaviour(
        code="group_work", name="Group work", key="G", colour="#2CA02C", kind=BehaviourKind.STATE
    )
    path = _eaf(tmp_path, [("P1 (Cy)", "P1", 1000, 2000, "Group work")])
    with pytest.raises(ExchangeError, match="'Group work' is not in this project's coding"):
        import_coded(store, rid, read_coded(path), coder="Cy", timebase=recording.timebase)
    assert _segments(store, rid, "Cy") == set()
    store.save_scheme(CodingScheme(name="Classroom talk", behaviours=(group,)))
    import_coded(store, rid, read_coded(path), coder="Cy", timebase=recording.timebase)
    ((person, behaviour, *_),) = _segments(store, rid, "Cy")
    assert (person, behaviour) == ("P1", "group_work")
    out = tmp_path / "cy.csv"
    export_recording(store, rid, out, fmt="boris", coder="Cy")
    (row,) = pd.read_csv(out).query("`Behavior type` == 'START'").to_dict("records")
    assert (row["Behavior"], row["Comment"]) == ("group_work", "Group work")


def test_times_become_the_nearest_frame_start():
    tb = Timebase.from_presentation_times([0.0, 0.04, 0.1, 0.12], last_frame_duration=0.04)
    assert [
        tb.nearest_frame_start(t) for t in (0.0, 0.019, 0.021, 0.069, 0.071, 0.13, 0.15, 0.2)
    ] == [0, 0, 1, 1, 2, 3, 4, 4]
    for n in range(tb.frame_count + 1):
        assert tb.nearest_frame_start(round(tb.frame_to_seconds(n), 3)) == n


def test_model_files_are_noted_once_per_change_and_removed_with_the_recording(project):
    store, rid, _ = project
    store.note_analysis_models(rid, MODELS, rate_hz=5.0)
    assert [models for _, models in store.analysis_models(rid)] == [MODELS]
    store.note_analysis_models(rid, {"pose_landmarker_full.task": "c" * 64}, rate_hz=5.0)
    assert len(store.analysis_models(rid)) == 2
    store.delete_recording_data(rid)
    assert store.analysis_models(rid) == []


# --- the command line -------------------------------------------------------------------


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": str(REPO / "desktop")}
    return subprocess.run(
        [sys.executable, "-m", "lessonreview", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_and_import_commands(project, tmp_path, video):
    store, rid, _ = project
    project_file = tmp_path / "lesson.lessonreview"
    for fmt in FORMATS:
        out = tmp_path / f"out-{fmt}.txt"
        result = _cli("export", project_file, "--format", fmt, "--out", out, "--coder", "Ann")
        assert result.returncode == 0, result.stderr
        assert "4 reviewed labels" in result.stderr
    # An ELAN file from elsewhere, imported as Bo's coding.
    eaf = tmp_path / "elsewhere.eaf"
    assert _cli("export", project_file, "--format", "eaf", "--out", eaf).returncode == 0
    result = _cli("import", project_file, eaf, "--recording", video.name, "--coder", "Bo")
    assert result.returncode == 0, result.stderr
    assert "4 labels of Bo imported" in result.stderr
    assert _segments(store, rid, "Bo") == REVIEWED

    # Never onto the project or the video.
    for target in (project_file, video):
        result = _cli("export", project_file, "--format", "eaf", "--out", target)
        assert result.returncode == 2 and "Traceback" not in result.stderr
    result = _cli(
        "export", project_file, "--format", "csv", "--coder", "Nobody", "--out", tmp_path / "x.csv"
    )
    assert result.returncode == 1 and "no labels by a coder named 'Nobody'" in result.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text("Subject,Behavior,Behavior type,Time\nAlice,standing,POINT,1.0\n")
    n = len(store.labels(rid))
    result = _cli("import", project_file, bad, "--recording", video.name, "--coder", "Cy")
    assert result.returncode == 1
    assert "'Alice' is not a person" in result.stderr and "Traceback" not in result.stderr
    assert len(store.labels(rid)) == n


def test_a_version_3_project_gains_the_model_notes_and_keeps_its_labels(tmp_path, monkeypatch):
    from lessonreview.core.store import store_schema
    from test_label_store import a_label, info

    path = tmp_path / "old.lessonreview"
    monkeypatch.setattr(store_schema, "MIGRATIONS", store_schema.MIGRATIONS[:3])
    with LabelStore.open(path) as store:
        rid = store.add_recording(info("a.mp4"))
        store.insert_label(a_label(rid), seconds=lambda f: f / 25)
        assert store.schema_version == 3
    monkeypatch.undo()
    with LabelStore.open(path) as store:
        assert store.schema_version == store_schema.current_version()
        assert len(store.labels(rid)) == 1
        assert store.analysis_models(rid) == []
        store.note_analysis_models(rid, MODELS, rate_hz=2.0)
        assert [m for _, m in store.analysis_models(rid)] == [MODELS]
        # A label decided before any note was made has no model to credit.
        summary = export_recording(store, rid, tmp_path / "x.json", fmt="json")
        (label,) = json.loads(summary.path.read_text(encoding="utf-8"))["labels"]
        assert (label["source"], label["model_versions"]) == ("machine", {})
    assert (tmp_path / "old.lessonreview.bak-v3").exists()

"""Exports: reviewed labels only, the pending count said, the audit trail, atomic files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lessonreview.core.domain import Behaviour, Proposal, RecordingInfo
from lessonreview.core.exchange.formats import export_recording
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.export import export_decision_log
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Consent

FPS, FRAMES = 25.0, 3000


class FakeTimebase:
    frame_count = FRAMES

    def frame_to_seconds(self, frame: int) -> float:
        return frame / FPS

    def seconds_to_frame(self, t: float) -> int:
        return int(t * FPS)


KEY: dict[str, str] = {}
NAME: dict[str, str] = {}


def proposal(pid, person, behaviour, start, end):
    """A proposal; ``KEY[pid]`` is its key, ``NAME[key]`` the short name."""
    p = Proposal(
        person=person,
        behaviour=behaviour,
        start_frame=start,
        end_frame=end,
        confidence=0.7,
        evidence=f"ev-{pid}",
    )
    KEY[pid], NAME[p.key] = p.key, pid
    return p


@pytest.fixture
def reviewed(tmp_path):
    """A recording with one accepted, one corrected, one rejected, one manual label
    and two proposals still pending."""
    store = LabelStore.open(tmp_path / "lesson.lessonreview")
    rid = store.add_recording(
        RecordingInfo(
            str(tmp_path / "videos" / "4B-maths.mp4"), "9" * 64, 1280, 720, FPS, FRAMES, 120.0
        )
    )
    store.set_consent(
        rid,
        Consent("Parents of 4B", "Teacher training", date(2027, 7, 31), "Ann", datetime.now(UTC)),
    )
    session = ReviewSession(store, rid, timebase=FakeTimebase(), reviewer="Ann")
    session.add_proposals(
        [
            proposal("a", "P1", Behaviour.HAND_RAISED, 100, 200),
            proposal("b", "P2", Behaviour.STANDING, 300, 600),
            proposal("c", "P3", Behaviour.WRITING, 0, 900),
            proposal("d", "P1", Behaviour.READING, 1000, 1500),
            proposal("e", "P4", Behaviour.HEAD_DOWN, 2000, 2500),
        ]
    )
    session.accept(KEY["a"])
    session.correct(KEY["b"], behaviour=Behaviour.HAND_RAISED, end_frame=500)
    session.reject(KEY["c"])
    session.add_label(person="P4", behaviour=Behaviour.STANDING, start_frame=2600, end_frame=2700)
    session.rename_person("P2", "Teacher")
    yield store, rid, session
    store.close()


def test_csv_has_the_reviewed_labels_only(tmp_path, reviewed):
    store, rid, session = reviewed
    summary = export_recording(
        store, rid, tmp_path / "labels.csv", fmt="csv", pending_count=session.pending_count()
    )
    assert (summary.n_labels, summary.n_pending) == (3, 2)
    with open(summary.path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [
        (r["person"], r["person_name"], r["behaviour"], r["start_frame"], r["end_frame"])
        for r in rows
    ] == [
        ("P1", "", "hand_raised", "100", "200"),
        ("P2", "Teacher", "hand_raised", "300", "500"),
        ("P4", "", "standing", "2600", "2700"),
    ]
    assert [(r["source"], r["status"]) for r in rows] == [
        ("machine", "accepted"),
        ("machine", "corrected"),
        ("manual", "accepted"),
    ]
    assert rows[1]["start_s"] == "12.0" and rows[1]["end_s"] == "20.0"
    assert {r["coder"] for r in rows} == {"Ann"}
    assert all(datetime.fromisoformat(r["decided_at"]).tzinfo for r in rows)
    text = summary.path.read_text(encoding="utf-8")
    assert "writing" not in text  # rejected
    assert "reading" not in text and "head_down" not in text  # pending


def test_json_says_what_it_is_and_what_was_left_out(tmp_path, reviewed):
    store, rid, session = reviewed
    summary = export_recording(
        store, rid, tmp_path / "labels.json", fmt="json", pending_count=session.pending_count()
    )
    doc = json.loads(summary.path.read_text(encoding="utf-8"))
    assert doc["schema"] == "lessonreview.labels/2"
    assert doc["pending_not_exported"] == 2
    assert doc["recording"]["file_name"] == "4B-maths.mp4"
    assert str(tmp_path) not in json.dumps(doc)  # no folder layout of this machine
    assert doc["recording"]["sha256"] == "9" * 64
    assert doc["recording"]["retention_until"] == "2027-07-31"
    assert [(lab["person"], lab["person_name"], lab["status"]) for lab in doc["labels"]] == [
        ("P1", None, "accepted"),
        ("P2", "Teacher", "corrected"),
        ("P4", None, "accepted"),
    ]
    assert "ev-d" not in summary.path.read_text(encoding="utf-8")


def test_an_export_replaces_the_old_file_whole(tmp_path, reviewed):
    store, rid, session = reviewed
    target = tmp_path / "labels.json"
    target.write_text("an older export")
    export_recording(store, rid, target, fmt="json", pending_count=0)
    assert json.loads(target.read_text())["schema"] == "lessonreview.labels/2"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "labels.json",
        "lesson.lessonreview",
        "lesson.lessonreview-shm",
        "lesson.lessonreview-wal",
    ]  # no temp file left behind

    with pytest.raises(ValueError, match="format"):
        export_recording(store, rid, target, fmt="xlsx", pending_count=0)
    with pytest.raises(FileNotFoundError):
        export_recording(store, rid, tmp_path / "missing" / "x.csv", fmt="csv", pending_count=0)
    assert json.loads(target.read_text())["schema"] == "lessonreview.labels/2"


def test_the_decision_log_exports_the_whole_audit_trail(tmp_path, reviewed):
    store, rid, session = reviewed
    session.undo()  # the rename
    n = export_decision_log(store, rid, tmp_path / "log.json", fmt="json")
    doc = json.loads((tmp_path / "log.json").read_text())
    assert doc["schema"] == "lessonreview.decisions/1"
    assert [d["action"] for d in doc["decisions"]] == [
        "accept",
        "correct",
        "reject",
        "add",
        "rename_person",
        "undo",
    ]
    assert n == 6
    assert doc["decisions"][-1]["undoes"] == doc["decisions"][-2]["id"]
    assert doc["decisions"][1]["payload"]["after"]["end_frame"] == 500

    export_decision_log(store, None, tmp_path / "log.csv", fmt="csv")
    with open(tmp_path / "log.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["action"] for r in rows][-1] == "undo"
    assert json.loads(rows[0]["payload"])["proposal"]["key"] == "P1:hand_raised:100:200"
    assert {r["reviewer"] for r in rows} == {"Ann"}


def test_export_command_writes_the_reviewed_labels_of_a_project(reviewed, tmp_path):
    """`lessonreview export PROJECT` works headless, from the project file alone
    (another process reading the project while the fixture's store is open)."""

    project = tmp_path / "lesson.lessonreview"
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo / "desktop")}
    out = tmp_path / "labels.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lessonreview",
            "export",
            str(project),
            "--format",
            "csv",
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert sorted(r["behaviour"] for r in rows) == ["hand_raised", "hand_raised", "standing"]
    assert "3 reviewed labels" in result.stderr
    log = tmp_path / "decisions.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lessonreview",
            "export",
            str(project),
            "--decision-log",
            "--format",
            "json",
            "--out",
            str(log),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "reject" in log.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name", ["=1+2", '=HYPERLINK("http://x.example","click")', "+1", "-2", "@SUM(A1)"]
)
def test_a_name_that_looks_like_a_formula_is_text_in_the_csv(tmp_path, reviewed, name):
    store, rid, session = reviewed
    session.rename_person("P2", name)
    path = tmp_path / "labels.csv"
    export_recording(store, rid, path, fmt="csv", pending_count=0)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[1]["person_name"] == "'" + name
    assert rows[1]["start_frame"] == "300"  # numbers stay numbers
    # The JSON export keeps the name exactly: no spreadsheet reads it.
    export_recording(store, rid, tmp_path / "labels.json", fmt="json", pending_count=0)
    labels = json.loads((tmp_path / "labels.json").read_text())["labels"]
    assert labels[1]["person_name"] == name

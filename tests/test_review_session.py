"""Reviewing a recording: decisions, undo, people, and what reaches the project file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lessonreview.core.domain import Behaviour, Proposal, RecordingInfo, Source, Status
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.review_session import Change, ReviewSession
from lessonreview.core.store.label_store import AlreadyDecided, LabelStore, StoreError

FPS = 25.0
FRAMES = 3000  # two minutes


class FakeTimebase:
    """Any object with these three members will do; a constant 25 fps one here."""

    def __init__(self, fps: float, frame_count: int) -> None:
        self.fps, self._n = fps, frame_count

    @property
    def frame_count(self) -> int:
        return self._n

    def frame_to_seconds(self, frame: int) -> float:
        if not 0 <= frame <= self._n:
            raise IndexError(frame)
        return frame / self.fps

    def seconds_to_frame(self, t: float) -> int:
        return min(int(t * self.fps), self._n - 1)


KEY: dict[str, str] = {}
NAME: dict[str, str] = {}


def proposal(pid: str, person: str, behaviour: Behaviour, start: int, end: int, conf=0.8):
    """A proposal; ``KEY[pid]`` is its key, ``NAME[key]`` the short name."""
    p = Proposal(
        person=person,
        behaviour=behaviour,
        start_frame=start,
        end_frame=end,
        confidence=conf,
        evidence=f"evidence-of-{pid}",
    )
    KEY[pid], NAME[p.key] = p.key, pid
    return p


PROPOSALS = [
    proposal("a", "P1", Behaviour.HAND_RAISED, 100, 200, 0.9),
    proposal("b", "P2", Behaviour.STANDING, 300, 600, 0.4),
    proposal("c", "P3", Behaviour.WRITING, 0, 900, 0.7),
    proposal("d", "P1", Behaviour.READING, 1000, 1500, 0.6),
    proposal("e", "P4", Behaviour.HEAD_DOWN, 2000, 2500, 0.3),
]


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "lesson.lessonreview"
    store = LabelStore.open(path)
    rid = store.add_recording(
        RecordingInfo(
            path=str(tmp_path / "lesson.mp4"),
            sha256="f" * 64,
            width=1280,
            height=720,
            fps=FPS,
            frame_count=FRAMES,
            duration_s=FRAMES / FPS,
        )
    )
    yield path, store, rid
    store.close()


@pytest.fixture
def session(project):
    _, store, rid = project
    s = ReviewSession(store, rid, timebase=FakeTimebase(FPS, FRAMES), reviewer="Ann")
    s.add_proposals(PROPOSALS)
    return s


def db_rows(path, sql, args=()):
    """Read the project file as any other program would."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def saved_labels(path):
    return db_rows(
        path,
        "SELECT id, person, behaviour, start_frame, end_frame, source, status, proposal_key,"
        " reviewer FROM labels ORDER BY id",
    )


def actions(path):
    return [r["action"] for r in db_rows(path, "SELECT action FROM decisions ORDER BY id")]


def by_key(session):
    return {s.key: s for s in session.segments()}


# -- a whole review ------------------------------------------------------------------


def test_a_full_review_saves_exactly_the_decisions(project, session):
    path, _, _ = project
    session.accept(KEY["a"])
    session.correct(KEY["b"], behaviour=Behaviour.HAND_RAISED, start_frame=320)
    session.reject(KEY["e"])
    session.add_label(person="P2", behaviour=Behaviour.STANDING, start_frame=2600, end_frame=2900)
    session.merge_people("P1", "P3")  # P3 was P1, lost and re-found by the tracker
    session.split_person("P1", at_frame=1200)  # from 1200 on, P1's track is someone else
    session.rename_person("P2", "Teacher")

    assert saved_labels(path) == [
        dict(id=1, person="P1", behaviour="hand_raised", start_frame=100, end_frame=200,
             source="machine", status="accepted", proposal_key="P1:hand_raised:100:200",
             reviewer="Ann"),
        dict(id=2, person="P2", behaviour="hand_raised", start_frame=320, end_frame=600,
             source="machine", status="corrected", proposal_key="P2:standing:300:600",
             reviewer="Ann"),
        dict(id=3, person="P4", behaviour="head_down", start_frame=2000, end_frame=2500,
             source="machine", status="rejected", proposal_key="P4:head_down:2000:2500",
             reviewer="Ann"),
        dict(id=4, person="P2", behaviour="standing", start_frame=2600, end_frame=2900,
             source="manual", status="accepted", proposal_key=None, reviewer="Ann"),
    ]  # fmt: skip
    assert actions(path) == [
        "accept", "correct", "reject", "add", "merge_people", "split_person", "rename_person",
    ]  # fmt: skip
    people = db_rows(path, "SELECT person_id, name, merged_into, split_of, split_from_frame"
                           " FROM people ORDER BY person_id")  # fmt: skip
    assert people == [
        dict(person_id="P2", name="Teacher", merged_into=None, split_of=None, split_from_frame=None),
        dict(person_id="P3", name=None, merged_into="P1", split_of=None, split_from_frame=None),
        dict(person_id="P5", name=None, merged_into=None, split_of="P1", split_from_frame=1200),
    ]  # fmt: skip

    # What the reviewer sees: P3's pending writing is now P1's, and P1's reading was
    # cut at 1200 with the rest going to the new person P5.
    pending = {(s.person, s.behaviour, s.start_frame, s.end_frame) for s in session.pending()}
    assert pending == {
        ("P1", Behaviour.WRITING, 0, 900),
        ("P1", Behaviour.READING, 1000, 1200),
        ("P5", Behaviour.READING, 1200, 1500),
    }
    assert session.people() == ["P1", "P2", "P4", "P5"]
    assert session.person_label("P2") == "Teacher"
    assert session.person_label("P5") == "Person 5"


def test_pending_proposals_never_reach_the_file(project, session):
    path, store, rid = project
    session.accept(KEY["a"])
    session.merge_people("P1", "P3")
    session.split_person("P1", at_frame=1200)
    store.close()
    raw = b"".join(p.read_bytes() for p in path.parent.glob("lesson.lessonreview*"))
    assert b"evidence-of-a" in raw  # the decided one is saved ...
    for pid in "bcde":  # ... and nothing of the undecided ones
        assert f"evidence-of-{pid}".encode() not in raw
    dump = "\n".join(sqlite3.connect(path).iterdump())
    assert "reading" not in dump and "head_down" not in dump and "standing" not in dump


def test_every_decision_records_its_reviewer(project, session):
    path, _, _ = project
    session.accept(KEY["a"])
    session.set_reviewer("Bob")
    session.reject(KEY["b"])
    session.undo()
    assert [r["reviewer"] for r in db_rows(path, "SELECT reviewer FROM decisions")] == [
        "Ann",
        "Bob",
        "Bob",
    ]
    with pytest.raises(ValueError, match="reviewer"):
        session.set_reviewer("  ")


# -- undo and redo ----------------------------------------------------------------------


def test_undo_accept_returns_the_proposal_and_the_log_keeps_both(project, session):
    path, _, _ = project
    change = session.accept(KEY["a"])
    assert change.removed == (f"p:{KEY['a']}",)
    assert [s.key for s in change.added] == ["l:1"]
    assert session.undo_text() == "Accept hand raised P1 0:04"

    change = session.undo()

    assert change.removed == ("l:1",) and [s.key for s in change.added] == [f"p:{KEY['a']}"]
    assert session.pending_count() == len(PROPOSALS)
    assert saved_labels(path) == []
    log = db_rows(path, "SELECT id, action, label_id, undoes FROM decisions ORDER BY id")
    assert log == [
        dict(id=1, action="accept", label_id=1, undoes=None),
        dict(id=2, action="undo", label_id=None, undoes=1),
    ]
    assert session.redo_text() == "Accept hand raised P1 0:04"
    session.redo()
    assert [r["id"] for r in saved_labels(path)] == [1]  # the very same label
    assert actions(path) == ["accept", "undo", "redo"]


def test_every_kind_of_decision_undoes_and_redoes_exactly(project, session):
    path, _, _ = project
    start = by_key(session)
    steps = [
        lambda: session.accept(KEY["a"]),
        lambda: session.correct(KEY["b"], person="P4", end_frame=500),
        lambda: session.reject(KEY["e"]),
        lambda: session.add_label(
            person="P4", behaviour=Behaviour.WRITING, start_frame=10, end_frame=20
        ),
        lambda: session.edit_label(1, end_frame=250),
        lambda: session.delete_label(4),
        lambda: session.merge_people("P1", "P3"),
        lambda: session.split_person("P1", at_frame=150),  # cuts saved label 1 in two
        lambda: session.rename_person("P1", "Visitor"),
    ]
    states = [start]
    files = [saved_labels(path)]
    for step in steps:
        step()
        states.append(by_key(session))
        files.append(saved_labels(path))
    assert session.can_undo() and not session.can_redo()

    for i in range(len(steps), 0, -1):
        session.undo()
        assert by_key(session) == states[i - 1]
        assert saved_labels(path) == files[i - 1]
    assert not session.can_undo()
    assert session.undo() is None

    for i in range(1, len(steps) + 1):
        session.redo()
        assert by_key(session) == states[i]
        assert saved_labels(path) == files[i]
    assert session.redo() is None
    assert actions(path).count("undo") == len(steps)
    assert actions(path).count("redo") == len(steps)


def test_a_new_decision_clears_redo(session):
    session.accept(KEY["a"])
    session.undo()
    assert session.can_redo()
    session.reject(KEY["b"])
    assert not session.can_redo() and session.redo_text() == ""
    assert session.undo_text().startswith("Reject standing P2")


# -- corrections, manual labels, edits -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("behaviour", Behaviour.READING, ("P2", "reading", 300, 600)),
        ("person", "P4", ("P4", "standing", 300, 600)),
        ("start_frame", 350, ("P2", "standing", 350, 600)),
        ("end_frame", 700, ("P2", "standing", 300, 700)),
    ],
)
def test_correcting_any_field_saves_a_corrected_label(project, session, field, value, expected):
    path, _, _ = project
    session.correct(KEY["b"], **{field: value})
    (row,) = saved_labels(path)
    assert (row["person"], row["behaviour"], row["start_frame"], row["end_frame"]) == expected
    assert row["status"] == "corrected"
    assert row["proposal_key"] == "P2:standing:300:600"  # the machine's suggestion it answers
    (entry,) = db_rows(path, "SELECT payload FROM decisions")
    payload = json.loads(entry["payload"])
    assert payload["proposal"]["start_frame"] == 300
    assert payload["after"][field] == (value.value if field == "behaviour" else value)


def test_a_correction_that_changes_nothing_is_an_accept(project, session):
    path, _, _ = project
    session.correct(KEY["b"], behaviour=Behaviour.STANDING, start_frame=300)
    assert [r["status"] for r in saved_labels(path)] == ["accepted"]
    assert actions(path) == ["accept"]


def test_deleting_labels(project, session):
    path, _, _ = project
    session.accept(KEY["a"])
    session.add_label(person="P2", behaviour=Behaviour.WRITING, start_frame=10, end_frame=20)
    session.delete_label(1)  # a machine label: kept as rejected, never proposed again
    session.delete_label(2)  # a manual one: gone
    assert [(r["id"], r["status"]) for r in saved_labels(path)] == [(1, "rejected")]
    assert "l:1" not in by_key(session) and f"p:{KEY['a']}" not in by_key(session)
    assert actions(path) == ["accept", "add", "delete", "delete"]
    with pytest.raises(KeyError):
        session.edit_label(1, end_frame=300)  # rejected: not a label anymore


def test_editing_an_accepted_machine_label_makes_it_corrected(project, session):
    path, _, _ = project
    session.accept(KEY["a"])
    change = session.edit_label(1, behaviour=Behaviour.STANDING)
    assert change.removed == ("l:1",) and change.added[0].behaviour == Behaviour.STANDING
    assert saved_labels(path)[0]["status"] == "corrected"
    assert session.edit_label(1, behaviour=Behaviour.STANDING).empty  # nothing to change
    assert actions(path) == ["accept", "edit"]


@pytest.mark.parametrize(
    "bad",
    [
        dict(start_frame=200, end_frame=200),
        dict(start_frame=300, end_frame=200),
        dict(start_frame=-1, end_frame=10),
        dict(start_frame=10, end_frame=FRAMES + 1),
        dict(start_frame=1.5, end_frame=10),
        dict(behaviour="daydreaming"),
        dict(person=""),
    ],
)
def test_invalid_labels_are_refused_and_nothing_is_written(project, session, bad):
    path, _, _ = project
    fields = dict(person="P1", behaviour=Behaviour.HAND_RAISED, start_frame=10, end_frame=20)
    before = by_key(session)
    with pytest.raises(ValueError):
        session.add_label(**{**fields, **bad})
    with pytest.raises(ValueError):
        session.correct(KEY["a"], **{k: v for k, v in bad.items()})
    assert by_key(session) == before and not session.can_undo()
    assert actions(path) == []


def test_a_label_may_end_at_the_last_frame(project, session):
    session.add_label(person="P1", behaviour=Behaviour.STANDING, start_frame=0, end_frame=FRAMES)
    (seg,) = [s for s in session.segments() if s.source is Source.MANUAL]
    assert (seg.start_s, seg.end_s) == (0.0, FRAMES / FPS)


def test_seconds_come_from_the_recordings_own_timestamps(project):
    # A variable-frame-rate phone recording: frame 3 is shown late, after a stall.
    _, store, rid = project
    timebase = Timebase.from_presentation_times([0.0, 0.04, 0.08, 0.50, 0.54, 0.58])
    s = ReviewSession(store, rid, timebase=timebase, reviewer="Ann")
    s.add_proposals([proposal("v", "P1", Behaviour.STANDING, 1, 4)])
    s.correct(KEY["v"], start_frame=3, end_frame=6)  # to the very end of the recording
    (label,) = store.labels(rid)
    seconds = store.saved_seconds(rid)
    assert (seconds[label.start_frame], seconds[label.end_frame]) == pytest.approx((0.50, 0.62))


def test_deciding_on_a_proposal_that_is_not_pending_is_an_error(session):
    session.accept(KEY["a"])
    with pytest.raises(KeyError):
        session.accept(KEY["a"])
    with pytest.raises(KeyError):
        session.reject("no-such-proposal")


# -- people ------------------------------------------------------------------------------


def test_people_operations_wait_for_every_source_of_people_still_on_its_way(session):
    """Proposals may be pending before their people are in (a kept analysis being
    rebuilt, an analysis still running): merges, splits and names are refused until
    every such wait has ended, and a refusal changes nothing."""
    session.accept(KEY["a"])
    end_kept = session.wait_for_people("kept people still loading")
    end_run = session.wait_for_people("analysis still running")
    for attempt in (
        lambda: session.merge_people("P1", "P3"),
        lambda: session.split_person("P1", at_frame=1200),
        lambda: session.rename_person("P2", "Ana"),
    ):
        with pytest.raises(ValueError, match="still loading"):
            attempt()
    end_kept()
    end_kept()  # ending a wait twice is harmless
    with pytest.raises(ValueError, match="analysis still running"):
        session.merge_people("P1", "P3")
    assert session.people() == ["P1", "P2", "P3", "P4"]
    assert session.undo_text().startswith("Accept")  # nothing done since the accept
    end_run()
    assert session.people_loading() is None
    session.add_people(["P1", "P3"], seen={"P1": [100, 150], "P3": [150]})
    with pytest.raises(ValueError, match="both on screen"):
        session.merge_people("P1", "P3")
    assert session.rename_person("P2", "Ana").people_changed


def test_merge_moves_pending_and_saved_segments_and_overlays(session):
    session.accept(KEY["c"])  # P3's writing, saved
    change = session.merge_people("P1", "P3")
    assert change.people_changed and change.label == "Merge P3 into P1"
    assert {s.person for s in session.segments()} == {"P1", "P2", "P4"}
    assert session.resolve_person("P3", 50) == "P1"
    assert "P3" not in session.people()
    with pytest.raises(ValueError, match="merged into P1"):
        session.add_label(person="P3", behaviour=Behaviour.STANDING, start_frame=0, end_frame=5)
    with pytest.raises(ValueError):
        session.merge_people("P1", "P1")
    with pytest.raises(ValueError, match="no P99"):
        session.merge_people("P99", "P2")

    session.undo()
    assert session.resolve_person("P3", 50) == "P3"
    assert {s.person for s in session.segments() if s.behaviour == Behaviour.WRITING} == {"P3"}


def test_split_gives_the_rest_of_a_track_to_a_new_person(session):
    session.accept(KEY["d"])  # P1 reading 1000-1500, saved
    change = session.split_person("P1", at_frame=1200)
    assert change.people_changed
    segs = sorted((s.person, s.start_frame, s.end_frame, s.status) for s in session.segments()
                  if s.behaviour == Behaviour.READING)  # fmt: skip
    assert segs == [("P1", 1000, 1200, Status.ACCEPTED), ("P5", 1200, 1500, Status.ACCEPTED)]
    assert session.resolve_person("P1", 1199) == "P1"
    assert session.resolve_person("P1", 1200) == "P5"
    # The hand raised at 100-200 is before the cut and stays P1's.
    assert ("P1", Behaviour.HAND_RAISED) in {(s.person, s.behaviour) for s in session.pending()}
    with pytest.raises(ValueError):
        session.split_person("P1", at_frame=FRAMES)


def test_identity_changes_replay_in_the_order_they_were_made(session):
    session.split_person("P1", at_frame=1200)  # P5 takes P1 from 1200 on
    session.merge_people("P5", "P4")  # and P4 was P5 all along
    assert session.resolve_person("P1", 1300) == "P5"
    assert session.resolve_person("P4", 2100) == "P5"
    assert session.resolve_person("P1", 100) == "P1"
    assert {s.person for s in session.pending() if s.behaviour == Behaviour.HEAD_DOWN} == {"P5"}


def test_a_split_never_reuses_a_track_known_to_the_analysis(session):
    session.add_people(["P1", "P2", "P3", "P4", "P5", "P6"])  # P5, P6 have no proposal
    session.split_person("P2", at_frame=400)
    assert "P7" in session.people()


def test_names_are_optional_and_the_pseudonym_stays(project, session):
    path, _, _ = project
    assert session.person_label("P1") == "Person 1"
    session.rename_person("P1", "  Visitor ")
    assert session.person_label("P1") == "Visitor"
    assert {s.person for s in session.pending()} >= {"P1"}
    session.rename_person("P1", "")
    assert session.person_label("P1") == "Person 1"
    assert db_rows(path, "SELECT name FROM people") == [{"name": None}]
    assert session.rename_person("P1", "").empty


# -- reopening ----------------------------------------------------------------------------


def test_reopening_restores_decisions_and_brings_back_only_undecided_proposals(project, session):
    path, store, rid = project
    session.accept(KEY["a"])
    session.reject(KEY["b"])
    session.correct(KEY["d"], end_frame=1400)
    session.merge_people("P1", "P3")
    session.split_person("P1", at_frame=2000)
    session.rename_person("P4", "Teacher")
    saved = {s.key: s for s in session.segments() if s.label_id is not None}
    pending = {(s.person, s.behaviour, s.start_frame, s.end_frame) for s in session.pending()}
    store.close()

    with LabelStore.open(path) as store2:
        again = ReviewSession(store2, rid, timebase=FakeTimebase(FPS, FRAMES), reviewer="Ann")
        assert {s.key: s for s in again.segments()} == saved
        again.add_proposals(PROPOSALS)
        again.add_proposals(PROPOSALS)  # twice: still no duplicates
        assert {
            (s.person, s.behaviour, s.start_frame, s.end_frame) for s in again.pending()
        } == pending
        assert again.pending_count() == len(pending)
        assert again.person_label("P4") == "Teacher"
        assert again.resolve_person("P3", 100) == "P1"
        assert not again.can_undo()  # undo history belongs to the session that made it


def test_pending_order(session):
    assert [NAME[s.proposal_key] for s in session.pending()] == ["c", "a", "b", "d", "e"]
    assert [NAME[s.proposal_key] for s in session.pending(order="confidence")] == list("ebdca")
    with pytest.raises(ValueError):
        session.pending(order="loudness")


# -- failures and listeners ----------------------------------------------------------------


def test_a_write_that_fails_leaves_the_session_as_it_was(project, session):
    path, store, _ = project
    session.accept(KEY["a"])
    before, pending, undo = by_key(session), session.pending_count(), session.undo_text()
    # The file becomes unwritable under the app (a drive remounted read-only, say).
    store._db.execute("PRAGMA query_only = ON")  # test hook: no public way to break a disk
    with pytest.raises(StoreError, match="read-only"):
        session.accept(KEY["b"])
    with pytest.raises(StoreError):
        session.undo()
    with pytest.raises(StoreError):
        session.merge_people("P1", "P2")
    assert by_key(session) == before
    assert (session.pending_count(), session.undo_text()) == (pending, undo)
    store._db.execute("PRAGMA query_only = OFF")
    session.undo()  # still undoes the accept, the last decision really made
    assert actions(path) == ["accept", "undo"]


def test_a_full_disk_is_reported_and_loses_nothing_shown(project, session):
    path, store, _ = project
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # test hook: the disk is full now
    made = 0
    with pytest.raises(StoreError, match="disk is full"):
        for i in range(10_000):
            before = by_key(session)
            session.add_label(
                person="P1", behaviour=Behaviour.STANDING, start_frame=i % 2000, end_frame=2999
            )
            made += 1
    assert by_key(session) == before
    assert len(saved_labels(path)) == made


def test_subscribers_hear_every_change_until_they_unsubscribe(session):
    heard: list[Change] = []
    unsubscribe = session.subscribe(heard.append)
    session.subscribe(lambda change: 1 / 0)  # a broken view must not undo a saved decision
    session.accept(KEY["a"])
    session.undo()
    unsubscribe()
    session.accept(KEY["b"])
    assert [c.label for c in heard] == [
        "Accept hand raised P1 0:04",
        "Undo Accept hand raised P1 0:04",
    ]


def test_label_count_counts_reviewed_labels_not_rejections(session):
    assert session.label_count() == 0
    session.accept(KEY["a"])
    session.reject(KEY["b"])
    assert session.label_count() == 1
    assert session.pending_count() == len(PROPOSALS) - 2


def test_people_to_choose_are_those_with_segments_and_those_on_screen_in_order(session):
    assert session.people_to_choose(["P10", "P2"]) == ["P1", "P2", "P3", "P4", "P10"]


def _decide_in_another_program(path: Path, rid: int, *, coder: str, key: str) -> None:
    """Another program on the same project file accepts ``key`` as ``coder``."""
    other = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_review_session import KEY, PROPOSALS, FPS, FRAMES, FakeTimebase
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
store = LabelStore.open({str(path)!r})
s = ReviewSession(store, {rid}, timebase=FakeTimebase(FPS, FRAMES), reviewer={coder!r})
s.add_proposals(PROPOSALS)
s.accept({key!r})
store.close()
"""
    done = subprocess.run([sys.executable, "-c", other], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_proposal_decided_in_another_program_meanwhile_is_not_saved_twice(project, session):
    """Two programs have the project open as the same coder with the same proposal
    pending; the other one accepts it first. Here, rejecting it is refused with a
    message, and the file holds one decision on it."""
    path, _, rid = project
    _decide_in_another_program(path, rid, coder="Ann", key=KEY["a"])
    with pytest.raises(AlreadyDecided, match="already decided by Ann"):
        session.reject(KEY["a"])
    rows = [r for r in saved_labels(path) if r["proposal_key"] == KEY["a"]]
    assert [(r["status"], r["reviewer"]) for r in rows] == [("accepted", "Ann")]
    assert actions(path) == ["accept"]
    # Nothing else changed here: the other proposals can still be decided.
    session.accept(KEY["b"])
    assert actions(path) == ["accept", "accept"]


def test_two_coders_in_two_programs_each_decide_the_same_proposal(project, session):
    """Blind coding: Ben's program accepting a proposal does not decide it for Ann, who
    still sees it pending and rejects it; the file holds one label of it per coder."""
    path, _, rid = project
    _decide_in_another_program(path, rid, coder="Ben", key=KEY["a"])
    assert KEY["a"] in {p.proposal_key for p in session.pending()}
    session.reject(KEY["a"])
    rows = [r for r in saved_labels(path) if r["proposal_key"] == KEY["a"]]
    assert sorted((r["reviewer"], r["status"]) for r in rows) == [
        ("Ann", "rejected"),
        ("Ben", "accepted"),
    ]
    # Ann's review shows no saved label: hers is a rejection, and Ben's is not hers to see.
    assert [s.key for s in session.segments() if s.label_id is not None] == []


def test_switching_coder_shows_only_that_coders_labels_and_drops_the_undo_history(project, session):
    path, _, _ = project
    session.accept(KEY["a"])
    session.correct(KEY["b"], end_frame=500)
    ann = by_key(session)
    change = session.set_reviewer("Bob")
    assert not session.can_undo()
    assert session.pending_count() == len(PROPOSALS)  # nothing decided by Bob yet
    assert {k for k in change.removed if k.startswith("l:")} == {
        k for k in ann if k.startswith("l:")
    }
    session.reject(KEY["a"])
    session.add_label(person="P2", behaviour=Behaviour.READING, start_frame=10, end_frame=20)
    session.set_reviewer("Ann")
    assert by_key(session) == ann  # Ann's labels as she left them
    assert sorted(session.coders_with_pending()) == ["Ann", "Bob"]
    rows = saved_labels(path)
    assert sorted((r["reviewer"], r["proposal_key"] or "manual") for r in rows) == sorted(
        [("Ann", KEY["a"]), ("Ann", KEY["b"]), ("Bob", KEY["a"]), ("Bob", "manual")]
    )
    with pytest.raises(ValueError, match="consensus pass"):
        session.set_reviewer("Consensus")


def test_a_merge_or_split_that_would_change_another_coders_labels_is_refused(project, session):
    path, _, _ = project
    session.accept(KEY["c"])  # Ann labels P3 writing, frames 0-900
    session.set_reviewer("Bob")
    with pytest.raises(ValueError, match="also has labels by Ann"):
        session.merge_people("P1", "P3")
    with pytest.raises(ValueError, match="also has labels by Ann"):
        session.split_person("P3", at_frame=450)
    session.split_person("P3", at_frame=950)  # after Ann's label ends: hers stays as it was
    assert [r["end_frame"] for r in saved_labels(path) if r["reviewer"] == "Ann"] == [900]
    assert actions(path) == ["accept", "split_person"]


def test_two_people_seen_at_the_same_time_cannot_be_merged(project, session):
    """Two tracks of one person (lost, then found again) may be merged; two people on
    screen at once may not, and the message says when they were both there."""
    path, _, _ = project
    session.add_people(
        ["P1", "P2", "P3"],
        seen={"P1": range(0, 500, 25), "P2": range(300, 700, 25), "P3": range(800, 1200, 25)},
    )
    with pytest.raises(ValueError, match=r"both on screen at 0:12.00 \(frame 300\)"):
        session.merge_people("P1", "P2")
    assert actions(path) == []
    session.merge_people("P1", "P3")  # P3 appears after P1 was last seen: one person
    assert actions(path) == ["merge_people"]
    # After the merge, P1 includes P3's frames: P2 is still someone else.
    with pytest.raises(ValueError, match="both on screen"):
        session.merge_people("P2", "P1")


# -- bulk decisions ----------------------------------------------------------------------


def test_a_bulk_step_logs_one_decision_per_proposal_and_undoes_as_one(project, session):
    path, _, _ = project
    session.accept(KEY["e"])  # a single decision before, which the bulk undo must not touch
    before_bulk = by_key(session), saved_labels(path)

    change = session.decide_many(accept=[KEY["a"], KEY["c"]], reject=[KEY["b"], KEY["d"]])

    assert session.pending_count() == 0
    assert session.undo_text() == "Accept 2, reject 2 proposals"
    assert set(change.removed) >= {f"p:{KEY[p]}" for p in "abcd"}
    labels = {r["proposal_key"]: (r["status"], r["reviewer"]) for r in saved_labels(path)}
    assert labels == {
        KEY["e"]: ("accepted", "Ann"),
        KEY["a"]: ("accepted", "Ann"),
        KEY["c"]: ("accepted", "Ann"),
        KEY["b"]: ("rejected", "Ann"),
        KEY["d"]: ("rejected", "Ann"),
    }
    log = db_rows(path, "SELECT id, action, label_id, payload FROM decisions ORDER BY id")
    assert [r["action"] for r in log] == ["accept", "accept", "accept", "reject", "reject"]
    # Each entry is what a single decision writes: the proposal and the label it became.
    for row in log[1:]:
        payload = json.loads(row["payload"])
        assert set(payload) == {"proposal", "after"}
        assert payload["after"]["id"] == row["label_id"]
        assert payload["after"]["proposal_key"] == payload["proposal"]["key"]
    assert {json.loads(r["payload"])["proposal"]["key"] for r in log[1:]} == {
        KEY[p] for p in "acbd"
    }

    session.undo()  # one undo takes back the whole step, and only it
    assert (by_key(session), saved_labels(path)) == before_bulk
    assert session.undo_text().startswith("Accept head down")
    undo_rows = db_rows(path, "SELECT action, undoes FROM decisions WHERE id > 5 ORDER BY id")
    assert [r["action"] for r in undo_rows] == ["undo"] * 4
    assert sorted(r["undoes"] for r in undo_rows) == [2, 3, 4, 5]

    session.redo()
    assert session.pending_count() == 0
    assert [r["status"] for r in saved_labels(path)] == [
        "accepted", "accepted", "accepted", "rejected", "rejected",
    ]  # fmt: skip
    redo_rows = db_rows(path, "SELECT action, undoes FROM decisions WHERE id > 9 ORDER BY id")
    assert [r["action"] for r in redo_rows] == ["redo"] * 4
    assert sorted(r["undoes"] for r in redo_rows) == [6, 7, 8, 9]
    session.undo()
    assert saved_labels(path) == before_bulk[1]


def test_a_bulk_step_with_nothing_or_a_bad_key_saves_nothing(project, session):
    path, _, _ = project
    assert session.decide_many().empty and not session.can_undo()
    with pytest.raises(KeyError, match="no pending proposal"):
        session.decide_many(accept=[KEY["a"], "P9:standing:1:2"])
    with pytest.raises(ValueError, match="only once"):
        session.decide_many(accept=[KEY["a"]], reject=[KEY["a"]])
    assert saved_labels(path) == [] and actions(path) == []
    assert session.pending_count() == len(PROPOSALS)


def test_a_bulk_step_with_a_proposal_decided_elsewhere_saves_nothing_and_says_which(
    project, session
):
    path, store, rid = project
    other = ReviewSession(store, rid, timebase=FakeTimebase(FPS, FRAMES), reviewer="Ann")
    other.add_proposals(PROPOSALS)
    other.reject(KEY["c"])  # another window on the same file, as Ann, decided c meanwhile
    before = by_key(session)

    with pytest.raises(AlreadyDecided, match=f"1 of these.*{KEY['c']}") as raised:
        session.decide_many(accept=[KEY["a"], KEY["b"], KEY["c"]], reject=[KEY["d"]])

    assert KEY["a"] not in str(raised.value)
    assert [(r["proposal_key"], r["reviewer"]) for r in saved_labels(path)] == [(KEY["c"], "Ann")]
    assert actions(path) == ["reject"]
    assert by_key(session) == before and not session.can_undo()
    session.decide_many(accept=[KEY["a"], KEY["b"]], reject=[KEY["d"]])  # the rest still can
    assert actions(path) == ["reject", "accept", "accept", "reject"]


def test_after_any_mix_of_decisions_and_undos_the_queue_is_what_a_fresh_session_shows(project):
    """Each decision updates the queue from what it changed rather than from all the
    proposals: after a random run of accepts, rejects, corrections, edits, deletions,
    merges, undos and redos, the session shows exactly what one opened afresh on the same
    project shows, in the same order, and each change named what it changed."""
    import random

    _, store, rid = project
    rng = random.Random(3)
    proposals = [
        proposal(f"r{i}", f"P{rng.randint(1, 6)}", rng.choice(list(Behaviour)), s, s + 400)
        for i, s in enumerate(rng.sample(range(0, FRAMES - 500), 120))
    ]
    live = ReviewSession(store, rid, timebase=FakeTimebase(FPS, FRAMES), reviewer="Ann")
    live.add_proposals(proposals)
    shown = {s.key: s for s in live.segments()}
    live.subscribe(
        lambda change: (
            [shown.pop(k, None) for k in change.removed],
            shown.update({s.key: s for s in change.added}),
        )
    )
    for step in range(150):
        pending = live.pending()
        labels = [s for s in live.segments() if s.label_id is not None]
        roll = rng.random()
        if roll < 0.3 and pending:
            live.accept(rng.choice(pending).proposal_key)
        elif roll < 0.5 and pending:
            live.reject(rng.choice(pending).proposal_key)
        elif roll < 0.6 and pending:
            live.correct(rng.choice(pending).proposal_key, behaviour=Behaviour.READING)
        elif roll < 0.65 and labels:
            label = rng.choice(labels)
            live.edit_label(label.label_id, end_frame=min(FRAMES, label.end_frame + 1))
        elif roll < 0.7 and labels:
            live.delete_label(rng.choice(labels).label_id)
        elif roll < 0.73:
            a, b = rng.sample(sorted(live.people()), 2)
            live.merge_people(a, b)
        elif roll < 0.9:
            live.undo()
        else:
            live.redo()
        fresh = ReviewSession(store, rid, timebase=FakeTimebase(FPS, FRAMES), reviewer="Ann")
        fresh.add_proposals(proposals)
        for order in ("time", "confidence"):
            assert [s.key for s in live.pending(order=order)] == [
                s.key for s in fresh.pending(order=order)
            ], f"step {step}"
        assert [(s.key, s.status) for s in live.segments()] == [
            (s.key, s.status) for s in fresh.segments()
        ]
        assert sorted(shown) == sorted(s.key for s in live.segments()), f"step {step}"

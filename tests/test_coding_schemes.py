"""Coding schemes without a screen: the scheme and its behaviours, saved in the project file
and read back, a project from before schemes, the scheme file, and coding by keyboard
(press to start, press to stop) into a real project file."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

from lessonreview.core.domain import (
    BUILT_IN_SCHEME,
    Behaviour,
    BehaviourKind,
    CodingScheme,
    RecordingInfo,
    SchemeBehaviour,
    SchemeError,
    behaviour_code,
)
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.keyboard_coding import KeyboardCoding
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store import store_schema
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.core.store.scheme_file import (
    SchemeFileError,
    import_scheme_file,
    read_scheme_file,
    write_scheme_file,
)

FPS = 25.0
FRAMES = 500
TIMEBASE = Timebase.constant(FPS, FRAMES)

BOARD = SchemeBehaviour(
    code="teacher_at_board",
    name="Teacher at the board",
    key="B",
    colour="#1F77B4",
    definition="The teacher stands within arm's reach of the board.",
    kind=BehaviourKind.STATE,
)
GROUP = SchemeBehaviour(
    code="group_work", name="Group work", key="G", colour="#2CA02C", kind=BehaviourKind.STATE
)
QUESTION = SchemeBehaviour(
    code="question", name="Question asked", key="Q", colour="#9467BD", kind=BehaviourKind.POINT
)
TALK = CodingScheme(name="Classroom talk", behaviours=(BOARD, GROUP, QUESTION))


def recording(tmp_path) -> RecordingInfo:
    return RecordingInfo(
        path=str(tmp_path / "lesson.mp4"),
        sha256="c" * 64,
        width=640,
        height=360,
        fps=FPS,
        frame_count=FRAMES,
        duration_s=FRAMES / FPS,
    )


@pytest.fixture
def store(tmp_path):
    with LabelStore.open(tmp_path / "p.lessonreview") as s:
        yield s


def rows(path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# -- the scheme, saved and read back ---------------------------------------------------------


def test_a_new_project_has_the_built_in_scheme_only(store):
    schemes = store.coding_schemes()
    assert schemes.schemes == (BUILT_IN_SCHEME,)
    assert schemes.codes == tuple(b.value for b in Behaviour)
    assert schemes.title("head_down") == "Head down on desk"


def test_a_scheme_is_saved_and_read_back_whole(tmp_path):
    path = tmp_path / "p.lessonreview"
    with LabelStore.open(path) as store:
        saved = store.save_scheme(TALK)
    assert saved.id is not None and saved.behaviours == TALK.behaviours
    with LabelStore.open(path) as store:
        schemes = store.coding_schemes()
    assert [s.name for s in schemes.schemes] == [BUILT_IN_SCHEME.name, "Classroom talk"]
    assert schemes.own[0].behaviours == (BOARD, GROUP, QUESTION)
    assert schemes.title("group_work") == "Group work" and schemes.colour("question") == "#9467BD"
    assert schemes.coded_by_key("g") == GROUP
    assert rows(
        path, "SELECT code, key, kind, position FROM scheme_behaviours ORDER BY position"
    ) == [
        ("teacher_at_board", "B", "state", 0),
        ("group_work", "G", "state", 1),
        ("question", "Q", "point", 2),
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: replace(s, name=" "), "needs a name"),
        (lambda s: replace(s, name=BUILT_IN_SCHEME.name), "has a coding scheme called"),
        (
            lambda s: replace(s, behaviours=(BOARD, replace(GROUP, code=BOARD.code))),
            "the code teacher_at_board is already used by Teacher at the board",
        ),
        (
            lambda s: replace(s, behaviours=(BOARD, replace(GROUP, key="b"))),
            "the key B is already used by Teacher at the board",
        ),
        (
            lambda s: replace(s, behaviours=(replace(BOARD, code=Behaviour.STANDING.value),)),
            "the code standing is already used by Standing in the scheme Built-in",
        ),
        (
            lambda s: replace(s, behaviours=(replace(BOARD, key="A"),)),
            "the key A is already a key of the review window",
        ),
        (lambda s: replace(s, behaviours=(replace(BOARD, key="BB"),)), "not one letter or digit"),
        (lambda s: replace(s, behaviours=(replace(BOARD, colour="blue"),)), "not like #1F77B4"),
        (lambda s: replace(s, behaviours=(replace(BOARD, code="Board!"),)), "is not usable"),
    ],
)
def test_a_scheme_that_clashes_is_refused_with_its_reason_and_nothing_saved(store, change, reason):
    with pytest.raises(SchemeError, match=reason.replace("(", r"\(")):
        store.save_scheme(change(TALK))
    assert store.coding_schemes().own == ()


def test_a_behaviour_that_labels_use_cannot_be_removed_and_says_how_many(store, tmp_path):
    saved = store.save_scheme(TALK)
    rid = store.add_recording(recording(tmp_path))
    session = ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann")
    for start in (10, 50):
        session.add_label(
            person="P1", behaviour="group_work", start_frame=start, end_frame=start + 5
        )
    without_group = replace(saved, behaviours=(BOARD, QUESTION))
    with pytest.raises(SchemeError, match="2 labels use Group work"):
        store.save_scheme(without_group)
    with pytest.raises(SchemeError, match="2 labels use Group work"):
        store.delete_scheme(saved.id)
    assert store.coding_schemes().own[0].behaviours == TALK.behaviours
    # Renaming keeps the code, so the labels keep their meaning.
    renamed = store.save_scheme(
        replace(saved, behaviours=(BOARD, replace(GROUP, name="Pairs"), QUESTION))
    )
    assert store.coding_schemes().title("group_work") == "Pairs"
    assert [lab.behaviour for lab in store.labels(rid)] == ["group_work", "group_work"]
    assert store.label_counts() == {"group_work": 2}
    store.save_scheme(replace(renamed, behaviours=(BOARD, replace(GROUP, name="Pairs"))))
    assert store.coding_schemes().behaviour("question") is None  # unused: removable


def test_a_label_with_a_code_no_scheme_defines_is_a_damaged_project(tmp_path):
    path = tmp_path / "p.lessonreview"
    with LabelStore.open(path) as store:
        store.save_scheme(TALK)
        rid = store.add_recording(recording(tmp_path))
        ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann").add_label(
            person="P1", behaviour="group_work", start_frame=0, end_frame=5
        )
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM scheme_behaviours WHERE code = 'group_work'")
    conn.commit()
    conn.close()
    with LabelStore.open(path) as store, pytest.raises(StoreError) as err:
        store.labels(rid)
    assert "is damaged" in str(err.value) and "'group_work' is in none of" in str(err.value)
    assert "Open a backup copy" in str(err.value)


def test_a_session_refuses_a_behaviour_of_no_scheme(store, tmp_path):
    rid = store.add_recording(recording(tmp_path))
    session = ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann")
    with pytest.raises(ValueError, match="'group_work' is not a behaviour of the coding schemes"):
        session.add_label(person="P1", behaviour="group_work", start_frame=0, end_frame=5)
    store.save_scheme(TALK)
    session.reload_schemes()
    change = session.add_label(person="P1", behaviour="group_work", start_frame=0, end_frame=5)
    assert change.label == "Add group work P1 0:00"


def test_a_project_of_schema_3_is_migrated_and_keeps_its_labels(tmp_path, monkeypatch):
    path = tmp_path / "old.lessonreview"
    # A file as the release before schemes made it.
    monkeypatch.setattr(store_schema, "MIGRATIONS", store_schema.MIGRATIONS[:3])
    with LabelStore.open(path) as store:
        assert store.schema_version == 3
        rid = store.add_recording(recording(tmp_path))
        ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann").add_label(
            person="P1", behaviour=Behaviour.STANDING, start_frame=0, end_frame=50
        )
    monkeypatch.undo()
    with LabelStore.open(path) as store:
        assert store.schema_version == store_schema.current_version()
        assert [(lab.behaviour, lab.end_frame) for lab in store.labels(rid)] == [("standing", 50)]
        assert store.coding_schemes().own == ()
        store.save_scheme(TALK)
    assert (tmp_path / "old.lessonreview.bak-v3").exists()
    assert rows(path, "SELECT count(*) FROM scheme_behaviours") == [(3,)]


# -- the scheme file -----------------------------------------------------------------------


def test_a_scheme_file_round_trip_gives_the_same_scheme_in_another_project(tmp_path):
    with LabelStore.open(tmp_path / "a.lessonreview") as a:
        written = write_scheme_file(tmp_path / "talk.json", a.save_scheme(TALK))
    document = json.loads(written.read_text(encoding="utf-8"))
    assert document["schema"] == "lessonreview.coding-scheme" and document["version"] == 1
    assert read_scheme_file(written) == TALK
    with LabelStore.open(tmp_path / "b.lessonreview") as b:
        imported = import_scheme_file(b, written)
        assert imported.behaviours == TALK.behaviours
        # The same scheme again (edited elsewhere) replaces it rather than clashing.
        edited = replace(TALK, behaviours=(replace(BOARD, name="At the board"), GROUP, QUESTION))
        write_scheme_file(tmp_path / "talk.json", edited)
        again = import_scheme_file(b, tmp_path / "talk.json")
        assert (
            again.id == imported.id
            and b.coding_schemes().title("teacher_at_board") == "At the board"
        )


def test_importing_a_scheme_whose_codes_clash_says_which(tmp_path, store):
    store.save_scheme(TALK)
    other = CodingScheme(name="Lesson moves", behaviours=(replace(GROUP, key="W"),))
    write_scheme_file(tmp_path / "moves.json", other)
    with pytest.raises(SchemeFileError) as err:
        import_scheme_file(store, tmp_path / "moves.json")
    text = str(err.value)
    assert "Lesson moves in moves.json cannot be added" in text
    assert "the code group_work is already used by Group work in the scheme Classroom talk" in text
    assert [s.name for s in store.coding_schemes().own] == ["Classroom talk"]


def _document(**changes):
    doc = {
        "schema": "lessonreview.coding-scheme",
        "version": 1,
        "name": "Talk",
        "behaviours": [
            {
                "code": "group_work",
                "name": "Group work",
                "key": "G",
                "colour": "#2CA02C",
                "definition": "",
                "kind": "state",
            }
        ],
    }
    doc.update(changes)
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(50), "is not JSON text"),
        (b'{"proposals": []}', 'does not say "schema": "lessonreview.coding-scheme"'),
        (_document(version=2).encode(), "its version is 2; this Lesson Review reads version 1"),
        (_document(name="").encode(), "the scheme has no name"),
        (_document(behaviours=[]).encode(), "lists no behaviours"),
        (_document(behaviours=[{"code": "x"}]).encode(), "behaviour 1 has no name, key, colour"),
        (
            _document(
                behaviours=[{**json.loads(_document())["behaviours"][0], "kind": "long"}]
            ).encode(),
            "kind 'long' is neither state nor point",
        ),
        (
            _document(
                behaviours=[{**json.loads(_document())["behaviours"][0], "key": "J"}]
            ).encode(),
            "the key J is already a key of the review window",
        ),
    ],
    ids=["image", "other-json", "newer", "no-name", "empty", "missing", "kind", "app-key"],
)
def test_a_bad_scheme_file_is_refused_with_what_is_wrong(tmp_path, content, reason):
    path = tmp_path / "scheme.json"
    path.write_bytes(content)
    with pytest.raises(SchemeFileError) as err:
        read_scheme_file(path)
    assert str(err.value).startswith("scheme.json is not a usable coding-scheme file")
    assert reason in str(err.value)


def test_a_missing_scheme_file_is_named(tmp_path):
    with pytest.raises(SchemeFileError, match=r"nope.json does not exist"):
        read_scheme_file(tmp_path / "nope.json")


def test_a_new_behaviours_code_is_made_from_its_name():
    assert behaviour_code("Teacher at the board") == "teacher_at_the_board"
    assert behaviour_code("  Group-work (pairs) ") == "group_work_pairs"
    assert behaviour_code("3 minute talk") == "b_3_minute_talk"


# -- coding by keyboard --------------------------------------------------------------------


def test_keyboard_coding_a_state_and_a_point_event_saves_labels_and_decisions(tmp_path):
    path = tmp_path / "p.lessonreview"
    with LabelStore.open(path) as store:
        store.save_scheme(TALK)
        rid = store.add_recording(recording(tmp_path))
        session = ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann")
        coding = KeyboardCoding(session)
        assert coding.press("group_work", person="P2", frame=100) is None  # started
        assert [(r.behaviour, r.person, r.start_frame) for r in coding.running()] == [
            ("group_work", "P2", 100)
        ]
        assert rows(path, "SELECT count(*) FROM labels") == [(0,)]  # nothing saved yet
        coding.press("question", person="P2", frame=130)  # a point event, while it runs
        coding.press("group_work", person="P2", frame=180)  # stopped
        assert coding.running() == []
        assert session.undo_text() == "Add group work P2 0:04"
    assert rows(
        path,
        "SELECT person, behaviour, start_frame, end_frame, source, status, reviewer "
        "FROM labels ORDER BY id",
    ) == [
        ("P2", "question", 130, 131, "manual", "accepted", "Ann"),
        ("P2", "group_work", 100, 180, "manual", "accepted", "Ann"),
    ]
    assert rows(path, "SELECT action, reviewer FROM decisions ORDER BY id") == [
        ("add", "Ann"),
        ("add", "Ann"),
    ]


def test_a_state_stopped_where_it_started_codes_one_frame_and_undo_removes_it(store, tmp_path):
    rid = store.add_recording(recording(tmp_path))
    store.save_scheme(TALK)
    session = ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann")
    coding = KeyboardCoding(session)
    coding.press("teacher_at_board", person="P1", frame=499)
    coding.press("teacher_at_board", person="P1", frame=499)
    assert [(lab.start_frame, lab.end_frame) for lab in store.labels(rid)] == [(499, 500)]
    session.undo()
    assert store.labels(rid) == []
    # Stopped before it started (the coder went back): the frames between.
    coding.press("teacher_at_board", person="P1", frame=300)
    coding.press("teacher_at_board", person="P1", frame=200)
    assert [(lab.start_frame, lab.end_frame) for lab in store.labels(rid)] == [(200, 300)]


def test_the_command_line_exports_and_imports_a_scheme(tmp_path, capsys):
    from lessonreview.cli import main

    a, b = tmp_path / "a.lessonreview", tmp_path / "b.lessonreview"
    with LabelStore.open(a) as store:
        store.save_scheme(TALK)
    LabelStore.open(b).close()
    assert main(["scheme", "export", str(a), str(tmp_path / "talk.json")]) == 0
    assert main(["scheme", "import", str(b), str(tmp_path / "talk.json")]) == 0
    with LabelStore.open(b) as store:
        assert store.coding_schemes().own[0].behaviours == TALK.behaviours
    # Importing it into a project that has a clashing scheme is explained, not a traceback.
    with LabelStore.open(a) as store:
        store.save_scheme(
            CodingScheme(
                name="Moves", behaviours=(replace(GROUP, code="pairs", name="Pairs", key="W"),)
            )
        )
    (tmp_path / "clash.json").write_text(
        (tmp_path / "talk.json").read_text().replace("Classroom talk", "Talk 2"), encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["scheme", "import", str(a), str(tmp_path / "clash.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: The scheme Talk 2 in clash.json cannot be added")
    assert "Traceback" not in err
    assert main(["scheme", "export", str(a), str(tmp_path / "x.json")]) == 2
    assert "has several schemes; give --name" in capsys.readouterr().err

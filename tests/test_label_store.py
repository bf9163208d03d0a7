"""The project file: creation, permissions, migrations, refusals, and removing data."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lessonreview.core.domain import Behaviour, RecordingInfo, Source, Status
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.store import store_schema
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.core.store.store_rows import Consent, Label, now_utc

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file permissions")


def info(path: str, sha: str = "a" * 64, frames: int = 1000) -> RecordingInfo:
    return RecordingInfo(
        path=path, sha256=sha, width=1280, height=720, fps=25.0, frame_count=frames, duration_s=40.0
    )


SECONDS = Timebase.constant(25.0, 100).frame_to_seconds


def a_label(rid: int, **changes) -> Label:
    fields = dict(
        id=None,
        recording_id=rid,
        person="P1",
        behaviour=Behaviour.HAND_RAISED,
        start_frame=10,
        end_frame=60,
        source=Source.MACHINE,
        status=Status.ACCEPTED,
        proposal_key="P1:hand_raised:10:60",
        confidence=0.8,
        evidence="wrist above shoulder",
        reviewer="Ann",
        decided_at=now_utc(),
    )
    fields.update(changes)
    return Label(**fields)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@posix_only
def test_project_file_and_its_journal_are_readable_by_the_owner_only(tmp_path):
    old_umask = os.umask(0o022)  # a typical, permissive umask
    try:
        store = LabelStore.open(tmp_path / "lesson.lessonreview")
        rid = store.add_recording(info(str(tmp_path / "a.mp4")))
        store.insert_label(a_label(rid), seconds=SECONDS)
        files = sorted(tmp_path.glob("lesson.lessonreview*"))
        assert {f.name for f in files} >= {
            "lesson.lessonreview",
            "lesson.lessonreview-wal",
            "lesson.lessonreview-shm",
        }
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        store.close()
    finally:
        os.umask(old_umask)


def test_recording_paths_are_kept_relative_to_the_project_and_follow_a_moved_file(tmp_path):
    store = LabelStore.open(tmp_path / "p.lessonreview")
    rid = store.add_recording(info(str(tmp_path / "videos" / "lesson1.mp4")))
    assert store.recording(rid).stored_path == "videos/lesson1.mp4"
    assert store.recording(rid).path == str(tmp_path / "videos" / "lesson1.mp4")

    # The same content found at a new place is the same recording, labels and all.
    store.insert_label(a_label(rid), seconds=SECONDS)
    again = store.add_recording(info(str(tmp_path / "archive" / "renamed.mp4")))
    assert again == rid
    assert store.recording(rid).stored_path == "archive/renamed.mp4"
    assert len(store.labels(rid)) == 1
    assert len(store.recordings()) == 1
    store.close()

    # Moving the folder with the project and its videos keeps the link.
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    shutil.move(tmp_path, moved)
    with LabelStore.open(moved / "p.lessonreview") as store:
        assert store.recording(rid).path == str(moved / "archive" / "renamed.mp4")


def test_consent_record_round_trips_and_must_be_complete(tmp_path):
    with LabelStore.open(tmp_path / "p.lessonreview") as store:
        rid = store.add_recording(info("a.mp4"))
        assert store.consent(rid) is None
        consent = Consent(
            consented_by="Parents of class 4B, signed forms on file",
            purpose="Teacher training on questioning",
            retention_until=date(2027, 7, 31),
            recorded_by="Ann",
            recorded_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        )
        store.set_consent(rid, consent)
        with pytest.raises(ValueError, match="purpose"):
            store.set_consent(rid, Consent("x", " ", date(2027, 1, 1), "Ann", now_utc()))
    with LabelStore.open(tmp_path / "p.lessonreview") as store:
        assert store.consent(rid) == consent


def test_reviewer_name_is_remembered_by_the_project(tmp_path):
    with LabelStore.open(tmp_path / "p.lessonreview") as store:
        assert store.reviewer_name() is None
        store.set_reviewer_name("  Ann Smith ")
    with LabelStore.open(tmp_path / "p.lessonreview") as store:
        assert store.reviewer_name() == "Ann Smith"


def test_the_decision_log_refuses_edits_even_from_outside(tmp_path):
    path = tmp_path / "p.lessonreview"
    with LabelStore.open(path) as store:
        rid = store.add_recording(info("a.mp4"))
        store.log_decision(rid, "accept", payload={"x": 1}, reviewer="Ann")
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE decisions SET reviewer = 'Mallory'")
    conn.close()


def test_an_empty_database_made_elsewhere_becomes_a_project(tmp_path):
    # Schema 0 is an empty SQLite database, e.g. one made by the sqlite3 tool.
    path = tmp_path / "p.lessonreview"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.execute("VACUUM")  # writes the header, so the file is a real, empty database
    conn.close()
    assert path.stat().st_size > 0
    with LabelStore.open(path) as store:
        assert store.schema_version == store_schema.current_version()
        assert store.counts() == {"recordings": 0, "people": 0, "labels": 0, "decisions": 0}
    assert not list(tmp_path.glob("*.bak-*"))  # nothing to lose, nothing backed up


def _add_a_note(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE labels ADD COLUMN note TEXT")
    conn.execute("UPDATE labels SET note = 'from v1'")


def test_an_older_project_is_backed_up_then_migrated(tmp_path, monkeypatch):
    path = tmp_path / "p.lessonreview"
    with LabelStore.open(path) as store:
        rid = store.add_recording(info("a.mp4"))
        store.insert_label(a_label(rid), seconds=SECONDS)
        store.log_decision(rid, "accept", payload={}, reviewer="Ann", label_id=1)
    now = store_schema.current_version()
    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store_schema.MIGRATIONS, _add_a_note])

    with LabelStore.open(path) as store:
        assert store.schema_version == now + 1
        assert len(store.labels(rid)) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT note FROM labels").fetchall() == [("from v1",)]
    conn.close()

    backup = tmp_path / f"p.lessonreview.bak-v{now}"
    conn = sqlite3.connect(backup)
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (str(now),)
    assert conn.execute("SELECT count(*) FROM labels").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM decisions").fetchone() == (1,)
    conn.close()
    if os.name == "posix":
        assert mode(backup) == 0o600


def test_a_failed_migration_leaves_the_project_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "p.lessonreview"
    with LabelStore.open(path) as store:
        rid = store.add_recording(info("a.mp4"))
        store.insert_label(a_label(rid), seconds=SECONDS)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE labels ADD COLUMN note TEXT")
        conn.execute("SELECT no_such_function()")

    now = store_schema.current_version()
    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store_schema.MIGRATIONS, broken])
    with pytest.raises(StoreError):
        LabelStore.open(path)
    monkeypatch.undo()
    with LabelStore.open(path) as store:  # still a good project of the current schema
        assert store.schema_version == now
        assert len(store.labels(rid)) == 1
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(labels)")]
    conn.close()
    assert "note" not in columns
    assert (tmp_path / f"p.lessonreview.bak-v{now}").exists()


def test_a_project_from_a_newer_app_is_refused_and_not_touched(tmp_path):
    path = tmp_path / "p.lessonreview"
    with LabelStore.open(path) as store:
        store.add_recording(info("a.mp4"))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    conn.execute("PRAGMA journal_mode = DELETE")  # as another app might leave it
    conn.commit()
    conn.close()
    before = sha(path)

    with pytest.raises(StoreError, match=r"newer Lesson Review \(schema 7\); update the app"):
        LabelStore.open(path)
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.lessonreview"]


@pytest.mark.parametrize(
    "content",
    [b"\x00\x00\x00\x20ftypisom" + bytes(200), b"person,behaviour\nP1,standing\n"],
    ids=["video", "csv"],
)
def test_a_file_that_is_not_a_project_is_refused_and_not_touched(tmp_path, content):
    path = tmp_path / "lesson.mp4"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a Lesson Review project"):
        LabelStore.open(path)
    assert path.read_bytes() == content


def test_another_apps_database_is_refused_and_not_touched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = sha(path)
    with pytest.raises(StoreError, match="not a Lesson Review project"):
        LabelStore.open(path)
    assert sha(path) == before


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        LabelStore.open(tmp_path / "nowhere" / "p.lessonreview")


# -- read-only folders ------------------------------------------------------------------
#
# Root ignores permissions. As root, the attempt runs in a new user namespace
# (`unshare --user`): there the process keeps its files' ownership but loses the power to
# override permissions, so it meets a read-only folder exactly as its owner would.

_OPEN = textwrap.dedent(
    """
    import sys
    from lessonreview.core.store.label_store import LabelStore, StoreError
    try:
        LabelStore.open(sys.argv[1])
    except StoreError as exc:
        print("StoreError:", exc)
    else:
        print("opened")
    """
)


def _as_owner_without_override() -> list[str]:
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--user", "true"], check=False).returncode:
        pytest.skip("running as root and no user namespace to drop the override in")
    return [unshare, "--user"]


def _open_in_read_only_folder(folder: Path, name: str) -> str:
    """Try to open ``folder/name`` with the folder made read-only; what it printed."""
    prefix = _as_owner_without_override()
    folder.chmod(0o555)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-c", _OPEN, str(folder / name)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 0, result.stderr
    return result.stdout


@posix_only
def test_a_new_project_in_a_read_only_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    out = _open_in_read_only_folder(folder, "p.lessonreview")
    assert out.startswith("StoreError:"), out
    assert "read-only" in out and "folder you can write to" in out
    assert list(folder.iterdir()) == []


@posix_only
def test_an_existing_project_in_a_read_only_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "p.lessonreview"
    with LabelStore.open(path) as store:
        store.add_recording(info("a.mp4"))
    before = sha(path)
    out = _open_in_read_only_folder(folder, "p.lessonreview")
    assert out.startswith("StoreError:"), out
    assert "read-only" in out
    assert sha(path) == before


# -- what is stored, and removing it --------------------------------------------------


def test_removing_a_recordings_data_leaves_no_trace_of_it_in_the_file(tmp_path):
    path = tmp_path / "p.lessonreview"
    with LabelStore.open(path) as store:
        gone = store.add_recording(info("gone.mp4", sha="b" * 64))
        kept = store.add_recording(info("kept.mp4", sha="c" * 64))
        for rid, word in ((gone, "ZebraCrossing"), (kept, "KeptEvidence")):
            lab = store.insert_label(a_label(rid, evidence=word), seconds=SECONDS)
            store.log_decision(rid, "accept", payload={"e": word}, reviewer="Ann", label_id=lab.id)
        assert store.counts() == {"recordings": 2, "people": 0, "labels": 2, "decisions": 2}
        assert store.counts(gone) == {"recordings": 1, "people": 0, "labels": 1, "decisions": 1}

        removed = store.delete_recording_data(gone)

        assert removed == {"recordings": 1, "people": 0, "labels": 1, "decisions": 1}
        assert store.counts() == {"recordings": 1, "people": 0, "labels": 1, "decisions": 1}
        assert [r.id for r in store.recordings()] == [kept]
        on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("p.lessonreview*"))
        assert b"ZebraCrossing" not in on_disk and b"gone.mp4" not in on_disk
        assert b"KeptEvidence" in on_disk

"""What a project file is: its schema, the migrations that bring an older file up to it,
and the checks (and plain-words errors) made before trusting a file.

Each migration is frozen history: once released it never changes, because files made
by that release exist. So migrations are plain SQL here rather than sqlite-utils'
``create()`` (whose output could drift between sqlite-utils versions), and a schema
change is always a new function appended to ``MIGRATIONS``.

``MIGRATIONS[i]`` takes a database at schema ``i`` to ``i + 1``; schema 0 is an empty
file. Only :mod:`lessonreview.core.store.label_store` uses this module.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils


class StoreError(Exception):
    """The project file cannot be opened or written. The message says what to do."""


class AlreadyDecided(StoreError):
    """A proposal already has its decision saved: made meanwhile in another window or
    program on the same project file."""


SQLITE_HEADER = b"SQLite format 3\x00"

# A file we made says so in ``meta``; a database without that row is someone else's.
APP_ID = "lessonreview"


def _v0_to_v1(conn: sqlite3.Connection) -> None:
    # labels and decisions use AUTOINCREMENT so that an id is never reused after a
    # delete: the append-only decision log refers to labels by id, and a reused id
    # would make the audit trail point at the wrong label.
    _run_script(
        conn,
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT
        );
        CREATE TABLE recordings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            fps REAL NOT NULL,
            frame_count INTEGER NOT NULL,
            duration_s REAL NOT NULL,
            added_at TEXT NOT NULL,
            consented_by TEXT,
            purpose TEXT,
            retention_until TEXT,
            consent_recorded_by TEXT,
            consent_recorded_at TEXT
        );
        CREATE TABLE people (
            recording_id INTEGER NOT NULL REFERENCES recordings(id),
            person_id TEXT NOT NULL,
            name TEXT,
            merged_into TEXT,
            split_of TEXT,
            split_from_frame INTEGER,
            -- The decision that made the merge / the split: orders identity changes,
            -- which must be replayed in the order the reviewer made them.
            merge_decision_id INTEGER,
            split_decision_id INTEGER,
            PRIMARY KEY (recording_id, person_id)
        );
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recording_id INTEGER NOT NULL REFERENCES recordings(id),
            person TEXT NOT NULL,
            behaviour TEXT NOT NULL,
            start_frame INTEGER NOT NULL,
            end_frame INTEGER NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('machine', 'manual')),
            status TEXT NOT NULL CHECK (status IN ('accepted', 'corrected', 'rejected')),
            proposal_key TEXT,
            confidence REAL,
            evidence TEXT,
            reviewer TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            CHECK (start_frame < end_frame)
        );
        CREATE INDEX labels_recording ON labels (recording_id, start_frame);
        CREATE INDEX labels_proposal_key ON labels (recording_id, proposal_key);
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recording_id INTEGER NOT NULL REFERENCES recordings(id),
            label_id INTEGER,
            action TEXT NOT NULL,
            payload TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            undoes INTEGER REFERENCES decisions(id)
        );
        CREATE INDEX decisions_recording ON decisions (recording_id, id);
        -- The log is append-only: the database itself refuses to edit an entry.
        -- Deleting stays possible on purpose: removing a recording's data on request
        -- must remove its decisions too.
        CREATE TRIGGER decisions_append_only BEFORE UPDATE ON decisions
        BEGIN
            SELECT RAISE(ABORT, 'the decision log is append-only');
        END;
        """,
    )
    conn.execute("INSERT INTO meta (key, value) VALUES ('app', ?)", (APP_ID,))


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one: ``executescript`` would COMMIT first, and a migration
    must stay inside the caller's transaction so that it lands whole or not at all."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()[:60]}")


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    # The reviewer's choice to keep undecided proposals, part of the consent record, and
    # the kept analysis itself: one compressed proposals document per recording.
    _run_script(
        conn,
        """
        ALTER TABLE recordings ADD COLUMN keep_proposals INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE kept_analyses (
            recording_id INTEGER PRIMARY KEY REFERENCES recordings(id),
            document BLOB NOT NULL,
            saved_at TEXT NOT NULL
        );
        """,
    )


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    # Lesson phases: parts of the lesson the teacher named, each from its start to the
    # next one's. Said by the teacher, not derived from the video, and about no person.
    _run_script(
        conn,
        """
        CREATE TABLE phases (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recording_id INTEGER NOT NULL REFERENCES recordings(id),
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            start_frame INTEGER NOT NULL CHECK (start_frame >= 0),
            marked_by TEXT NOT NULL,
            marked_at TEXT NOT NULL,
            UNIQUE (recording_id, start_frame)
        );
        """,
    )


def _v3_to_v4(conn: sqlite3.Connection) -> None:
    # The model files (name -> sha256) of each analysis whose proposals were loaded into
    # a recording, and when: so an export can say which models proposed a machine label.
    # Model hashes only: nothing derived from the video is kept here.
    _run_script(
        conn,
        """
        CREATE TABLE analysis_models (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recording_id INTEGER NOT NULL REFERENCES recordings(id),
            models TEXT NOT NULL,
            rate_hz REAL NOT NULL,
            loaded_at TEXT NOT NULL
        );
        CREATE INDEX analysis_models_recording ON analysis_models (recording_id, loaded_at);
        """,
    )


def _v4_to_v5(conn: sqlite3.Connection) -> None:
    # The project's own coding schemes (the built-in one lives in the code). A code is
    # unique in the whole project, not just its scheme, because a label carries only the
    # code; a key too, because one key press codes one behaviour.
    _run_script(
        conn,
        """
        CREATE TABLE schemes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
            saved_at TEXT NOT NULL
        );
        CREATE TABLE scheme_behaviours (
            code TEXT PRIMARY KEY,
            scheme_id INTEGER NOT NULL REFERENCES schemes(id),
            position INTEGER NOT NULL,
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            key TEXT NOT NULL UNIQUE,
            colour TEXT NOT NULL,
            definition TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL CHECK (kind IN ('state', 'point'))
        );
        """,
    )


def _v5_to_v6(conn: sqlite3.Connection) -> None:
    # Kept analyses are now packed as columns (core/store/kept_pack.py); the packs
    # already in a file stay as they are, since they are still read and are replaced
    # when the recording's next analysis is kept. No table changes: the new version
    # is there so that an older Lesson Review refuses the file (and says to update)
    # rather than reading a new pack as a damaged one and deleting it.
    del conn


Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = [
    _v0_to_v1,
    _v1_to_v2,
    _v2_to_v3,
    _v3_to_v4,
    _v4_to_v5,
    _v5_to_v6,
]


def current_version() -> int:
    return len(MIGRATIONS)


def read_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version; 0 for an empty database. Reads only."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return 0
    app = None
    if "meta" in tables:
        rows = dict(
            conn.execute("SELECT key, value FROM meta WHERE key IN ('app', 'schema_version')")
        )
        app = rows.get("app")
    if app != APP_ID:
        raise StoreError(
            f"{path.name} is an SQLite database but not a Lesson Review project. "
            "It was not changed. Choose the project file (.lessonreview) instead."
        )
    try:
        return int(rows.get("schema_version") or 0)
    except ValueError as exc:
        raise StoreError(f"{path.name} has a damaged schema version; open a backup copy") from exc


def backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the file, WAL content included, to ``NAME.bak-vN`` (owner-only) before a
    migration changes it. An existing backup is never overwritten."""
    target = path.with_name(f"{path.name}.bak-v{version}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.bak-v{version}.{n}")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    dest = sqlite3.connect(str(target))
    try:
        conn.backup(dest)
    finally:
        dest.close()
    return target


def migrate(db: sqlite_utils.Database, version: int) -> None:
    """Bring a file from ``version`` to the current schema in one transaction: it is
    either fully migrated or left exactly as it was."""
    with db.atomic():
        for step in MIGRATIONS[version:]:
            step(db.conn)
        db.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(current_version()),),
        )


# -- checking the file, and saying what went wrong ----------------------------------


def create_private_file(path: Path) -> None:
    # Created by us with mode 0600 before SQLite sees it: SQLite gives the -wal and
    # -shm files the database file's permissions, so all three stay owner-only
    # whatever the umask.
    if not path.parent.is_dir():
        raise StoreError(f"Cannot create {path.name}: the folder {path.parent} does not exist.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except PermissionError as exc:
        raise StoreError(
            f"Cannot create {path.name}: the folder {path.parent} is read-only or not "
            "yours. Choose a folder you can write to."
        ) from exc
    except OSError as exc:
        raise StoreError(f"Cannot create {path}: {exc.strerror}.") from exc
    os.close(fd)
    if os.name == "posix":
        os.chmod(path, 0o600)  # in case the umask stripped even the owner's bits


def check_exists(path: Path) -> None:
    """For a command that only reads a project: refuse what is not one yet."""
    if not path.exists():
        raise StoreError(
            f"{path.name} does not exist (looked in {path.parent}). Give the path of an "
            "existing project file (.lessonreview); nothing was created."
        )
    if path.is_file() and path.stat().st_size == 0:
        raise StoreError(
            f"{path.name} is empty (0 bytes), not a project yet. Give the project file "
            "(.lessonreview) that holds the labels, or open a backup copy."
        )


# The tables every project of the current schema has; a file without one of them was
# damaged (or edited by hand), and reading it would quietly show nothing.
TABLES = ("meta", "recordings", "people", "labels", "decisions")


def check_tables(conn: sqlite3.Connection, path: Path) -> None:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in TABLES if t not in present]
    if missing:
        raise StoreError(
            f"{path.name} is damaged: its table{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing. Open a "
            "backup copy of the project; the file was not changed."
        )


def damaged(path: Path, what: str, exc: BaseException) -> StoreError:
    """The error for a row this release cannot read."""
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return StoreError(
        f"{path.name} is damaged: {what} cannot be read ({detail}). Open a backup copy of "
        "the project, or a copy saved before the file was edited; the file was not changed."
    )


def check_header(path: Path) -> None:
    if path.is_dir():
        raise StoreError(
            f"{path.name} is a folder, not a project file. Choose the project file "
            "(.lessonreview) itself."
        )
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except PermissionError as exc:
        raise StoreError(
            f"Cannot read {path.name}: permission denied. Ask the file's owner, or open "
            "a copy you own."
        ) from exc
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror}.") from exc
    if head and head != SQLITE_HEADER:
        raise StoreError(
            f"{path.name} is not a Lesson Review project (not an SQLite database). "
            "Choose the project file (.lessonreview), not a video or an export."
        )


def enable_wal(conn: sqlite3.Connection, path: Path) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(
            f"Cannot write to {path.name} (journal mode stays {mode!r}): the file or its "
            "folder is read-only. Copy the project to a folder you can write to."
        )


@contextlib.contextmanager
def translated(doing: str) -> Iterator[None]:
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise  # a bug in the caller, not a problem with the disk
    except sqlite3.DatabaseError as exc:
        raise store_error(exc, doing) from exc


def store_error(exc: sqlite3.Error, doing: str) -> StoreError:
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL":
        hint = "the disk is full. Free some space, then try again"
    elif name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        hint = (
            "the project file or its folder is read-only. Copy the project to a folder "
            "you can write to, or fix its permissions"
        )
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        hint = "another program is using the project file. Close it, then try again"
    elif name.startswith("SQLITE_IOERR"):
        hint = "the disk reported an error (removed drive or network folder?). Check it"
    elif name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "decode to UTF-8" in str(exc):
        hint = "the file is damaged or not a Lesson Review project. Open a backup copy"
    else:
        hint = str(exc)
    return StoreError(f"Could not {doing}: {hint}. ({exc})")

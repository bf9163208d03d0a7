"""The project file: recordings, their consent records, labels and the decision log.

The only module that touches SQLite. A project file holds what reviewers decided, and
nothing else derived from video: pending proposals never reach it. What it hands out and
takes in (``Label``, ``Consent``, ``RecordingRow``...) and how each maps to its row are
in ``store_rows``.

Every write is its own transaction, committed before the call returns, with WAL and
``synchronous=FULL`` so that a committed decision survives a crash or power loss.
Writes run synchronously in the caller (the GUI thread) rather than in a writer
thread: a commit here costs a few milliseconds (one append and fsync of the WAL), and
doing it in the call is what lets the GUI promise "shown as made = saved". With a
writer thread the decision would be drawn before its commit, so a crash in between
would lose a decision the reviewer saw as made, and a failed write (full disk) would
have to be un-drawn later; here the call raises instead and nothing changes on screen.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from lessonreview.core.domain import (
    CodingScheme,
    CodingSchemes,
    DecisionAction,
    RecordingInfo,
    SchemeError,
)
from lessonreview.core.store import store_schema
from lessonreview.core.store.segment_fields import Seconds, recorded_seconds
from lessonreview.core.store.store_rows import (
    Consent,
    DecisionRow,
    Label,
    PersonRow,
    Phase,
    RecordingRow,
    behaviour_rows,
    consent_columns,
    decision_from_row,
    iso,
    label_from_row,
    label_to_row,
    now_utc,
    person_from_row,
    phase_from_row,
    phase_to_row,
    recording_from_row,
    scheme_from_rows,
    stored_path,
)
from lessonreview.core.store.store_schema import AlreadyDecided, StoreError

__all__ = ["AlreadyDecided", "LabelStore", "StoreError"]


class LabelStore:
    """One open project file. Use from one thread (the GUI thread)."""

    def __init__(self, path: Path, db: sqlite_utils.Database) -> None:
        self.path = path
        self.folder = path.parent
        self._db = db

    # -- opening -------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> LabelStore:
        """Open a project file, creating it (owner-only, 0600) or migrating it as needed.
        ``create=False`` (a command that only reads the project, such as an export) refuses
        a missing or empty file instead of making a new project there."""
        path = Path(path).expanduser().absolute()
        if not create:
            store_schema.check_exists(path)
        created = False
        if not path.exists():
            store_schema.create_private_file(path)
            created = True
        try:
            return cls._open_existing(path)
        except BaseException:
            if created:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise

    @classmethod
    def _open_existing(cls, path: Path) -> LabelStore:
        store_schema.check_header(path)
        try:
            conn = sqlite3.connect(str(path))
        except sqlite3.Error as exc:
            raise store_schema.store_error(exc, f"open {path}") from exc
        db = sqlite_utils.Database(conn, execute_plugins=False)
        try:
            with store_schema.translated(f"open {path}"):
                version = store_schema.read_version(conn, path)
                if version > store_schema.current_version():
                    raise StoreError(
                        f"{path.name} was made by a newer Lesson Review (schema {version}); "
                        "update the app to open it. The file was not changed."
                    )
                if version < store_schema.current_version():
                    store_schema.enable_wal(conn, path)
                    if version > 0:
                        store_schema.backup(conn, path, version)
                    store_schema.migrate(db, version)
                store_schema.enable_wal(conn, path)
                store_schema.check_tables(conn, path)
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
                # Overwrite deleted content (a removed recording's labels) on disk too.
                conn.execute("PRAGMA secure_delete = ON")
                # Fail now, not at the first decision, if the file cannot be written.
                with db.atomic():
                    conn.execute("UPDATE meta SET value = value WHERE key = 'app'")
        except BaseException:
            conn.close()
            raise
        return cls(path, db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """A row the file holds that this release cannot read (text that is not UTF-8,
        an unknown behaviour, a date or frame number that is not one, a damaged page)
        becomes a StoreError that names the file, never a traceback."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise store_schema.damaged(self.path, what, exc) from exc
        except (ValueError, TypeError) as exc:
            raise store_schema.damaged(self.path, what, exc) from exc

    @property
    def schema_version(self) -> int:
        return int(self.get_meta("schema_version") or 0)

    # -- writing -------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit (nested use becomes a savepoint). A failed write
        raises StoreError and leaves the file as it was before the block."""
        with store_schema.translated(f"save to {self.path.name}"), self._db.atomic():
            yield

    def get_meta(self, key: str) -> str | None:
        with self._reading(f"its setting {key}"):
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction():
            self._db["meta"].upsert({"key": key, "value": value}, pk="key")

    def reviewer_name(self) -> str | None:
        return self.get_meta("reviewer_name")

    def set_reviewer_name(self, name: str) -> None:
        self.set_meta("reviewer_name", name.strip() or None)

    # -- recordings and consent ----------------------------------------------------

    def add_recording(self, info: RecordingInfo) -> int:
        """The recording's id; the same content (sha256) at a new path keeps its id and
        labels, and the stored path follows the file."""
        stored = stored_path(info.path, folder=self.folder)
        existing = self.find_recording(sha256=info.sha256)
        with self.transaction():
            if existing is not None:
                self._db["recordings"].update(existing, {"path": stored})
                return existing
            return int(
                self._db["recordings"]
                .insert(
                    {
                        "path": stored,
                        "sha256": info.sha256,
                        "width": info.width,
                        "height": info.height,
                        "fps": info.fps,
                        "frame_count": info.frame_count,
                        "duration_s": info.duration_s,
                        "added_at": iso(now_utc()),
                    }
                )
                .last_pk
            )

    def find_recording(self, *, sha256: str) -> int | None:
        with self._reading("its list of recordings"):
            row = self._db.execute(
                "SELECT id FROM recordings WHERE sha256 = ?", [sha256]
            ).fetchone()
            return int(row[0]) if row else None

    def recording(self, rid: int) -> RecordingRow:
        with self._reading(f"recording {rid}"):
            rows = list(self._db["recordings"].rows_where("id = ?", [rid]))
            if rows:
                return recording_from_row(rows[0], folder=self.folder)
        raise KeyError(f"no recording {rid} in {self.path.name}")

    def recordings(self) -> list[RecordingRow]:
        with self._reading("its list of recordings"):
            rows = self._db["recordings"].rows_where(order_by="id")
            return [recording_from_row(r, folder=self.folder) for r in rows]

    def set_consent(self, rid: int, consent: Consent) -> None:
        columns = consent_columns(consent)
        self.recording(rid)
        with self.transaction():
            self._db["recordings"].update(rid, columns)

    def consent(self, rid: int) -> Consent | None:
        return self.recording(rid).consent

    # -- labels, people, decisions -------------------------------------------------

    def labels(self, rid: int, *, coder: str | None = None) -> list[Label]:
        """The saved labels of a recording, rejected ones included, in time order: one
        coder's (the reviewer name they were saved under), or every coder's when
        ``coder`` is None (exports and the lesson summary)."""
        codes = set(self.coding_schemes().codes)
        where, args = "recording_id = ?", [rid]
        if coder is not None:
            where, args = where + " AND reviewer = ?", [rid, coder]
        with self._reading(f"the labels of recording {rid}"):
            rows = self._db["labels"].rows_where(where, args, order_by="start_frame, person, id")
            return [_known(label_from_row(r), codes) for r in rows]

    def coders(self, rid: int) -> list[str]:
        """The coders (reviewer names) who saved labels on a recording, by name."""
        with self._reading(f"the coders of recording {rid}"):
            rows = self._db.execute(
                "SELECT DISTINCT reviewer FROM labels WHERE recording_id = ? ORDER BY reviewer",
                [rid],
            ).fetchall()
        return [r[0] for r in rows]

    def label(self, label_id: int) -> Label | None:
        codes = set(self.coding_schemes().codes)
        with self._reading(f"label {label_id}"):
            rows = list(self._db["labels"].rows_where("id = ?", [label_id]))
            return _known(label_from_row(rows[0]), codes) if rows else None

    def saved_seconds(self, rid: int) -> dict[int, float]:
        """The seconds a recording's saved labels start and end at, as its timebase
        gave them when each was saved: for exports, which run without the video."""
        with self._reading(f"the label times of recording {rid}"):
            rows = self._db["labels"].rows_where(
                "recording_id = ?", [rid], select="start_frame, end_frame, start_s, end_s"
            )
            return recorded_seconds(rows)

    def insert_label(self, label: Label, *, seconds: Seconds, decides: bool = False) -> Label:
        """Save a label; a given ``id`` is reused (redo puts back the very same label).
        ``seconds`` gives its frames' times from the recording's timebase.

        ``decides``: the label is its coder's decision on its proposal, so it is refused
        with :class:`AlreadyDecided` when that coder (``label.reviewer``) has a label of
        that proposal saved already (another window or program on this file decided it
        meanwhile). Other coders' labels of the proposal do not count: each coder decides
        every proposal for themselves. The check and the insert are one transaction: of
        two programs deciding at once as one coder, SQLite lets one write and the other
        fail."""
        row = label_to_row(label, seconds=seconds)
        if label.id is None:
            del row["id"]
        with self.transaction():
            if decides and label.proposal_key is not None:
                taken = self._db.execute(
                    "SELECT reviewer, decided_at FROM labels "
                    "WHERE recording_id = ? AND proposal_key = ? AND reviewer = ? LIMIT 1",
                    [label.recording_id, label.proposal_key, label.reviewer],
                ).fetchone()
                if taken is not None:
                    raise AlreadyDecided(
                        f"This proposal was already decided by {taken[0]} at {taken[1]}, "
                        "probably in another window or program that has this project open. "
                        "Close the recording and open it again to see the saved decision."
                    )
            new_id = self._db["labels"].insert(row).last_pk
            saved = self.label(int(new_id))
        assert saved is not None
        return saved

    def update_label(self, label: Label, *, seconds: Seconds) -> None:
        row = label_to_row(label, seconds=seconds)
        with self.transaction():
            self._db["labels"].update(label.id, row)

    def delete_label(self, label_id: int) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM labels WHERE id = ?", [label_id])

    def people(self, rid: int) -> list[PersonRow]:
        with self._reading(f"the people of recording {rid}"):
            rows = self._db["people"].rows_where("recording_id = ?", [rid], order_by="person_id")
            return [person_from_row(r) for r in rows]

    def save_person(self, person: PersonRow) -> None:
        with self.transaction():
            self._db["people"].upsert(person.__dict__, pk=("recording_id", "person_id"))

    def delete_person(self, rid: int, person_id: str) -> None:
        with self.transaction():
            self._db.execute(
                "DELETE FROM people WHERE recording_id = ? AND person_id = ?", [rid, person_id]
            )

    def log_decision(
        self,
        rid: int,
        action: DecisionAction,
        *,
        payload: dict[str, Any],
        reviewer: str,
        label_id: int | None = None,
        undoes: int | None = None,
        decided_at: datetime | None = None,
    ) -> int:
        """Append to the decision log; entries are never changed or removed afterwards."""
        row = {
            "recording_id": rid,
            "label_id": label_id,
            "action": DecisionAction(action).value,
            "payload": json.dumps(payload, sort_keys=True),
            "reviewer": reviewer,
            "decided_at": iso(decided_at or now_utc()),
            "undoes": undoes,
        }
        with self.transaction():
            return int(self._db["decisions"].insert(row).last_pk)

    def decisions(self, rid: int | None = None) -> list[DecisionRow]:
        where, args = ("recording_id = ?", [rid]) if rid is not None else (None, None)
        with self._reading("its decision log"):
            rows = self._db["decisions"].rows_where(where, args, order_by="id")
            return [decision_from_row(r) for r in rows]

    # -- coding schemes --------------------------------------------------------------

    def coding_schemes(self) -> CodingSchemes:
        """The built-in scheme, then the project's own in the order they were made."""
        with self._reading("its coding schemes"):
            schemes = []
            for row in self._db["schemes"].rows_where(order_by="id"):
                behaviours = self._db["scheme_behaviours"].rows_where(
                    "scheme_id = ?", [row["id"]], order_by="position"
                )
                schemes.append(scheme_from_rows(row, list(behaviours)))
        return CodingSchemes((CodingSchemes().schemes[0], *schemes))

    def label_counts(self) -> dict[str, int]:
        """How many saved labels (rejected ones too) carry each behaviour code, over every
        recording: what removing a behaviour would leave without a meaning."""
        with self._reading("its labels"):
            rows = self._db.execute("SELECT behaviour, count(*) FROM labels GROUP BY behaviour")
            return {str(code): int(n) for code, n in rows}

    def save_scheme(self, scheme: CodingScheme) -> CodingScheme:
        """Save a new scheme (``id`` None) or replace a saved one, and return it as saved.
        SchemeError, with nothing saved, if it clashes with the other schemes or leaves
        out a behaviour that labels use."""
        if scheme.built_in:
            raise SchemeError("the built-in scheme is part of the app and cannot be changed")
        current = self.coding_schemes()
        others = [s for s in current.schemes if s.id is None or s.id != scheme.id]
        scheme.check(others=others)
        if scheme.id is not None:
            before = next((s for s in current.own if s.id == scheme.id), None)
            if before is None:
                raise SchemeError(f"the project has no coding scheme {scheme.id} to change")
            kept = {b.code for b in scheme.behaviours}
            self._refuse_used([b for b in before.behaviours if b.code not in kept])
        with self.transaction():
            row = {"name": scheme.name.strip(), "saved_at": iso(now_utc())}
            if scheme.id is None:
                scheme_id = int(self._db["schemes"].insert(row).last_pk)
            else:
                scheme_id = scheme.id
                self._db["schemes"].update(scheme_id, row)
                self._db.execute("DELETE FROM scheme_behaviours WHERE scheme_id = ?", [scheme_id])
            self._db["scheme_behaviours"].insert_all(behaviour_rows(scheme_id, scheme))
        return next(s for s in self.coding_schemes().own if s.id == scheme_id)

    def delete_scheme(self, scheme_id: int) -> None:
        """Remove one of the project's own schemes; SchemeError if labels use it."""
        scheme = next((s for s in self.coding_schemes().own if s.id == scheme_id), None)
        if scheme is None:
            raise SchemeError(f"the project has no coding scheme {scheme_id} to remove")
        self._refuse_used(list(scheme.behaviours))
        with self.transaction():
            self._db.execute("DELETE FROM scheme_behaviours WHERE scheme_id = ?", [scheme_id])
            self._db.execute("DELETE FROM schemes WHERE id = ?", [scheme_id])

    def _refuse_used(self, removed) -> None:
        counts = self.label_counts()
        used = [(b, counts[b.code]) for b in removed if counts.get(b.code)]
        if used:
            said = "; ".join(
                f"{n} label{'s' if n != 1 else ''} use{'s' if n == 1 else ''} {b.name}"
                for b, n in used
            )
            raise SchemeError(
                f"{said}. A behaviour cannot be removed while labels use it: delete or "
                "recode those labels first, or keep the behaviour (its name can change)."
            )

    # -- kept analyses ----------------------------------------------------------------

    def keep_analysis(self, rid: int, document: bytes) -> None:
        """Keep a recording's analysis (people and undecided proposals) until every coder
        has decided every proposal; only when its consent record says so (ValueError if
        not)."""
        consent = self.consent(rid)
        if consent is None or not consent.keep_proposals:
            raise ValueError("the consent record does not ask to keep undecided proposals")
        with self.transaction():
            self._db["kept_analyses"].upsert(
                {"recording_id": rid, "document": document, "saved_at": iso(now_utc())},
                pk="recording_id",
            )

    def kept_analysis(self, rid: int) -> bytes | None:
        row = self._db.execute(
            "SELECT document FROM kept_analyses WHERE recording_id = ?", [rid]
        ).fetchone()
        return None if row is None else bytes(row[0])

    def drop_kept_analysis(self, rid: int) -> bool:
        """Remove a recording's kept analysis; whether there was one."""
        with self.transaction():
            cursor = self._db.execute("DELETE FROM kept_analyses WHERE recording_id = ?", [rid])
        return cursor.rowcount > 0

    # -- which models proposed ------------------------------------------------------

    def note_analysis_models(
        self,
        rid: int,
        models: Mapping[str, str],
        *,
        rate_hz: float,
        loaded_at: datetime | None = None,
    ) -> None:
        """Remember that proposals made with ``models`` (file name -> sha256) were loaded
        into the recording at ``loaded_at`` (default now). The same models as the last
        note are not noted again."""
        text = json.dumps(dict(sorted(models.items())), sort_keys=True)
        with self.transaction():
            last = self._db.execute(
                "SELECT models, rate_hz FROM analysis_models WHERE recording_id = ? "
                "ORDER BY loaded_at DESC, id DESC LIMIT 1",
                [rid],
            ).fetchone()
            if last is not None and last[0] == text and last[1] == float(rate_hz):
                return
            self._db["analysis_models"].insert(
                {
                    "recording_id": rid,
                    "models": text,
                    "rate_hz": float(rate_hz),
                    "loaded_at": iso(loaded_at or now_utc()),
                }
            )

    def analysis_models(self, rid: int) -> list[tuple[datetime, dict[str, str]]]:
        """When each analysis' proposals were loaded into the recording, and its model
        files (name -> sha256), oldest first."""
        with self._reading(f"the analysis models of recording {rid}"):
            rows = self._db.execute(
                "SELECT loaded_at, models FROM analysis_models WHERE recording_id = ? "
                "ORDER BY loaded_at, id",
                [rid],
            ).fetchall()
            return [(datetime.fromisoformat(at), dict(json.loads(models))) for at, models in rows]

    # -- lesson phases ---------------------------------------------------------------

    def phases(self, rid: int) -> list[Phase]:
        """The recording's lesson phases, in time order."""
        rows = self._db["phases"].rows_where("recording_id = ?", [rid], order_by="start_frame")
        return [phase_from_row(r) for r in rows]

    def mark_phase(self, phase: Phase) -> Phase:
        """Save a phase; one starting where another does replaces it (a new name for
        that part of the lesson)."""
        row = phase_to_row(phase)
        del row["id"]
        with self.transaction():
            self._db.execute(
                "DELETE FROM phases WHERE recording_id = ? AND start_frame = ?",
                [phase.recording_id, phase.start_frame],
            )
            new_id = self._db["phases"].insert(row).last_pk
        rows = list(self._db["phases"].rows_where("id = ?", [new_id]))
        return phase_from_row(rows[0])

    def delete_phase(self, phase_id: int) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM phases WHERE id = ?", [phase_id])

    # -- what is stored, and removing it ------------------------------------------

    def counts(self, rid: int | None = None) -> dict[str, int]:
        """Rows per table, for the "what this project stores" sheet."""
        out = {}
        for table, column in (
            ("recordings", "id"),
            ("people", "recording_id"),
            ("labels", "recording_id"),
            ("decisions", "recording_id"),
            ("kept_analyses", "recording_id"),
        ):
            if rid is None:
                sql, args = f"SELECT count(*) FROM {table}", []
            else:
                sql, args = f"SELECT count(*) FROM {table} WHERE {column} = ?", [rid]
            with self._reading(f"its {table}"):
                out[table] = int(self._db.execute(sql, args).fetchone()[0])
        return out

    def delete_recording_data(self, rid: int) -> dict[str, int]:
        """Remove everything stored about a recording, audit trail included (a data
        subject's erasure request outranks the log), then compact the file so the
        removed rows are gone from disk, not just unlinked."""
        self.recording(rid)
        removed = self.counts(rid)
        with self.transaction():
            for table, column in (
                ("labels", "recording_id"),
                ("people", "recording_id"),
                ("decisions", "recording_id"),
                ("kept_analyses", "recording_id"),
                ("phases", "recording_id"),
                ("analysis_models", "recording_id"),
                ("recordings", "id"),
            ):
                self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", [rid])
        with store_schema.translated("compact the project file"):
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed


def _known(label: Label, codes: set[str]) -> Label:
    # A code no scheme of the project defines has no name, colour or key: the file was
    # edited by hand or damaged, and such a label must not reach a timeline or export.
    if label.behaviour not in codes:
        raise ValueError(
            f"label {label.id}: behaviour {label.behaviour!r} is in none of the project's "
            "coding schemes"
        )
    return label

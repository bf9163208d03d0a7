"""What the project file holds, as frozen dataclasses, and how each maps to its row.

``label_store`` is the one module that reads and writes SQLite; it hands these out and
takes them in. The conversions here are plain dict work (enums to their values, times
to ISO text, recording paths relative to the project folder) and never see the
database, so the store's queries and its row formats can each be read on their own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lessonreview.core.domain import (
    BehaviourKind,
    CodingScheme,
    DecisionAction,
    SchemeBehaviour,
    Segment,
    Source,
    Status,
)
from lessonreview.core.store.segment_fields import Seconds, segment_args, segment_fields


@dataclass(frozen=True)
class Consent:
    """The consent record: who consented, to what use, until when; who recorded it."""

    consented_by: str
    purpose: str
    retention_until: date
    recorded_by: str
    recorded_at: datetime
    # Keep the machine's undecided proposals (and the people they are about) with the
    # project until each is reviewed: marked unreviewed, never exported.
    keep_proposals: bool = False


@dataclass(frozen=True, kw_only=True)
class Label(Segment):
    """A reviewed segment as saved; ``status`` REJECTED keeps a rejected proposal's key
    so a re-analysis does not propose it again. ``id`` is None until inserted."""

    id: int | None
    recording_id: int
    source: Source
    status: Status
    proposal_key: str | None
    confidence: float | None
    evidence: str | None
    reviewer: str
    decided_at: datetime


@dataclass(frozen=True)
class Phase:
    """A part of the lesson the teacher named ("introduction", "group work"), from
    ``start_frame`` to the next phase's start, or to the end of the recording."""

    id: int | None
    recording_id: int
    name: str
    start_frame: int
    marked_by: str
    marked_at: datetime


@dataclass(frozen=True)
class RecordingRow:
    id: int
    path: str  # absolute, resolved against the project file's folder
    stored_path: str  # as saved: relative to the project folder when possible
    sha256: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    added_at: datetime
    consent: Consent | None


@dataclass(frozen=True)
class PersonRow:
    """What a reviewer decided about a person: a name, a merge, or a split."""

    recording_id: int
    person_id: str
    name: str | None = None
    merged_into: str | None = None
    split_of: str | None = None
    split_from_frame: int | None = None
    merge_decision_id: int | None = None
    split_decision_id: int | None = None


@dataclass(frozen=True)
class DecisionRow:
    id: int
    recording_id: int
    label_id: int | None
    # A plain string only for an entry a newer release wrote with an action this one
    # does not know: the log shows it as written rather than failing to open.
    action: DecisionAction | str
    payload: dict[str, Any]
    reviewer: str
    decided_at: datetime
    undoes: int | None


def now_utc() -> datetime:
    """Now, to the millisecond: what the file keeps, so a label read back compares equal."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


# -- recordings and consent ------------------------------------------------------------


def stored_path(path: str, *, folder: Path) -> str:
    """How the project file in ``folder`` keeps a recording's path."""
    # Relative to the project file, so a folder holding both can be moved or copied
    # to another machine and still find its recordings; absolute when the two share
    # nothing but the filesystem root (or a Windows drive differs), where a relative
    # path would only break more often.
    absolute = Path(os.path.abspath(Path(path).expanduser()))
    try:
        common = Path(os.path.commonpath([absolute, folder]))
    except ValueError:
        return absolute.as_posix()
    if common == Path(common.anchor):
        return absolute.as_posix()
    return Path(os.path.relpath(absolute, folder)).as_posix()


def recording_from_row(r: dict[str, Any], *, folder: Path) -> RecordingRow:
    where = f"recording {r.get('id')}"
    for column in ("width", "height", "frame_count"):
        _frame(r[column], f"{where}: {column}", kind="a whole number")
    for column in ("fps", "duration_s"):
        if isinstance(r[column], bool) or not isinstance(r[column], int | float):
            raise ValueError(f"{where}: {column} is {r[column]!r}, not a number")
    consent = None
    if r["consented_by"] is not None:
        consent = Consent(
            consented_by=r["consented_by"],
            purpose=r["purpose"],
            retention_until=date.fromisoformat(r["retention_until"]),
            recorded_by=r["consent_recorded_by"],
            recorded_at=datetime.fromisoformat(r["consent_recorded_at"]),
            keep_proposals=bool(r.get("keep_proposals")),
        )
    return RecordingRow(
        id=r["id"],
        path=os.path.normpath(folder / r["path"]),
        stored_path=r["path"],
        sha256=r["sha256"],
        width=r["width"],
        height=r["height"],
        fps=r["fps"],
        frame_count=r["frame_count"],
        duration_s=r["duration_s"],
        added_at=datetime.fromisoformat(r["added_at"]),
        consent=consent,
    )


def consent_columns(consent: Consent) -> dict[str, str | int]:
    """The recording's consent columns; ValueError if a name or the purpose is blank."""
    for field in ("consented_by", "purpose", "recorded_by"):
        if not str(getattr(consent, field)).strip():
            raise ValueError(f"the consent record needs {field.replace('_', ' ')}")
    return {
        "consented_by": consent.consented_by.strip(),
        "purpose": consent.purpose.strip(),
        "retention_until": consent.retention_until.isoformat(),
        "consent_recorded_by": consent.recorded_by.strip(),
        "keep_proposals": int(bool(consent.keep_proposals)),
        "consent_recorded_at": iso(consent.recorded_at),
    }


# -- labels, people, decisions -----------------------------------------------------------


def label_from_row(r: dict[str, Any]) -> Label:
    """The label a row holds; ValueError naming the column for a value that is not of its
    kind (SQLite keeps whatever was written, so a hand-edited file can hold text where a
    frame number belongs, and such a value must not reach a timeline or an export)."""
    where = f"label {r.get('id')}"
    start = _frame(r["start_frame"], f"{where}: start_frame")
    end = _frame(r["end_frame"], f"{where}: end_frame")
    if not start < end:
        raise ValueError(f"{where}: start_frame {start} is not before end_frame {end}")
    for column in ("start_s", "end_s"):
        value = r[column]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: {column} is {value!r}, not a number of seconds")
    if not isinstance(r["person"], str) or not r["person"]:
        raise ValueError(f"{where}: person is {r['person']!r}, not a person's id")
    return Label(
        **{
            **_only(Label, r),
            **segment_args(r),
            "source": Source(r["source"]),
            "status": Status(r["status"]),
            "decided_at": datetime.fromisoformat(r["decided_at"]),
        }
    )


def label_to_row(label: Label, *, seconds: Seconds) -> dict[str, Any]:
    """The label's row; the seconds of its frames (kept for the exports, which run
    without the video) from ``seconds``, the recording's timebase."""
    if label.status is Status.PENDING:
        raise ValueError("a pending proposal is never saved; decide on it first")
    return {
        **label.__dict__,
        **segment_fields(label, seconds=seconds),
        "source": label.source.value,
        "status": label.status.value,
        "decided_at": iso(label.decided_at),
    }


def phase_from_row(r: dict[str, Any]) -> Phase:
    return Phase(**{**_only(Phase, r), "marked_at": datetime.fromisoformat(r["marked_at"])})


def phase_to_row(phase: Phase) -> dict[str, Any]:
    """The phase's row; ValueError for a blank name or a start before the recording."""
    if not phase.name.strip():
        raise ValueError("a lesson phase needs a name")
    if phase.start_frame < 0:
        raise ValueError("a lesson phase cannot start before the recording")
    return {**phase.__dict__, "name": phase.name.strip(), "marked_at": iso(phase.marked_at)}


def person_from_row(r: dict[str, Any]) -> PersonRow:
    return PersonRow(**_only(PersonRow, r))


def decision_from_row(r: dict[str, Any]) -> DecisionRow:
    return DecisionRow(
        **{
            **_only(DecisionRow, r),
            "action": _action(r["action"]),
            "payload": json.loads(r["payload"]),
            "decided_at": datetime.fromisoformat(r["decided_at"]),
        }
    )


# -- coding schemes ------------------------------------------------------------------------


def scheme_from_rows(scheme: dict[str, Any], behaviours: list[dict[str, Any]]) -> CodingScheme:
    """A saved scheme from its row and its behaviours' rows (in position order);
    ValueError (via the checks) for a value that is not of its kind."""
    out = CodingScheme(
        id=scheme["id"],
        name=scheme["name"],
        behaviours=tuple(
            SchemeBehaviour(
                **{
                    **_only(SchemeBehaviour, b),
                    "kind": BehaviourKind(b["kind"]),
                }
            )
            for b in behaviours
        ),
    )
    for b in out.behaviours:
        b.check()
    return out


def behaviour_rows(scheme_id: int, scheme: CodingScheme) -> list[dict[str, Any]]:
    return [
        {
            **b.__dict__,
            "name": b.name.strip(),
            "key": b.key.upper(),
            "kind": BehaviourKind(b.kind).value,
            "scheme_id": scheme_id,
            "position": i,
        }
        for i, b in enumerate(scheme.behaviours)
    ]


def _frame(value: Any, where: str, *, kind: str = "a frame number") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where} is {value!r}, not {kind}")
    return value


def _action(value: str) -> DecisionAction | str:
    try:
        return DecisionAction(value)
    except ValueError:
        return value


def _only(cls: type, row: dict[str, Any]) -> dict[str, Any]:
    # The columns a dataclass knows: a later schema may add columns that an older
    # reading of the row must not trip over.
    return {f.name: row[f.name] for f in fields(cls)}

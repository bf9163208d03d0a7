"""Labels coded in another program (ELAN, BORIS) saved as another coder's labels.

A reader (``elan.read``, ``boris.read``) turns a file into :class:`CodedSegment` s as
the file names them; :func:`import_coded` checks every one of them against the
recording, and only when all pass saves them, in one transaction, each with its entry
in the decision log. So a file with one bad row imports nothing, and says which rows.

Choices (see docs/exchange-formats.md):

- People: a name in the file is a person id of the recording (``P3``), a name a
  reviewer gave a person ("Teacher"), or any pseudonymous id of the ``P<n>`` form the
  analysis makes. Anything else is refused, not guessed.
- Behaviours: a behaviour's code (``hand_raised``) or title ("Hand raised"); an unknown
  one is refused, so nothing is coded under a behaviour the project does not have.
- Times become frames through the recording's timebase: the nearest frame start. A
  state shorter than a frame becomes one frame; a point event is one frame.
- A label the coder already has (same person, behaviour and frames) is not saved
  again, so importing a file twice does not duplicate it.
- Imported labels are the coder's own (``reviewer`` = the coder), ``source`` manual (a
  person coded them) and ``evidence`` says the file they came from.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from lessonreview.core.domain import REVIEWED, DecisionAction, Source, Status
from lessonreview.core.exchange.label_rows import ExchangeError, behaviour_named
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Label, label_to_row, now_utc

# Times in other programs' files are rounded (ELAN keeps milliseconds): a time this
# close past the end of the recording is its end.
_END_SLACK_S = 0.001
# How many problems a refusal lists before "and N more".
_SHOWN_PROBLEMS = 8
_PSEUDONYM = re.compile(r"P\d+(@\d+)?")


@dataclass(frozen=True)
class CodedSegment:
    """One segment as another program wrote it, not yet checked against a recording.

    ``end_s`` is None for a point event. ``origin`` is who or what coded it according
    to the file (the ELAN tier's annotator, the BORIS observation id), "" when the file
    does not say; ``where`` says where in the file it is, for messages."""

    person: str
    behaviour: str
    start_s: float
    end_s: float | None
    origin: str
    where: str


@dataclass(frozen=True)
class CodedFile:
    path: Path
    kind: str  # the format's name for people: "ELAN file", "BORIS file"
    segments: tuple[CodedSegment, ...]


@dataclass(frozen=True)
class ImportSummary:
    coder: str
    n_imported: int
    n_already: int  # the coder had these labels already: not saved again


def import_coded(
    store: LabelStore,
    rid: int,
    coded: CodedFile,
    *,
    coder: str,
    timebase: Timebase,
    only: str | None = None,
) -> ImportSummary:
    """Save the file's segments as ``coder``'s labels of recording ``rid``, all or none.

    ``only``: the origin (ELAN annotator, BORIS observation id) to take when the file
    holds the coding of several; required then. ExchangeError says what is wrong."""
    coder = coder.strip()
    if not coder:
        raise ExchangeError("Give the coder's name: the imported labels are that coder's.")
    name = coded.path.name
    segments = _of_origin(coded, only)
    recording = store.recording(rid)
    if timebase.frame_count != recording.frame_count:
        raise ExchangeError(
            f"The video has {timebase.frame_count} frames but the project's recording "
            f"{Path(recording.path).name} has {recording.frame_count}: open the recording "
            "the labels belong to. Nothing was imported."
        )
    people = _people(store, rid)
    problems: list[str] = []
    wanted: list[Label] = []
    decided_at = now_utc()
    evidence = f"imported from {coded.kind} {name} (sha256 {_sha256(coded.path)[:16]})"
    schemes = store.coding_schemes()
    for seg in segments:
        person = people.get(seg.person.strip(), seg.person.strip())
        if not _PSEUDONYM.fullmatch(person):
            problems.append(
                f"{seg.where}: {seg.person!r} is not a person of this recording "
                "(use the person ids Lesson Review shows, such as P3)"
            )
            continue
        behaviour = behaviour_named(seg.behaviour, schemes)
        if behaviour is None:
            problems.append(
                f"{seg.where}: the behaviour {seg.behaviour!r} is not in this project's "
                "coding schemes (add it under Project > Coding schemes, then import again)"
            )
            continue
        frames = _frames(seg, timebase)
        if isinstance(frames, str):
            problems.append(f"{seg.where}: {frames}")
            continue
        wanted.append(
            Label(
                person=person,
                behaviour=behaviour,
                start_frame=frames[0],
                end_frame=frames[1],
                id=None,
                recording_id=rid,
                source=Source.MANUAL,
                status=Status.ACCEPTED,
                proposal_key=None,
                confidence=None,
                evidence=evidence,
                reviewer=coder,
                decided_at=decided_at,
            )
        )
    if problems:
        more = len(problems) - _SHOWN_PROBLEMS
        listed = "\n".join(f"- {p}" for p in problems[:_SHOWN_PROBLEMS])
        tail = f"\n- and {more} more" if more > 0 else ""
        raise ExchangeError(
            f"{name} cannot be imported:\n{listed}{tail}\n"
            "Nothing was imported. Correct these in the file (or in the program that "
            "wrote it), then import it again."
        )
    have = {
        _key(lab) for lab in store.labels(rid) if lab.reviewer == coder and lab.status in REVIEWED
    }
    new: list[Label] = []
    for lab in wanted:
        if _key(lab) not in have:
            have.add(_key(lab))
            new.append(lab)
    seconds = timebase.frame_to_seconds
    with store.transaction():
        for lab in new:
            saved = store.insert_label(lab, seconds=seconds)
            after = label_to_row(saved, seconds=seconds)
            del after["recording_id"]
            after["decided_at"] = saved.decided_at.isoformat()
            store.log_decision(
                rid,
                DecisionAction.IMPORT,
                payload={"after": after, "file": name, "format": coded.kind},
                reviewer=coder,
                label_id=saved.id,
                decided_at=decided_at,
            )
    return ImportSummary(coder=coder, n_imported=len(new), n_already=len(wanted) - len(new))


def _of_origin(coded: CodedFile, only: str | None) -> list[CodedSegment]:
    origins = sorted({seg.origin for seg in coded.segments})
    if only is not None:
        chosen = [seg for seg in coded.segments if seg.origin == only]
        if not chosen:
            raise ExchangeError(
                f"{coded.path.name} holds no coding by {only!r}; it holds "
                f"{', '.join(repr(o) for o in origins) or 'none'}. Nothing was imported."
            )
        return chosen
    if len(origins) > 1:
        raise ExchangeError(
            f"{coded.path.name} holds the coding of {len(origins)} coders or observations "
            f"({', '.join(repr(o) for o in origins)}): choose the one to import "
            "(--only on the command line). Nothing was imported."
        )
    return list(coded.segments)


def _people(store: LabelStore, rid: int) -> dict[str, str]:
    """Name in a file -> person id: given names, and people merged into another."""
    out: dict[str, str] = {}
    for row in store.people(rid):
        target = row.merged_into or row.person_id
        if row.merged_into:
            out[row.person_id] = target
        if row.name:
            out[row.name.strip()] = target
    return out


def _frames(seg: CodedSegment, timebase: Timebase) -> tuple[int, int] | str:
    """The segment's frames, or why it has none."""
    end_s = seg.start_s if seg.end_s is None else seg.end_s
    duration = timebase.duration_s
    for t in (seg.start_s, end_s):
        if t != t or t < 0:
            return f"the time {t} is not a time in the recording"
        if t > duration + _END_SLACK_S:
            return (
                f"the time {t:.3f} s is past the end of the recording ({duration:.3f} s): "
                "is this the coding of another video?"
            )
    if end_s < seg.start_s:
        return f"it ends ({end_s:.3f} s) before it starts ({seg.start_s:.3f} s)"
    start = min(timebase.nearest_frame_start(seg.start_s), timebase.frame_count - 1)
    if seg.end_s is None:
        return start, start + 1
    return start, max(start + 1, timebase.nearest_frame_start(end_s))


def _key(label: Label) -> tuple:
    return (label.person, str(label.behaviour), label.start_frame, label.end_frame)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

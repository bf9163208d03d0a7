"""The proposals file: UNREVIEWED machine output of one analysis, schema
``lessonreview.proposals/1``. See docs/proposals-schema.md for every field.

Nothing in this file has been decided by a person: ``reviewed`` is always false, and
a reader must treat every proposal as pending. Frames are the truth; the seconds beside
them are for people reading the file.

This module turns documents into JSON and back; the schema itself and its validator
live in ``proposals_schema``, and ``validate`` is used (and importable) from here.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lessonreview.core.domain import (
    Box,
    Observation,
    PersonTrack,
    Proposal,
    RaisedHand,
    RecordingInfo,
    format_time,
)
from lessonreview.core.store.atomic_file import write_text_atomically
from lessonreview.core.store.proposals_schema import SCHEMA, ProposalsFileError, validate
from lessonreview.core.store.segment_fields import (
    Seconds,
    recorded_seconds,
    segment_args,
    segment_fields,
)


@dataclass(frozen=True)
class AnalysisMeta:
    """How the proposals were made: sampling rate, model files (name -> sha256), how
    long it took, where it stopped if it did not reach the end of the recording, and the
    stretches ``(start_s, end_s)`` in the middle it could not decode (nothing proposed
    there)."""

    rate_hz: float
    models: dict[str, str]
    elapsed_s: float
    stopped_at_s: float | None = None
    undecodable_s: tuple[tuple[float, float], ...] = ()

    def damage_note(self) -> str | None:
        """What a reviewer must know about the stretches that could not be analysed,
        in one sentence; None when the whole recording was."""
        parts = [f"{format_time(a)}–{format_time(b)}" for a, b in self.undecodable_s]
        if self.stopped_at_s is not None:
            parts.append(f"from {format_time(self.stopped_at_s)} to the end")
        if not parts:
            return None
        return (
            f"Part of the recording could not be decoded (damaged file): {', '.join(parts)}. "
            "Nothing is proposed there; copy the file again from the original to analyse it."
        )


@dataclass(frozen=True)
class ProposalsDocument:
    """One analysis of one recording. ``seconds`` holds the times of the frames the
    proposals start and end at (see :func:`times_of`): from the recording's timebase
    when analysed, from the file when read back."""

    recording: RecordingInfo
    analysis: AnalysisMeta
    people: tuple[PersonTrack, ...]
    proposals: tuple[Proposal, ...]
    seconds: Mapping[int, float]


def times_of(proposals: Iterable[Proposal], seconds: Seconds) -> dict[int, float]:
    """The times a document keeps for ``proposals``, asked of ``seconds`` (a timebase's
    ``frame_to_seconds``)."""
    return {
        frame: float(seconds(frame)) for p in proposals for frame in (p.start_frame, p.end_frame)
    }


# --- writing ---------------------------------------------------------------------------


def to_json_dict(doc: ProposalsDocument) -> dict:
    """The document as plain JSON types, the bulk rounded to keep files small: pixels to
    0.1, observation times, scores and visibility to 0.001. Segment and recording seconds
    are kept whole: they are few, and readers compare them with the timebase."""
    rec, an = doc.recording, doc.analysis
    analysis: dict[str, Any] = {
        "rate_hz": float(an.rate_hz),
        "models": dict(sorted(an.models.items())),
        "elapsed_s": round(float(an.elapsed_s), 3),
    }
    if an.stopped_at_s is not None:
        analysis["stopped_at_s"] = float(an.stopped_at_s)
    if an.undecodable_s:
        analysis["undecodable_s"] = [[float(a), float(b)] for a, b in an.undecodable_s]
    return {
        "schema": SCHEMA,
        "reviewed": False,
        "recording": {
            "path": rec.path,
            "sha256": rec.sha256,
            "width": int(rec.width),
            "height": int(rec.height),
            "fps": float(rec.fps),
            "frame_count": int(rec.frame_count),
            "duration_s": float(rec.duration_s),
        },
        "analysis": analysis,
        "people": [
            {"id": person.id, "observations": [_observation(o) for o in person.observations]}
            for person in doc.people
        ],
        "proposals": [
            {
                "id": p.key,
                **segment_fields(p, seconds=doc.seconds.__getitem__),
                "confidence": round(float(p.confidence), 3),
                "evidence": p.evidence,
            }
            for p in doc.proposals
        ],
    }


def _observation(o: Observation) -> dict:
    keypoints = None
    if o.keypoints is not None:
        kp = np.asarray(o.keypoints, dtype=np.float64)
        keypoints = np.column_stack([np.round(kp[:, :2], 1), np.round(kp[:, 2], 3)]).tolist()
    out = {
        "frame": int(o.frame),
        "t": round(float(o.t), 3),
        "box": [float(v) for v in o.box.as_list()],
        "score": round(float(o.score), 3),
        "keypoints": keypoints,
    }
    if o.head_down_score is not None:
        # Optional (absent when not computed), so files without it stay valid.
        out["head_down_score"] = round(float(o.head_down_score), 3)
    if o.raised_hand is not None:
        h = o.raised_hand
        out["raised_hand"] = {
            "box": [float(v) for v in h.box.as_list()],
            "wrist": [round(float(v), 1) for v in h.wrist],
            "score": round(float(h.score), 3),
            "above_head": round(float(h.above_head), 3),
            "arm": bool(h.arm),
        }
        if h.by_pose:
            # Optional (absent for the hand detector's hands), so files without it stay valid.
            out["raised_hand"]["by_pose"] = True
    return out


def write(doc: ProposalsDocument, path: str | os.PathLike) -> None:
    """Write atomically: a temporary file beside ``path``, then a rename over it, so a
    crash leaves either the old file or the new one, never half of one."""
    data = to_json_dict(doc)
    validate(data)
    write_text_atomically(path, json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n")


# --- reading ---------------------------------------------------------------------------


def read(path: str | os.PathLike) -> ProposalsDocument:
    """The document in ``path``; :class:`ProposalsFileError` (naming the file, and the
    field where there is one) for anything that is not a proposals file, before anything
    is built from it."""
    path = Path(path)
    try:
        # A pipe or a device would block or never end: only a regular file is read.
        if not stat.S_ISREG(path.stat().st_mode):
            raise ProposalsFileError(
                f"{path}: not a file (a folder, a pipe or a device). Choose the proposals "
                "file (.json) that 'lessonreview analyze' wrote."
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProposalsFileError(
            f"{path}: cannot read the proposals file ({e}). Choose the .json file that "
            "'lessonreview analyze' wrote, or run the analysis again."
        ) from e
    try:
        data = json.loads(text)
    except RecursionError:
        raise ProposalsFileError(
            f"{path}: nested far deeper than a proposals file is: not one, or damaged. "
            "Run the analysis again to get a good one."
        ) from None
    except ValueError as e:
        # JSONDecodeError, and the ValueError of an integer too long to convert.
        raise ProposalsFileError(
            f"{path}: not a JSON file ({str(e)[:200]}). It may be cut off or damaged: run "
            "the analysis again."
        ) from e
    try:
        return from_json_dict(data)
    except ProposalsFileError as e:
        raise ProposalsFileError(
            f"{path}: {e}. The file is damaged or was edited: run the analysis again."
        ) from None


def check_fits(doc: ProposalsDocument, *, frame_count: int) -> None:
    """ProposalsFileError unless every frame ``doc`` names is a frame of the recording it
    is loaded into (``frame_count`` frames, as its own index counts them). The file's
    content hash matched, but its frame numbers are its own word, and a hand-edited or
    damaged file can name frames the recording does not have."""
    last_end = max((p.end_frame for p in doc.proposals), default=0)
    last_seen = max((o.frame for person in doc.people for o in person.observations), default=-1)
    if last_end > frame_count or last_seen >= frame_count:
        frame = max(last_end, last_seen + 1)
        raise ProposalsFileError(
            f"it names frame {frame}, but the recording has {frame_count} frames: the file "
            "was edited or damaged. Run the analysis again on this recording."
        )


def _raised_hand(h: dict | None) -> RaisedHand | None:
    if h is None:
        return None
    return RaisedHand(
        box=Box(*(float(v) for v in h["box"])),
        wrist=(float(h["wrist"][0]), float(h["wrist"][1])),
        score=float(h["score"]),
        above_head=float(h["above_head"]),
        arm=bool(h.get("arm", False)),
        by_pose=bool(h.get("by_pose", False)),
    )


def from_json_dict(d: dict) -> ProposalsDocument:
    """Validate, then build the document. Raises :class:`ProposalsFileError`."""
    validate(d)
    rec = d["recording"]
    an = d["analysis"]
    people = tuple(
        PersonTrack(
            id=p["id"],
            observations=tuple(
                Observation(
                    frame=o["frame"],
                    t=float(o["t"]),
                    box=Box(*(float(v) for v in o["box"])),
                    score=float(o["score"]),
                    keypoints=None
                    if o["keypoints"] is None
                    else np.array(o["keypoints"], dtype=np.float32),
                    head_down_score=None
                    if o.get("head_down_score") is None
                    else float(o["head_down_score"]),
                    raised_hand=_raised_hand(o.get("raised_hand")),
                )
                for o in p["observations"]
            ),
        )
        for p in d["people"]
    )
    proposals = tuple(
        Proposal(
            **segment_args(p),
            confidence=float(p["confidence"]),
            evidence=p["evidence"],
        )
        for p in d["proposals"]
    )
    return ProposalsDocument(
        recording=RecordingInfo(
            path=rec["path"],
            sha256=rec["sha256"],
            width=rec["width"],
            height=rec["height"],
            fps=float(rec["fps"]),
            frame_count=rec["frame_count"],
            duration_s=float(rec["duration_s"]),
        ),
        analysis=AnalysisMeta(
            rate_hz=float(an["rate_hz"]),
            models=dict(an["models"]),
            elapsed_s=float(an["elapsed_s"]),
            stopped_at_s=None if an.get("stopped_at_s") is None else float(an["stopped_at_s"]),
            undecodable_s=tuple((float(a), float(b)) for a, b in an.get("undecodable_s", ())),
        ),
        people=people,
        proposals=proposals,
        seconds=recorded_seconds(d["proposals"]),
    )

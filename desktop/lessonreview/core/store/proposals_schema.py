"""The schema of the proposals file, ``lessonreview.proposals/1``, and its validator.
See docs/proposals-schema.md for every field; ``proposals_file`` reads and writes it.

The validator is written out by hand (no jsonschema dependency) so that every error
names the field and says what is wrong with it, e.g.
``people[2].observations[7].keypoints[5][2]: must be between 0 and 1, got 1.7``.
It checks plain JSON types only, so it knows nothing of the domain classes beyond the
behaviours and the number of keypoints.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from lessonreview.core.domain import N_KEYPOINTS, Behaviour

SCHEMA = "lessonreview.proposals/1"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Frames per second beyond any classroom camera (high-speed cameras aside): a file that
# claims more holds a frame count no recording has.
MAX_FPS = 1000
# More proposals than one reviewer could ever decide on: a file holding more is not an
# analysis of one recording, and loading it would make every decision slow.
MAX_PROPOSALS = 200_000
# Seconds computed from a timebase may land a hair past duration_s after rounding.
_TIME_SLACK_S = 1e-3


class ProposalsFileError(ValueError):
    """A proposals file that cannot be read: which field, and what is wrong with it."""


def validate(d: dict) -> None:
    """Raise :class:`ProposalsFileError` naming the first field that is wrong."""
    _keys(d, "", {"schema", "reviewed", "recording", "analysis", "people", "proposals"})
    if d["schema"] != SCHEMA:
        raise ProposalsFileError(
            f"schema: expected {SCHEMA!r}, got {d['schema']!r} (a file from another version?)"
        )
    if d["reviewed"] is not False:
        raise ProposalsFileError(
            f"reviewed: must be false (proposals are unreviewed machine output), got {d['reviewed']!r}"
        )
    rec = d["recording"]
    _keys(
        rec, "recording", {"path", "sha256", "width", "height", "fps", "frame_count", "duration_s"}
    )
    _text(rec["path"], "recording.path")
    _sha256(rec["sha256"], "recording.sha256")
    _int(rec["width"], "recording.width", low=1)
    _int(rec["height"], "recording.height", low=1)
    _num(rec["fps"], "recording.fps", positive=True)
    frame_count = _int(rec["frame_count"], "recording.frame_count", low=1)
    duration = _num(rec["duration_s"], "recording.duration_s", positive=True)
    if frame_count > duration * MAX_FPS + 1:
        raise ProposalsFileError(
            f"recording.frame_count: {frame_count} frames in {duration:g} s is more than "
            f"{MAX_FPS} a second, which no camera records"
        )

    an = d["analysis"]
    _keys(
        an,
        "analysis",
        {"rate_hz", "models", "elapsed_s"},
        optional={"stopped_at_s", "undecodable_s"},
    )
    _num(an["rate_hz"], "analysis.rate_hz", positive=True)
    _obj(an["models"], "analysis.models")
    for name, digest in an["models"].items():
        _text(name, "analysis.models (a model name)")
        _sha256(digest, f"analysis.models[{name!r}]")
    _num(an["elapsed_s"], "analysis.elapsed_s", low=0.0)
    if an.get("stopped_at_s") is not None:
        _num(an["stopped_at_s"], "analysis.stopped_at_s", low=0.0, high=duration + _TIME_SLACK_S)
    for i, stretch in enumerate(_list(an.get("undecodable_s", []), "analysis.undecodable_s")):
        where = f"analysis.undecodable_s[{i}]"
        if not isinstance(stretch, list) or len(stretch) != 2:
            raise ProposalsFileError(f"{where}: must be a pair [start_s, end_s]")
        start = _num(stretch[0], where, low=0.0, high=duration + _TIME_SLACK_S)
        end = _num(stretch[1], where, low=0.0, high=duration + _TIME_SLACK_S)
        if end < start:
            raise ProposalsFileError(f"{where}: ends at {end:g} s, before it starts at {start:g} s")

    people = _list(d["people"], "people")
    ids: set[str] = set()
    for i, person in enumerate(people):
        where = f"people[{i}]"
        _keys(person, where, {"id", "observations"})
        pid = _text(person["id"], f"{where}.id")
        if pid in ids:
            raise ProposalsFileError(f"{where}.id: {pid!r} appears twice")
        ids.add(pid)
        last = -1
        for j, o in enumerate(_list(person["observations"], f"{where}.observations")):
            frame = _observation_ok(o, f"{where}.observations[{j}]", frame_count, duration)
            if frame <= last:
                raise ProposalsFileError(
                    f"{where}.observations[{j}].frame: frames must increase, {frame} after {last}"
                )
            last = frame

    proposals = _list(d["proposals"], "proposals")
    if len(proposals) > MAX_PROPOSALS:
        raise ProposalsFileError(
            f"proposals: {len(proposals)} of them, more than the {MAX_PROPOSALS} a review "
            "can hold; no analysis of one recording makes that many"
        )
    seen: set[str] = set()
    for i, p in enumerate(proposals):
        _proposal_ok(p, f"proposals[{i}]", ids, frame_count, duration)
        if p["id"] in seen:
            raise ProposalsFileError(f"proposals[{i}].id: {p['id']!r} appears twice")
        seen.add(p["id"])


def _raised_hand_ok(h: Any, where: str) -> None:
    # "arm" is optional: files written before the finder checked arms have none;
    # "by_pose" only where the arm pose model found the hand.
    _keys(h, where, {"box", "wrist", "score", "above_head"}, optional={"arm", "by_pose"})
    box = _list(h["box"], f"{where}.box")
    wrist = _list(h["wrist"], f"{where}.wrist")
    if len(box) != 4 or len(wrist) != 2:
        raise ProposalsFileError(f"{where}: box must be [x0, y0, x1, y1] and wrist [x, y]")
    x0, y0, x1, y1 = (_num(v, f"{where}.box[{k}]") for k, v in enumerate(box))
    if not (x0 < x1 and y0 < y1):
        raise ProposalsFileError(f"{where}.box: needs x0 < x1 and y0 < y1, got {box}")
    for k, v in enumerate(wrist):
        _num(v, f"{where}.wrist[{k}]")
    _num(h["score"], f"{where}.score")
    _num(h["above_head"], f"{where}.above_head")
    for flag in ("arm", "by_pose"):
        if not isinstance(h.get(flag, False), bool):
            raise ProposalsFileError(f"{where}.{flag}: must be true or false, got {_kind(h[flag])}")


def _observation_ok(o: Any, where: str, frame_count: int, duration: float) -> int:
    _keys(
        o,
        where,
        {"frame", "t", "box", "score", "keypoints"},
        optional={"head_down_score", "raised_hand"},
    )
    frame = _int(o["frame"], f"{where}.frame", low=0, high=frame_count - 1)
    _num(o["t"], f"{where}.t", low=0.0, high=duration + _TIME_SLACK_S)
    box = _list(o["box"], f"{where}.box")
    if len(box) != 4:
        raise ProposalsFileError(f"{where}.box: must be [x0, y0, x1, y1], got {len(box)} numbers")
    x0, y0, x1, y1 = (_num(v, f"{where}.box[{k}]") for k, v in enumerate(box))
    if not (x0 < x1 and y0 < y1):
        raise ProposalsFileError(f"{where}.box: needs x0 < x1 and y0 < y1, got {box}")
    _num(o["score"], f"{where}.score", low=0.0, high=1.0)
    if o.get("head_down_score") is not None:
        _num(o["head_down_score"], f"{where}.head_down_score", low=0.0, high=1.0)
    if o.get("raised_hand") is not None:
        _raised_hand_ok(o["raised_hand"], f"{where}.raised_hand")
    if o["keypoints"] is not None:
        kps = _list(o["keypoints"], f"{where}.keypoints")
        # Fast path for the common case (a long recording has hundreds of thousands of
        # observations); anything odd falls through to the checks that name the field.
        try:
            arr = np.asarray(kps) if len(kps) == N_KEYPOINTS else None
        except ValueError:  # ragged lists
            arr = None
        if (
            arr is not None
            and arr.shape == (N_KEYPOINTS, 3)
            and arr.dtype.kind in "fi"
            and np.isfinite(arr).all()
            and ((arr[:, 2] >= 0.0) & (arr[:, 2] <= 1.0)).all()
        ):
            return frame
        if len(kps) != N_KEYPOINTS:
            raise ProposalsFileError(
                f"{where}.keypoints: must hold {N_KEYPOINTS} keypoints or be null, got {len(kps)}"
            )
        for k, kp in enumerate(kps):
            kp = _list(kp, f"{where}.keypoints[{k}]")
            if len(kp) != 3:
                raise ProposalsFileError(
                    f"{where}.keypoints[{k}]: must be [x, y, visibility], got {len(kp)} numbers"
                )
            _num(kp[0], f"{where}.keypoints[{k}][0]")
            _num(kp[1], f"{where}.keypoints[{k}][1]")
            _num(kp[2], f"{where}.keypoints[{k}][2]", low=0.0, high=1.0)
    return frame


def _proposal_ok(p: Any, where: str, people: set[str], frame_count: int, duration: float):
    fields = {"id", "person", "behaviour", "start_frame", "end_frame", "start_s", "end_s"}
    _keys(p, where, fields | {"confidence", "evidence"})
    _text(p["id"], f"{where}.id")
    if _text(p["person"], f"{where}.person") not in people:
        raise ProposalsFileError(f"{where}.person: {p['person']!r} is not one of the people")
    behaviours = [b.value for b in Behaviour]
    if p["behaviour"] not in behaviours:
        raise ProposalsFileError(
            f"{where}.behaviour: {p['behaviour']!r} is not one of {', '.join(behaviours)}"
        )
    start = _int(p["start_frame"], f"{where}.start_frame", low=0, high=frame_count - 1)
    end = _int(p["end_frame"], f"{where}.end_frame", low=1, high=frame_count)
    if not start < end:
        raise ProposalsFileError(
            f"{where}: start_frame ({start}) must be before end_frame ({end}); frames are [start, end)"
        )
    start_s = _num(p["start_s"], f"{where}.start_s", low=0.0, high=duration + _TIME_SLACK_S)
    end_s = _num(p["end_s"], f"{where}.end_s", low=0.0, high=duration + _TIME_SLACK_S)
    if not start_s < end_s:
        raise ProposalsFileError(f"{where}: start_s ({start_s}) must be before end_s ({end_s})")
    _num(p["confidence"], f"{where}.confidence", low=0.0, high=1.0)
    if not isinstance(p["evidence"], str):
        raise ProposalsFileError(f"{where}.evidence: must be text, got {_kind(p['evidence'])}")


def _keys(d: Any, where: str, required: set[str], *, optional: frozenset | set = frozenset()):
    _obj(d, where or "the file")
    missing = sorted(required - d.keys())
    if missing:
        raise ProposalsFileError(f"{where or 'the file'}: missing {', '.join(missing)}")
    unknown = sorted(d.keys() - required - set(optional))
    if unknown:
        raise ProposalsFileError(f"{where or 'the file'}: unknown field {', '.join(unknown)}")


def _obj(v: Any, where: str) -> dict:
    if not isinstance(v, dict):
        raise ProposalsFileError(f"{where}: must be an object, got {_kind(v)}")
    return v


def _list(v: Any, where: str) -> list:
    if not isinstance(v, list):
        raise ProposalsFileError(f"{where}: must be a list, got {_kind(v)}")
    return v


def _text(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v:
        raise ProposalsFileError(f"{where}: must be non-empty text, got {_kind(v)}")
    return v


def _sha256(v: Any, where: str) -> str:
    if not isinstance(v, str) or not _SHA256.match(v):
        raise ProposalsFileError(f"{where}: must be 64 lowercase hex digits (sha256), got {v!r}")
    return v


def _int(v: Any, where: str, *, low: int | None = None, high: int | None = None) -> int:
    # bool is an int in Python, but true is not a frame number.
    if isinstance(v, bool) or not isinstance(v, int):
        raise ProposalsFileError(f"{where}: must be a whole number, got {_kind(v)}")
    if (low is not None and v < low) or (high is not None and v > high):
        raise ProposalsFileError(f"{where}: must be {_range(low, high)}, got {v}")
    return v


def _num(
    v: Any,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    positive: bool = False,
) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not _finite(v):
        raise ProposalsFileError(f"{where}: must be a finite number, got {_kind(v)}")
    if positive and not v > 0:
        raise ProposalsFileError(f"{where}: must be above 0, got {v}")
    if (low is not None and v < low) or (high is not None and v > high):
        raise ProposalsFileError(f"{where}: must be {_range(low, high)}, got {v}")
    return float(v)


def _finite(v: int | float) -> bool:
    # JSON integers have no size limit; one past what a float holds is no measurement.
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _range(low, high) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"{str(v).lower()} (a boolean)"
    if isinstance(v, int | float):
        text = repr(v)
        return text if len(text) < 40 else f"a number of {len(text)} digits"
    if isinstance(v, str):
        return repr(v) if len(v) < 40 else "text"
    return {dict: "an object", list: "a list"}.get(type(v), type(v).__name__)

"""The form a project keeps an analysis in (``LabelStore.keep_analysis``): the proposals
file's JSON for the recording, the analysis and the proposals, and the people's
observations (the bulk of a long lesson) as columns of numbers.

A pack is ``MAGIC``, a two-byte format version, then one zlib stream holding a
four-byte header length, the header (JSON) and the columns (raw little-endian arrays,
in the order of ``_OBSERVATION_COLUMNS`` then ``_HAND_COLUMNS``). zlib's checksum
covers all of it, so a damaged pack is refused whole before anything is built from it.

Reading a pack is split in two (:func:`open_pack`, then :meth:`KeptPack.people`) so
that the review can show the proposals while the observations are being built. Both
steps check everything first: the header with the proposals file's own validator, the
columns with the same rules in numpy.

Packs kept before this form (gzip-compressed proposals-file JSON) are still read.
Like the proposals file, a pack is unreviewed machine output: it holds proposals only.
"""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lessonreview.core.domain import (
    N_KEYPOINTS,
    Box,
    Observation,
    PersonTrack,
    Proposal,
    RaisedHand,
    RecordingInfo,
)
from lessonreview.core.store import proposals_file
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument
from lessonreview.core.store.proposals_schema import ProposalsFileError

MAGIC = b"LRKEPT\r\n"  # the line ending catches a pack mangled by a text-mode copy
# 3: a raised hand's "arm" may say the arm pose model found it (2); packs of form 2
# read the same (0 and 1 only).
FORMAT_VERSION = 3
_READABLE = (2, 3)
_GZIP_MAGIC = b"\x1f\x8b"  # the packs of format 1: gzip-compressed proposals-file JSON
_HEADER_LENGTH = struct.Struct("<I")
# Level 1: a pack of a long lesson is packed in a fraction of the time of the default
# level for slightly more bytes, and unpacks as fast.
_ZLIB_LEVEL = 1

# One row per observation, people one after the other, each person's frames increasing.
# NaN in head_down_score and -1 in hand stand for "none".
_OBSERVATION_COLUMNS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("frame", "<i4", ()),
    ("t", "<f8", ()),
    ("box", "<f8", (4,)),
    ("score", "<f8", ()),
    ("head_down_score", "<f8", ()),
    ("hand", "<i4", ()),
    ("has_keypoints", "u1", ()),
)
# One row per observation that has keypoints, in the order of the observations.
_KEYPOINT_COLUMN = ("keypoints", "<f4", (N_KEYPOINTS, 3))
# One row per raised hand, in the order of the observations that have one.
_HAND_COLUMNS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("hand_box", "<f8", (4,)),
    ("wrist", "<f8", (2,)),
    ("hand_score", "<f8", ()),
    ("above_head", "<f8", ()),
    # 0: the hand detector's hand, no arm seen; 1: with an arm; 2: the arm pose model's.
    ("arm", "u1", ()),
)
_ARM_POSE = 2  # in the "arm" column: a hand the arm pose model found
_TIME_SLACK_S = 1e-3  # as the proposals file: seconds from a timebase may land a hair past


def _damaged(why: str) -> ProposalsFileError:
    return ProposalsFileError(f"the kept proposals are damaged ({why})")


# --- writing ---------------------------------------------------------------------------


def pack(doc: ProposalsDocument) -> bytes:
    """``doc`` in the kept form; ProposalsFileError if it would not read back."""
    observations = [o for person in doc.people for o in person.observations]
    n = len(observations)
    with_kp = [o.keypoints for o in observations if o.keypoints is not None]
    hands = [o.raised_hand for o in observations if o.raised_hand is not None]
    hand_index = np.full(n, -1, dtype="<i4")
    hand_index[[i for i, o in enumerate(observations) if o.raised_hand is not None]] = np.arange(
        len(hands), dtype="<i4"
    )
    # Rounded as the proposals file rounds them: what is kept is what a file would hold.
    keypoints = np.zeros((len(with_kp), N_KEYPOINTS, 3), dtype=np.float64)
    if with_kp:
        keypoints[:] = with_kp
    keypoints[:, :, :2] = np.round(keypoints[:, :, :2], 1)
    keypoints[:, :, 2] = np.round(keypoints[:, :, 2], 3)
    columns: dict[str, Any] = {
        "frame": [o.frame for o in observations],
        "t": np.round([o.t for o in observations], 3),
        "box": np.round([[o.box.x0, o.box.y0, o.box.x1, o.box.y1] for o in observations], 1),
        "score": np.round([o.score for o in observations], 3),
        "head_down_score": np.round(
            [np.nan if o.head_down_score is None else o.head_down_score for o in observations], 3
        ),
        "hand": hand_index,
        "has_keypoints": [o.keypoints is not None for o in observations],
        "keypoints": keypoints,
        "hand_box": np.round([[h.box.x0, h.box.y0, h.box.x1, h.box.y1] for h in hands], 1),
        "wrist": np.round([h.wrist for h in hands], 1),
        "hand_score": np.round([h.score for h in hands], 3),
        "above_head": np.round([h.above_head for h in hands], 3),
        "arm": [_ARM_POSE if h.by_pose else int(h.arm) for h in hands],
    }
    rows = {"observations": n, "keypoints": len(with_kp), "hands": len(hands)}
    arrays = {
        name: np.asarray(columns[name], dtype=dtype).reshape((rows[kind], *shape))
        for name, dtype, shape, kind in _layout()
    }
    people = [len(person.observations) for person in doc.people]
    _check_columns(arrays, people, doc.recording.frame_count, doc.recording.duration_s)
    head = proposals_file.to_json_dict(
        replace(doc, people=tuple(PersonTrack(id=person.id) for person in doc.people))
    )
    proposals_file.validate(head)
    header = json.dumps(
        {"document": head, "observations_per_person": people, "rows": rows},
        separators=(",", ":"),
        allow_nan=False,
    ).encode()
    stream = zlib.compressobj(_ZLIB_LEVEL)
    parts = [stream.compress(_HEADER_LENGTH.pack(len(header)) + header)]
    parts += [stream.compress(arrays[name].tobytes()) for name, *_ in _layout()]
    parts.append(stream.flush())
    return MAGIC + struct.pack("<H", FORMAT_VERSION) + b"".join(parts)


def _layout() -> list[tuple[str, str, tuple[int, ...], str]]:
    """Every column in pack order: name, dtype, shape of one row, and what its rows count."""
    return [
        *((name, dtype, shape, "observations") for name, dtype, shape in _OBSERVATION_COLUMNS),
        (*_KEYPOINT_COLUMN, "keypoints"),
        *((name, dtype, shape, "hands") for name, dtype, shape in _HAND_COLUMNS),
    ]


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KeptPack:
    """A kept analysis, checked and ready to build: its proposals at once, its people
    (the slow part, for a long lesson) when asked."""

    recording: RecordingInfo
    analysis: AnalysisMeta
    proposals: tuple[Proposal, ...]
    seconds: dict[int, float]
    _ids: tuple[str, ...]
    _per_person: tuple[int, ...]
    _columns: dict[str, np.ndarray]
    _built: tuple[PersonTrack, ...] | None = None

    def people(self) -> tuple[PersonTrack, ...]:
        if self._built is not None:
            return self._built
        c = self._columns
        frames, times = c["frame"].tolist(), c["t"].tolist()
        boxes, scores = c["box"].tolist(), c["score"].tolist()
        head_down = [None if v != v else v for v in c["head_down_score"].tolist()]  # NaN
        hands = _hands(c)
        hand_of = c["hand"].tolist()
        keypoints = iter(c["keypoints"])
        has_kp = c["has_keypoints"].tolist()
        people = []
        start = 0
        for pid, count in zip(self._ids, self._per_person, strict=True):
            people.append(
                PersonTrack(
                    id=pid,
                    observations=tuple(
                        Observation(
                            frame=frames[i],
                            t=times[i],
                            box=Box(*boxes[i]),
                            score=scores[i],
                            keypoints=next(keypoints) if has_kp[i] else None,
                            head_down_score=head_down[i],
                            raised_hand=None if hand_of[i] < 0 else hands[hand_of[i]],
                        )
                        for i in range(start, start + count)
                    ),
                )
            )
            start += count
        return tuple(people)

    def document(self) -> ProposalsDocument:
        return ProposalsDocument(
            recording=self.recording,
            analysis=self.analysis,
            people=self.people(),
            proposals=self.proposals,
            seconds=self.seconds,
        )


def _hands(c: dict[str, np.ndarray]) -> list[RaisedHand]:
    return [
        RaisedHand(
            box=Box(*box),
            wrist=(wrist[0], wrist[1]),
            score=s,
            above_head=a,
            arm=bool(arm),
            by_pose=arm == _ARM_POSE,
        )
        for box, wrist, s, a, arm in zip(
            c["hand_box"].tolist(),
            c["wrist"].tolist(),
            c["hand_score"].tolist(),
            c["above_head"].tolist(),
            c["arm"].tolist(),
            strict=True,
        )
    ]


def unpack(blob: bytes) -> ProposalsDocument:
    """The whole document a pack holds; ProposalsFileError if it is damaged."""
    return open_pack(blob).document()


def open_pack(blob: bytes) -> KeptPack:
    """Check a pack whole and read its proposals; ProposalsFileError (saying what to
    do) if it is damaged, not a pack, or from a newer Lesson Review."""
    blob = bytes(blob)
    if blob.startswith(_GZIP_MAGIC):
        return _from_document(_from_json_gzip(blob))
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 2:
        raise _damaged("not a kept analysis")
    (version,) = struct.unpack_from("<H", blob, len(MAGIC))
    if version > FORMAT_VERSION:
        raise ProposalsFileError(
            f"the kept proposals were packed by a newer version of Lesson Review (form "
            f"{version}); update Lesson Review to use them"
        )
    if version not in _READABLE:
        raise _damaged(f"unknown form {version}")
    stream = zlib.decompressobj()
    try:
        data = stream.decompress(memoryview(blob)[len(MAGIC) + 2 :])
    except zlib.error as e:
        raise _damaged(str(e)) from e
    if not stream.eof or stream.unused_data:
        raise _damaged("cut off" if not stream.eof else "bytes after the end")
    return _read(memoryview(data))


def _read(data: memoryview) -> KeptPack:
    if len(data) < _HEADER_LENGTH.size:
        raise _damaged("no header")
    (length,) = _HEADER_LENGTH.unpack_from(data)
    end = _HEADER_LENGTH.size + length
    try:
        header = json.loads(bytes(data[_HEADER_LENGTH.size : end]).decode("utf-8"))
        head, per_person, rows = (
            header["document"],
            header["observations_per_person"],
            header["rows"],
        )
        counts = {k: int(rows[k]) for k in ("observations", "keypoints", "hands")}
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        raise _damaged(f"its header: {e}") from e
    try:
        doc = proposals_file.from_json_dict(head)
    except ProposalsFileError as e:
        raise _damaged(str(e)) from None
    if not isinstance(per_person, list) or len(per_person) != len(doc.people):
        raise _damaged("the people and their observations do not match")
    if not all(type(k) is int and k >= 0 for k in per_person) or any(
        v < 0 for v in counts.values()
    ):
        raise _damaged("a negative count")
    columns: dict[str, np.ndarray] = {}
    at = end
    for name, dtype, shape, kind in _layout():
        count = counts[kind] * int(np.prod(shape, dtype=np.int64))
        size = count * np.dtype(dtype).itemsize
        if at + size > len(data):
            raise _damaged("shorter than its header says")
        columns[name] = np.frombuffer(data, dtype=dtype, count=count, offset=at).reshape(
            (counts[kind], *shape)
        )
        at += size
    if at != len(data):
        raise _damaged("longer than its header says")
    _check_columns(columns, per_person, doc.recording.frame_count, doc.recording.duration_s)
    return KeptPack(
        recording=doc.recording,
        analysis=doc.analysis,
        proposals=doc.proposals,
        seconds=dict(doc.seconds),
        _ids=tuple(person.id for person in doc.people),
        _per_person=tuple(per_person),
        _columns=columns,
    )


def _check_columns(
    c: dict[str, np.ndarray], per_person: list[int], frame_count: int, duration_s: float
) -> None:
    """The rules the proposals file's validator applies to each observation, on columns."""
    n = len(c["frame"])
    if sum(per_person) != n:
        raise _damaged("the people and their observations do not match")
    if int(c["has_keypoints"].sum()) != len(c["keypoints"]) or (c["has_keypoints"] > 1).any():
        raise _damaged("the keypoints do not match the observations")
    frames = c["frame"]
    if n and (frames.min() < 0 or frames.max() >= frame_count):
        raise _damaged(f"an observation outside the recording's {frame_count} frames")
    # Frames increase within each person: every step but those where a person starts.
    firsts = np.cumsum([0, *per_person])[:-1]
    steps = np.ones(max(n - 1, 0), dtype=bool)
    steps[firsts[(firsts > 0) & (firsts < n)] - 1] = False
    if (np.diff(frames)[steps] <= 0).any():
        raise _damaged("a person's frames do not increase")
    finite = ("t", "box", "score", "keypoints", "hand_box", "wrist", "hand_score", "above_head")
    if not all(np.isfinite(c[name]).all() for name in finite):
        raise _damaged("a number that is not finite")
    t, score, hd = c["t"], c["score"], c["head_down_score"]
    if ((t < 0) | (t > duration_s + _TIME_SLACK_S)).any():
        raise _damaged("an observation time outside the recording")
    if ((score < 0) | (score > 1)).any() or ((hd < 0) | (hd > 1)).any():
        raise _damaged("a score outside 0..1")
    for name in ("box", "hand_box"):
        b = c[name]
        if ((b[:, 0] >= b[:, 2]) | (b[:, 1] >= b[:, 3])).any():
            raise _damaged("a box whose corners are the wrong way round")
    visibility = c["keypoints"][:, :, 2]
    if ((visibility < 0) | (visibility > 1)).any():
        raise _damaged("a keypoint visibility outside 0..1")
    hand = c["hand"]
    used = hand[hand >= 0]
    if (
        (hand < -1).any()
        or len(used) != len(c["hand_box"])
        or (len(used) and (used != np.arange(len(used))).any())
    ):
        raise _damaged("the raised hands do not match the observations")
    if (c["arm"] > _ARM_POSE).any():
        raise _damaged("a raised hand's arm is neither yes, no nor the arm pose model's")


def _from_json_gzip(blob: bytes) -> ProposalsDocument:
    try:
        data = json.loads(gzip.decompress(blob).decode("utf-8"))
    except (OSError, EOFError, ValueError, RecursionError) as e:
        raise _damaged(str(e)) from e
    try:
        return proposals_file.from_json_dict(data)
    except ProposalsFileError as e:
        raise _damaged(str(e)) from None


def _from_document(doc: ProposalsDocument) -> KeptPack:
    return KeptPack(
        recording=doc.recording,
        analysis=doc.analysis,
        proposals=doc.proposals,
        seconds=dict(doc.seconds),
        _ids=tuple(person.id for person in doc.people),
        _per_person=tuple(len(person.observations) for person in doc.people),
        _columns={},
        _built=doc.people,
    )

"""The words of the domain, as types. See docs/GLOSSARY.md.

Frames are the unit of truth: a segment is the half-open frame range
``[start_frame, end_frame)``; its seconds come from the recording's own
timestamps (``lessonreview.core.media.timebase``), never from ``frame / fps``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any

import numpy as np

N_KEYPOINTS = 33  # MediaPipe Pose Landmarker topology


class Behaviour(StrEnum):
    """What the machine proposes a person is doing over a segment: the behaviours of the
    built-in coding scheme. A posture or an action, never a state of mind.

    A label carries a behaviour *code* (a plain string): one of these values, or the
    code of a behaviour of one of the project's own coding schemes (see
    :class:`CodingScheme`)."""

    HAND_RAISED = "hand_raised"
    STANDING = "standing"
    READING = "reading"
    WRITING = "writing"
    HEAD_DOWN = "head_down"

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    Behaviour.HAND_RAISED: "Hand raised",
    Behaviour.STANDING: "Standing",
    Behaviour.READING: "Reading",
    Behaviour.WRITING: "Writing",
    Behaviour.HEAD_DOWN: "Head down on desk",
}


class Source(StrEnum):
    """Where a label came from."""

    MACHINE = "machine"
    MANUAL = "manual"


class Status(StrEnum):
    """Where a segment stands in review. Only PENDING lives in memory alone."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    CORRECTED = "corrected"
    REJECTED = "rejected"


# The statuses of a reviewed label: what is counted and exported as the review's result.
REVIEWED = frozenset({Status.ACCEPTED, Status.CORRECTED})


class Keypoint(int, Enum):
    """MediaPipe Pose landmark indices used by the behaviour rules and the face blur."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


FACE_KEYPOINTS = tuple(range(0, 11))  # nose, eyes, ears, mouth


@functools.lru_cache(maxsize=4096)
def person_sort_key(person: str) -> tuple:
    """The order people are listed in: P2 before P10 (digits compare as numbers);
    a split person "P3@120" right after P3."""
    return tuple(
        (1, int(part)) if part.isdigit() else (0, part) for part in re.split(r"(\d+)", person)
    )


def person_name(person: str, name: str | None = None) -> str:
    """How a person reads on screen: the name a reviewer gave, else "Person 7" for P7."""
    if name:
        return name
    match = re.fullmatch(r"P(\d+)", person)
    return f"Person {match.group(1)}" if match else person


def format_time(seconds: float, *, hundredths: bool = True, pad_minutes: bool = False) -> str:
    """How a time reads on screen: ``m:ss.cc``, with hours in front past an hour.

    ``hundredths=False`` reads as a player's clock (``m:ss``, the seconds gone by);
    ``pad_minutes`` keeps a column of times one width (``00:05``), as on a ruler.
    """
    if hundredths:
        whole, frac = divmod(max(0, round(seconds * 100)), 100)
    else:
        # A clock shows a second once it has gone by; the margin absorbs float error in
        # values meant to be whole (ruler ticks).
        whole, frac = max(0, math.floor(seconds + 1e-6)), 0
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f"{secs:02d}.{frac:02d}" if hundredths else f"{secs:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{tail}"
    return f"{minutes:02d}:{tail}" if pad_minutes else f"{minutes}:{tail}"


# Where a person's head sits in their detected box, in box widths from its top-left
# corner: centre across, centre down, width, height. The medians over the labelled heads
# matched to detected people on the real classroom frames (bench/train_head_cue.py), in
# box widths because a box's height varies with the desk in front, its width and top
# do not.
HEAD_IN_BOX = (0.54, 0.35, 0.54, 0.73)


@dataclass(frozen=True)
class Box:
    """A pixel rectangle in frame coordinates, ``x0 < x1``, ``y0 < y1``."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def iou(self, other: Box) -> float:
        ix0, iy0 = max(self.x0, other.x0), max(self.y0, other.y0)
        ix1, iy1 = min(self.x1, other.x1), min(self.y1, other.y1)
        inter = max(0.0, ix1 - ix0) * max(0.0, iy1 - iy0)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def holds(self, point: tuple[float, float]) -> bool:
        """Whether the point lies in the box (its edges included)."""
        x, y = point
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def union(self, other: Box) -> Box:
        """The smallest box holding both."""
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def head(self) -> Box:
        """Where the head of the person in this box usually is (see HEAD_IN_BOX)."""
        cx, cy, w, h = (v * self.width for v in HEAD_IN_BOX)
        return Box(
            self.x0 + cx - w / 2, self.y0 + cy - h / 2, self.x0 + cx + w / 2, self.y0 + cy + h / 2
        )

    def as_list(self) -> list[float]:
        return [round(self.x0, 1), round(self.y0, 1), round(self.x1, 1), round(self.y1, 1)]


@dataclass(frozen=True)
class Detection:
    """A person found in one frame by the detector, before tracking."""

    box: Box
    score: float


@dataclass(frozen=True)
class RaisedHand:
    """A hand found raised above a person's head and given to them, in frame pixels:
    by the hand detector (``core/vision/hands.py``), or, where it found none, by the arm
    pose model (``core/vision/arm_pose.py``; ``by_pose``).

    ``score`` is the finder's log-odds that this is this person's raised hand (the palm
    detector's, half the hand landmark model's, and a bonus when ``arm``; for ``by_pose``
    the arm pose model's score of the wrist); ``above_head`` is how far the wrist is above
    the centre of the person's head, in head widths; ``arm`` says that a pose put this
    person's wrist on the hand with the shoulder below it: an arm connects them (always,
    for ``by_pose``).
    """

    box: Box
    wrist: tuple[float, float]
    score: float
    above_head: float
    arm: bool = False
    by_pose: bool = False


@dataclass(frozen=True, eq=False)
class Observation:
    """One person in one sampled frame: where, how sure, and their pose.

    ``keypoints`` is a read-only float32 array of shape (33, 3): x and y in frame
    pixels, and visibility in 0..1. It is None when pose estimation found no body in
    the person's box. ``head_down_score`` (0..1) is the head-crop cue's judgement of
    whether the top of the head faces the camera (``head_cue.py``); None when it was
    not computed. ``raised_hand`` is the hand the hand detector gave this person, None
    when it found none or did not look.
    """

    frame: int
    t: float
    box: Box
    score: float
    keypoints: np.ndarray | None = None
    head_down_score: float | None = None
    raised_hand: RaisedHand | None = None

    def __post_init__(self) -> None:
        if self.keypoints is not None:
            kp = np.asarray(self.keypoints, dtype=np.float32)
            if kp.shape != (N_KEYPOINTS, 3):
                raise ValueError(f"keypoints must be (33, 3), got {kp.shape}")
            kp = kp.copy()
            kp.setflags(write=False)
            object.__setattr__(self, "keypoints", kp)


@dataclass(frozen=True)
class PersonTrack:
    """A pseudonymous person: one track through the recording. ``id`` is like ``"P7"``."""

    id: str
    observations: tuple[Observation, ...] = field(default_factory=tuple)


@dataclass(frozen=True, kw_only=True)
class Segment:
    """A person doing a behaviour over the half-open frame range ``[start_frame, end_frame)``.

    The one shape of a segment from the analysis to the export. A proposal and a label
    are segments (see the glossary) and extend this class, so a field added here
    reaches every one of them and every format: the conversions read a segment's part
    of a row through ``dataclasses.fields(Segment)``
    (:mod:`lessonreview.core.store.segment_fields`). Seconds are not kept here: they
    come from the recording's timebase when a segment is written or drawn.
    """

    person: str
    behaviour: str  # a behaviour code: a Behaviour value or one of a coding scheme's codes
    start_frame: int
    end_frame: int

    def __post_init__(self) -> None:
        # One type for a code wherever it came from (the analysis hands Behaviour
        # members, the file plain strings), so codes compare and hash alike everywhere.
        object.__setattr__(self, "behaviour", str(self.behaviour))

    def parts(self) -> dict[str, Any]:
        """The segment's own fields, to make a proposal or a label of this segment
        (or of the segment part of another one): ``Label(**proposal.parts(), ...)``."""
        return {f.name: getattr(self, f.name) for f in fields(Segment)}


@dataclass(frozen=True, kw_only=True)
class Proposal(Segment):
    """A machine-suggested label, pending until a reviewer decides on it.

    ``key`` is its id, made from what it proposes (person, behaviour, frames) and
    never rewritten: the same suggestion has the same key in every analysis run, so
    a re-analysis does not propose again what a reviewer already decided, and a
    piece cut off by a person split is a new proposal with its own key.
    """

    confidence: float
    evidence: str

    @functools.cached_property
    def key(self) -> str:
        # Cached: a long review asks every proposal's key on each decision.
        return f"{self.person}:{self.behaviour}:{self.start_frame}:{self.end_frame}"


class DecisionAction(StrEnum):
    """What a decision-log entry records; the value is the log's word for it."""

    ACCEPT = "accept"
    CORRECT = "correct"
    REJECT = "reject"
    ADD = "add"
    IMPORT = "import"  # a label coded elsewhere (ELAN, BORIS), read from a file
    EDIT = "edit"
    DELETE = "delete"
    MERGE_PEOPLE = "merge_people"
    SPLIT_PERSON = "split_person"
    RENAME_PERSON = "rename_person"
    UNDO = "undo"
    REDO = "redo"
    UNBLURRED_SNAPSHOT = "export_unblurred_snapshot"
    CONSENSUS = "consensus"


# The coder name the consensus pass saves its final labels under: a coder of its own,
# so that the final labels can be exported, and compared with each coder, like any
# coder's. No reviewer may code under it.
CONSENSUS_CODER = "consensus"


@dataclass(frozen=True)
class RecordingInfo:
    """What the analysis and the store need to know about a recording."""

    path: str
    sha256: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float


# -- coding schemes ----------------------------------------------------------------------


class BehaviourKind(StrEnum):
    """How a behaviour of a coding scheme is coded, as in BORIS."""

    STATE = "state"  # lasts a while: coded by a start and a stop
    POINT = "point"  # happens at an instant: saved as the one-frame segment [f, f + 1)


# Single keys the review window already uses (the review panel's keys and the player's):
# a behaviour of a coding scheme cannot take one. tests/test_schemes_app.py checks this
# against the window's own shortcuts.
APP_KEYS = frozenset("ARPZXCVJKIOM") | frozenset("12345") | frozenset(" -+=")

_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


class SchemeError(ValueError):
    """A coding scheme that cannot be used as it is; the message says why and what to do."""


@dataclass(frozen=True, kw_only=True)
class SchemeBehaviour:
    """One behaviour of a coding scheme: what a label's ``behaviour`` code stands for.

    ``code`` is written into labels and never changes once the behaviour exists; the
    name, key, colour and definition may. ``key`` is the single key that codes it.
    """

    code: str
    name: str
    key: str
    colour: str  # "#RRGGBB"
    definition: str = ""
    kind: BehaviourKind = BehaviourKind.STATE

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", BehaviourKind(self.kind))

    def check(self, *, app_keys: frozenset[str] = APP_KEYS) -> None:
        """SchemeError if a field is not of its kind, or the key is one of ``app_keys``."""
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise SchemeError(
                f"the code {self.code!r} is not usable: a code is lower-case letters, digits "
                "and underscores, starting with a letter (like group_work), at most 40 long"
            )
        if not isinstance(self.name, str) or not self.name.strip():
            raise SchemeError(f"the behaviour {self.code} needs a name")
        if not isinstance(self.key, str) or len(self.key) != 1 or not self.key.isalnum():
            raise SchemeError(
                f"{self.name}: the key {self.key!r} is not one letter or digit; give one, like G"
            )
        if self.key.upper() in app_keys:
            raise SchemeError(
                f"{self.name}: the key {self.key.upper()} is already a key of the review "
                f"window; choose one of {', '.join(free_keys())}"
            )
        if not isinstance(self.colour, str) or not _COLOUR.fullmatch(self.colour):
            raise SchemeError(f"{self.name}: the colour {self.colour!r} is not like #1F77B4")
        if not isinstance(self.definition, str):
            raise SchemeError(f"{self.name}: the definition must be text")
        BehaviourKind(self.kind)


def free_keys() -> list[str]:
    """The keys a behaviour of a coding scheme may take."""
    keys = [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", *"0123456789"]
    return [k for k in keys if k not in APP_KEYS]


def behaviour_code(name: str) -> str:
    """The code a new behaviour called ``name`` gets: "Teacher at the board" ->
    "teacher_at_the_board"."""
    code = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")[:40].rstrip("_")
    return code if code[:1].isalpha() else f"b_{code}"[:40]


@dataclass(frozen=True, kw_only=True)
class CodingScheme:
    """A named set of behaviours a coder codes with. ``id`` is the project's id for a
    saved scheme, None for the built-in one and for one not saved yet."""

    name: str
    behaviours: tuple[SchemeBehaviour, ...]
    id: int | None = None
    built_in: bool = False

    def check(self, *, others: Sequence[CodingScheme] = ()) -> None:
        """SchemeError if the scheme cannot be used beside ``others`` (the project's
        other schemes): a blank name, a bad behaviour, or a code, key or name used twice
        (a label carries only the code, and a key codes one behaviour)."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise SchemeError("a coding scheme needs a name")
        for other in others:
            if other.name.strip().lower() == self.name.strip().lower():
                raise SchemeError(f"the project has a coding scheme called {other.name} already")
        taken: dict[str, tuple[str, str]] = {}  # code / key / name -> (whose, scheme)
        for scheme in others:
            for b in scheme.behaviours:
                for what in (("code", b.code), ("key", b.key.upper()), ("name", b.name.lower())):
                    taken[f"{what[0]}:{what[1]}"] = (b.name, scheme.name)
        for b in self.behaviours:
            # The built-in behaviours' keys are the review panel's own "change the
            # behaviour to" keys.
            b.check(app_keys=frozenset() if self.built_in else APP_KEYS)
            for what, value in (("code", b.code), ("key", b.key.upper()), ("name", b.name.lower())):
                whose = taken.get(f"{what}:{value}")
                if whose is not None:
                    where = "this scheme" if whose[1] == self.name else f"the scheme {whose[1]}"
                    shown = value if what != "name" else b.name
                    raise SchemeError(
                        f"{b.name}: the {what} {shown} is already used by {whose[0]} in "
                        f"{where}; each {what} belongs to one behaviour of the project"
                    )
                taken[f"{what}:{value}"] = (b.name, self.name)


# The hues follow gui/colours.py's palette (Okabe-Ito), so the built-in behaviours look
# the same wherever a colour is read from a scheme.
BUILT_IN_SCHEME = CodingScheme(
    name="Built-in (proposed by the machine)",
    built_in=True,
    behaviours=(
        SchemeBehaviour(
            code=Behaviour.HAND_RAISED.value,
            name=_TITLES[Behaviour.HAND_RAISED],
            key="1",
            colour="#D55E00",
            definition="A hand held up above the head, as when asking to speak.",
        ),
        SchemeBehaviour(
            code=Behaviour.STANDING.value,
            name=_TITLES[Behaviour.STANDING],
            key="2",
            colour="#0072B2",
            definition="On one's feet, whether still or walking.",
        ),
        SchemeBehaviour(
            code=Behaviour.READING.value,
            name=_TITLES[Behaviour.READING],
            key="3",
            colour="#009E73",
            definition="Looking at a book or sheet held or lying in front.",
        ),
        SchemeBehaviour(
            code=Behaviour.WRITING.value,
            name=_TITLES[Behaviour.WRITING],
            key="4",
            colour="#E69F00",
            definition="Writing or drawing on paper on the desk.",
        ),
        SchemeBehaviour(
            code=Behaviour.HEAD_DOWN.value,
            name=_TITLES[Behaviour.HEAD_DOWN],
            key="5",
            colour="#CC79A7",
            definition="The head resting on the desk or the arms.",
        ),
    ),
)


@dataclass(frozen=True)
class CodingSchemes:
    """A project's coding schemes, the built-in one first: what a label's behaviour code
    may be, and its name and colour."""

    schemes: tuple[CodingScheme, ...] = (BUILT_IN_SCHEME,)
    _by_code: dict[str, SchemeBehaviour] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code = {b.code: b for s in self.schemes for b in s.behaviours}
        object.__setattr__(self, "_by_code", by_code)

    @property
    def codes(self) -> tuple[str, ...]:
        """Every behaviour code, in scheme order."""
        return tuple(self._by_code)

    @property
    def own(self) -> tuple[CodingScheme, ...]:
        """The project's own schemes (not the built-in one)."""
        return tuple(s for s in self.schemes if not s.built_in)

    def behaviour(self, code: str) -> SchemeBehaviour | None:
        return self._by_code.get(str(code))

    def title(self, code: str) -> str:
        """How a code reads on screen: its behaviour's name; the code itself for one no
        scheme knows (an old log entry of a behaviour since renamed away)."""
        found = self._by_code.get(str(code))
        return found.name if found is not None else str(code)

    def colour(self, code: str) -> str:
        found = self._by_code.get(str(code))
        return found.colour if found is not None else "#808080"

    def coded_by_key(self, key: str) -> SchemeBehaviour | None:
        """The behaviour of the project's own schemes that ``key`` codes, if any."""
        for scheme in self.own:
            for b in scheme.behaviours:
                if b.key.upper() == key.upper():
                    return b
        return None

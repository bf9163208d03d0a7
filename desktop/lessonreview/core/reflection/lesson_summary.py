"""The lesson summary: what the reviewed labels of one recording say about the lesson as a
whole, over time and over the room.

Built only from reviewed labels (accepted and corrected, :data:`REVIEWED`): a pending
proposal was never decided and a rejected one was decided wrong, so neither counts. Every
figure is about the whole room; nothing here is per person, and nothing ranks anyone.
Where a raised hand came from is a point in the picture (0..1 across and down), never
who raised it. The behaviours of the project's own coding schemes are counted too, under
their names: a state behaviour by how long it lasted, a point event by how often.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from lessonreview.core.domain import (
    HEAD_IN_BOX,
    REVIEWED,
    Behaviour,
    BehaviourKind,
    CodingSchemes,
    PersonTrack,
    Proposal,
    Segment,
    Status,
    format_time,
)
from lessonreview.core.review.pending_proposals import PendingProposals
from lessonreview.core.review.review_commands import identity_changes, person_of_track
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Label, Phase

# The bin widths a teacher can choose, in seconds.
BIN_CHOICES_S = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
DEFAULT_BIN_S = 60.0
# More bars than this across a plot are too thin to read or to click.
MAX_BINS = 60


def auto_bin(duration_s: float) -> float:
    """The shortest bin choice that cuts the lesson into at most MAX_BINS bins: a minute
    for a 45-minute lesson, five seconds for a short clip."""
    for bin_s in BIN_CHOICES_S:
        if duration_s / bin_s <= MAX_BINS:
            return bin_s
    return BIN_CHOICES_S[-1]


# The behaviours plotted over time, in the order they are shown.
OVER_TIME = (Behaviour.HAND_RAISED, Behaviour.STANDING, Behaviour.HEAD_DOWN)


class Zone:
    """The four parts of the picture the room map counts raised hands in. The camera's
    place in the room is not known, so the words are the picture's: farther from the
    camera is higher in the picture."""

    FAR_LEFT = "far left"
    FAR_RIGHT = "far right"
    NEAR_LEFT = "near left"
    NEAR_RIGHT = "near right"
    ALL = (FAR_LEFT, FAR_RIGHT, NEAR_LEFT, NEAR_RIGHT)


def zone_of(x: float, y: float) -> str:
    """The zone of a point given in picture fractions (0..1 across, 0..1 down)."""
    if y < 0.5:
        return Zone.FAR_LEFT if x < 0.5 else Zone.FAR_RIGHT
    return Zone.NEAR_LEFT if x < 0.5 else Zone.NEAR_RIGHT


@dataclass(frozen=True)
class BehaviourOverTime:
    """One behaviour over the lesson, in bins of ``bin_s`` seconds from the start.

    ``starts[i]``: how many reviewed labels of it began in bin i. ``people[i]``: how many
    people did it on average over bin i (the seconds of all its labels in the bin, over
    the bin's length). ``moments`` / ``moment_frames``: when each label began.
    """

    behaviour: Behaviour
    starts: tuple[int, ...]
    people: tuple[float, ...]
    moments: tuple[float, ...]
    moment_frames: tuple[int, ...]

    @property
    def total(self) -> int:
        return len(self.moments)


@dataclass(frozen=True)
class HandPlace:
    """Where in the picture a raised hand came from (head of the person, 0..1 across and
    down) and when: a dot on the room map, without anyone's pseudonym."""

    x: float
    y: float
    t: float
    frame: int

    @property
    def zone(self) -> str:
        return zone_of(self.x, self.y)


@dataclass(frozen=True)
class ReviewProgress:
    """How far the review has come. ``pending`` is None when the proposals are not at
    hand (the project file never holds pending proposals), and then so are the shares."""

    accepted: int
    corrected: int
    rejected: int
    added: int  # labels a reviewer added by hand, not from a proposal
    pending: int | None
    reviewed_until_s: float | None  # the lesson is reviewed from its start up to here
    duration_s: float

    @property
    def decided(self) -> int:
        """Proposals decided: accepted, corrected or rejected."""
        return self.accepted + self.corrected + self.rejected

    @property
    def share_of_proposals(self) -> float | None:
        if self.pending is None:
            return None
        total = self.decided + self.pending
        return 1.0 if total == 0 else self.decided / total

    @property
    def share_of_lesson(self) -> float | None:
        """The part of the lesson, from its start, in which no proposal is pending."""
        if self.reviewed_until_s is None or self.duration_s <= 0:
            return None
        return min(1.0, self.reviewed_until_s / self.duration_s)


@dataclass(frozen=True)
class PhaseCounts:
    """One lesson phase: its name, when it runs, and the reviewed labels of each
    behaviour that began in it (for the whole room)."""

    name: str
    start_s: float
    end_s: float
    counts: dict[Behaviour, int]

    @property
    def minutes(self) -> float:
        return max(0.0, self.end_s - self.start_s) / 60

    def review_state(self, progress: ReviewProgress) -> str:
        """Whether the review has covered this phase: "reviewed", "partly reviewed",
        "not reviewed yet", or "not known" (the pending proposals are not at hand)."""
        until = progress.reviewed_until_s
        if until is None:
            return "not known"
        if until >= self.end_s:
            return "reviewed"
        return "partly reviewed" if until > self.start_s else "not reviewed yet"


@dataclass(frozen=True)
class OwnBehaviourTotal:
    """A behaviour of one of the project's own coding schemes over the whole lesson,
    for the whole room: its reviewed labels, and for a state behaviour how long they
    lasted in all (``seconds``, added over people: two people for a minute is two
    minutes; None for a point event, which has no length)."""

    code: str
    name: str
    scheme: str
    kind: BehaviourKind
    labels: int
    seconds: float | None

    def in_words(self) -> str:
        """In words: "7 times" for a point event; "2:15 in all (3 labels)" for a state
        behaviour."""
        if self.kind is BehaviourKind.POINT:
            return "1 time" if self.labels == 1 else f"{self.labels} times"
        labels = "1 label" if self.labels == 1 else f"{self.labels} labels"
        return f"{format_time(self.seconds or 0.0, hundredths=False)} in all ({labels})"


# The name of the part of a lesson before its first marked phase.
BEFORE_FIRST_PHASE = "(before the first phase)"


@dataclass(frozen=True)
class LessonSummary:
    duration_s: float
    bin_s: float
    over_time: dict[Behaviour, BehaviourOverTime]
    totals: dict[Behaviour, int]  # reviewed labels of each behaviour
    hand_places: tuple[HandPlace, ...]
    hands_without_place: int  # raised hands whose place in the picture is not known
    progress: ReviewProgress
    phases: tuple[PhaseCounts, ...] = ()
    own: tuple[OwnBehaviourTotal, ...] = ()  # in scheme order; only those with labels

    @property
    def bin_count(self) -> int:
        return len(next(iter(self.over_time.values())).starts)

    @property
    def bin_starts(self) -> tuple[float, ...]:
        return tuple(i * self.bin_s for i in range(self.bin_count))

    @property
    def reviewed_labels(self) -> int:
        return sum(self.totals.values()) + sum(o.labels for o in self.own)

    def zone_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(Zone.ALL, 0)
        for place in self.hand_places:
            counts[place.zone] += 1
        return counts


# Where a person is at a frame range, in picture fractions; None when not known.
PlaceOf = Callable[[str, int, int], "tuple[float, float] | None"]


def summarise(
    labels: Iterable[Label],
    *,
    seconds: Callable[[int], float],
    duration_s: float,
    bin_s: float = DEFAULT_BIN_S,
    place_of: PlaceOf | None = None,
    pending: Sequence[Segment] | None = None,
    phases: Sequence[Phase] = (),
    schemes: CodingSchemes | None = None,
) -> LessonSummary:
    """The summary of a recording's saved labels (rejected ones are read only for the
    review's progress). ``seconds``: the time of a frame. ``place_of``: where a person
    was (see :class:`PersonPlaces`); without it the room map stays empty. ``pending``:
    the proposals still undecided, when known. ``schemes``: the project's coding
    schemes, which name the labels of its own behaviours."""
    if not bin_s > 0:
        raise ValueError("a bin must be longer than 0 seconds")
    labels = list(labels)
    reviewed = [lab for lab in labels if lab.status in REVIEWED]
    n_bins = max(1, math.ceil(max(duration_s, 1e-9) / bin_s))
    over_time = {
        b: _over_time(b, [lab for lab in reviewed if lab.behaviour == b], seconds, bin_s, n_bins)
        for b in OVER_TIME
    }
    totals = {b: sum(1 for lab in reviewed if lab.behaviour == b) for b in Behaviour}
    places: list[HandPlace] = []
    unplaced = 0
    for lab in reviewed:
        if lab.behaviour != Behaviour.HAND_RAISED:
            continue
        where = place_of(lab.person, lab.start_frame, lab.end_frame) if place_of else None
        if where is None:
            unplaced += 1
        else:
            places.append(
                HandPlace(x=where[0], y=where[1], t=seconds(lab.start_frame), frame=lab.start_frame)
            )
    places.sort(key=lambda p: p.frame)
    return LessonSummary(
        duration_s=duration_s,
        bin_s=bin_s,
        over_time=over_time,
        totals=totals,
        hand_places=tuple(places),
        hands_without_place=unplaced,
        progress=_progress(labels, pending, seconds=seconds, duration_s=duration_s),
        phases=_by_phase(reviewed, phases, seconds=seconds, duration_s=duration_s),
        own=_own_totals(reviewed, schemes or CodingSchemes(), seconds=seconds),
    )


def _own_totals(
    reviewed: list[Label], schemes: CodingSchemes, *, seconds: Callable[[int], float]
) -> tuple[OwnBehaviourTotal, ...]:
    built_in = set(Behaviour)
    by_code: dict[str, list[Label]] = {}
    for lab in reviewed:
        if lab.behaviour not in built_in:
            by_code.setdefault(str(lab.behaviour), []).append(lab)
    scheme_of = {b.code: (s.name, b) for s in schemes.own for b in s.behaviours}
    # Scheme order, then any code no scheme names (a store refuses to remove a behaviour
    # labels use, so only a label from elsewhere gets here): under its code, as a state.
    order = [c for c in scheme_of if c in by_code] + sorted(set(by_code) - set(scheme_of))
    totals = []
    for code in order:
        labels = by_code[code]
        scheme, behaviour = scheme_of.get(code, ("no coding scheme", None))
        kind = behaviour.kind if behaviour is not None else BehaviourKind.STATE
        totals.append(
            OwnBehaviourTotal(
                code=code,
                name=behaviour.name if behaviour is not None else code,
                scheme=scheme,
                kind=kind,
                labels=len(labels),
                seconds=None
                if kind is BehaviourKind.POINT
                else sum(
                    max(0.0, seconds(lab.end_frame) - seconds(lab.start_frame)) for lab in labels
                ),
            )
        )
    return tuple(totals)


def _by_phase(
    reviewed: list[Label],
    phases: Sequence[Phase],
    *,
    seconds: Callable[[int], float],
    duration_s: float,
) -> tuple[PhaseCounts, ...]:
    if not phases:
        return ()
    marks = sorted(((seconds(p.start_frame), p.name) for p in phases), key=lambda m: m[0])
    if marks[0][0] > 0:
        marks.insert(0, (0.0, BEFORE_FIRST_PHASE))
    ends = [t for t, _ in marks[1:]] + [duration_s]
    starts = np.array([t for t, _ in marks])
    counts = [dict.fromkeys(Behaviour, 0) for _ in marks]
    # The summary speaks of the machine's behaviours; a coder's own ones are theirs to count.
    for lab in (lab for lab in reviewed if lab.behaviour in counts[0]):
        i = int(np.searchsorted(starts, seconds(lab.start_frame), side="right")) - 1
        counts[max(0, i)][Behaviour(lab.behaviour)] += 1
    return tuple(
        PhaseCounts(name=name, start_s=t0, end_s=max(t0, t1), counts=c)
        for (t0, name), t1, c in zip(marks, ends, counts, strict=True)
    )


def summarise_recording(
    store: LabelStore,
    rid: int,
    *,
    bin_s: float = DEFAULT_BIN_S,
    place_of: PlaceOf | None = None,
    pending: Sequence[Segment] | None = None,
    seconds: Callable[[int], float] | None = None,
    coder: str | None = None,
) -> LessonSummary:
    """The summary of the labels saved in the project file for recording ``rid``: one
    coder's (each coder's labels are a full coding of the lesson, so two coders'
    together would count each raised hand twice), or every label when ``coder`` is None.
    ``seconds`` defaults to the times the file recorded with each label."""
    recording = store.recording(rid)
    phases = store.phases(rid)
    if seconds is None:
        saved = store.saved_seconds(rid)
        fps = recording.fps if recording.fps > 0 else 25.0
        seconds = lambda frame: saved.get(frame, frame / fps)  # noqa: E731
    return summarise(
        store.labels(rid, coder=coder),
        seconds=seconds,
        duration_s=recording.duration_s,
        bin_s=bin_s,
        place_of=place_of,
        pending=pending,
        phases=phases,
        schemes=store.coding_schemes(),
    )


def _over_time(
    behaviour: Behaviour,
    labels: list[Label],
    seconds: Callable[[int], float],
    bin_s: float,
    n_bins: int,
) -> BehaviourOverTime:
    starts = np.zeros(n_bins, dtype=np.int64)
    busy = np.zeros(n_bins, dtype=np.float64)
    moments: list[tuple[float, int]] = []
    for lab in labels:
        t0, t1 = seconds(lab.start_frame), seconds(lab.end_frame)
        moments.append((t0, lab.start_frame))
        starts[min(n_bins - 1, max(0, int(t0 // bin_s)))] += 1
        first = min(n_bins - 1, max(0, int(t0 // bin_s)))
        last = min(n_bins - 1, max(0, int(max(t0, t1 - 1e-9) // bin_s)))
        for i in range(first, last + 1):
            busy[i] += max(0.0, min(t1, (i + 1) * bin_s) - max(t0, i * bin_s))
    moments.sort()
    return BehaviourOverTime(
        behaviour=behaviour,
        starts=tuple(int(v) for v in starts),
        people=tuple(float(v) for v in busy / bin_s),
        moments=tuple(t for t, _ in moments),
        moment_frames=tuple(f for _, f in moments),
    )


def _progress(
    labels: list[Label],
    pending: Sequence[Segment] | None,
    *,
    seconds: Callable[[int], float],
    duration_s: float,
) -> ReviewProgress:
    def count(status: Status) -> int:
        return sum(1 for lab in labels if lab.status is status and lab.proposal_key is not None)

    added = sum(1 for lab in labels if lab.status in REVIEWED and lab.proposal_key is None)
    until = None
    if pending is not None:
        first = min((p.start_frame for p in pending), default=None)
        until = duration_s if first is None else seconds(first)
    return ReviewProgress(
        accepted=count(Status.ACCEPTED),
        corrected=count(Status.CORRECTED),
        rejected=count(Status.REJECTED),
        added=added,
        pending=None if pending is None else len(pending),
        reviewed_until_s=until,
        duration_s=duration_s,
    )


class PersonPlaces:
    """Where each person was at a frame range, from the analysis' tracks: the centre of
    their head (where a raised hand is seen from) as fractions of the picture.

    ``resolve`` maps a track and a frame to the person the reviewer's merges and splits
    made of it (:meth:`ReviewSession.resolve_person`); the tracks alone by default.
    ``breaks``: the frames at which ``resolve`` may change its answer for a track (the
    splits' frames), so that it is asked once per piece of a track rather than once per
    observation; None asks it for every observation.
    """

    def __init__(
        self,
        tracks: Iterable[PersonTrack],
        *,
        width: int,
        height: int,
        resolve: Callable[[str, int], str] | None = None,
        breaks: Sequence[int] | None = None,
    ) -> None:
        cx_in, cy_in = HEAD_IN_BOX[0], HEAD_IN_BOX[1]
        pieces: dict[str, list[np.ndarray]] = {}
        cuts = None if breaks is None else np.array(sorted(set(breaks)), dtype=np.int64)
        for track in tracks:
            if not track.observations:
                continue
            rows = np.array(
                [(o.frame, o.box.x0, o.box.y0, o.box.x1) for o in track.observations],
                dtype=np.float64,
            )
            box_w = rows[:, 3] - rows[:, 1]
            table = np.column_stack(
                (
                    rows[:, 0],
                    np.clip((rows[:, 1] + cx_in * box_w) / width, 0.0, 1.0),
                    np.clip((rows[:, 2] + cy_in * box_w) / height, 0.0, 1.0),
                )
            )
            if resolve is None:
                pieces.setdefault(track.id, []).append(table)
                continue
            if cuts is None:
                piece_of = np.arange(len(table))
            else:
                piece_of = np.searchsorted(cuts, table[:, 0], side="right")
            for piece in np.unique(piece_of):
                part = table[piece_of == piece]
                person = resolve(track.id, int(part[0, 0]))
                pieces.setdefault(person, []).append(part)
        self._people: dict[str, np.ndarray] = {}
        for person, parts in pieces.items():
            joined = np.concatenate(parts)
            self._people[person] = joined[np.argsort(joined[:, 0], kind="stable")]

    def __call__(self, person: str, start_frame: int, end_frame: int) -> tuple[float, float] | None:
        rows = self._people.get(person)
        if rows is None or len(rows) == 0:
            return None
        frames = rows[:, 0]
        inside = (frames >= start_frame) & (frames < end_frame)
        if inside.any():
            # Where they were over the segment: the median resists one stray sample.
            return float(np.median(rows[inside, 1])), float(np.median(rows[inside, 2]))
        middle = (start_frame + end_frame) / 2
        nearest = int(np.argmin(np.abs(frames - middle)))
        # A sample far from the segment says little about where the hand went up.
        if abs(frames[nearest] - middle) > max(end_frame - start_frame, 1) * 2 + 50:
            return None
        return float(rows[nearest, 1]), float(rows[nearest, 2])


def places_in_file(store: LabelStore, rid: int, tracks: Iterable[PersonTrack]) -> PersonPlaces:
    """Where each person of recording ``rid`` was, from the analysis' tracks, after the
    merges and splits saved in the project file."""
    recording = store.recording(rid)
    changes = identity_changes(store.people(rid))
    return PersonPlaces(
        tracks,
        width=recording.width,
        height=recording.height,
        resolve=lambda track_id, frame: person_of_track(track_id, frame, changes),
        breaks=[c.at for c in changes if c.at is not None],
    )


def pending_in_file(
    store: LabelStore,
    rid: int,
    proposals: Iterable[Proposal],
    *,
    seconds: Callable[[int], float],
    coder: str | None = None,
) -> list[Proposal]:
    """The proposals of an analysis that the project file has no decision on yet (by
    ``coder``, or by anyone), as the review would list them (cut by the saved merges
    and splits)."""
    pending = PendingProposals()
    pending.add(proposals)
    pending.refresh(store.labels(rid, coder=coder), store.people(rid), seconds=seconds)
    return list(pending.pending.values())

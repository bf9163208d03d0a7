"""Linking observations over time into pseudonymous people P1, P2, ...

Frames are sampled about twice a second. Most students sit still, so box overlap
does most of the work; people who walk move a good part of their width between
samples, so each track predicts its next position from a constant velocity, and
two people crossing keep their ids because each one's prediction lies on its own
side. Association is an optimal assignment (Hungarian method) rather than
greedy-by-IoU: in a packed classroom neighbouring boxes overlap, and greedy
matching lets one track take its neighbour's box first, then leaves the neighbour
to start a new id. People who already have an id choose their box first, then the
provisional tracks, so that a flicker of the detector next to a person missed for a
sample cannot take that person's next box. Where neighbours' boxes overlap, their
clothing colours (appearance.py: the torso below the head, never the face) tip the
balance. A provisional track must be found by the detector on consecutive key samples
to become a person: a second box that comes and goes on one person is not someone new.

A handheld camera moves the whole picture by tens of pixels between samples, more
than a student at the back is wide. Each update can carry the camera's motion since
the previous one (camera_motion.py), and every track's history is moved with it, so a
track predicts where its person is in the room, in this sample's pixels.

A person lost for longer than ``max_gap_s`` (hidden, missed, out of the picture) is
still looked for at their place in the room for ``relink_gap_s``, and gets their id
back when someone is found right there in clothes of the same colours
(appearance.py: the torso below the head, never the face; held for this recording
only). And a track that never moves on its own (own_motion.py) while most people do
while most people around it in time do is a picture on the wall, not a person: it is
left out of the people.

A track becomes a person (gets an id) once the detector has found it on a few samples;
between key samples (key_samples.py) the boxes handed in are the sample before's moved
with the camera, which says nothing new, so those sightings do not count.

Known limits: someone walking fully hidden behind another person of the same size
for a second or more comes back as a new id (the hidden person's last boxes are
partial, so the predicted velocity is off), and where the detector boxes two
neighbours together in some samples and apart in others, one of them changes id
(most of the remaining extra tracks on a handheld clip are of this kind). A person
sitting perfectly still for the whole recording while most others move is taken for
a picture; when nobody moves (a video made from a still), nothing is.
Keypoints are not used to associate: for students at the back the pose often lands on a
neighbour (``bench/eval_recall.py`` prints how often the nose lands on the labelled
head), which would add confusion exactly where boxes are already ambiguous.

Everything here is deterministic: the same observations give the same ids, so a
re-analysis of a recording gives the same people.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from lessonreview.core.analysis.appearance import Appearance
from lessonreview.core.analysis.camera_motion import CameraMotion
from lessonreview.core.analysis.own_motion import OwnMotion
from lessonreview.core.assignment import assign
from lessonreview.core.domain import Box, Observation, PersonTrack


@dataclass(frozen=True)
class TrackerConfig:
    """When an observation may continue a track, and when a track ends.

    People are followed by their upper body: the top of the box and its width. The
    lower edge is not stable: a desk, a bag or a person in front hides the legs in
    one sample and not the next, and the detector's box halves in height.
    """

    max_gap_s: float = 3.0  # a person hidden longer than this comes back as a new id
    # Tracks the detector found fewer times than this are dropped as noise by finish().
    # Between key samples (key_samples.py) a person's box is the sample before's, moved
    # with the camera: such a sighting is not the detector finding them again and does not
    # count, or a one-off flicker carried over would pass for a person seen twice. The
    # sightings must follow each other: a track without an id that the detector does not
    # find again on the next sample it looks at ends. The detector's boxes of seated
    # people change a little with every view of a moving camera, and a second box on
    # one person (or on a bag, or across two neighbours) that comes and goes would
    # otherwise gather enough sightings over a long recording to become a person, whose
    # box then competes with the real one's and takes over their id.
    min_observations: int = 3
    # Gates. Distance is between the top-centre points, in predicted box widths, so
    # a step means the same for people near and far from the camera.
    max_distance: float = 0.8
    # A hidden person may have moved further than predicted: the distance is divided
    # by (1 + growth * seconds unseen) before it is gated and weighed.
    distance_growth_per_s: float = 0.5
    max_width_ratio: float = 1.8
    # Cost: (1 - upper-body IoU) + w_distance * distance + w_size * |log width ratio|
    # + w_gap * seconds unseen (a track seen just now wins a tie).
    w_distance: float = 1.0
    w_size: float = 0.5
    w_gap: float = 0.2
    # A pair costing this much or more is not matched: the observation starts a new
    # person instead. Without it, the assignment would prefer two poor matches to one
    # good match and one new track, and hand ids between people who cross.
    new_track_cost: float = 1.6
    # Clothing colours (appearance.py) weigh in too: where neighbours' boxes overlap, the
    # detector's boxes of a sample can fit either of them about as well. The cost grows
    # by w_appearance * (distance to the track's recent looks - appearance_neutral): a
    # neighbour's torso is usually further than appearance_neutral from the track's
    # (Hellinger distance), the same person's nearer, and an observation or track whose
    # colours are unknown adds nothing. bench/eval_tracks.py --cues prints both
    # distributions.
    w_appearance: float = 2.0
    appearance_neutral: float = 0.3
    # Velocity is a straight-line fit over this much recent history: boxes jitter by
    # several pixels between samples, and a person being hidden by someone walking in
    # front shrinks their box from one side, so two-point differences are too noisy.
    velocity_window_s: float = 2.0
    size_smoothing: float = 0.5
    # Re-linking: a person lost for longer than max_gap_s (missed by the detector,
    # hidden, out of the picture) is still looked for where they were in the room for
    # this long, and given their id back when someone is found right there again whose
    # clothing has the same colours. Both are needed: a seated class fills every place
    # near a lost person, and clothing colours alone are shared by many.
    relink_gap_s: float = 60.0
    relink_max_distance: float = 0.5  # in box widths; a returning person sits where they sat
    relink_max_appearance: float = 0.6  # Hellinger distance of torso colours (appearance.py)
    appearance_memory: int = 8  # recent torso histograms kept per track
    # Pictures: a track measured this many times (own_motion.py) without ever moving on
    # its own is a picture on the wall, not a person, provided that, in the samples it
    # was measured in, at least this share of the other tracks measured there, and this
    # many, were seen to move. Otherwise nobody moved while it was there (a video made
    # from a still, a camera on a frozen screen, a quiet stretch of a lesson) and the
    # measurement tells nothing about it.
    picture_min_measured: int = 12
    picture_min_moving_share: float = 0.5
    picture_min_moving_tracks: int = 3


@dataclass(frozen=True)
class Cues:
    """What is known of one observation besides its box; None where it was not measured.

    Held by the tracker for one analysis only, never written.
    """

    appearance: Appearance | None = None
    own_motion: OwnMotion | None = None


_NO_CUES = Cues()
# The cost of a pair that may not be re-linked: finite, because the assignment's
# arithmetic needs it to be, and above any allowed pair's (at most 2).
_NO_RELINK = 10.0


def upper_body(box: Box) -> Box:
    """The top of a person box, as tall as it is wide: head and shoulders."""
    return Box(box.x0, box.y0, box.x1, box.y0 + min(box.height, box.width))


@dataclass
class _Track:
    key: int  # creation order
    # The id number, given when the track is confirmed (min_observations reached), in
    # order of confirmation: once given it never changes, so people shown while the
    # analysis runs keep their pseudonym in the final result.
    number: int | None = None
    observations: list[Observation] = field(default_factory=list)
    detected: int = 0  # observations that were the detector's own boxes (see min_observations)
    recent: list[tuple[float, float, float]] = field(default_factory=list)  # (t, x, y)
    w: float = 0.0
    h: float = 0.0
    vx: float = 0.0
    vy: float = 0.0
    looks: list[Appearance] = field(default_factory=list)
    measured: int = 0  # samples where own motion was measured
    moved: int = 0  # ... and found
    # Other tracks measured in the same samples as this one, and those of them that moved.
    others_measured: set[int] = field(default_factory=set)
    others_moved: set[int] = field(default_factory=set)

    @property
    def t_last(self) -> float:
        return self.recent[-1][0]

    def start(self, obs: Observation, cues: Cues, config: TrackerConfig, detected: bool) -> None:
        self.observations.append(obs)
        self.detected += detected
        self.recent.append((obs.t, *_anchor(obs.box)))
        self.w, self.h = obs.box.width, obs.box.height
        self._note(cues, config)

    def _note(self, cues: Cues, config: TrackerConfig) -> None:
        if cues.appearance is not None:
            self.looks = [*self.looks, cues.appearance][-config.appearance_memory :]
        if cues.own_motion is not None:
            self.measured += 1
            self.moved += cues.own_motion.moved

    def looks_like(self, appearance: Appearance | None) -> float | None:
        """The smallest torso-colour distance to the track's recent looks; None if unknown."""
        if appearance is None or not self.looks:
            return None
        return min(appearance.distance(a) for a in self.looks)

    def predict(self, t: float) -> Box:
        """Where the box is expected at time t: the top-centre moves at constant velocity."""
        t0, x0, y0 = self.recent[-1]
        x, y = x0 + self.vx * (t - t0), y0 + self.vy * (t - t0)
        return Box(x - self.w / 2, y, x + self.w / 2, y + self.h)

    def follow(self, camera: CameraMotion) -> None:
        """Move the track's history into the next sample's pixels, as the camera moved."""
        _, x, y = self.recent[-1]
        box = camera.map_box(Box(x - self.w / 2, y, x + self.w / 2, y + self.h))
        self.w, self.h = box.width, box.height
        moved = camera.map_points([(rx, ry) for _, rx, ry in self.recent])
        self.recent = [
            (r[0], float(mx), float(my)) for r, (mx, my) in zip(self.recent, moved, strict=True)
        ]
        # The velocity was measured in the old pixels; a zoom scales it, a turn turns it.
        (vx0, vy0), (vx1, vy1) = camera.map_points([(x, y), (x + self.vx, y + self.vy)])
        self.vx, self.vy = float(vx1 - vx0), float(vy1 - vy0)

    def add(self, obs: Observation, cues: Cues, config: TrackerConfig, detected: bool) -> None:
        self._note(cues, config)
        self.observations.append(obs)
        self.detected += detected
        self.recent.append((obs.t, *_anchor(obs.box)))
        self.recent = [r for r in self.recent if obs.t - r[0] <= config.velocity_window_s]
        self.vx, self.vy = _fit_velocity(self.recent)
        s = config.size_smoothing
        self.w = s * obs.box.width + (1 - s) * self.w
        self.h = s * obs.box.height + (1 - s) * self.h


def _fit_velocity(points: list[tuple[float, float, float]]) -> tuple[float, float]:
    """Least-squares slope of x(t) and y(t); zero for fewer than two distinct times."""
    n = len(points)
    mt = sum(p[0] for p in points) / n
    var = sum((p[0] - mt) ** 2 for p in points)
    if var <= 1e-9:
        return 0.0, 0.0
    mx = sum(p[1] for p in points) / n
    my = sum(p[2] for p in points) / n
    vx = sum((p[0] - mt) * (p[1] - mx) for p in points) / var
    vy = sum((p[0] - mt) * (p[2] - my) for p in points) / var
    return vx, vy


def _anchor(box: Box) -> tuple[float, float]:
    return ((box.x0 + box.x1) / 2, box.y0)


class Tracker:
    """Feed it each sampled frame's observations in time order; ask for the people at the end."""

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self._active: list[_Track] = []
        # Lost for longer than max_gap_s, still looked for where they were (re-linking).
        self._lost: list[_Track] = []
        self._ended: list[_Track] = []
        self._camera_known = False
        self._next_key = 1
        self._next_number = 1

    def update(
        self,
        frame: int,
        t: float,
        observations: Sequence[Observation],
        *,
        camera: CameraMotion | None = None,
        cues: Sequence[Cues] | None = None,
        detected: bool = True,
    ) -> list[tuple[str, Observation]]:
        """The person id of each observation, in the order given.

        ``camera``: how the picture moved since the previous update (camera_motion.py);
        every track's history is moved with it, so that a person is looked for where
        they are in the room, not where they were in the picture. None: a fixed camera,
        or a motion that could not be told. ``cues``: one per observation, what else is
        known of it (clothing colours for re-linking, own motion for telling pictures).
        ``detected``: the boxes are the person detector's in this sample; False when they
        are the sample before's moved with the camera (between key samples).

        A track gets its id ("P7") when the detector has found it ``min_observations`` times and
        keeps it to the end. Before that its id is provisional ("?12"): it may still
        turn out to be noise, which ``finish()`` drops.
        """
        cfg = self.config
        cues = list(cues) if cues is not None else [_NO_CUES] * len(observations)
        if len(cues) != len(observations):
            raise ValueError("one Cues per observation")
        if camera is not None:
            self._camera_known = True
            for track in self._active + self._lost:
                track.follow(camera)
        elif self._camera_known:
            # The camera moved in a way that could not be told (a cut, a whip pan): where
            # lost people were is no longer known in this picture.
            self._ended += self._lost
            self._lost = []
        for track in self._active:
            if t - track.t_last > cfg.max_gap_s:
                # Only a person with an id is looked for again: a provisional track is
                # mostly a flicker of the detector, which re-linking would confirm.
                (self._lost if track.number is not None else self._ended).append(track)
        self._active = [tr for tr in self._active if t - tr.t_last <= cfg.max_gap_s]
        self._ended += [tr for tr in self._lost if t - tr.t_last > cfg.relink_gap_s]
        self._lost = [tr for tr in self._lost if t - tr.t_last <= cfg.relink_gap_s]

        # Work in a canonical order, so the input order of one frame cannot change ids.
        order = sorted(range(len(observations)), key=lambda i: _box_key(observations[i].box))
        owner: dict[int, _Track] = {}
        # People with an id choose first, then the provisional tracks: a flicker of the
        # detector next to a person who was missed for a sample or two starts a
        # provisional track, which would otherwise take the person's next box.
        confirmed = [tr for tr in self._active if tr.number is not None]
        provisional = [tr for tr in self._active if tr.number is None]
        for tracks in (confirmed, provisional):
            free = [i for i in order if i not in owner]
            cost = [
                [self._cost(track, observations[i].box, t, cues[i]) for i in free]
                for track in tracks
            ]
            for ti, oi in assign(cost) if cost and free else []:
                if cost[ti][oi] < cfg.new_track_cost:
                    owner[free[oi]] = tracks[ti]
        self._relink([i for i in order if i not in owner], observations, cues, owner)
        if detected:
            # A provisional track the detector did not find again here ends (see
            # ``min_observations``).
            taken = {track.key for track in owner.values()}
            missed = {tr.key for tr in provisional if tr.key not in taken}
            self._ended += [tr for tr in provisional if tr.key in missed]
            self._active = [tr for tr in self._active if tr.key not in missed]
        for i in order:
            if i not in owner:
                track = _Track(key=self._next_key)
                self._next_key += 1
                track.start(observations[i], cues[i], cfg, detected)
                self._active.append(track)
                owner[i] = track
            else:
                owner[i].add(observations[i], cues[i], cfg, detected)
        measured = [
            (owner[i], cues[i].own_motion.moved) for i in order if cues[i].own_motion is not None
        ]
        moved_now = {track.key for track, moved in measured if moved}
        measured_now = {track.key for track, _ in measured}
        for track, _ in measured:
            track.others_measured |= measured_now - {track.key}
            track.others_moved |= moved_now - {track.key}
        for i in order:  # canonical order: confirmation numbers do not depend on input order
            track = owner[i]
            if track.number is None and track.detected >= cfg.min_observations:
                track.number = self._next_number
                self._next_number += 1
        return [(_public_id(owner[i]), obs) for i, obs in enumerate(observations)]

    def _relink(
        self,
        unmatched: list[int],
        observations: Sequence[Observation],
        cues: Sequence[Cues],
        owner: dict[int, _Track],
    ) -> None:
        """Give lost people found again at their place, in the same clothes, their track."""
        if not unmatched or not self._lost:
            return
        lost = sorted(self._lost, key=lambda tr: tr.key)
        cost = [
            [self._relink_cost(track, observations[i].box, cues[i]) for i in unmatched]
            for track in lost
        ]
        for ti, oi in assign(cost):
            if cost[ti][oi] < _NO_RELINK:
                owner[unmatched[oi]] = lost[ti]
                self._lost.remove(lost[ti])
                self._active.append(lost[ti])

    def _relink_cost(self, track: _Track, box: Box, cues: Cues) -> float:
        cfg = self.config
        _, x, y = track.recent[-1]
        bx, by = _anchor(box)
        distance = math.hypot(bx - x, by - y) / max(track.w, 1.0)
        width_ratio = max(box.width, 1.0) / max(track.w, 1.0)
        looks = track.looks_like(cues.appearance)
        if (
            distance > cfg.relink_max_distance
            or not 1 / cfg.max_width_ratio <= width_ratio <= cfg.max_width_ratio
            or looks is None
            or looks > cfg.relink_max_appearance
        ):
            return _NO_RELINK
        return distance / cfg.relink_max_distance + looks / cfg.relink_max_appearance

    def _pictures(self) -> set[int]:
        """Keys of the tracks that never moved on their own while most others around
        them in time did."""
        cfg = self.config
        tracks = self._ended + self._lost + self._active
        # Only people count among the others: the detector's flickers never confirmed as
        # anyone are measured now and then and seldom move, and over a long recording
        # they would outnumber the people.
        people = {tr.key for tr in tracks if tr.number is not None}
        pictures = set()
        for tr in tracks:
            if tr.measured < cfg.picture_min_measured or tr.moved:
                continue
            moving = len(tr.others_moved & people)
            if moving >= cfg.picture_min_moving_tracks and moving >= (
                cfg.picture_min_moving_share * len(tr.others_measured & people)
            ):
                pictures.add(tr.key)
        return pictures

    def _cost(self, track: _Track, box: Box, t: float, cues: Cues) -> float:
        cfg = self.config
        pred = track.predict(t)
        gap = t - track.t_last
        (px, py), (bx, by) = _anchor(pred), _anchor(box)
        distance = math.hypot(bx - px, by - py) / max(pred.width, 1.0)
        distance /= 1.0 + cfg.distance_growth_per_s * gap
        width_ratio = max(box.width, 1.0) / max(pred.width, 1.0)
        if distance > cfg.max_distance:
            return cfg.new_track_cost
        if not 1 / cfg.max_width_ratio <= width_ratio <= cfg.max_width_ratio:
            return cfg.new_track_cost
        cost = (
            (1.0 - upper_body(pred).iou(upper_body(box)))
            + cfg.w_distance * distance
            + cfg.w_size * abs(math.log(width_ratio))
            + cfg.w_gap * gap
        )
        if cfg.w_appearance:
            looks = track.looks_like(cues.appearance)
            looks = cfg.appearance_neutral if looks is None else looks
            cost += cfg.w_appearance * (looks - cfg.appearance_neutral)
        return min(cost, cfg.new_track_cost)

    def snapshot(self) -> list[PersonTrack]:
        """The confirmed people so far, with the ids they will keep.

        A track judged a picture on the wall is not among them; it may have been
        listed before it was judged, and its number is then not given to anyone else.
        """
        pictures = self._pictures()
        kept = sorted(
            (
                tr
                for tr in self._ended + self._lost + self._active
                if tr.number is not None and tr.key not in pictures
            ),
            key=lambda tr: tr.number,
        )
        return [PersonTrack(id=_public_id(tr), observations=tuple(tr.observations)) for tr in kept]

    def still_pictures(self) -> list[PersonTrack]:
        """The tracks left out of the people as pictures: they never moved on their own
        while most people did (see TrackerConfig). For a benchmark or a log, not for review."""
        pictures = self._pictures()
        return [
            PersonTrack(id=_public_id(tr), observations=tuple(tr.observations))
            for tr in sorted(self._ended + self._lost + self._active, key=lambda tr: tr.key)
            if tr.key in pictures
        ]

    def finish(self) -> list[PersonTrack]:
        """The people seen, ids P1, P2, ... in order of confirmation, noise dropped."""
        return self.snapshot()


def _public_id(track: _Track) -> str:
    return f"P{track.number}" if track.number is not None else f"?{track.key}"


def _box_key(box: Box) -> tuple[float, float, float, float]:
    return (box.x0, box.y0, box.x1, box.y1)

"""One person, one track? Tracks per person on handheld-camera clips made from real frames.

Each clip is a virtual handheld camera (slow pan and tilt, zoom, roll, shake of several
to tens of pixels between samples, blur along the shake) over real classroom frames,
stepping through frames of one session so that people change posture as in a lesson
(``tests/handheld_video.py``). Every labelled head is mapped through the known camera
path, so the ground truth says which person is where in every sample.

The app's own analysis (``core.analysis.pipeline.analyze``) runs on the clip; then, for every
sample, each labelled head is matched to the found person box holding it in its upper
part, one to one, as many as can be, each head to the box whose usual head spot it is
nearest (``tests/classroom.match_heads``). Printed per clip:

- tracks per person: tracks made / people in view (the issue's figure), the mean
  number of distinct tracks each found person was given (1.0 is perfect), and the share
  of all sightings of people that are under each person's most frequent id;
- identity switches: consecutive sightings of one person under different ids;
- tracks on no labelled head (people the labels skip, false alarms, posters);
- tracks on the poster (a picture of a person pasted on the wall);
- milliseconds per sample for each step of the analysis.

    python bench/eval_tracks.py [--clips A,B,A-still] [--seconds 60] [--fps 25]
        [--cache DIR] [--replay [--without camera,cues]] [--workers 2] [--every N] [--cues]

``--cache DIR`` keeps the clips and, per clip, every input the tracker received (a JSON
file); ``--replay`` then reruns only the tracker on those inputs (seconds instead of
minutes) to try tracker changes, and ``--without camera,cues`` leaves some of those
inputs out to show what each adds. ``--cues`` prints how own motion and clothing
colours tell the poster, people and neighbours apart. Delete the cache after changing detection, pose, or
what is handed to the tracker.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate. Poster photograph:
"Fall Action Dataset" (not-fallen016) by Ilhem Laifi (ENIT), from "Fall Detect2" v11 by
a Roboflow Universe user (workspace goldfish), CC BY 4.0,
https://universe.roboflow.com/goldfish/fall-detect2/dataset/11. Changes: frames warped by
a moving virtual camera; the photograph cropped and pasted on the wall.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from classroom import match_heads  # noqa: E402
from handheld_video import (  # noqa: E402
    CLIPS,
    HandheldClip,
    covers,
    plan_handheld_clip,
    score,
    write_handheld_clip,
)
from lessonreview.core.analysis import pipeline  # noqa: E402
from lessonreview.core.analysis.key_samples import DEFAULT_KEYS, KeySamples  # noqa: E402
from lessonreview.core.analysis.pipeline import AnalysisRequest, StageTimes, analyze  # noqa: E402
from lessonreview.core.analysis.tracking import Tracker, TrackerConfig  # noqa: E402
from lessonreview.core.domain import Box, Observation, PersonTrack  # noqa: E402


def clip_for(name: str, folder: Path, *, seconds: float, fps: int) -> HandheldClip:
    spec = CLIPS[name]
    out = folder / f"handheld-{name}-{seconds:g}s-{fps}fps.mp4"
    plan = dict(spec, seconds=seconds, fps=fps)
    if out.exists():
        return plan_handheld_clip(out, **plan)
    return write_handheld_clip(out, **plan)


# --- recording and replaying what the tracker is given -----------------------------


def _to_json(value):
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, Observation):
        return {
            "observation": [value.frame, value.t, value.box.as_list(), value.score],
            "keypoints": None if value.keypoints is None else value.keypoints.tolist(),
            "head_down_score": value.head_down_score,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "dataclass": type(value).__module__ + "." + type(value).__qualname__,
            "fields": {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    raise TypeError(f"cannot record {type(value).__name__}")


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "array" in value:
        return np.array(value["array"], dtype=value["dtype"])
    if "observation" in value:
        frame, t, box, score = value["observation"]
        kp = value["keypoints"]
        return Observation(
            frame,
            t,
            Box(*box),
            score,
            keypoints=None if kp is None else np.array(kp, np.float32),
            head_down_score=value["head_down_score"],
        )
    if "dataclass" in value:
        module, _, name = value["dataclass"].rpartition(".")
        cls = getattr(sys.modules.get(module) or __import__(module, fromlist=[name]), name)
        return cls(**{k: _from_json(v) for k, v in value["fields"].items()})
    return value


class _RecordingTracker(Tracker):
    """The app's tracker, noting every call's inputs so that a replay can feed them again."""

    calls: list = []
    config_used: TrackerConfig | None = None
    last: Tracker | None = None

    def __init__(self, config: TrackerConfig) -> None:
        super().__init__(config)
        type(self).config_used = config
        type(self).calls = []
        type(self).last = self

    def update(self, *args, **kwargs):
        type(self).calls.append((args, kwargs))
        return super().update(*args, **kwargs)


def run_analysis(
    clip: HandheldClip, *, workers: int, keys: KeySamples = DEFAULT_KEYS
) -> tuple[list[PersonTrack], list[PersonTrack], dict]:
    """The app's analysis on the clip; the people, the tracks left out as pictures, and
    what the tracker was given."""
    times = StageTimes()
    original = pipeline.Tracker
    pipeline.Tracker = _RecordingTracker
    try:
        t0 = time.perf_counter()
        doc = analyze(AnalysisRequest(path=clip.path, workers=workers, keys=keys), times=times)
        wall = time.perf_counter() - t0
    finally:
        pipeline.Tracker = original
    n = max(1, len(_RecordingTracker.calls))
    record = {
        "config": _to_json(_RecordingTracker.config_used),
        "calls": [
            [_to_json(list(a)), {k: _to_json(v) for k, v in kw.items()}]
            for a, kw in _RecordingTracker.calls
        ],
        "ms_per_sample": {
            f.name: 1000 * getattr(times, f.name) / n
            for f in dataclasses.fields(times)
            if isinstance(getattr(times, f.name), float)
        },
        "wall_s": wall,
        "samples": n,
    }
    return list(doc.people), _RecordingTracker.last.still_pictures(), record


def replay(
    record: dict, *, without: tuple[str, ...] = ()
) -> tuple[list[PersonTrack], list[PersonTrack], float]:
    """The current tracker on recorded inputs: the people, the tracks left out as
    pictures, and ms per sample tracking them.
    ``without``: keyword inputs to leave out (``camera``, ``cues``), to see what each adds."""
    # The analysis chooses only how often a person must be seen; every other setting is
    # the tracker's current default, which is what a replay is for.
    recorded = _from_json(record["config"])
    tracker = Tracker(TrackerConfig(min_observations=recorded.min_observations))
    calls = [
        (_from_json(a), {k: _from_json(v) for k, v in kw.items() if k not in without})
        for a, kw in record["calls"]
    ]
    t0 = time.perf_counter()
    for args, kwargs in calls:
        tracker.update(*args, **kwargs)
    people = tracker.finish()
    return people, tracker.still_pictures(), 1000 * (time.perf_counter() - t0) / max(1, len(calls))


def cue_report(clip: HandheldClip, record: dict) -> None:
    """Own motion of the poster and of labelled people, and how far apart clothing
    colours are for one person and for neighbours, from the cues the tracker was given."""
    spread: dict[str, list[float]] = {"poster": [], "people": []}
    shift: dict[str, list[float]] = {"poster": [], "people": []}
    lost: dict[str, list[float]] = {"poster": [], "people": []}
    moved: dict[str, list[bool]] = {"poster": [], "people": []}
    looks: dict[int, list[tuple[int, Box, object]]] = {}
    for args, kwargs in record["calls"]:
        frame, _, observations = _from_json(args)
        cues = _from_json(kwargs.get("cues")) or []
        if not cues:
            continue
        boxes = [o.box for o in observations]
        heads = clip.heads_at(frame)
        on_head = {oi: heads[hi][0] for hi, oi in match_heads([b for _, b in heads], boxes).items()}
        posters = clip.posters_at(frame)
        for i, (box, cue) in enumerate(zip(boxes, cues, strict=True)):
            kind = "poster" if any(covers(box, p) for p in posters) else "people"
            if kind == "people" and i not in on_head:
                continue
            if cue.own_motion is not None:
                spread[kind].append(cue.own_motion.spread)
                shift[kind].append(cue.own_motion.shift)
                lost[kind].append(cue.own_motion.lost)
                moved[kind].append(cue.own_motion.moved)
            if kind == "people" and cue.appearance is not None:
                looks.setdefault(on_head[i], []).append((frame, box, cue.appearance))
    for kind in spread:
        if spread[kind]:
            q = (50, 90, 99, 100)
            print(
                f"  own motion, {kind} ({len(spread[kind])}): spread px "
                + "/".join(f"{v:.2f}" for v in np.percentile(spread[kind], q))
                + ", shift px "
                + "/".join(f"{v:.2f}" for v in np.percentile(shift[kind], q))
                + ", lost "
                + "/".join(f"{v:.2f}" for v in np.percentile(lost[kind], q))
                + f" (percentiles {'/'.join(map(str, q))}); moved in {np.mean(moved[kind]):.2f}"
            )
    same, near = [], []
    for person, seen in looks.items():
        for i, (f1, _, a1) in enumerate(seen):
            same += [a1.distance(a2) for f2, _, a2 in seen[i + 1 :] if f2 - f1 >= 2 * clip.fps]
        for other, seen2 in looks.items():
            if other == person:
                continue
            for f1, b1, a1 in seen:
                near += [
                    a1.distance(a2)
                    for f2, b2, a2 in seen2
                    if f2 == f1
                    and abs(b1.centre[0] - b2.centre[0]) < 2 * b1.width
                    and abs(b1.y0 - b2.y0) < b1.width
                ]
    if same and near:
        same_a, near_a = np.array(same), np.array(near)
        print(
            f"  clothing colours: same person 2 s or more apart, median {np.median(same_a):.2f}, "
            f"90% below {np.percentile(same_a, 90):.2f}; neighbours median {np.median(near_a):.2f}, "
            f"share below 0.6: same {np.mean(same_a < 0.6):.2f}, neighbours {np.mean(near_a < 0.6):.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", default="A,B,A-still")
    # A minute: the detector's occasional extra boxes add up to extra people and lost
    # ids over time, which 12-second clips hardly show.
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tracking-eval"))
    parser.add_argument("--replay", action="store_true", help="rerun only the tracker")
    parser.add_argument(
        "--without",
        default="",
        help="with --replay: leave out tracker inputs, e.g. camera,cues (what does each add?)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--every",
        type=int,
        default=DEFAULT_KEYS.every,
        help="person detection on every N-th sample (key_samples.py)",
    )
    parser.add_argument(
        "--cues", action="store_true", help="how own motion and clothing colours tell people apart"
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    totals = []
    for name in args.clips.split(","):
        clip = clip_for(name, args.cache, seconds=args.seconds, fps=args.fps)
        record_path = args.cache / f"{clip.path.stem}.tracker-inputs.json"
        if args.replay and record_path.exists():
            record = json.loads(record_path.read_text())
            without = tuple(filter(None, args.without.split(",")))
            people, pictures, track_ms = replay(record, without=without)
            record["ms_per_sample"]["track"] = track_ms
            how = "replayed tracker on recorded inputs" + (
                f" without {', '.join(without)}" if without else ""
            )
        else:
            people, pictures, record = run_analysis(
                clip, workers=args.workers, keys=KeySamples(every=args.every)
            )
            record_path.write_text(json.dumps(record))
            how = f"full analysis, {record['wall_s']:.1f} s wall for {args.seconds:g} s of video"
        s = score(clip, people)
        totals.append(s)
        print(f"\nclip {name}: steps {'+'.join(clip.steps)}, {record['samples']} samples ({how})")
        print(
            f"  tracks {s.tracks}, people in view {s.people_in_view}, found {s.people_found}: "
            f"tracks per person {s.tracks_per_person:.2f}"
        )
        print(
            f"  distinct ids per found person {s.ids_per_found_person:.2f}, sightings under the "
            f"person's main id {s.main_id_share:.2f}, identity switches "
            f"{s.switches} in {s.sightings} sightings, tracks on no labelled head "
            f"{s.tracks_on_nobody}, tracks on the poster {s.poster_tracks}"
        )
        print(
            "  ms per sample: "
            + ", ".join(f"{k} {v:.1f}" for k, v in record["ms_per_sample"].items())
        )
        on_people = score(clip, pictures).people_found
        print(
            f"  left out as pictures: {len(pictures)} tracks, {score(clip, pictures).poster_tracks} "
            f"on the poster, {on_people} on labelled people"
        )
        if args.cues:
            cue_report(clip, record)
    if len(totals) > 1:
        tracks = sum(s.tracks for s in totals)
        seen = sum(s.people_in_view for s in totals)
        print(f"\nall clips: tracks per person {tracks / max(1, seen):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One person, one track? Tracks per person on handheld-camera clips made from real frames.

Each clip is a virtual handheld camera (slow pan and tilt, zoom, roll, shake of several
to tens of pixels between samples, blur along the shake) over real classroom frames,
stepping through frames of one session so that people change posture as in a lesson
(``tests/handheld_video.py``). Every labelled head is mapped through the known camera
path, so the ground truth says which person is where in every sample.

The app's own analysis (``core.analysis.analyze``) runs on the clip; then, for every
sample, each labelled head is matched to the found person box holding it in its upper
part (one to one, as in bench/eval_recall.py). Printed per clip:

- tracks per person: tracks made / people in view (the issue's figure), and the mean
  number of distinct tracks each found person was given (1.0 is perfect);
- identity switches: consecutive sightings of one person under different ids;
- tracks on no labelled head (people the labels skip, false alarms, posters);
- tracks on the poster (a picture of a person pasted on the wall);
- milliseconds per sample for each step of the analysis.

    python bench/eval_tracks.py [--clips A,B,A-still] [--seconds 12] [--fps 25]
        [--cache DIR] [--replay] [--workers 2]

``--cache DIR`` keeps the clips and, per clip, every input the tracker received (a JSON
file); ``--replay`` then reruns only the tracker on those inputs (seconds instead of
minutes) to try tracker changes. Delete the cache after changing detection, pose, or
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
    SESSION_A,
    SESSION_B,
    CameraPath,
    HandheldClip,
    Poster,
    plan_handheld_clip,
    write_handheld_clip,
)

from lessonreview.core import analysis  # noqa: E402
from lessonreview.core.analysis import AnalysisRequest, StageTimes, analyze  # noqa: E402
from lessonreview.core.domain import Box, Observation, PersonTrack  # noqa: E402
from lessonreview.core.tracking import Tracker, TrackerConfig  # noqa: E402

WALL_POSTER = Poster(x0=1110, y0=60, width=95)

CLIPS = {
    # Session A with the poster: the main figure.
    "A": dict(steps=SESSION_A, path=CameraPath(seed=1), posters=(WALL_POSTER,)),
    # Another session and camera path, no poster.
    "B": dict(steps=SESSION_B, path=CameraPath(seed=2)),
    # One still frame: nobody moves; a poster on the wall.
    "A-still": dict(steps=SESSION_A[:1], path=CameraPath(seed=3), posters=(WALL_POSTER,)),
}


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

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        super().__init__(config)
        type(self).config_used = config
        type(self).calls = []

    def update(self, *args, **kwargs):
        type(self).calls.append((args, kwargs))
        return super().update(*args, **kwargs)


def run_analysis(clip: HandheldClip, *, workers: int) -> tuple[list[PersonTrack], dict]:
    """The app's analysis on the clip; the people, and what the tracker was given."""
    times = StageTimes()
    original = analysis.Tracker
    analysis.Tracker = _RecordingTracker
    try:
        t0 = time.perf_counter()
        doc = analyze(AnalysisRequest(path=clip.path, workers=workers), times=times)
        wall = time.perf_counter() - t0
    finally:
        analysis.Tracker = original
    n = max(1, len(_RecordingTracker.calls))
    record = {
        "config": _to_json(_RecordingTracker.config_used),
        "calls": [[_to_json(list(a)), {k: _to_json(v) for k, v in kw.items()}] for a, kw in _RecordingTracker.calls],
        "ms_per_sample": {
            f.name: 1000 * getattr(times, f.name) / n
            for f in dataclasses.fields(times)
            if isinstance(getattr(times, f.name), float)
        },
        "wall_s": wall,
        "samples": n,
    }
    return list(doc.people), record


def replay(record: dict) -> tuple[list[PersonTrack], float]:
    """The current tracker on recorded inputs: the people, and ms per sample tracking them."""
    tracker = Tracker(_from_json(record["config"]))
    calls = [(_from_json(a), {k: _from_json(v) for k, v in kw.items()}) for a, kw in record["calls"]]
    t0 = time.perf_counter()
    for args, kwargs in calls:
        tracker.update(*args, **kwargs)
    people = tracker.finish()
    return people, 1000 * (time.perf_counter() - t0) / max(1, len(calls))


# --- scoring -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TrackScore:
    tracks: int
    people_in_view: int
    people_found: int
    ids_per_found_person: float
    switches: int
    sightings: int
    tracks_on_nobody: int
    poster_tracks: int

    @property
    def tracks_per_person(self) -> float:
        return self.tracks / max(1, self.people_in_view)


def score(clip: HandheldClip, people: list[PersonTrack]) -> TrackScore:
    by_frame: dict[int, list[tuple[str, Box]]] = {}
    for person in people:
        for o in person.observations:
            by_frame.setdefault(o.frame, []).append((person.id, o.box))
    sampled = sorted({o.frame for p in people for o in p.observations})
    in_view: set[int] = set()
    ids_of: dict[int, list[str]] = {}
    on_someone: set[str] = set()
    on_poster: set[str] = set()
    for n in sampled:
        found = by_frame.get(n, [])
        heads = clip.heads_at(n)
        in_view |= {p for p, _ in heads}
        matched = match_heads([b for _, b in heads], [b for _, b in found])
        for hi, pi in matched.items():
            ids_of.setdefault(heads[hi][0], []).append(found[pi][0])
            on_someone.add(found[pi][0])
        for poster in clip.posters_at(n):
            for pid, box in found:
                if _covers(box, poster):
                    on_poster.add(pid)
    switches = sum(
        a != b for seq in ids_of.values() for a, b in zip(seq, seq[1:], strict=False)
    )
    return TrackScore(
        tracks=len(people),
        people_in_view=len(in_view),
        people_found=len(ids_of),
        ids_per_found_person=float(np.mean([len(set(s)) for s in ids_of.values()]))
        if ids_of
        else 0.0,
        switches=switches,
        sightings=sum(len(s) for s in ids_of.values()),
        tracks_on_nobody=len({p.id for p in people} - on_someone - on_poster),
        poster_tracks=len(on_poster),
    )


def _covers(box: Box, poster: Box) -> bool:
    """A person box that is mostly the poster: it overlaps the poster by half its own area."""
    ix = max(0.0, min(box.x1, poster.x1) - max(box.x0, poster.x0))
    iy = max(0.0, min(box.y1, poster.y1) - max(box.y0, poster.y0))
    return ix * iy >= 0.5 * box.area


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", default="A,B,A-still")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tracking-eval"))
    parser.add_argument("--replay", action="store_true", help="rerun only the tracker")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    totals = []
    for name in args.clips.split(","):
        clip = clip_for(name, args.cache, seconds=args.seconds, fps=args.fps)
        record_path = args.cache / f"{clip.path.stem}.tracker-inputs.json"
        if args.replay and record_path.exists():
            record = json.loads(record_path.read_text())
            people, track_ms = replay(record)
            record["ms_per_sample"]["track"] = track_ms
            how = "replayed tracker on recorded inputs"
        else:
            people, record = run_analysis(clip, workers=args.workers)
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
            f"  distinct ids per found person {s.ids_per_found_person:.2f}, identity switches "
            f"{s.switches} in {s.sightings} sightings, tracks on no labelled head "
            f"{s.tracks_on_nobody}, tracks on the poster {s.poster_tracks}"
        )
        print(
            "  ms per sample: "
            + ", ".join(f"{k} {v:.1f}" for k, v in record["ms_per_sample"].items())
        )
    if len(totals) > 1:
        tracks = sum(s.tracks for s in totals)
        seen = sum(s.people_in_view for s in totals)
        print(f"\nall clips: tracks per person {tracks / max(1, seen):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

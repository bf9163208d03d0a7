"""Benchmark the analysis of one recording: is it faster than the lesson lasts?

Prints, for a recording: plain decode time of the sampled frames and analysis
time, both as ratios to the recording's duration (measured in the same run, so a
busy machine slows both), time per stage, people found, and resident memory at
each quarter of the run (flat memory means it does not grow with video length).

    python bench/bench_analysis.py VIDEO [--rate 2] [--workers 2] [--pose full|lite] [--no-hands]
        [--no-carry] [--every N] [--search NAME=VALUE,...]

``--search``: the hand finder's settings changed for this run (``HandSearch``).
``--every N``: person detection on every N-th sample (the key
samples, core/analysis/key_samples.py; 1: every sample).

Make a 10-minute 720p classroom-like video from the real CC BY 4.0 frames with
``python bench/classroom_video.py /tmp/class10.mp4 --seconds 600 --size 1280x720 --fps 25``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

from hand_search_option import add_search_argument

from lessonreview.core.analysis.key_samples import DEFAULT_KEYS, KeySamples
from lessonreview.core.analysis.pipeline import AnalysisRequest, StageTimes, analyze
from lessonreview.core.analysis.still_poses import StillnessTest
from lessonreview.core.media.video import Recording
from lessonreview.core.vision.model_files import ModelName


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def plain_decode(recording: Recording, frames: list[int]) -> float:
    t0 = time.perf_counter()
    with recording.reader() as reader:
        for _ in reader.frames(frames):
            pass
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("video", type=Path)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pose", choices=("lite", "full"), default="lite")
    parser.add_argument(
        "--no-hands", action="store_true", help="without the hand detector (core/vision/hands.py)"
    )
    parser.add_argument(
        "--no-carry",
        action="store_true",
        help="pose every person in every sample (no carrying over of still people's poses)",
    )
    parser.add_argument(
        "--every",
        type=int,
        default=DEFAULT_KEYS.every,
        help="person detection on every N-th sample (key_samples.py)",
    )
    add_search_argument(parser)
    args = parser.parse_args()

    recording = Recording.open(args.video)
    duration = recording.duration_s
    frames = recording.timebase.sample_frames(args.rate)
    print(
        f"recording: {args.video.name} {recording.width}x{recording.height} "
        f"{recording.fps:.2f} fps, {duration:.1f} s, {len(frames)} samples at {args.rate:g} Hz"
    )
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")

    decode_s = plain_decode(recording, frames)
    print(f"plain decode of the samples: {decode_s:.1f} s  ratio {decode_s / duration:.3f}")

    times = StageTimes()
    rss: list[tuple[int, float]] = []
    quarters = {len(frames) * q // 4 for q in (1, 2, 3, 4)}

    def progress(p) -> None:
        if p.done in quarters:
            rss.append((p.done, rss_mb()))
        sys.stderr.write(f"\r{p.done}/{p.total} samples, {p.people} people   ")

    request = AnalysisRequest(
        path=args.video,
        rate_hz=args.rate,
        workers=args.workers,
        pose_model=ModelName.POSE_LITE if args.pose == "lite" else ModelName.POSE_FULL,
        find_hands=not args.no_hands,
        still=StillnessTest(max_age=0) if args.no_carry else StillnessTest(),
        hand_search=args.search,
        keys=KeySamples(every=args.every),
    )
    t0 = time.perf_counter()
    doc = analyze(request, progress=progress, times=times, recording=recording)
    wall = time.perf_counter() - t0
    sys.stderr.write("\n")

    n_obs = sum(len(p.observations) for p in doc.people)
    print(f"analysis: {wall:.1f} s  ratio {wall / duration:.3f}  (bar <= 1.0, goal <= 0.33)")
    print(f"analysis / plain decode: {wall / decode_s:.1f}x")
    print(
        "stage seconds (summed over workers): "
        f"decode {times.decode:.1f}, camera motion {times.camera_motion:.1f}, "
        f"detect {times.detect:.1f}, pose {times.pose:.1f} "
        f"({times.crops} people, {times.poses_carried} poses carried over, "
        f"{1000 * times.pose / max(1, times.crops - times.poses_carried):.1f} ms per pose run), "
        f"hands {times.hands:.1f}, tracker cues {times.cues:.1f}, track {times.track:.2f}, "
        f"behaviours {times.behaviours:.2f}"
    )
    print(
        f"per sample: camera motion {1000 * times.camera_motion / len(frames):.1f} ms, "
        f"detect {1000 * times.detect / len(frames):.0f} ms, "
        f"pose {1000 * times.pose / len(frames):.0f} ms, "
        f"hands {1000 * times.hands / len(frames):.0f} ms, "
        f"tracker cues {1000 * times.cues / len(frames):.1f} ms, "
        f"track {1000 * times.track / len(frames):.1f} ms, "
        f"people per sample {times.crops / len(frames):.1f}"
    )
    print(f"key samples (people detected afresh): {times.key_samples}")
    print(
        f"people (tracks): {len(doc.people)}, observations {n_obs}, proposals {len(doc.proposals)}"
    )
    counts = Counter(str(p.behaviour) for p in doc.proposals)
    print("proposals by behaviour: " + ", ".join(f"{b} {n}" for b, n in sorted(counts.items())))
    print("resident memory (MB) at each quarter: " + ", ".join(f"{d}: {m:.0f}" for d, m in rss))
    print(
        f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

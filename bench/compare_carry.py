"""What carrying poses over changes in the proposals: the same recording analysed with
and without it (``core/analysis/still_poses.py``), counts per behaviour and how much of
each behaviour's person-time the two runs agree on (IoU over frames, per person).

    python bench/compare_carry.py VIDEO

On a video made from still frames (``bench/classroom_video.py``) nobody moves, so every
difference is the analysis' own noise; on real footage the differences are what to check
against labels.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
from lessonreview.core.analysis.still_poses import StillnessTest


def person_frames(proposals) -> dict[tuple[str, str], set[int]]:
    out: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for p in proposals:
        out[(p.person, p.behaviour)].update(range(p.start_frame, p.end_frame))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    args = parser.parse_args()
    runs = {}
    for name, test in (
        ("carried over", StillnessTest()),
        ("every sample", StillnessTest(max_age=0)),
    ):
        doc = analyze(AnalysisRequest(path=args.video, still=test))
        runs[name] = doc
        counts = collections.Counter(p.behaviour for p in doc.proposals)
        print(f"{name}: {len(doc.people)} people, {len(doc.proposals)} proposals, {dict(counts)}")
    a, b = (person_frames(d.proposals) for d in runs.values())
    for behaviour in sorted({k[1] for k in a} | {k[1] for k in b}):
        keys = [k for k in set(a) | set(b) if k[1] == behaviour]
        inter = sum(len(a[k] & b[k]) for k in keys)
        union = sum(len(a[k] | b[k]) for k in keys)
        print(f"{behaviour}: person-time agreement {inter / max(1, union):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

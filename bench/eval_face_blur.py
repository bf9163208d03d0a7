"""How well the privacy blur hides real faces.

On the first 12 real classroom frames, the product's detector and pose find people;
``blur_faces`` blurs them as the player does ("current"), and with an extra head-box
region per person ("union"). For every labelled head, the loss of fine detail
(variance of the Laplacian before / after) is printed as a median, with the share of
heads that keep more than half of it; "detected heads" are those inside a found person.

    python bench/eval_face_blur.py

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
"""

from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.detection import PersonDetector
from lessonreview.core.domain import Observation
from lessonreview.core.model_files import ModelName, resolve
from lessonreview.core.pose import PoseEstimator
from lessonreview.core.privacy import PersonRegion, blur_faces

D = Path("/work/shared/data/classroom-cctv")
det = PersonDetector(resolve(ModelName.PERSON_DETECTOR), threads=2)
pose = PoseEstimator(resolve(ModelName.POSE_LITE))


def lapvar(img):
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


res = {"current": [], "union": []}
matched = {"current": [], "union": []}
for name in sorted((D / "images").glob("*.jpg"))[:12]:
    img = cv2.imread(str(name))
    h, w = img.shape[:2]
    obs = [
        Observation(frame=0, t=0, box=d.box, score=d.score, keypoints=pose.estimate(img, d.box))
        for d in det.detect(img)
    ]
    variants = {
        "current": blur_faces(img, obs),
        "union": blur_faces(img, list(obs) + [PersonRegion(box=o.box) for o in obs]),
    }
    for line in (D / "labels" / f"{name.stem}.txt").read_text().splitlines():
        c, cx, cy, bw, bh = map(float, line.split())
        x0, y0, x1, y1 = (
            int((cx - bw / 2) * w),
            int((cy - bh / 2) * h),
            int((cx + bw / 2) * w),
            int((cy + bh / 2) * h),
        )
        if x1 - x0 < 6 or y1 - y0 < 6:
            continue
        before = lapvar(img[y0:y1, x0:x1])
        hit = any(
            o.box.x0 <= cx * w <= o.box.x1 and o.box.y0 <= cy * h <= o.box.y0 + 0.5 * o.box.height
            for o in obs
        )
        for k, out in variants.items():
            r = before / max(1e-6, lapvar(out[y0:y1, x0:x1]))
            res[k].append(r)
            if hit:
                matched[k].append(r)
for k in res:
    a, m = np.array(res[k]), np.array(matched[k])
    print(
        f"{k}: all heads n={len(a)} median loss {np.median(a):.1f}x, keep>half {np.mean(a < 2):.2f}; detected heads n={len(m)} median {np.median(m):.1f}x keep>half {np.mean(m < 2):.2f}"
    )

"""Body pose with MediaPipe's own Pose Landmarker pipeline (Tasks API): the reference.

The product runs only the landmark model on windows it frames itself (core/vision/pose.py).
This runs the whole Tasks pipeline, MediaPipe's pose detector and then the landmark
model, on the same masked person, so that bench/eval_recall.py --runtime tasks can
compare the two on the same boxes.

MediaPipe's own pose detector is built for one person near the camera; on a whole
classroom frame it finds one or two people. So each person box is cut out, with room
above the head for a raised arm, and everything outside that rectangle is painted
grey: unmasked, the landmarker puts the nose on a neighbour's head about as often as on
the right one.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import N_KEYPOINTS, Box
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.core.vision.pose import (
    DEFAULT_MARGINS,
    MASK_GREY,
    CropMargins,
    landmark_model_bytes,
)


class TasksPoseEstimator:
    """33 body keypoints for one person box. Not thread-safe: one instance per thread."""

    def __init__(
        self,
        model_path: Path,
        *,
        crop_size: int = 256,
        margins: CropMargins = DEFAULT_MARGINS,
        min_confidence: float = 0.3,
        denoise: bool = True,
        num_poses: int = 1,
    ) -> None:
        """``num_poses`` > 1 lets the landmarker return several people in the crop and
        keeps the one whose head is where this box's person has theirs: the right head a
        little more often, for markedly more time per crop.
        """
        model_path = Path(model_path)
        if not model_path.is_file():
            raise ModelFileError.missing(model_path)
        landmark_model_bytes(model_path)  # refuses a damaged bundle before MediaPipe sees it
        # Imported here: mediapipe takes over a second to import, and the desktop app
        # should show its window before anyone asks for a pose.
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.IMAGE,
            num_poses=num_poses,
            # Below MediaPipe's 0.5 default: people at the back are small and blurred
            # even after upscaling, and the mask already keeps the crop on one person.
            min_pose_detection_confidence=min_confidence,
            min_pose_presence_confidence=min_confidence,
        )
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, OSError, ValueError) as exc:
            raise ModelFileError.damaged(model_path, str(exc).splitlines()[0][:200]) from exc
        self.crop_size = crop_size
        self.margins = margins
        self.denoise = denoise

    def estimate(self, image_bgr: np.ndarray, box: Box) -> np.ndarray | None:
        """Keypoints (33, 3) float32: x, y in frame pixels and visibility 0..1, or None."""
        crop, (ox, oy, scale) = self._crop(image_bgr, box)
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        result = self._landmarker.detect(
            self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        )
        if not result.pose_landmarks:
            return None
        poses = []
        for landmarks in result.pose_landmarks:
            out = np.empty((N_KEYPOINTS, 3), dtype=np.float32)
            for i, lm in enumerate(landmarks[:N_KEYPOINTS]):
                out[i] = (
                    ox + lm.x * self.crop_size * scale,
                    oy + lm.y * self.crop_size * scale,
                    lm.visibility if lm.visibility is not None else 0.0,
                )
            poses.append(out)
        return min(poses, key=lambda kp: _head_offset(kp, box))

    def _crop(
        self, image_bgr: np.ndarray, box: Box
    ) -> tuple[np.ndarray, tuple[float, float, float]]:
        """A square crop_size image of the masked person, and how to map it back.

        Returns (crop, (ox, oy, scale)): crop pixel (u, v) is frame pixel
        (ox + u * scale, oy + v * scale).
        """
        x0, y0, x1, y1 = self.margins.around(box)
        # Pad to a square around the centre, so the person keeps their proportions.
        side = max(x1 - x0, y1 - y0, 1.0)
        ox, oy = (x0 + x1 - side) / 2, (y0 + y1 - side) / 2
        h, w = image_bgr.shape[:2]
        fx0, fy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        fx1, fy1 = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
        n = int(np.ceil(side))
        canvas = np.full((n, n, 3), MASK_GREY, dtype=np.uint8)
        cx0, cy0 = fx0 - int(np.floor(ox)), fy0 - int(np.floor(oy))
        if fx1 > fx0 and fy1 > fy0:
            patch = image_bgr[fy0:fy1, fx0:fx1]
            ph, pw = min(patch.shape[0], n - cy0), min(patch.shape[1], n - cx0)
            canvas[cy0 : cy0 + ph, cx0 : cx0 + pw] = patch[:ph, :pw]
        ox, oy = float(np.floor(ox)), float(np.floor(oy))
        if self.denoise:
            # Speckle noise, upscaled with a small person, looks like texture to the
            # landmarker, which then finds fewer poses and puts more noses astray.
            canvas = cv2.medianBlur(canvas, 3)
        # Small people at the back are upscaled to the landmark model's size.
        interp = cv2.INTER_LINEAR if n < self.crop_size else cv2.INTER_AREA
        crop = cv2.resize(canvas, (self.crop_size, self.crop_size), interpolation=interp)
        return crop, (ox, oy, n / self.crop_size)

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> TasksPoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _head_offset(keypoints: np.ndarray, box: Box) -> float:
    """How far the nose is from where this box's person has their head, in box sizes."""
    nx, ny = keypoints[0, :2]
    hx, hy = (box.x0 + box.x1) / 2, box.y0 + 0.15 * box.height
    return float(np.hypot((nx - hx) / max(box.width, 1.0), (ny - hy) / max(box.height, 1.0)))

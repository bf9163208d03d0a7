"""Where each model file comes from: the one place that finds, downloads and checks them.

Search order for a model file:

1. the folder the user chose (settings or ``--models DIR``),
2. the folder in the environment variable ``LESSONREVIEW_MODELS`` (IT departments and CI),
3. the per-user cache (``$XDG_CACHE_HOME/lessonreview/models``),
4. only when the caller passes ``allow_download=True`` (the app does so after the user said
   yes): a download over HTTPS from the model's official source into the cache.

A download is written to a temporary file beside its final place, must load with the
library that will use it, and only then is moved into place with ``os.replace``; so a
half-written or damaged file is never found by the next search.

This module stays light (no onnxruntime or mediapipe import at module level) because the
CLI, the GUI and the tests import it before they need any model.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from lessonreview.core.vision.model_errors import (
    ENV_VAR,
    ModelCheckError,
    ModelFileError,
    ModelMissingError,
)
from lessonreview.core.vision.offline import user_proxy_settings

_CHUNK = 256 * 1024
_TIMEOUT_S = 30

Progress = Callable[[int, int], None]
"""Called as ``progress(bytes_done, bytes_total)``; total is 0 when the server did not say.
Raising from it cancels the download (nothing is left behind)."""


class ModelName(Enum):
    PERSON_DETECTOR = "yolox_nano.onnx"
    POSE_FULL = "pose_landmarker_full.task"
    POSE_LITE = "pose_landmarker_lite.task"
    POSE_HEAVY = "pose_landmark_heavy.tflite"
    FACE_DETECTOR = "face_detection_full_range.tflite"
    PALM_DETECTOR = "palm_detection_lite.tflite"
    HAND_LANDMARKS = "hand_landmark_full.tflite"
    ARM_POSE = "movenet_singlepose_lightning.tflite"


POSE_MODELS = (ModelName.POSE_LITE, ModelName.POSE_FULL, ModelName.POSE_HEAVY)


@dataclass(frozen=True)
class ModelSpec:
    name: ModelName
    filename: str
    url: str
    licence: str
    # About this many MB to download, told before asking (the official file's size when
    # this version was made; a "latest" address may serve a slightly different one).
    approx_mb: float

    @property
    def min_size(self) -> int:
        """Bytes below which a file is certainly not the model (an HTML error page, a
        cut-off copy): well under the official size, which a new release may change a
        little."""
        return int(0.7 * self.approx_mb * 1_000_000)


_POSE_BASE = "https://storage.googleapis.com/mediapipe-models/pose_landmarker"
# MediaPipe's own model files, the ones its hand landmarker graph and Model Maker load.
_MEDIAPIPE_ASSETS = "https://storage.googleapis.com/mediapipe-assets"

SPECS: dict[ModelName, ModelSpec] = {
    ModelName.PERSON_DETECTOR: ModelSpec(
        name=ModelName.PERSON_DETECTOR,
        filename="yolox_nano.onnx",
        url="https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx",
        licence="Apache-2.0 (Megvii YOLOX)",
        approx_mb=3.7,
    ),
    ModelName.POSE_FULL: ModelSpec(
        name=ModelName.POSE_FULL,
        filename="pose_landmarker_full.task",
        url=f"{_POSE_BASE}/pose_landmarker_full/float16/latest/pose_landmarker_full.task",
        licence="Apache-2.0 (Google MediaPipe)",
        approx_mb=9.4,
    ),
    ModelName.POSE_LITE: ModelSpec(
        name=ModelName.POSE_LITE,
        filename="pose_landmarker_lite.task",
        url=f"{_POSE_BASE}/pose_landmarker_lite/float16/latest/pose_landmarker_lite.task",
        licence="Apache-2.0 (Google MediaPipe)",
        approx_mb=5.8,
    ),
    # The heavy landmark model alone (the arm of a raised hand), from the address MediaPipe's
    # own build fetches it from (third_party/external_files.bzl); the pose estimator runs a
    # landmark model alone as it runs the one inside a .task bundle.
    ModelName.POSE_HEAVY: ModelSpec(
        name=ModelName.POSE_HEAVY,
        filename="pose_landmark_heavy.tflite",
        url=f"{_MEDIAPIPE_ASSETS}/pose_landmark_heavy.tflite",
        licence="Apache-2.0 (Google MediaPipe)",
        approx_mb=27.7,
    ),
    # MediaPipe's own build fetches it from this address (third_party/external_files.bzl);
    # the Tasks model page offers only the short-range face detector.
    ModelName.FACE_DETECTOR: ModelSpec(
        name=ModelName.FACE_DETECTOR,
        filename="face_detection_full_range.tflite",
        url="https://storage.googleapis.com/mediapipe-assets/face_detection_full_range.tflite",
        licence="Apache-2.0 (Google MediaPipe)",
        approx_mb=1.1,
    ),
    ModelName.PALM_DETECTOR: ModelSpec(
        name=ModelName.PALM_DETECTOR,
        filename="palm_detection_lite.tflite",
        url=f"{_MEDIAPIPE_ASSETS}/palm_detection_lite.tflite",
        licence="Apache-2.0 (Google MediaPipe)",
        approx_mb=2.0,
    ),
    ModelName.HAND_LANDMARKS: ModelSpec(
        name=ModelName.HAND_LANDMARKS,
        filename="hand_landmark_full.tflite",
        url=f"{_MEDIAPIPE_ASSETS}/hand_landmark_full.tflite",
        licence="Apache-2.0 (Google MediaPipe)",
        approx_mb=5.5,
    ),
    # Google's MoveNet SinglePose Lightning v4 (float16 weights) as TF Hub serves it (the
    # address forwards to Kaggle Models, where TF Hub's models now live).
    ModelName.ARM_POSE: ModelSpec(
        name=ModelName.ARM_POSE,
        filename="movenet_singlepose_lightning.tflite",
        url="https://tfhub.dev/google/lite-model/movenet/singlepose/lightning/tflite/float16/4"
        "?lite-format=tflite",
        licence="Apache-2.0 (Google MoveNet)",
        approx_mb=4.8,
    ),
}

# Tests point downloads at a server on 127.0.0.1 by setting this (monkeypatch); the app never
# does. It replaces everything before the file name of the official URL.
_test_base_url: str | None = None


def cache_dir() -> Path:
    # XDG says a relative XDG_CACHE_HOME is invalid and must be ignored.
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "lessonreview" / "models"


def search_dirs(explicit_dir: Path | None = None) -> list[Path]:
    dirs: list[Path] = []
    if explicit_dir is not None:
        dirs.append(Path(explicit_dir).expanduser())
    env = os.environ.get(ENV_VAR, "")
    if env:
        dirs.append(Path(env).expanduser())
    dirs.append(cache_dir())
    unique: list[Path] = []
    for folder in dirs:
        if folder not in unique:
            unique.append(folder)
    return unique


def resolve(
    name: ModelName,
    *,
    explicit_dir: Path | None = None,
    allow_download: bool = False,
    progress: Progress | None = None,
) -> Path:
    """The path of a usable copy of the model, downloading it only if allowed."""
    spec = SPECS[name]
    searched = search_dirs(explicit_dir)
    undersized: list[Path] = []
    for folder in searched:
        candidate = folder / spec.filename
        if candidate.is_file():
            if candidate.stat().st_size >= spec.min_size:
                return candidate
            undersized.append(candidate)
    reason = "".join(
        f"{path} is too small to be the model (damaged or cut off); replace it. "
        for path in undersized
    )
    if not allow_download:
        raise ModelMissingError([spec], searched, cache=cache_dir(), reason=reason.strip())
    try:
        return download(spec, into=cache_dir(), progress=progress)
    except (OSError, ValueError, ModelCheckError) as exc:
        # OSError covers URLError, HTTPError, timeouts and a full disk.
        raise ModelMissingError(
            [spec],
            searched,
            cache=cache_dir(),
            reason=f"{reason}The download failed: {exc}".strip(),
        ) from exc


def resolve_all(
    names: Iterable[ModelName],
    *,
    explicit_dir: Path | None = None,
    allow_download: bool = False,
    progress: Progress | None = None,
) -> dict[ModelName, Path]:
    """Like ``resolve`` for several models, reporting every missing one in a single error."""
    found: dict[ModelName, Path] = {}
    failures: list[ModelMissingError] = []
    for name in names:
        try:
            found[name] = resolve(
                name, explicit_dir=explicit_dir, allow_download=allow_download, progress=progress
            )
        except ModelMissingError as exc:
            failures.append(exc)
    if failures:
        missing = [spec for exc in failures for spec in exc.missing]
        reason = " ".join(exc.reason for exc in failures if exc.reason)
        raise ModelMissingError(
            missing, search_dirs(explicit_dir), cache=cache_dir(), reason=reason
        )
    return found


def check_loads(spec: ModelSpec, path: Path) -> None:
    """Raise ModelCheckError unless the file loads with the library that will run it."""
    size = path.stat().st_size
    if size < spec.min_size:
        raise ModelCheckError(
            f"{path} is {size} bytes, expected at least {spec.min_size}: it is cut off or "
            f"not the model. Delete it and download it again, or copy a good {path.name} there."
        )
    if spec.name is ModelName.FACE_DETECTOR:
        _check_face_detector(path)
    elif spec.name is ModelName.ARM_POSE:
        _check_arm_pose(path)
    elif spec.filename.endswith(".onnx"):
        _check_onnx(path)
    elif spec.name in POSE_MODELS:
        _check_pose(path)
    else:
        _check_hand_model(spec, path)


def _check_onnx(path: Path) -> None:
    import onnxruntime  # lazy: heavy, and only needed once per download

    try:
        onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind classes, not a common base
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ModelCheckError(
            f"{path} does not load with onnxruntime ({reason}). The file is probably "
            f"damaged or incomplete: delete {path.name} and download it again."
        ) from exc


def _check_pose(path: Path) -> None:
    # Loads the landmark model with the runtime that will run it; a bundle is a zip, and a
    # cut-off one is refused before any native loader sees it.
    from lessonreview.core.vision.pose import PoseEstimator  # lazy: imports the TFLite runtime

    try:
        PoseEstimator(path).close()
    except ModelFileError as exc:
        raise ModelCheckError(f"{path.name} does not load as a pose model: {exc}") from exc


def _check_face_detector(path: Path) -> None:
    from lessonreview.core.vision.face_detection import FaceDetector  # lazy: imports LiteRT
    from lessonreview.core.vision.model_errors import ModelFileError

    try:
        FaceDetector(path).close()
    except ModelFileError as exc:
        raise ModelCheckError(f"{path.name} does not load as a face detector: {exc}") from exc


def _check_arm_pose(path: Path) -> None:
    from lessonreview.core.vision.arm_pose import ArmPoseModel  # lazy: imports LiteRT

    try:
        ArmPoseModel(path).close()
    except ModelFileError as exc:
        raise ModelCheckError(f"{path.name} does not load as the arm pose model: {exc}") from exc


def _check_hand_model(spec: ModelSpec, path: Path) -> None:
    from lessonreview.core.vision.hands import HandLandmarker, PalmDetector  # lazy: LiteRT
    from lessonreview.core.vision.model_errors import ModelFileError

    kind = PalmDetector if spec.name is ModelName.PALM_DETECTOR else HandLandmarker
    try:
        kind(path).close()
    except ModelFileError as exc:
        raise ModelCheckError(f"{path.name} does not load as a hand model: {exc}") from exc


def source_url(spec: ModelSpec) -> str:
    if _test_base_url is None:
        return spec.url
    return f"{_test_base_url.rstrip('/')}/{spec.filename}"


def download(spec: ModelSpec, *, into: Path, progress: Progress | None = None) -> Path:
    """Fetch the model into ``into``, check it loads, then move it into place atomically."""
    url = source_url(spec)
    _require_safe_url(url)
    into.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=into, prefix=f".{spec.filename}.", suffix=".partial")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch(url, out, progress=progress)
            out.flush()
            os.fsync(out.fileno())
        check_loads(spec, tmp)
        final = into / spec.filename
        os.replace(tmp, final)
        return final
    except BaseException:
        # Also on KeyboardInterrupt or a cancel raised from progress: never leave a part file.
        tmp.unlink(missing_ok=True)
        raise


def _opener(url: str) -> urllib.request.OpenerDirector:
    """An opener that uses the reviewer's own proxy settings, not the closed proxy that
    keeps the native libraries offline (core/vision/offline.py)."""
    env = {k.lower(): v for k, v in user_proxy_settings().items()}
    proxies = {}
    for scheme in ("http", "https"):
        proxy = env.get(f"{scheme}_proxy") or env.get("all_proxy")
        if proxy:
            proxies[scheme] = proxy
    host = urllib.parse.urlsplit(url).hostname or ""
    if env.get("no_proxy") and urllib.request.proxy_bypass_environment(
        host, {"no": env["no_proxy"]}
    ):
        proxies = {}
    return urllib.request.build_opener(urllib.request.ProxyHandler(proxies))


def _fetch(url: str, out, *, progress: Progress | None) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "lessonreview"})
    with _opener(url).open(request, timeout=_TIMEOUT_S) as response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        if progress:
            progress(0, total)
        try:
            while block := response.read(_CHUNK):
                out.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
        except http.client.HTTPException as exc:  # IncompleteRead: the connection dropped
            raise OSError(f"download broke off after {done} of {total} bytes: {exc!r}") from exc
    if total and done != total:
        raise OSError(f"download stopped after {done} of {total} bytes")


def _require_safe_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return
    # Plain HTTP only to this machine: the tests' local server.
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not (parts.scheme == "http" and loopback):
        raise ValueError(f"refusing to download a model over a non-HTTPS URL: {url}")


def model_hosts() -> tuple[str, ...]:
    """Where model files come from; GitHub release files redirect to its content host."""
    hosts = {urllib.parse.urlsplit(spec.url).hostname or "" for spec in SPECS.values()}
    if "github.com" in hosts:
        hosts.add("githubusercontent.com")
    return tuple(sorted(h for h in hosts if h))

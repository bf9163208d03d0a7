"""Fixtures shared by every test file. Keep this small: a fixture used by one file lives there."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CLASSROOM_DIR = REPO_ROOT.parent / "shared" / "data" / "classroom-cctv"


DEV_MODELS = REPO_ROOT / "tests" / "data" / "models"


def _with_dev_models(folder: Path) -> Path:
    """``folder``, or where it lacks a model that only has a development copy in the
    repository (tests/data/models, see its README), a folder of links to both."""
    missing = [f for f in DEV_MODELS.glob("*.tflite") if not (folder / f.name).exists()]
    if not missing or not folder.is_dir():
        return folder
    both = Path(tempfile.mkdtemp(prefix="lessonreview-models-"))
    for f in [*folder.iterdir(), *missing]:
        (both / f.name).symlink_to(f.resolve())
    return both


# Every test, and every process a test starts, sees the same model folder.
os.environ["LESSONREVIEW_MODELS"] = str(
    _with_dev_models(
        Path(os.environ.get("LESSONREVIEW_MODELS") or REPO_ROOT.parent / "shared" / "models")
    )
)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The folder with the real model files (never downloaded during tests)."""
    folder = Path(os.environ["LESSONREVIEW_MODELS"])
    if not folder.is_dir():
        pytest.fail(f"model folder {folder} is missing: set LESSONREVIEW_MODELS")
    return folder


@pytest.fixture(scope="session")
def classroom_frames() -> list[Path]:
    """The real classroom frames (CC BY 4.0, see their README), sorted by name."""
    frames = sorted((CLASSROOM_DIR / "images").glob("*.jpg"))
    if not frames:
        pytest.fail(f"no classroom frames under {CLASSROOM_DIR}/images")
    return frames


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Fail a test that leaves a non-daemon thread running: it would hang the app's exit."""
    before = set(threading.enumerate())
    yield
    leftover = [
        t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
    ]
    # A worker that is already shutting down gets a moment to finish; this is a join, not a
    # timed assertion: a thread that ends at once costs nothing.
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    if still:
        pytest.fail(f"test left non-daemon thread(s) running: {', '.join(still)}")

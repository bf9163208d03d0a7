"""Where the app's own files are: the resources folder and the bundled demo recording."""

from __future__ import annotations

import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[4] / "resources"


def resources_dir() -> Path:
    """The resources folder, in a source checkout and in a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return RESOURCES


def demo_recording() -> Path:
    return resources_dir() / "demo" / "classroom_demo.mp4"

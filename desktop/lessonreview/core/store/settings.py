"""Per-user settings: recent recordings, the last project, view choices.

A small JSON file written atomically (temp file then ``os.replace``), never pickle,
so a crash mid-write leaves the previous settings intact.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lessonreview.core.store.atomic_file import write_text_atomically

MAX_RECENT = 10


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lessonreview"


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lessonreview"


def default_project_path() -> Path:
    return data_dir() / "default.lessonreview"


@dataclass(frozen=True)
class Settings:
    recent: tuple[str, ...] = ()
    last_project: str | None = None
    reviewer: str | None = None
    privacy_view: bool = True
    show_skeleton: bool = True
    models_dir: str | None = None

    def with_recent(self, path: str | os.PathLike) -> Settings:
        p = str(Path(path).resolve())
        recent = (p, *[r for r in self.recent if r != p])[:MAX_RECENT]
        return replace(self, recent=recent)


def load(path: Path | None = None) -> Settings:
    path = path or config_dir() / "settings.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    known = {f for f in Settings.__dataclass_fields__}
    values = {k: v for k, v in raw.items() if k in known}
    if "recent" in values:
        values["recent"] = tuple(str(r) for r in values["recent"] if isinstance(r, str))
    try:
        return Settings(**values)
    except TypeError:
        return Settings()


def save(settings: Settings, path: Path | None = None) -> None:
    path = path or config_dir() / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(asdict(settings), indent=2))

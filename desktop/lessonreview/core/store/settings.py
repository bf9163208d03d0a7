"""Per-user settings: recent recordings, the last project, view choices.

A small JSON file written atomically (temp file then ``os.replace``), never pickle,
so a crash mid-write leaves the previous settings intact.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from lessonreview.core.store.atomic_file import write_text_atomically
from lessonreview.core.store.private_files import make_private_folder

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
    # Behaviours the reviewer switched off (Behaviour values): not on the timeline, not in
    # the review queue, in every recording until switched on again.
    hidden_behaviours: tuple[str, ...] = ()

    def with_recent(self, path: str | os.PathLike) -> Settings:
        p = str(Path(path).resolve())
        recent = (p, *[r for r in self.recent if r != p])[:MAX_RECENT]
        return replace(self, recent=recent)


# The kind of value each setting holds: text, yes/no, or a list of texts.
_KINDS = {
    "recent": tuple,
    "last_project": str,
    "reviewer": str,
    "privacy_view": bool,
    "show_skeleton": bool,
    "models_dir": str,
    "hidden_behaviours": tuple,
}


def load(path: Path | None = None) -> Settings:
    """The saved settings; a value of the wrong kind (a hand-edited or damaged file, one
    from another version) falls back to its default, and the rest are kept."""
    path = path or config_dir() / "settings.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    values = {}
    for f in fields(Settings):
        if f.name in raw:
            value = _checked(f.name, raw[f.name])
            if value is not None or f.default is None:
                values[f.name] = value
    return Settings(**values)


def _checked(name: str, value: object) -> object:
    """``value`` if it is of the kind ``name`` holds, else None (meaning: the default)."""
    kind = _KINDS[name]
    if kind is tuple:
        if not isinstance(value, list):
            return None
        return tuple(r for r in value if isinstance(r, str) and r and "\x00" not in r)[:MAX_RECENT]
    if kind is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, str) and value and "\x00" not in value:
        return value
    return None


def save(settings: Settings, path: Path | None = None) -> None:
    path = path or config_dir() / "settings.json"
    make_private_folder(path.parent)
    write_text_atomically(path, json.dumps(asdict(settings), indent=2))

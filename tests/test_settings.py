"""Per-user settings survive a damaged or foreign settings file: each bad value falls back
to its default, the good ones are kept, and nothing raises."""

from __future__ import annotations

import json

import pytest

from lessonreview.core.store import settings as settings_io
from lessonreview.core.store.settings import Settings

DAMAGED = [
    "[]",
    "null",
    "42",
    '"text"',
    "{",
    "\x00\x01binary",
    "[" * 100_000 + "]" * 100_000,
    '{"privacy_view": "no"}',
    '{"privacy_view": null}',
    '{"models_dir": 5}',
    '{"reviewer": 123}',
    '{"reviewer": ""}',
    '{"recent": "not a list"}',
    '{"recent": [1, null, {"a": 1}]}',
    '{"last_project": ["a"]}',
    '{"show_skeleton": 1e999}',
]


@pytest.mark.parametrize("text", DAMAGED)
def test_a_damaged_settings_file_gives_the_defaults_for_what_is_damaged(tmp_path, text):
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    loaded = settings_io.load(path)
    assert isinstance(loaded, Settings)
    assert loaded.privacy_view is True  # the safe default: faces blurred
    assert loaded.reviewer is None or isinstance(loaded.reviewer, str)
    assert all(isinstance(r, str) for r in loaded.recent)


def test_good_values_are_kept_beside_a_bad_one(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps(
            {
                "reviewer": "Ann",
                "privacy_view": "no",
                "recent": ["/videos/a.mp4", 7],
                "show_skeleton": False,
                "from_a_later_version": {"x": 1},
            }
        )
    )
    loaded = settings_io.load(path)
    assert loaded.reviewer == "Ann"
    assert loaded.privacy_view is True
    assert loaded.recent == ("/videos/a.mp4",)
    assert loaded.show_skeleton is False


def test_settings_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    saved = Settings(reviewer="Ann", privacy_view=False).with_recent(tmp_path / "a.mp4")
    settings_io.save(saved, path)
    assert settings_io.load(path) == saved


def test_a_settings_file_with_a_setting_this_version_does_not_know_still_loads(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps({"reviewer": "AB", "privacy_view": False, "queue_order": "confidence"}),
        encoding="utf-8",
    )
    loaded = settings_io.load(path)
    assert (loaded.reviewer, loaded.privacy_view) == ("AB", False)

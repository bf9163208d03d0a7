"""Per-user settings load from files written by any version of the app."""

from __future__ import annotations

import json

from lessonreview.core.store import settings as settings_io


def test_a_settings_file_with_a_setting_this_version_does_not_know_still_loads(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps({"reviewer": "AB", "privacy_view": False, "queue_order": "confidence"}),
        encoding="utf-8",
    )
    loaded = settings_io.load(path)
    assert (loaded.reviewer, loaded.privacy_view) == ("AB", False)


def test_settings_come_back_as_saved(tmp_path):
    path = tmp_path / "settings.json"
    saved = settings_io.Settings(reviewer="AB", show_skeleton=False).with_recent(tmp_path / "a.mp4")
    settings_io.save(saved, path)
    assert settings_io.load(path) == saved

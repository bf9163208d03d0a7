"""What a test that opens the real main window needs around it.

``isolated_user``: a user of its own (config, data and cache folders in the test's
temporary folder, a reviewer name on file, so no first-run question) and the proxy
settings the window changes to keep MediaPipe and onnxruntime offline put back after
the test. ``record_consent``: a consent record for a recording, so that opening it
starts its analysis at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.store import settings as settings_io
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Consent
from lessonreview.core.vision import offline

REVIEWER = "Ms Tester"


def isolated_user(monkeypatch, tmp_path: Path, *, reviewer: str = REVIEWER) -> Path:
    """Point the app's folders into ``tmp_path``; the settings file's path."""
    for name in (*offline.PROXY_VARIABLES, *offline.NO_PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)  # the window sets them: undone after
    monkeypatch.setattr(offline, "_saved", None)
    for variable, folder in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(variable, str(tmp_path / folder))
    settings_path = tmp_path / "config" / "settings.json"
    settings_io.save(settings_io.Settings(reviewer=reviewer), settings_path)
    return settings_path


def record_consent(
    store: LabelStore,
    path: Path,
    *,
    retention_until: date | None = None,
    reviewer: str = REVIEWER,
) -> int:
    """Add the recording at ``path`` to the project with consent on file; its id."""
    rid = store.add_recording(Recording.open(path).info(sha256=file_sha256(path)))
    store.set_consent(
        rid,
        Consent(
            consented_by="Test clip of public CC BY 4.0 frames",
            purpose="automated test",
            retention_until=retention_until or date.today() + timedelta(days=365),
            recorded_by=reviewer,
            recorded_at=datetime.now(UTC),
        ),
    )
    return rid


def consent_args(folder: Path) -> list[str]:
    """``lessonreview analyze`` arguments recording consent in a project of its own in
    ``folder`` (the command analyses only recordings with a consent record)."""
    return [
        "--project",
        str(folder / "consent.lessonreview"),
        "--consent-by",
        "Test frames of public CC BY 4.0 datasets",
        "--purpose",
        "automated test",
        "--retain-until",
        (date.today() + timedelta(days=365)).isoformat(),
        "--recorded-by",
        REVIEWER,
    ]

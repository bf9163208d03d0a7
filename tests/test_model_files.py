"""Finding and downloading model files. Downloads are served from 127.0.0.1 only."""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lessonreview.core.media.video import file_sha256
from lessonreview.core.vision import model_files
from lessonreview.core.vision.model_errors import ModelMissingError
from lessonreview.core.vision.model_files import SPECS, ModelName

DETECTOR = SPECS[ModelName.PERSON_DETECTOR]


@pytest.fixture(autouse=True)
def isolated_places(tmp_path, monkeypatch):
    """No test sees the developer's own cache or model folder, nor reaches the internet."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(model_files.ENV_VAR, raising=False)

    real_urlopen = urllib.request.urlopen

    def local_only(request, *args, **kwargs):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        if not url.startswith("http://127.0.0.1:"):
            raise AssertionError(f"a test tried to open {url}, not the local server")
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)


def fake_model(folder: Path, spec=DETECTOR) -> Path:
    """A file big enough to pass the size check; search trusts files it finds, it loads none."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / spec.filename
    with open(path, "wb") as f:
        f.truncate(spec.min_size)
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class _Files(BaseHTTPRequestHandler):
    routes: dict[str, tuple[bytes, int]] = {}

    def do_GET(self):
        body, declared = self.routes.get(self.path, (b"", -1))
        if declared < 0:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        # A declared length above the body imitates a connection that drops mid-download.
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server(monkeypatch):
    """Serves given bytes under /NAME on 127.0.0.1 and points model downloads at it."""
    routes: dict[str, tuple[bytes, int]] = {}
    handler = type("Handler", (_Files,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-model-server")
    thread.start()
    monkeypatch.setattr(
        model_files, "_test_base_url", f"http://127.0.0.1:{server.server_address[1]}/m"
    )

    def serve(filename: str, body: bytes, *, declared: int | None = None) -> None:
        routes[f"/m/{filename}"] = (body, len(body) if declared is None else declared)

    yield serve
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def isolated_cache() -> Path:
    return model_files.cache_dir()


def test_cache_dir_follows_xdg_and_ignores_a_relative_one(tmp_path, monkeypatch):
    assert model_files.cache_dir() == tmp_path / "xdg-cache" / "lessonreview" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert model_files.cache_dir() == Path.home() / ".cache" / "lessonreview" / "models"


def test_chosen_folder_wins_over_environment_and_cache(tmp_path, monkeypatch):
    chosen = fake_model(tmp_path / "chosen")
    from_env = fake_model(tmp_path / "it-dept")
    fake_model(model_files.cache_dir())
    monkeypatch.setenv(model_files.ENV_VAR, str(from_env.parent))

    assert model_files.resolve(ModelName.PERSON_DETECTOR, explicit_dir=chosen.parent) == chosen
    assert model_files.resolve(ModelName.PERSON_DETECTOR) == from_env
    assert model_files.search_dirs(tmp_path / "chosen") == [
        tmp_path / "chosen",
        tmp_path / "it-dept",
        model_files.cache_dir(),
    ]


def test_cache_is_used_when_nothing_else_has_the_file(tmp_path):
    cached = fake_model(model_files.cache_dir())
    assert model_files.resolve(ModelName.PERSON_DETECTOR, explicit_dir=tmp_path / "empty") == cached


def test_missing_file_without_download_names_file_and_every_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(model_files.ENV_VAR, str(tmp_path / "it-dept"))
    with pytest.raises(ModelMissingError) as caught:
        model_files.resolve(ModelName.POSE_FULL, explicit_dir=tmp_path / "chosen")
    message = str(caught.value)
    assert "pose_landmarker_full.task" in message
    for folder in (tmp_path / "chosen", tmp_path / "it-dept", model_files.cache_dir()):
        assert str(folder) in message
    assert model_files.ENV_VAR in message
    assert caught.value.missing == [SPECS[ModelName.POSE_FULL]]


def test_a_cut_off_file_in_a_folder_is_not_used_and_is_reported(tmp_path):
    folder = tmp_path / "chosen"
    folder.mkdir()
    (folder / DETECTOR.filename).write_bytes(b"<html>Not Found</html>")
    with pytest.raises(ModelMissingError, match="too small"):
        model_files.resolve(ModelName.PERSON_DETECTOR, explicit_dir=folder)


def test_resolve_all_reports_every_missing_file_at_once(tmp_path):
    fake_model(tmp_path, SPECS[ModelName.POSE_LITE])
    with pytest.raises(ModelMissingError) as caught:
        model_files.resolve_all(list(ModelName), explicit_dir=tmp_path)
    assert {spec.name for spec in caught.value.missing} == set(ModelName) - {ModelName.POSE_LITE}
    # Told before the app asks to download them (the first run's download, less the lite one).
    assert caught.value.download_size == "about 54 MB"
    assert "pose_landmark_heavy.tflite (about 28 MB)" in str(caught.value)


def test_the_download_sizes_told_are_the_official_files_sizes(models_dir):
    for spec in SPECS.values():
        size_mb = (models_dir / spec.filename).stat().st_size / 1e6
        assert abs(size_mb - spec.approx_mb) <= 0.05 * size_mb, spec.filename


def test_official_sources_are_https():
    for spec in SPECS.values():
        assert spec.url.startswith("https://")
        # TF Hub names its files by a path and a query (the arm pose model); the others
        # by their file name.
        assert spec.url.endswith("/" + spec.filename) or spec.url.endswith("?lite-format=tflite")


def test_download_reports_progress_checks_the_model_and_installs_it(
    local_server, isolated_cache, models_dir
):
    original = (models_dir / DETECTOR.filename).read_bytes()
    local_server(DETECTOR.filename, original)
    calls: list[tuple[int, int]] = []

    path = model_files.resolve(
        ModelName.PERSON_DETECTOR,
        allow_download=True,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert path == isolated_cache / DETECTOR.filename
    assert file_sha256(path) == file_sha256(models_dir / DETECTOR.filename)
    assert calls[0] == (0, len(original)) and calls[-1] == (len(original), len(original))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert leftovers(isolated_cache) == [DETECTOR.filename]
    # Found in the cache next time, without asking to download.
    assert model_files.resolve(ModelName.PERSON_DETECTOR) == path


def test_dropped_connection_leaves_no_file(local_server, isolated_cache, models_dir):
    original = (models_dir / DETECTOR.filename).read_bytes()
    local_server(DETECTOR.filename, original[: len(original) // 2], declared=len(original))
    with pytest.raises(ModelMissingError, match="download failed"):
        model_files.resolve(ModelName.PERSON_DETECTOR, allow_download=True)
    assert leftovers(isolated_cache) == []


@pytest.mark.parametrize(
    "name",
    [ModelName.PERSON_DETECTOR, ModelName.POSE_FULL, ModelName.POSE_HEAVY, ModelName.FACE_DETECTOR],
)
def test_damaged_download_is_rejected_and_not_installed(
    name, local_server, isolated_cache, models_dir
):
    spec = SPECS[name]
    original = (models_dir / spec.filename).read_bytes()
    # Above the size floor, so only loading the file can tell it is damaged.
    local_server(spec.filename, original[: int(len(original) * 0.9)])
    with pytest.raises(ModelMissingError, match="download failed"):
        model_files.resolve(name, allow_download=True)
    assert leftovers(isolated_cache) == []


def test_cancel_from_progress_leaves_no_file(local_server, isolated_cache, models_dir):
    local_server(DETECTOR.filename, (models_dir / DETECTOR.filename).read_bytes())

    class Cancelled(Exception):
        pass

    def cancel_midway(done, total):
        if done > total // 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        model_files.resolve(ModelName.PERSON_DETECTOR, allow_download=True, progress=cancel_midway)
    assert leftovers(isolated_cache) == []


def test_missing_on_server_reports_the_failure(local_server, isolated_cache):
    with pytest.raises(ModelMissingError, match="404"):
        model_files.resolve(ModelName.POSE_LITE, allow_download=True)
    assert leftovers(isolated_cache) == []


def test_plain_http_to_another_host_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(model_files, "_test_base_url", "http://models.example.org/m")
    with pytest.raises(ModelMissingError, match="non-HTTPS"):
        model_files.resolve(ModelName.PERSON_DETECTOR, allow_download=True)


def test_shared_model_files_pass_the_load_check(models_dir):
    for spec in SPECS.values():
        model_files.check_loads(spec, models_dir / spec.filename)

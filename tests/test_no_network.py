"""Apart from downloading model files, which the reviewer confirms, Lesson Review makes no
network connection: not while analysing, not while reviewing, exporting or saving.

Two ways of looking:
- in this process, Python's socket functions are replaced by ones that record the
  attempt and refuse it; a real analysis and a review in the window run meanwhile;
- in a fresh process under ``strace``, every ``connect``/``sendto``/``sendmsg`` system
  call is seen, including any made by native code (onnxruntime, MediaPipe, Qt); only
  a control connection to a loopback port the script opened itself may appear.

The clip is cut from the demo recording, made of real classroom frames: "cctv-accurate"
dataset v1 (Roboflow Universe, workspace pranavs-workspace-8k4n7), CC BY 4.0; see
resources/demo/ATTRIBUTION.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
from lessonreview.gui.shell.resources import demo_recording
from video_samples import cut_clip

CLIP_SECONDS = 3.0  # 4 proposals from the analysis: enough to decide on
RATE_HZ = 2.0
REVIEWER = "Ms Tester"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    return cut_clip(demo_recording(), folder / "lesson.mp4", seconds=CLIP_SECONDS)


# --- blocking the network in this process ----------------------------------------------------


def _family(sock_or_args) -> int | None:
    return getattr(sock_or_args, "family", None)


@pytest.fixture
def network_attempts(monkeypatch) -> list[tuple[str, str]]:
    """Every attempt to reach the network from Python, recorded and refused.

    Unix-domain sockets (local IPC, the X server) are let through: they never leave
    the machine. ``getaddrinfo`` and ``gethostbyname`` are refused outright: a name
    lookup is itself a network request.
    """
    attempts: list[tuple[str, str]] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(name: str) -> Callable:
        def call(*args, **kwargs):
            attempts.append((name, repr(args[1:] if name.startswith("socket.") else args)))
            raise OSError(f"network access blocked by the test ({name})")

        return call

    def guarded(real: Callable, name: str) -> Callable:
        def call(sock, address, *args):
            if _family(sock) == getattr(socket, "AF_UNIX", None):
                return real(sock, address, *args)
            return refuse(name)(sock, address)

        return call

    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect, "socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex, "socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", refuse("socket.sendto"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse(name))
    # The block itself works: a connection attempt is recorded and refused.
    with pytest.raises(OSError, match="blocked by the test"):
        socket.create_connection(("127.0.0.1", 9))
    attempts.clear()
    return attempts


def test_analysis_of_real_frames_makes_no_network_attempt(clip, models_dir, network_attempts):
    doc = analyze(AnalysisRequest(path=clip, rate_hz=RATE_HZ, models_dir=models_dir))
    assert len(doc.people) >= 10  # it really ran: a classroom's worth of people
    assert network_attempts == []


# --- the review flow, shared by the in-process and the strace test -----------------------------


def review_flow(clip: Path, folder: Path, models_dir: Path) -> dict:
    """Open, analyse, decide, export labels and the decision log, save a snapshot:
    a reviewer's session in the real window, with every dialog answered in code."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

    from lessonreview.core.media.video import Recording, file_sha256
    from lessonreview.core.store import settings as settings_io
    from lessonreview.core.store.store_rows import Consent
    from lessonreview.gui.export.export_dialog import ExportDialog
    from lessonreview.gui.privacy.snapshot import SnapshotDialog
    from lessonreview.gui.shell.main_window import MainWindow

    def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
        # Runs the event loop until the condition holds: the same as qtbot.waitUntil,
        # usable in a process without pytest.
        deadline = time.monotonic() + timeout_s
        loop = QEventLoop()
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there in time")
            QTimer.singleShot(20, loop.quit)
            loop.exec()

    problems: list[str] = []
    out = folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    settings_path = folder / "config" / "settings.json"
    settings_io.save(settings_io.Settings(reviewer=REVIEWER), settings_path)
    saved_methods = {
        (QMessageBox, n): getattr(QMessageBox, n)
        for n in ("information", "warning", "critical", "question")
    }
    saved_methods |= {
        (ExportDialog, "exec"): ExportDialog.exec,
        (SnapshotDialog, "exec"): SnapshotDialog.exec,
        (QFileDialog, "getSaveFileName"): QFileDialog.getSaveFileName,
    }

    def export_to(dialog) -> bool:
        dialog.path.setText(str(out / "labels.csv"))
        return True

    def snapshot_to(dialog) -> int:
        dialog.path.setText(str(out / "frame.png"))
        return int(QDialog.DialogCode.Accepted)

    for kind in ("information", "warning", "critical"):
        setattr(QMessageBox, kind, lambda _p, t, x, *a, **k: problems.append(f"{t}: {x}"))
    QMessageBox.question = lambda *a, **k: QMessageBox.StandardButton.No  # no download
    ExportDialog.exec = export_to
    SnapshotDialog.exec = snapshot_to
    QFileDialog.getSaveFileName = lambda *a, **k: (str(out / "decisions.json"), "")
    w = MainWindow(
        project_path=folder / "lesson.lessonreview",
        settings_path=settings_path,
        models_dir=models_dir,
    )
    try:
        w.show()
        rid = w.store.add_recording(Recording.open(clip).info(sha256=file_sha256(clip)))
        w.store.set_consent(
            rid,
            Consent(
                consented_by="Test clip of public CC BY 4.0 frames",
                purpose="automated test",
                retention_until=datetime.now().date().replace(year=datetime.now().year + 1),
                recorded_by=REVIEWER,
                recorded_at=datetime.now().astimezone(),
            ),
        )
        finished: list = []
        w.analysis.finished.connect(finished.append)
        w.open_recording(clip)
        wait_until(lambda: bool(finished), timeout_s=240)
        wait_until(lambda: w.workspace.player.position >= 0, timeout_s=15)
        proposals = w.session.pending_count()
        w.workspace.panel.actions["accept"].trigger()
        w.menus.export.trigger()
        w.menus.export_log.trigger()
        snapshots: list = []
        w.privacy.snapshot_saved.connect(snapshots.append)
        w.menus.snapshot.trigger()
        wait_until(lambda: bool(snapshots), timeout_s=60)
        labels = len(w.store.labels(rid))
    finally:
        w.close()
        for (owner, name), method in saved_methods.items():
            setattr(owner, name, method)
    return {
        "proposals": proposals,
        "labels": labels,
        "files": sorted(p.name for p in out.iterdir()),
        "problems": problems,
    }


def check_flow(result: dict) -> None:
    assert result["problems"] == []
    assert result["proposals"] >= 1 and result["labels"] == 1
    assert result["files"] == ["decisions.json", "frame.png", "labels.csv"]


@pytest.mark.gui
def test_review_in_the_window_makes_no_network_attempt(
    qtbot, clip, tmp_path, models_dir, network_attempts, monkeypatch
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from lessonreview.core.vision import offline

    for name in (*offline.PROXY_VARIABLES, *offline.NO_PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)  # the window sets them: undone after
    monkeypatch.setattr(offline, "_saved", None)
    check_flow(review_flow(clip, tmp_path, models_dir))
    assert network_attempts == []


# --- every system call, in a fresh process ------------------------------------------------------

_SCRIPT = """
import json, socket, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from lessonreview.gui.shell.app import create_application
app = create_application(["lessonreview"])
import test_no_network as t
result = t.review_flow(Path({clip!r}), Path({folder!r}), Path({models!r}))
# The control: one loopback connection to a port opened here, which strace must see.
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
port = server.getsockname()[1]
try:
    socket.create_connection(("127.0.0.1", port)).close()
except OSError:
    pass  # in a private network namespace the loopback is down: strace still sees it
result["control_port"] = port
print("RESULT " + json.dumps(result))
"""


def _private_network() -> list[str]:
    """Run in a network namespace of its own where possible: should anything still try
    to connect, it is recorded all the same, and no packet leaves this machine."""
    if shutil.which("unshare") is None:
        return []
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    return ["unshare", "-rn"] if probe.returncode == 0 else []


@pytest.mark.gui
@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_no_network_system_call_in_a_fresh_process(clip, tmp_path, models_dir):
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs an X display (run under xvfb-run)")
    script = tmp_path / "flow.py"
    script.write_text(
        _SCRIPT.format(
            tests=str(Path(__file__).parent),
            clip=str(clip),
            folder=str(tmp_path / "run"),
            models=str(models_dir),
        )
    )
    trace = tmp_path / "trace.txt"
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [
            *_private_network(),
            "strace",
            "-f",
            "--seccomp-bpf",
            "-e",
            "trace=connect,sendto,sendmsg",
            "-o",
            str(trace),
            sys.executable,
            str(script),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    check_flow({k: v for k, v in result.items() if k != "control_port"})
    calls = trace.read_text().splitlines()
    inet = [c for c in calls if re.search(r"sa_family=AF_INET6?\b", c)]
    control = [c for c in inet if f"htons({result['control_port']})" in c and "127.0.0.1" in c]
    assert len(control) == 1, "strace did not see the control connection"
    # The libraries' own reports end at the closed proxy on the loopback interface
    # (see core/vision/offline.py): allowed, since nothing leaves the machine.
    closed_proxy = [c for c in inet if "htons(9)" in c and 'inet_addr("127.0.0.1")' in c]
    assert [c for c in inet if c not in control and c not in closed_proxy] == []


def test_libraries_are_pointed_at_a_closed_local_port_but_model_downloads_are_not(
    monkeypatch,
):
    import urllib.request

    from lessonreview.core.vision import model_files, offline

    for name in (*offline.PROXY_VARIABLES, *offline.NO_PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", "http://proxy.school.example:3128")
    monkeypatch.setenv("no_proxy", "*")  # would let every library straight through
    monkeypatch.setattr(offline, "_saved", None)

    hosts = model_files.model_hosts()
    offline.keep_libraries_offline(exempt=hosts)
    offline.keep_libraries_offline(exempt=hosts)  # a second window: no change, the user's kept

    assert urllib.request.getproxies()["https"] == offline.CLOSED_PROXY
    # Telemetry hosts go to the closed proxy; model hosts bypass it.
    assert not urllib.request.proxy_bypass_environment("play.googleapis.com")
    assert not urllib.request.proxy_bypass_environment("mobile.events.data.microsoft.com")
    for host in (
        "storage.googleapis.com",
        "github.com",
        "objects.githubusercontent.com",
        "127.0.0.1",
        "localhost",
    ):
        assert urllib.request.proxy_bypass_environment(host), host
    assert offline.user_proxy_settings() == {
        "https_proxy": "http://proxy.school.example:3128",
        "no_proxy": "*",
    }


def test_the_person_detector_leaves_no_telemetry_id_or_queue_on_disk(tmp_path, models_dir):
    """onnxruntime's Linux build keeps a device id and queued usage events in the user's
    cache folder, to send later from native code; Lesson Review's detector must not."""
    script = f"""
import numpy as np
from lessonreview.core.vision.detection import PersonDetector
detector = PersonDetector({str(models_dir / "yolox_nano.onnx")!r}, threads=1)
detector.detect(np.zeros((360, 640, 3), np.uint8))
"""
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / ".cache")}
    env.pop("ORT_DISABLE_TELEMETRY", None)
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*")] == []

"""Keeping the native libraries offline.

Lesson Review itself connects to nothing but the model files' official sources, and
only after the reviewer confirms a download. Two libraries it uses do more on their
own, from native code that Python's socket module never sees (found with strace and a
DNS listener in a private network namespace during an analysis):

- MediaPipe Tasks (``libmediapipe.so``) posts usage metrics to
  ``https://play.googleapis.com/log`` through its built-in libcurl (its terms of
  service say the Solution APIs send metrics; the Python API has no switch). The
  analysis does not load it (the pose model runs with LiteRT, ``core/vision/pose.py``);
  only the reference pipeline of a benchmark does (``bench/pose_tasks.py``);
- onnxruntime resolves ``mobile.events.data.microsoft.com`` (its telemetry);
  ``onnxruntime.disable_telemetry_events()`` alone does not stop that on Linux.

Both honour the standard proxy variables. :func:`keep_libraries_offline` points them
at a closed port on this machine, so those requests end at the loopback interface:
no name lookup, no packet leaves the computer. The model hosts are exempted through
``no_proxy``, so the one download the reviewer allows still goes out directly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

# Nothing listens on the discard port of a desktop: a connection is refused at once.
CLOSED_PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = (
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
)
NO_PROXY_VARIABLES = ("no_proxy", "NO_PROXY")
LOOPBACK = ("localhost", "127.0.0.1", "::1")

_saved: dict[str, str] | None = None


def keep_libraries_offline(*, exempt: Sequence[str]) -> None:
    """Route every library's HTTP(S) request, except to the ``exempt`` hosts (where model
    files come from: ``model_files.model_hosts()``), to a closed local port. Call once at start-up, before any model is loaded; calling again is harmless.
    The reviewer's own proxy settings are kept for :func:`user_proxy_settings`."""
    global _saved
    if _saved is None:
        _saved = {
            k: os.environ[k] for k in (*PROXY_VARIABLES, *NO_PROXY_VARIABLES) if k in os.environ
        }
    for name in PROXY_VARIABLES:
        os.environ[name] = CLOSED_PROXY
    # A reviewer's "no_proxy=*" would let the libraries straight through: replaced,
    # not extended. Loopback stays direct: it never leaves the machine either way.
    direct = ",".join((*exempt, *LOOPBACK))
    for name in NO_PROXY_VARIABLES:
        os.environ[name] = direct
    with contextlib.suppress(ImportError, AttributeError):
        import onnxruntime

        onnxruntime.disable_telemetry_events()  # the documented switch, where it works


def user_proxy_settings() -> dict[str, str]:
    """The proxy variables as they were before :func:`keep_libraries_offline`, for a
    model download that must go through the reviewer's own proxy."""
    return (
        dict(_saved)
        if _saved is not None
        else {k: os.environ[k] for k in (*PROXY_VARIABLES, *NO_PROXY_VARIABLES) if k in os.environ}
    )

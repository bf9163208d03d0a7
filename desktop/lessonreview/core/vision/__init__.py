"""The models and what they see in one frame: where model files come from and what can be
wrong with them (and keeping the native runtimes offline), person detection, body pose, the
face detector of the privacy view, and the head-crop cue. Knows nothing of time, tracks or
labels.

Importing this package switches off onnxruntime's own telemetry at its source: its Linux
and macOS builds otherwise write a device id and a queue of usage events under
``~/.cache/Microsoft`` and upload them from native code. The switch is read once, when the
runtime starts, so it is set here, before any module of this package imports onnxruntime.
"""

import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"

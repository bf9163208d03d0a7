"""Loading and running a TFLite model file with LiteRT, with errors that name the file.

Imported lazily by the models that use it: the desktop app shows its window before any
model is loaded."""

from __future__ import annotations

from pathlib import Path

from lessonreview.core.vision.model_errors import ModelFileError


def load(model_path: Path, *, threads: int = 1):
    """A LiteRT interpreter for the file, tensors allocated; ModelFileError when the file is
    missing or does not load."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ModelFileError.missing(model_path)
    from ai_edge_litert.interpreter import Interpreter

    try:
        net = Interpreter(model_path=str(model_path), num_threads=threads)
        net.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise ModelFileError.damaged(model_path, str(exc).splitlines()[0][:200]) from exc
    return net


def invoke(net, model_path: Path) -> None:
    """Run the interpreter. A file whose structure is intact but whose data is not (zeroed by
    a bad copy) loads, and fails only when run: ModelFileError then."""
    try:
        net.invoke()
    except RuntimeError as exc:
        raise ModelFileError.damaged(model_path, str(exc).splitlines()[0][:200]) from exc

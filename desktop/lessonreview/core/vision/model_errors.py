"""What can be wrong with a model file, as one hierarchy: callers that only report the
problem catch ``ModelFileError``; those that can act on it (offer a download) catch the
subclass.

A module of its own, below both ``model_files`` and the runtimes: ``model_files`` checks a
download by loading it with the runtime (``pose``, ``detection``), and the runtimes raise
these errors, so neither may be the other's home without an import cycle.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

# The environment variable naming the models folder (IT departments and CI set it).
ENV_VAR = "LESSONREVIEW_MODELS"


class ModelFileError(Exception):
    """A model file is missing or cannot be loaded. The message says which and what to do."""

    @classmethod
    def missing(cls, path: Path) -> ModelFileError:
        return cls(
            f"Model file not found: {path}. Put {path.name} in the models folder "
            f"(the {ENV_VAR} environment variable points to it) or download it again."
        )

    @classmethod
    def damaged(cls, path: Path, reason: str) -> ModelFileError:
        return cls(
            f"Model file {path} could not be loaded ({reason}). The file is probably damaged "
            f"or incomplete: delete {path.name} and download it again."
        )


class ModelCheckError(ModelFileError):
    """A file has the model's name but does not load as that model."""


class _Spec(Protocol):
    filename: str
    url: str
    approx_mb: float


class ModelMissingError(ModelFileError):
    """One or more model files are not where we looked and could not be downloaded."""

    def __init__(
        self, missing: Sequence[_Spec], searched: Sequence[Path], *, cache: Path, reason: str = ""
    ) -> None:
        self.missing = list(missing)
        self.searched = list(searched)
        self.reason = reason
        super().__init__(self._message(cache))

    def _message(self, cache: Path) -> str:
        files = ", ".join(spec.filename for spec in self.missing)
        lines = [f"Model file(s) not found: {files}."]
        if self.reason:
            lines.append(self.reason)
        lines.append("Searched these folders:")
        lines += [f"  {folder}" for folder in self.searched] or ["  (none)"]
        env = os.environ.get(ENV_VAR, "")
        env_now = f" (now {env})" if env else " (not set)"
        lines.append(
            f"Copy the file(s) into the folder named by the environment variable {ENV_VAR}"
            f"{env_now}, or into {cache}, or allow the download from the official source:"
        )
        lines += [f"  {spec.url} ({_megabytes(spec.approx_mb)})" for spec in self.missing]
        return "\n".join(lines)

    @property
    def download_size(self) -> str:
        """How much the missing files are to download, in words ("about 29 MB")."""
        return _megabytes(sum(spec.approx_mb for spec in self.missing))


def _megabytes(mb: float) -> str:
    return f"about {max(1, round(mb))} MB"

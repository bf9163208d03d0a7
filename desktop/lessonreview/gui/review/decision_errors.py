"""How a decision that could not be made is shown: one wording for every place that decides."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from lessonreview.core.store.label_store import StoreError


def decide(parent: QWidget, call: Callable[[], object]) -> bool:
    """Run one decision; on failure say why and that nothing was saved. True if it was made."""
    try:
        call()
    except StoreError as exc:
        QMessageBox.critical(parent, "Not saved", f"This decision was NOT saved:\n\n{exc}")
        return False
    except ValueError as exc:
        QMessageBox.warning(parent, "Not possible", str(exc))
        return False
    return True

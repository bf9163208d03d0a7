"""Asking the reviewer to pick a person, the same way wherever a person is picked: a
pseudonymous person reads "Person 3"; a named one also shows the pseudonym, "Ana (P3)",
since two people may be given the same name."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QInputDialog, QWidget

from lessonreview.core.domain import person_name


def person_choice_text(session, person: str) -> str:
    label = session.person_label(person)
    return label if label == person_name(person) else f"{label} ({person})"


def ask_person(
    parent: QWidget,
    session,
    people: Sequence[str],
    *,
    title: str,
    prompt: str,
    current: str | None = None,
) -> str | None:
    """The person chosen among ``people``; None if the reviewer cancelled."""
    texts = [person_choice_text(session, p) for p in people]
    first = people.index(current) if current in people else 0
    choice, ok = QInputDialog.getItem(parent, title, prompt, texts, first, False)
    return people[texts.index(choice)] if ok else None

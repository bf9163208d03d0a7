"""The coding-scheme file: one coding scheme as JSON, schema ``lessonreview.coding-scheme``
version 1, so a scheme made in one project can be used in another (or shared with a
colleague) and every coder codes with the same behaviours.

::

    {"schema": "lessonreview.coding-scheme", "version": 1, "name": "Classroom talk",
     "behaviours": [{"code": "group_work", "name": "Group work", "key": "G",
                     "colour": "#1F77B4", "definition": "...", "kind": "state"}]}

Reading checks everything a project would refuse later, and says in plain words what is
wrong with the file; whether the scheme fits beside a project's other schemes is the
project's check (:meth:`~lessonreview.core.domain.CodingScheme.check`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lessonreview.core.domain import BehaviourKind, CodingScheme, SchemeBehaviour, SchemeError
from lessonreview.core.store.atomic_file import check_target, write_text_atomically

SCHEME_SCHEMA = "lessonreview.coding-scheme"
SCHEME_VERSION = 1
_FIELDS = ("code", "name", "key", "colour", "definition", "kind")
_LIMIT = 1 << 20  # a scheme is a few kilobytes; anything far larger is another file


class SchemeFileError(SchemeError):
    """A coding-scheme file that cannot be read; the message names the file and says why."""


def scheme_document(scheme: CodingScheme) -> dict[str, Any]:
    return {
        "schema": SCHEME_SCHEMA,
        "version": SCHEME_VERSION,
        "name": scheme.name,
        "behaviours": [
            {
                "code": b.code,
                "name": b.name,
                "key": b.key,
                "colour": b.colour,
                "definition": b.definition,
                "kind": BehaviourKind(b.kind).value,
            }
            for b in scheme.behaviours
        ],
    }


def write_scheme_file(path: str | os.PathLike[str], scheme: CodingScheme) -> Path:
    """Write ``scheme`` to ``path`` atomically (TargetError if it may not be written)."""
    target = check_target(path, text=True)
    text = json.dumps(scheme_document(scheme), indent=2, ensure_ascii=False) + "\n"
    return write_text_atomically(target, text)


def read_scheme_file(path: str | os.PathLike[str]) -> CodingScheme:
    """The scheme a file holds, not yet part of any project (``id`` None)."""
    path = Path(path).expanduser()
    name = path.name

    def bad(why: str) -> SchemeFileError:
        return SchemeFileError(f"{name} is not a usable coding-scheme file: {why}.")

    try:
        if path.stat().st_size > _LIMIT:
            raise bad("it is far too large for a coding scheme; choose the scheme's .json file")
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise SchemeFileError(f"{name} does not exist (looked in {path.parent}).") from exc
    except IsADirectoryError as exc:
        raise SchemeFileError(f"{name} is a folder; choose the scheme's .json file.") from exc
    except OSError as exc:
        raise SchemeFileError(f"Cannot read {name}: {exc.strerror}.") from exc
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(
            "it is not JSON text (a coding-scheme file is written by Project > Coding "
            "schemes > Export)"
        ) from exc
    if not isinstance(document, dict) or document.get("schema") != SCHEME_SCHEMA:
        raise bad(f'it does not say "schema": "{SCHEME_SCHEMA}"; it is some other JSON file')
    version = document.get("version")
    if version != SCHEME_VERSION:
        raise bad(
            f"its version is {version!r}; this Lesson Review reads version {SCHEME_VERSION}"
            " (a newer release may have written it: update the app)"
        )
    if not isinstance(document.get("name"), str) or not document["name"].strip():
        raise bad("the scheme has no name")
    entries = document.get("behaviours")
    if not isinstance(entries, list) or not entries:
        raise bad('it lists no behaviours ("behaviours" must be a non-empty list)')
    behaviours = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise bad(f"behaviour {i} is not an object with {', '.join(_FIELDS)}")
        missing = [f for f in _FIELDS if f not in entry]
        if missing:
            raise bad(f"behaviour {i} has no {', '.join(missing)}")
        if entry["kind"] not in {k.value for k in BehaviourKind}:
            raise bad(f"behaviour {i}: kind {entry['kind']!r} is neither state nor point")
        behaviours.append(
            SchemeBehaviour(
                **{f: entry[f] for f in _FIELDS if f != "kind"},
                kind=BehaviourKind(entry["kind"]),
            )
        )
    scheme = CodingScheme(name=document["name"].strip(), behaviours=tuple(behaviours))
    try:
        scheme.check()
    except SchemeError as exc:
        raise bad(str(exc)) from None
    return scheme


def import_scheme_file(store, path: str | os.PathLike[str]) -> CodingScheme:
    """Add the scheme a file holds to the project ``store`` (a LabelStore) and return it as
    saved. A scheme of the same name in the project is replaced by the file's (the same
    scheme, edited elsewhere); SchemeFileError saying what clashes otherwise."""
    scheme = read_scheme_file(path)
    same = next(
        (s for s in store.coding_schemes().own if s.name.lower() == scheme.name.lower()), None
    )
    if same is not None:
        scheme = CodingScheme(name=scheme.name, behaviours=scheme.behaviours, id=same.id)
    try:
        return store.save_scheme(scheme)
    except SchemeError as exc:
        raise SchemeFileError(
            f"The scheme {scheme.name} in {Path(path).name} cannot be added to this project: "
            f"{exc} Change it in the file's project, or rename the clashing behaviour here."
        ) from None

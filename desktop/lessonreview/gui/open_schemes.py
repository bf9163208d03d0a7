"""The coding schemes of the open project: how every widget names and colours a behaviour.

A label carries only its behaviour's code; the timeline, the queue, the overlays and the
dialogs ask here for the code's name and colour. The main window points this at the
project's schemes when it opens a recording and again when the scheme editor saves, so a
renamed or recoloured behaviour reads the same everywhere at once. It is the app's one
piece of shared appearance state, as the palette is: the app has one project open at a
time, and threading the schemes through every widget that shows a behaviour name would
make each of them depend on the project for a name and a colour.
"""

from __future__ import annotations

from lessonreview.core.domain import CodingSchemes

_schemes = CodingSchemes()


def use_schemes(schemes: CodingSchemes) -> None:
    global _schemes
    _schemes = schemes


def open_schemes() -> CodingSchemes:
    return _schemes


def behaviour_title(code: str) -> str:
    return _schemes.title(code)


def behaviour_colour(code: str) -> str:
    """The behaviour's colour, as "#RRGGBB"."""
    return _schemes.colour(code)


def behaviour_codes() -> tuple[str, ...]:
    """Every behaviour code of the open project, in scheme order."""
    return _schemes.codes

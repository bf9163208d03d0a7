"""``--search``: the hand finder's settings (``HandSearch``) changed for one run of a
benchmark, e.g. ``--search merge_growth=1.6,min_palm_score=0.25``, so a trade-off can be
measured without editing the code."""

from __future__ import annotations

import argparse
from dataclasses import fields, replace

from lessonreview.core.vision.hands import DEFAULT_SEARCH, HandSearch


def add_search_argument(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(f.name for f in fields(HandSearch) if f.type in _KINDS)
    parser.add_argument(
        "--search",
        type=parse_search,
        default=DEFAULT_SEARCH,
        help=f"NAME=VALUE,... of the hand finder's settings ({names})",
    )


def _flag(value: str) -> bool:
    if value.strip().lower() not in ("0", "1", "false", "true"):
        raise ValueError(value)
    return value.strip().lower() in ("1", "true")


_KINDS = {"float": float, "int": int, "bool": _flag}


def parse_search(text: str) -> HandSearch:
    """``NAME=VALUE`` pairs, comma-separated, over the product's settings (a yes/no
    setting is 1 or 0)."""
    kinds = {f.name: f.type for f in fields(HandSearch)}
    changes: dict[str, float | int | bool] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = pair.partition("=")
        kind = kinds.get(name.strip())
        if not sep or kind not in _KINDS:
            raise argparse.ArgumentTypeError(f"not a setting of HandSearch: {pair!r}")
        try:
            changes[name.strip()] = _KINDS[kind](value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {kind}: {pair!r}") from None
    return replace(DEFAULT_SEARCH, **changes)
